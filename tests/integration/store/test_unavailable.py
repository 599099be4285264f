"""An unreachable database surfaces as UnavailableError (503) with the driver error chained.

The PostgreSQL case needs no server: nothing listens on port 1 of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from blacktop.kernel.errors import UnavailableError
from blacktop.kernel.ports import AuditQuery, ListQuery
from blacktop.kernel.resources import ResourceKey
from blacktop.store import SqlResourceStore, SqlTokenStore, build_engine, migrate, upgrade_to_head

UNREACHABLE = {
    "sqlite-in-missing-directory": "sqlite:///{tmp}/no/such/dir/state.db",
    "postgres-port-closed": "postgresql://blacktop:secret@127.0.0.1:1/blacktop?connect_timeout=2",
}

Call = Callable[[SqlResourceStore, SqlTokenStore], Awaitable[object]]


async def _write(store: SqlResourceStore, _tokens: SqlTokenStore) -> None:
    async with store.transaction() as tx:
        await tx.create({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "a"}})


CALLS: dict[str, Call] = {
    "get": lambda s, _t: s.get(ResourceKey("x.io", "Thing", None, "a")),
    "list": lambda s, _t: s.list(ListQuery(group="x.io", kind="Thing")),
    "events": lambda s, _t: s.events(since=0),
    "current-revision": lambda s, _t: s.current_revision(),
    "audit-records": lambda s, _t: s.audit_records(AuditQuery()),
    "write": _write,
    "token-lookup": lambda _s, t: t.get_by_hash("abc"),
}


@pytest.fixture(autouse=True)
async def _settled_driver_threads() -> AsyncIterator[None]:
    """Wait for aiosqlite worker threads this test started before its event loop closes.

    aiosqlite 0.22 stops the worker of a failed connection without awaiting it; the worker then
    reports back to the loop, which in a test may already be closed (a long-running server's loop
    is not, so production is unaffected).
    """
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("asyncio_"):
            continue  # the loop's own executor workers, which the loop shuts down itself
        await asyncio.to_thread(thread.join, 10)


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_every_operation_reports_an_unreachable_database(tmp_path: Path, url: str, call: Call) -> None:
    engine = build_engine(url.format(tmp=tmp_path))
    try:
        with pytest.raises(UnavailableError) as caught:
            await call(SqlResourceStore(engine), SqlTokenStore(engine))
    finally:
        await engine.dispose()
    message = str(caught.value)
    assert "unavailable" in message
    assert "retry" in message
    assert "secret" not in message
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
async def test_migrating_an_unreachable_database_is_unavailable(tmp_path: Path, url: str) -> None:
    with pytest.raises(UnavailableError, match="migrate the database"):
        await migrate(url.format(tmp=tmp_path))
    with pytest.raises(UnavailableError, match="migrate the database"):
        upgrade_to_head(url.format(tmp=tmp_path))
