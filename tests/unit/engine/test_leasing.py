"""Shard assignment: stable hashing, fair shares, rebalancing plans, fencing and takeover.

Test design notes: coordinators run on an in-memory lease store and a shared FrozenClock; each
test calls ``tick`` by hand in the order it wants, so interleavings are explicit and no test waits.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.engine.leasing import (
    Admission,
    LeaseSettings,
    Rebalance,
    ShardCoordinator,
    fair_share,
    plan_rebalance,
    shard_of,
)
from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import InputError
from blacktop.kernel.resources import ResourceKey

from .fakes import EPOCH, InMemoryLeaseStore, MemoryLease

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SETTINGS = LeaseSettings(
    group="g",
    shards=8,
    lease_ttl=timedelta(seconds=10),
    renew_interval=timedelta(seconds=2),
    safety_margin=timedelta(seconds=1),
)
TIMEOUT = timedelta(seconds=3)


def key(name: str) -> ResourceKey:
    return ResourceKey("test.dev", "Widget", "default", name)


def test_shard_of_is_stable_and_in_range() -> None:
    # Fixed expectations: the hash must not change between processes or releases.
    assert [shard_of(key(n), 32) for n in ("a", "b", "c")] == [shard_of(key(n), 32) for n in ("a", "b", "c")]
    spread = Counter(shard_of(key(f"w{i}"), 32) for i in range(3200))
    assert set(spread) == set(range(32))
    assert max(spread.values()) < 2 * min(spread.values()), "keys should spread roughly evenly over shards"


def test_shard_of_pins_known_values() -> None:
    assert shard_of(key("alpha"), 32) == _pinned("alpha")
    assert shard_of(key("beta"), 1) == 0


def _pinned(name: str) -> int:
    import hashlib

    text = f"test.dev\x00Widget\x00default\x00{name}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") % 32


@dataclass(frozen=True)
class ShareCase:
    shards: int
    members: int
    want: int


SHARE_CASES = {
    "alone-holds-all": ShareCase(32, 1, 32),
    "two-split-evenly": ShareCase(32, 2, 16),
    "three-round-up": ShareCase(32, 3, 11),
    "more-members-than-shards": ShareCase(4, 10, 1),
    "no-members-counts-as-one": ShareCase(8, 0, 8),
}


@pytest.mark.parametrize("case", SHARE_CASES.values(), ids=SHARE_CASES.keys())
def test_fair_share_is_the_ceiling_so_members_cover_every_shard(case: ShareCase) -> None:
    assert fair_share(case.shards, case.members) == case.want
    assert fair_share(case.shards, case.members) * max(case.members, 1) >= case.shards


def lease(shard: int, holder: str | None, *, expires_in: float = 5) -> MemoryLease:
    return MemoryLease(shard, holder, NOW + timedelta(seconds=expires_in) if holder else EPOCH, 1)


@dataclass(frozen=True)
class RebalanceCase:
    held: tuple[int, ...]
    leases: tuple[MemoryLease, ...]
    members: tuple[str, ...]
    want_acquire_count: int
    want_release: tuple[int, ...] = ()
    want_acquire_within: frozenset[int] | None = None
    releasing: tuple[int, ...] = ()


FOUR_FREE = tuple(lease(s, None) for s in range(4))
REBALANCE_CASES = {
    "alone-takes-everything-free": RebalanceCase((), FOUR_FREE, ("me",), want_acquire_count=4),
    "two-members-take-half": RebalanceCase((), FOUR_FREE, ("me", "you"), want_acquire_count=2),
    "over-share-gives-back-highest": RebalanceCase(
        (0, 1, 2, 3), tuple(lease(s, "me") for s in range(4)), ("me", "you"), 0, want_release=(3, 2)
    ),
    "at-share-does-nothing": RebalanceCase(
        (0, 1), (lease(0, "me"), lease(1, "me"), lease(2, "you"), lease(3, "you")), ("me", "you"), 0
    ),
    "live-holders-are-respected": RebalanceCase(
        (),
        (lease(0, "you"), lease(1, "you"), lease(2, "you"), lease(3, None)),
        ("me",),
        1,
        want_acquire_within=frozenset({3}),
    ),
    "dead-holder-respected-until-expiry": RebalanceCase(
        (),
        (lease(0, "dead"), lease(1, "dead", expires_in=0), lease(2, "dead", expires_in=-1), lease(3, "dead")),
        ("me",),
        2,
        want_acquire_within=frozenset({1, 2}),
    ),
    "own-stale-lease-is-retaken": RebalanceCase(
        (),
        (lease(0, "me"), lease(1, "you"), lease(2, "you"), lease(3, "you")),
        ("me", "you"),
        1,
        want_acquire_within=frozenset({0}),
    ),
    "shards-being-released-are-not-retaken-nor-counted": RebalanceCase(
        (0, 1, 2),
        (lease(0, "me"), lease(1, "me"), lease(2, "me"), lease(3, None)),
        ("me",),
        2,
        want_acquire_within=frozenset({3}),
        releasing=(2,),
    ),
}


@pytest.mark.parametrize("case", REBALANCE_CASES.values(), ids=REBALANCE_CASES.keys())
def test_plan_rebalance_moves_towards_the_fair_share(case: RebalanceCase) -> None:
    plan = plan_rebalance(
        member="me", held=case.held, leases=case.leases, live_members=case.members, now=NOW, releasing=case.releasing
    )
    assert plan.release == case.want_release
    within = case.want_acquire_within
    if within is not None and len(within) < case.want_acquire_count:
        assert set(plan.acquire) == set(within)
    else:
        assert len(plan.acquire) == case.want_acquire_count
        if within is not None:
            assert set(plan.acquire) <= within
    assert not set(plan.acquire) & set(case.held)


def test_lease_settings_refuse_a_reconcile_timeout_that_could_outlive_the_lease() -> None:
    with pytest.raises(InputError) as caught:
        LeaseSettings(lease_ttl=timedelta(seconds=10), renew_interval=timedelta(seconds=5)).validate(
            reconcile_timeout=timedelta(seconds=4)
        )
    assert [p.path for p in caught.value.problems] == ["leases.lease_ttl"]
    SETTINGS.validate(reconcile_timeout=TIMEOUT)


def coordinator(store: InMemoryLeaseStore, clock: FrozenClock, member: str) -> ShardCoordinator:
    return ShardCoordinator(store=store, member=member, clock=clock, settings=SETTINGS, reconcile_timeout=TIMEOUT)


async def started(store: InMemoryLeaseStore) -> InMemoryLeaseStore:
    await store.ensure_shards(group="g", shards=SETTINGS.shards)
    return store


async def test_a_single_member_takes_every_shard() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one = coordinator(store, clock, "one")
    await one.tick()
    assert one.held == frozenset(range(8))


async def test_two_members_converge_on_half_each_after_the_first_drains() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one, two = coordinator(store, clock, "one"), coordinator(store, clock, "two")
    await one.tick()
    await two.tick()  # everything is held by "one": nothing to take yet
    assert two.held == frozenset()
    await one.tick()  # sees "two", gives back its excess (nothing in flight, so at once)
    await asyncio.sleep(0)
    await two.tick()
    assert (len(one.held), len(two.held)) == (4, 4)
    assert one.held.isdisjoint(two.held)


async def test_a_dead_members_shards_are_taken_over_only_after_its_leases_expire() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one, two = coordinator(store, clock, "one"), coordinator(store, clock, "two")
    await one.tick()
    await two.tick()
    await one.tick()
    await asyncio.sleep(0)
    await two.tick()
    lost = set(one.held)
    # "one" is killed: no more ticks. Just before its leases expire, "two" must not take them.
    clock.advance(SETTINGS.lease_ttl - timedelta(milliseconds=1))
    await two.tick()
    assert two.held.isdisjoint(lost)
    clock.advance(timedelta(milliseconds=1))
    await two.tick()
    assert two.held == frozenset(range(8))


async def test_admission_fences_reconciles_by_remaining_lease_time() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one = coordinator(store, clock, "one")
    await one.tick()
    k = key("a")
    assert one.admit(k) is Admission.RUN
    one.finish(k)
    # Needed: reconcile timeout (3 s) + margin (1 s). At 6.5 s into a 10 s lease, 3.5 s remain.
    clock.advance(timedelta(seconds=6.5))
    assert one.admit(k) is Admission.LATER
    await one.tick()  # renewal restores the full lease
    assert one.admit(k) is Admission.RUN
    one.finish(k)


async def test_a_shard_being_given_back_waits_for_its_reconciles_to_finish() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one = coordinator(store, clock, "one")
    await one.tick()
    busy = next(key(f"w{i}") for i in range(100) if shard_of(key(f"w{i}"), 8) == 7)
    assert one.admit(busy) is Admission.RUN
    two = coordinator(store, clock, "two")
    await two.tick()
    await one.tick()  # over share: gives back 7, 6, 5, 4; 7 is busy
    await asyncio.sleep(0)
    assert one.admit(busy) is Admission.NOT_MINE, "no new reconcile starts on a shard being given back"
    assert store.leases[("g", 7)].holder == "one", "the lease is kept while a reconcile runs on it"
    assert store.leases[("g", 6)].holder is None
    one.finish(busy)
    for _ in range(3):
        await asyncio.sleep(0)
    assert store.leases[("g", 7)].holder is None
    await two.tick()
    assert two.held == frozenset({4, 5, 6, 7})


async def test_leaving_releases_everything_and_removes_the_member() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one = coordinator(store, clock, "one")
    await one.tick()
    await one.leave()
    assert store.holders("g") == {None: 8}
    assert await store.live_members(group="g", now=NOW) == []


async def test_lost_leases_are_reported_and_no_longer_admitted() -> None:
    store, clock = await started(InMemoryLeaseStore()), FrozenClock(NOW)
    one = coordinator(store, clock, "one")
    lost: list[frozenset[int]] = []
    one.bind(on_acquired=lambda shards: None, on_lost=lost.append)
    await one.tick()
    clock.advance(SETTINGS.lease_ttl)  # a stalled process: its leases ran out before it renewed
    await store.acquire(group="g", shard=0, holder="thief", now=clock.now(), ttl=SETTINGS.lease_ttl)
    await one.tick()
    assert frozenset({0}) in lost or any(0 in s for s in lost)
    k = next(key(f"w{i}") for i in range(100) if shard_of(key(f"w{i}"), 8) == 0)
    assert one.admit(k) is Admission.NOT_MINE


@settings(max_examples=40, deadline=None)
@given(members=st.integers(min_value=1, max_value=6), shards=st.integers(min_value=1, max_value=40))
def test_members_ticking_in_turn_cover_every_shard_exactly_once_within_their_share(members: int, shards: int) -> None:
    async def scenario() -> None:
        store, clock = InMemoryLeaseStore(), FrozenClock(NOW)
        lease_settings = LeaseSettings(
            group="g",
            shards=shards,
            lease_ttl=timedelta(seconds=10),
            renew_interval=timedelta(seconds=2),
            safety_margin=timedelta(seconds=1),
        )
        await store.ensure_shards(group="g", shards=shards)
        coordinators = [
            ShardCoordinator(
                store=store, member=f"m{i}", clock=clock, settings=lease_settings, reconcile_timeout=TIMEOUT
            )
            for i in range(members)
        ]
        for _ in range(4):
            for c in coordinators:
                await c.tick()
                await asyncio.sleep(0)
        held = [c.held for c in coordinators]
        assert sum(len(h) for h in held) == shards
        assert frozenset().union(*held) == frozenset(range(shards))
        assert all(len(h) <= fair_share(shards, members) for h in held)

    asyncio.run(scenario())


def test_rebalance_is_a_value() -> None:
    assert Rebalance() == Rebalance(acquire=(), release=())


class SlowRenewals(InMemoryLeaseStore):
    """Renews at once but answers only when ``answer`` is set, like a slow database round trip."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()
        self.slow = False

    async def renew(
        self, *, group: str, shards: Collection[int], holder: str, now: datetime, ttl: timedelta
    ) -> list[MemoryLease]:
        renewed = await super().renew(group=group, shards=shards, holder=holder, now=now, ttl=ttl)
        if self.slow:
            await self.answer.wait()
        return renewed


async def test_a_renewal_in_flight_cannot_bring_back_a_shard_given_back_meanwhile() -> None:
    store, clock = SlowRenewals(), FrozenClock(NOW)
    await started(store)
    one, two = coordinator(store, clock, "one"), coordinator(store, clock, "two")
    await one.tick()
    busy = next(key(f"w{i}") for i in range(100) if shard_of(key(f"w{i}"), 8) == 7)
    assert one.admit(busy) is Admission.RUN
    await two.tick()
    await one.tick()  # starts giving back 4..7; 7 waits for its reconcile
    await asyncio.sleep(0)
    await store.leave(group="g", member="two")  # "one" is alone again: its fair share is everything
    store.slow = True
    renewing = asyncio.create_task(one.tick())  # renews 7 in the store, then waits for the answer
    await asyncio.sleep(0)
    one.finish(busy)  # 7 is drained: its release may now run
    for _ in range(5):
        await asyncio.sleep(0)
    store.answer.set()
    await renewing
    for _ in range(5):
        await asyncio.sleep(0)
    assert 7 not in one.held
    assert store.leases[("g", 7)].holder is None
    assert one.admit(busy) is Admission.NOT_MINE
