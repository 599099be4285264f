"""Short SQLite statements on the event loop's own thread instead of aiosqlite's worker thread.

aiosqlite runs every call (cursor, execute, fetch, close) on a worker thread and hands the result
back to the loop; for the point reads and short write transactions blacktop runs most, those hops
cost several times what SQLite needs for the statement itself. ``SqliteOnLoop`` keeps two blocking
connections to the same file, used only from the loop thread: one for write transactions (taken
under the owner's write lock) and one for single-row reads. Neither ever blocks the loop waiting
for a lock: their busy timeout is 0, a write waits for another process's lock with
``asyncio.sleep``, and a busy read says so and lets the caller take the async path. Write-ahead log
checkpoints (which fsync) run on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Connection, Engine, Executable, exc
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from .engines import SQLITE_BUSY_TIMEOUT_MS, build_sync_engine

CHECKPOINT_EVERY: Final = 200
"""Write transactions between two checkpoints of the write-ahead log (SQLite's own default is ~1000 pages)."""

log = logging.getLogger(__name__)


def applies_to(engine: AsyncEngine) -> bool:
    """Whether ``engine`` is a SQLite database in a file (an in-memory one is private to its connection)."""
    return engine.dialect.name == "sqlite" and (engine.url.database or "") not in ("", ":memory:")


def is_busy(error: exc.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds a lock it needs (worth waiting for)."""
    return "locked" in str(error) or "busy" in str(error)


class SqliteOnLoop:
    """The loop-thread connections to one SQLite file; see the module docstring."""

    def __init__(self, url: URL) -> None:
        self._url = url
        self._engine: Engine | None = None
        self._writer: Connection | None = None
        self._reader: Connection | None = None
        self._commits_since_checkpoint = 0
        self._checkpointing: asyncio.Task[None] | None = None

    def _connect(self, *, autocheckpoint: bool) -> Connection:
        if self._engine is None:
            self._engine = build_sync_engine(self._url, connect_args={"check_same_thread": False})
        conn = self._engine.connect()
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA busy_timeout=0")
        if not autocheckpoint:
            driver.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    async def begin(self) -> Connection:
        """``BEGIN IMMEDIATE`` on the write connection; the caller must hold its own write lock.

        Another process's write lock is waited for asynchronously, up to SQLite's usual busy timeout.
        The caller commits or rolls back, then calls ``committed`` after a commit.
        """
        if self._writer is None:
            self._writer = self._connect(autocheckpoint=False)
            self._writer.execution_options(sqlite_begin="IMMEDIATE")
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                self._writer.begin()
                return self._writer
            except exc.OperationalError as error:
                if not is_busy(error) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def committed(self) -> None:
        """Count a commit; every ``CHECKPOINT_EVERY`` commits, checkpoint the log on a worker thread."""
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= CHECKPOINT_EVERY and self._checkpointing is None:
            self._commits_since_checkpoint = 0
            self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint())

    def read_first(self, statement: Executable, params: Mapping[str, Any] | None = None) -> tuple[bool, Any]:
        """(True, first row or None) read in a fresh snapshot; (False, None) when SQLite is busy right now."""
        if self._reader is None:
            self._reader = self._connect(autocheckpoint=True)
        try:
            return True, self._reader.execute(statement, params).first()
        except exc.OperationalError as error:
            if is_busy(error):
                return False, None
            raise
        finally:
            self._reader.rollback()

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self._checkpoint_now)
        except Exception:
            log.warning("checkpointing the SQLite write-ahead log failed; it is retried later", exc_info=True)
        finally:
            self._checkpointing = None

    def _checkpoint_now(self) -> None:
        assert self._engine is not None
        with self._engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def close(self) -> None:
        """Close both connections (call it while no write transaction is open)."""
        if self._checkpointing is not None:
            await self._checkpointing
        for conn in (self._writer, self._reader):
            if conn is not None:
                conn.close()
        self._writer = self._reader = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
