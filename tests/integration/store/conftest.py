"""Store backends for the contract suite: in-memory, SQLite (a temp file) and PostgreSQL.

Migrations run once per session per database; every test starts from empty tables, so the suite
does not depend on test order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from blacktop.kernel.ports import ResourceStore
from blacktop.store import InMemoryResourceStore, SqlResourceStore, build_engine, upgrade_to_head
from blacktop.store.tables import STORE_TABLES


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file shared by the session (tables are emptied per test)."""
    path: Path = tmp_path_factory.mktemp("sqlite") / "state.db"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database, migrated to head."""
    upgrade_to_head(postgres_url)
    return postgres_url


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row the store owns."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(STORE_TABLES)}"))
        else:
            for table in STORE_TABLES:
                await conn.execute(text(f"DELETE FROM {table}"))


@dataclass
class Backend:
    """One store backend under test; ``new_store`` opens another store on the same database."""

    name: str
    url: str | None
    engines: list[AsyncEngine] = field(default_factory=list)
    memory: InMemoryResourceStore | None = None

    @property
    def is_sql(self) -> bool:
        """Whether this backend is a real database."""
        return self.url is not None

    def engine(self) -> AsyncEngine:
        """A new engine on the backend's database, disposed of after the test."""
        assert self.url is not None, "the memory backend has no engine"
        engine = build_engine(self.url)
        self.engines.append(engine)
        return engine

    def new_store(self) -> ResourceStore:
        """A store on the same data: a second engine for SQL, the same instance for memory."""
        if self.memory is not None:
            return self.memory
        return SqlResourceStore(self.engine())


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def backend_url(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """The backend name and its migrated database URL (None for memory)."""
    name = str(request.param)
    if name == "memory":
        return name, None
    fixture = "sqlite_url" if name == "sqlite" else "migrated_postgres_url"
    return name, str(request.getfixturevalue(fixture))


@pytest.fixture
async def backend(backend_url: tuple[str, str | None]) -> AsyncIterator[Backend]:
    """The backend under test with empty tables."""
    name, url = backend_url
    result = Backend(name=name, url=url, memory=InMemoryResourceStore() if url is None else None)
    if url is not None:
        await empty_tables(result.engine())
    yield result
    for engine in result.engines:
        await engine.dispose()


@pytest.fixture
def store(backend: Backend) -> ResourceStore:
    """The store under test."""
    return backend.new_store()
