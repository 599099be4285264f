"""Migrations: one linear chain, idempotent, safe to run from several processes at once, and the
schema they build is exactly what ``store.tables`` declares."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from blacktop.store import build_engine, build_sync_engine, head_revisions, migrate
from blacktop.store.migrating import MIGRATIONS_DIR, alembic_config
from blacktop.store.tables import STORE_TABLES, Base


def test_the_chain_is_linear_and_starts_with_the_resource_tables() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(head_revisions()) == 1
    assert script.get_bases() == ["0001_resources"]
    chain = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in chain), "the chain must stay linear"
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_resources.py").is_file()


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"include_object": lambda obj, name, type_, *_: type_ != "table" or name in STORE_TABLES},
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def migrated_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"))


def test_migrated_schema_matches_the_table_declarations(migrated_url: str) -> None:
    engine = build_sync_engine(migrated_url)
    try:
        with engine.connect() as conn:
            assert set(STORE_TABLES) <= _tables(conn)
            assert _schema_differences(conn) == []
            assert MigrationContext.configure(conn).get_current_heads() == head_revisions()
    finally:
        engine.dispose()


async def test_concurrent_migrations_of_a_fresh_database_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    await asyncio.gather(*(migrate(url) for _ in range(3)))
    await migrate(url)  # already at head: nothing to do

    engine = build_engine(url)
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads())
    finally:
        await engine.dispose()
    assert heads == head_revisions()
