"""Fixtures for the observability integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from observability_support import find_promtool


@pytest.fixture(scope="session")
def promtool() -> Path:
    """The promtool executable on PATH (the test fails, with the install command, when missing)."""
    return find_promtool()
