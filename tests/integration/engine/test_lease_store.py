"""The LeaseStore contract, on the in-memory fake, SQLite and PostgreSQL.

Test design notes: every test uses a lease group of its own, so tests share the session's
databases without cleaning up. Times are explicit datetimes; nothing waits.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from blacktop.engine import LeaseStore
from blacktop.store import build_engine
from blacktop.store.leases import SqlLeaseStore
from tests.unit.engine.fakes import InMemoryLeaseStore

NOW = datetime(2026, 3, 1, tzinfo=UTC)
TTL = timedelta(seconds=10)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def new_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], LeaseStore]]:
    """A factory of lease stores on one database (each SQL store gets its own connection pool)."""
    if request.param == "memory":
        memory = InMemoryLeaseStore()
        yield lambda: memory
        return
    url = str(request.getfixturevalue("engine_sqlite_url" if request.param == "sqlite" else "engine_postgres_url"))
    engines: list[AsyncEngine] = []

    def make() -> LeaseStore:
        engines.append(build_engine(url))
        return SqlLeaseStore(engines[-1])

    yield make
    for engine in engines:
        await engine.dispose()


@pytest.fixture
def group() -> str:
    return f"test-{secrets.token_hex(4)}"


async def test_ensure_shards_is_idempotent_and_creates_free_leases(
    new_store: Callable[[], LeaseStore], group: str
) -> None:
    store = new_store()
    await store.ensure_shards(group=group, shards=4)
    await store.ensure_shards(group=group, shards=4)
    leases = await store.list_leases(group=group)
    assert [(lease.shard, lease.holder) for lease in leases] == [(0, None), (1, None), (2, None), (3, None)]


async def test_a_held_lease_cannot_be_taken_until_it_expires(new_store: Callable[[], LeaseStore], group: str) -> None:
    store = new_store()
    await store.ensure_shards(group=group, shards=1)
    first = await store.acquire(group=group, shard=0, holder="a", now=NOW, ttl=TTL)
    assert first is not None
    assert (first.holder, first.expires_at) == ("a", NOW + TTL)
    assert (
        await store.acquire(group=group, shard=0, holder="b", now=NOW + TTL - timedelta(milliseconds=1), ttl=TTL)
        is None
    )
    again = await store.acquire(group=group, shard=0, holder="a", now=NOW + timedelta(seconds=1), ttl=TTL)
    assert again is not None, "a holder may take its own lease again"
    taken = await store.acquire(group=group, shard=0, holder="b", now=NOW + timedelta(seconds=1) + TTL, ttl=TTL)
    assert taken is not None
    assert taken.holder == "b"
    assert taken.token > first.token, "the fencing token grows with every take"


async def test_renew_extends_only_unexpired_leases_still_held(new_store: Callable[[], LeaseStore], group: str) -> None:
    store = new_store()
    await store.ensure_shards(group=group, shards=3)
    for shard in range(3):
        await store.acquire(group=group, shard=shard, holder="a", now=NOW, ttl=TTL)
    stolen_at = NOW + TTL
    await store.acquire(group=group, shard=2, holder="b", now=stolen_at, ttl=TTL)
    renewed = await store.renew(group=group, shards=[0, 1, 2], holder="a", now=NOW + timedelta(seconds=5), ttl=TTL)
    assert [(lease.shard, lease.expires_at) for lease in renewed] == [
        (0, NOW + timedelta(seconds=5) + TTL),
        (1, NOW + timedelta(seconds=5) + TTL),
    ]
    late = await store.renew(group=group, shards=[0], holder="a", now=NOW + timedelta(seconds=5) + TTL, ttl=TTL)
    assert late == [], "an expired lease is not renewed: someone may already hold it"


async def test_release_frees_only_the_holders_leases(new_store: Callable[[], LeaseStore], group: str) -> None:
    store = new_store()
    await store.ensure_shards(group=group, shards=2)
    await store.acquire(group=group, shard=0, holder="a", now=NOW, ttl=TTL)
    await store.acquire(group=group, shard=1, holder="b", now=NOW, ttl=TTL)
    await store.release(group=group, shards=[0, 1], holder="a")
    leases = await store.list_leases(group=group)
    assert [lease.holder for lease in leases] == [None, "b"]
    assert await store.acquire(group=group, shard=0, holder="c", now=NOW, ttl=TTL) is not None


async def test_members_are_live_until_their_heartbeat_expires_or_they_leave(
    new_store: Callable[[], LeaseStore], group: str
) -> None:
    store = new_store()
    await store.heartbeat(group=group, member="a", now=NOW, ttl=TTL)
    await store.heartbeat(group=group, member="b", now=NOW + timedelta(seconds=5), ttl=TTL)
    await store.heartbeat(group=f"{group}-other", member="z", now=NOW, ttl=TTL)
    assert await store.live_members(group=group, now=NOW + timedelta(seconds=1)) == ["a", "b"]
    assert await store.live_members(group=group, now=NOW + TTL) == ["b"]
    await store.heartbeat(group=group, member="a", now=NOW + TTL, ttl=TTL)
    assert await store.live_members(group=group, now=NOW + TTL) == ["a", "b"]
    await store.leave(group=group, member="b")
    assert await store.live_members(group=group, now=NOW + TTL) == ["a"]


async def test_racing_takers_of_one_free_lease_have_exactly_one_winner(
    new_store: Callable[[], LeaseStore], group: str
) -> None:
    stores = [new_store() for _ in range(6)]
    await stores[0].ensure_shards(group=group, shards=1)
    results = await asyncio.gather(
        *(s.acquire(group=group, shard=0, holder=f"m{i}", now=NOW, ttl=TTL) for i, s in enumerate(stores))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert (await stores[0].list_leases(group=group))[0].holder == winners[0].holder


async def test_racing_shard_creation_from_several_processes_agrees(
    new_store: Callable[[], LeaseStore], group: str
) -> None:
    stores = [new_store() for _ in range(4)]
    await asyncio.gather(*(s.ensure_shards(group=group, shards=16) for s in stores))
    assert [lease.shard for lease in await stores[0].list_leases(group=group)] == list(range(16))
