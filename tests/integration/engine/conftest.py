"""Databases for the engine's integration tests: a migrated SQLite file and the session's PostgreSQL."""

from __future__ import annotations

import pytest

from blacktop.store import upgrade_to_head


@pytest.fixture(scope="session")
def engine_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file for the session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('engine-sqlite') / 'state.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated to head (idempotent if another suite did it)."""
    upgrade_to_head(postgres_url)
    return postgres_url
