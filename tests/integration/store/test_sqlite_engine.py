"""SQLite engines get the settings that make SQLite a sound embedded server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from blacktop.store import SqlResourceStore, build_engine
from blacktop.store.engines import SQLITE_BUSY_TIMEOUT_MS


async def test_every_sqlite_connection_runs_wal_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        async with engine.connect() as conn:
            settings = {
                pragma: (await conn.execute(text(f"PRAGMA {pragma}"))).scalar_one()
                for pragma in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        await engine.dispose()
    # synchronous: 1 is NORMAL.
    assert settings == {
        "journal_mode": "wal",
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
        "foreign_keys": 1,
        "synchronous": 1,
    }


async def test_store_write_transactions_take_the_write_lock_before_writing(sqlite_url: str) -> None:
    """BEGIN IMMEDIATE: a second process cannot start writing while a write transaction is open,
    even before that transaction has written anything."""
    path = sqlite_url.removeprefix("sqlite:///")
    engine = build_engine(sqlite_url)
    store = SqlResourceStore(engine)
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        async with store.transaction():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        await engine.dispose()
