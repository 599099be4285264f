"""Building database engines from the one URL an operator configures.

Operators write ``sqlite:///.blacktop/state.db`` or ``postgresql://user@host/db``; blacktop runs on
asyncio, so the URL is rewritten to the async drivers (aiosqlite, psycopg 3). SQLite gets the
settings that make it a sound embedded server: WAL so readers never block the writer, a busy
timeout instead of instant "database is locked" errors, foreign keys, and ``synchronous=NORMAL``
(durable across application crashes; WAL makes it safe against corruption on power loss).

pysqlite's own transaction handling is switched off and ``BEGIN`` is emitted by SQLAlchemy's
``begin`` event instead, so reads run in real snapshot transactions and write transactions can ask
for ``BEGIN IMMEDIATE`` (execution option ``sqlite_begin="IMMEDIATE"``), which takes the database
write lock up front and serialises writers across processes.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from blacktop.kernel.errors import InputError, Problem

SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
"""How long a SQLite writer waits for another process's write lock before giving up."""

_ASYNC_DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS: Final = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_BEGIN_MODES: Final = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def _backend(url: URL) -> str:
    backend = url.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _ASYNC_DRIVERS:
        raise InputError(
            f"database URL scheme {url.drivername!r} is not supported",
            problems=[
                Problem(
                    path="database.url",
                    message="use sqlite:///path/to/state.db or postgresql://user@host:5432/dbname",
                )
            ],
        )
    return backend


def async_url(url: str | URL) -> URL:
    """``url`` rewritten to the asyncio driver of its database (aiosqlite or psycopg)."""
    parsed = make_url(url)
    return parsed.set(drivername=_ASYNC_DRIVERS[_backend(parsed)])


def sync_url(url: str | URL) -> URL:
    """``url`` rewritten to the blocking driver of its database (pysqlite or psycopg)."""
    parsed = make_url(url)
    return parsed.set(drivername=_SYNC_DRIVERS[_backend(parsed)])


def build_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """An AsyncEngine for ``url`` (``sqlite:///…`` or ``postgresql://…``, async drivers or not).

    Nothing connects yet; the first query does, and an unreachable database surfaces there.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, echo=echo)
        _configure_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(target, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def build_sync_engine(url: str | URL, *, echo: bool = False, connect_args: dict[str, Any] | None = None) -> Engine:
    """A blocking Engine for ``url`` with the same SQLite settings; for migrations, bulk tooling and SQLite writes."""
    target = sync_url(url)
    engine = create_engine(target, echo=echo, connect_args=connect_args or {})
    if target.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event own BEGIN, so reads are transactional too.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching a fresh file to WAL needs a lock another process may hold.
        for pragma in (
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "journal_mode=WAL",
            "foreign_keys=ON",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = str(connection.get_execution_options().get("sqlite_begin", "DEFERRED")).upper()
        if mode not in _BEGIN_MODES:
            raise ValueError(f"sqlite_begin must be one of {sorted(_BEGIN_MODES)}, got {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")
