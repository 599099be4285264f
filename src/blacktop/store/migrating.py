"""Bringing a database to the newest schema with Alembic, programmatically, on start.

blacktop migrates itself when it starts (``blacktop up``, the API, engine workers), so several
processes may start together against one PostgreSQL: each migration run holds an advisory lock
(SQLite: an exclusive lock on a ``<database>.migrate.lock`` file beside it, since a fresh file's
switch to WAL and Alembic's first statements can otherwise deadlock on SQLite's own locks), and
the second process finds the schema already at head. The
script location is resolved next to this module, so it works from an installed wheel as well as
from a checkout.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from . import errors
from .engines import build_engine, build_sync_engine

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
"""Where the Alembic environment and revisions live (shipped as package data)."""

MIGRATION_LOCK_KEY: Final = 0x626C_6B74_6D67_0001
"""The PostgreSQL advisory lock a migration run holds ("blktmg" + 1)."""


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic Config pointing at blacktop's migrations (and at ``url`` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revisions() -> tuple[str, ...]:
    """The head revision ids of the migration chain (one, while the chain stays linear)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade(connection: Connection) -> None:
    """Run every pending migration on ``connection`` inside its open transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database on ``connection`` is at (empty before the first migration)."""
    return tuple(MigrationContext.configure(connection).get_current_heads())


@contextlib.contextmanager
def _sqlite_migration_lock(url: URL) -> Iterator[None]:
    """Hold an exclusive advisory lock beside the SQLite file at ``url`` (nothing for in-memory)."""
    database = Path(url.database or ":memory:")
    if url.get_backend_name() != "sqlite" or database.name == ":memory:" or not database.parent.is_dir():
        # A missing directory is left for the driver to report, in its own words.
        yield
        return
    lock_path = database.with_name(database.name + ".migrate.lock")
    with open(lock_path, "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


async def migrate(target: str | URL | AsyncEngine) -> None:
    """Upgrade the database at ``target`` (a URL or an engine) to the newest schema.

    Raises ``UnavailableError`` when the database cannot be reached.
    """
    engine = target if isinstance(target, AsyncEngine) else build_engine(target)
    lock = _sqlite_migration_lock(make_url(engine.url))
    try:
        # flock blocks, so it is taken on a worker thread, never on the event loop.
        await asyncio.to_thread(lock.__enter__)
        try:
            async with engine.connect() as conn:
                if engine.dialect.name == "sqlite":
                    await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    await conn.run_sync(_upgrade)
        finally:
            lock.__exit__(None, None, None)
    except Exception as exc:
        if errors.is_translatable(exc):
            raise errors.translate(exc, url=engine.url, action="migrate the database") from exc
        raise
    finally:
        if engine is not target:
            await engine.dispose()


def upgrade_to_head(url: str | URL) -> None:
    """Blocking twin of ``migrate`` for callers without an event loop (CLI commands, test setup)."""
    engine = build_sync_engine(url)
    try:
        with _sqlite_migration_lock(engine.url), engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                _upgrade(conn)
    except Exception as exc:
        if errors.is_translatable(exc):
            raise errors.translate(exc, url=engine.url, action="migrate the database") from exc
        raise
    finally:
        engine.dispose()
