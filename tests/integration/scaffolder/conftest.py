"""Fixtures for the scaffolder's integration tests."""

from __future__ import annotations

import pytest

from blacktop.store import upgrade_to_head


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated to head."""
    upgrade_to_head(postgres_url)
    return postgres_url
