"""Scale-out: engine processes share the objects through leases on a fixed set of shards.

Every object hashes into one of S shards (its key, not its uid, so a re-created object lands
where the old one was). Each process heartbeats as a member, takes a fair share of the shards
(``ceil(S / live members)``) by compare-and-set on free or expired leases, renews what it holds,
and gives back what exceeds its share, but only after the reconciles running on those shards
have finished. A process starts a reconcile only when its lease on the object's shard will still
hold for longer than the longest a reconcile may take (the engine cancels reconciles at that
limit), so no object is ever reconciled by two processes at once, and a killed process's shards
are taken over once its leases expire. Leases live in whatever ``LeaseStore`` the composition
root passes (``store.leases.SqlLeaseStore`` on SQLite or PostgreSQL); a single embedded process
uses ``AllShards`` and skips the bookkeeping.

Lease expiry is judged with each process's own Clock, so hosts' clocks must agree to well
within ``LeaseSettings.safety_margin``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.resources import ResourceKey

from .ports import Lease, LeaseStore

log = logging.getLogger(__name__)

ShardsCallback = Callable[[frozenset[int]], None]


class Admission(StrEnum):
    """Whether a worker may reconcile a key now."""

    RUN = "run"
    """This process holds the shard with enough lease time left; call ``finish`` afterwards."""
    LATER = "later"
    """The shard is held but the lease is too close to expiry; retry after the next renewal."""
    NOT_MINE = "not-mine"
    """Another process holds (or will hold) the shard; drop the key, its owner handles it."""


def shard_of(key: ResourceKey, shards: int) -> int:
    """The shard ``key`` belongs to: a stable hash, the same in every process and Python version."""
    text = f"{key.group}\x00{key.kind}\x00{key.namespace or ''}\x00{key.name}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") % shards


def fair_share(shards: int, members: int) -> int:
    """How many shards one member should hold: ``ceil(shards / members)``, so together they cover all."""
    return math.ceil(shards / max(members, 1))


@dataclass(frozen=True, slots=True)
class Rebalance:
    """Shards a member should try to take and shards it should give back."""

    acquire: tuple[int, ...] = ()
    release: tuple[int, ...] = ()


def plan_rebalance(
    *,
    member: str,
    held: Collection[int],
    leases: Sequence[Lease],
    live_members: Collection[str],
    now: datetime,
    releasing: Collection[int] = (),
) -> Rebalance:
    """Compare what ``member`` holds with its fair share and pick shards to take or give back.

    Only free or expired leases are candidates; a lease whose holder stopped heartbeating is still
    respected until it expires, because that holder may still be finishing a reconcile. Candidates
    are tried in an order that differs per member, so members starting together rarely collide.
    Excess shards are given back from the highest number down; shards still being given back
    (``releasing``) are neither counted as held nor taken again until the release is done.
    """
    members = set(live_members) | {member}
    share = fair_share(len(leases), len(members))
    mine = set(held) - set(releasing)
    if len(mine) > share:
        return Rebalance(release=tuple(sorted(mine, reverse=True)[: len(mine) - share]))
    if len(mine) == share:
        return Rebalance()
    candidates = [
        lease.shard
        for lease in leases
        if lease.shard not in mine
        and lease.shard not in releasing
        and (lease.holder in (None, member) or lease.expires_at <= now)
    ]
    candidates.sort(key=lambda shard: _member_order(member, shard))
    return Rebalance(acquire=tuple(candidates[: share - len(mine)]))


def _member_order(member: str, shard: int) -> bytes:
    return hashlib.blake2b(f"{member}\x00{shard}".encode(), digest_size=8).digest()


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    """How engine processes share shards."""

    group: str = "controllers"
    """Processes with the same group share one set of shards."""
    shards: int = 32
    """Number of shards; more than the largest expected number of processes, and never changed while running."""
    lease_ttl: timedelta = timedelta(seconds=30)
    """How long a lease lasts without renewal; a killed process's shards wait this long for a new owner."""
    renew_interval: timedelta = timedelta(seconds=3)
    """How often leases are renewed, heartbeats sent and shares rebalanced."""
    safety_margin: timedelta = timedelta(seconds=2)
    """Slack kept between the end of the longest reconcile and lease expiry (clock skew, slow commits)."""

    def validate(self, *, reconcile_timeout: timedelta) -> None:
        """Refuse settings under which a reconcile could outlive the lease it started under."""
        problems: list[Problem] = []
        if self.shards < 1:
            problems.append(Problem("leases.shards", f"must be at least 1, got {self.shards}"))
        needed = reconcile_timeout + self.safety_margin + self.renew_interval
        if needed >= self.lease_ttl:
            problems.append(
                Problem(
                    "leases.lease_ttl",
                    f"must exceed reconcile_timeout + safety_margin + renew_interval ({needed.total_seconds()} s), "
                    f"got {self.lease_ttl.total_seconds()} s; raise it or shorten the others",
                )
            )
        if problems:
            raise InputError("the engine's lease settings are inconsistent", problems=problems)


class ShardGate(Protocol):
    """Decides which keys this process may reconcile; the engine asks before every reconcile."""

    @property
    def shards(self) -> int:
        """The number of shards keys hash into."""
        ...

    @property
    def retry_after(self) -> timedelta:
        """How long to wait before asking again about a key admitted ``LATER``."""
        ...

    def may_own(self, key: ResourceKey) -> bool:
        """Whether ``key`` is worth queueing here (its shard is held and not being given back)."""
        ...

    def admit(self, key: ResourceKey) -> Admission:
        """Whether to reconcile ``key`` now; after ``RUN`` the caller must call ``finish``."""
        ...

    def has_time(self, key: ResourceKey, needed: timedelta) -> bool:
        """Whether the lease covering an admitted ``key`` still has ``needed`` left (checked before each step)."""
        ...

    def finish(self, key: ResourceKey) -> None:
        """The reconcile admitted for ``key`` is over."""
        ...

    def bind(self, *, on_acquired: ShardsCallback, on_lost: ShardsCallback) -> None:
        """Install the callbacks told about shards gained, and shards lost or being given back."""
        ...

    async def tick(self) -> None:
        """One round of heartbeat, renewal and rebalancing."""
        ...

    async def run(self, *, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set, then give every shard back."""
        ...


class AllShards:
    """The single-process gate: this process owns everything, with no lease bookkeeping."""

    shards = 1
    retry_after = timedelta(seconds=1)

    def __init__(self) -> None:
        self._on_acquired: ShardsCallback = _ignore
        self._owned = False

    def may_own(self, key: ResourceKey) -> bool:
        """Always."""
        return True

    def admit(self, key: ResourceKey) -> Admission:
        """Always run."""
        return Admission.RUN

    def has_time(self, key: ResourceKey, needed: timedelta) -> bool:
        """Always."""
        return True

    def finish(self, key: ResourceKey) -> None:
        """Nothing to count."""

    def bind(self, *, on_acquired: ShardsCallback, on_lost: ShardsCallback) -> None:
        """Keep ``on_acquired``; nothing is ever lost."""
        self._on_acquired = on_acquired

    async def tick(self) -> None:
        """Own shard 0 from the first tick on."""
        if not self._owned:
            self._owned = True
            self._on_acquired(frozenset({0}))

    async def run(self, *, stop: asyncio.Event) -> None:
        """Own everything until stopped."""
        await self.tick()
        await stop.wait()


class ShardCoordinator:
    """Holds this process's fair share of shard leases in a ``LeaseStore`` and fences reconciles by them."""

    def __init__(
        self,
        *,
        store: LeaseStore,
        member: str,
        clock: Clock,
        settings: LeaseSettings,
        reconcile_timeout: timedelta,
    ) -> None:
        settings.validate(reconcile_timeout=reconcile_timeout)
        self._store = store
        self._member = member
        self._clock = clock
        self._settings = settings
        self._needed = reconcile_timeout + settings.safety_margin
        self._held: dict[int, datetime] = {}
        self._releasing: set[int] = set()
        self._in_flight: Counter[int] = Counter()
        self._drained = asyncio.Event()
        self._release_tasks: set[asyncio.Task[None]] = set()
        self._on_acquired: ShardsCallback = _ignore
        self._on_lost: ShardsCallback = _ignore
        self._shards_ensured = False
        self._changing = asyncio.Lock()

    @property
    def shards(self) -> int:
        """The number of shards keys hash into."""
        return self._settings.shards

    @property
    def retry_after(self) -> timedelta:
        """Half the renew interval: by then the next renewal has usually restored the lease time."""
        return self._settings.renew_interval / 2

    @property
    def member(self) -> str:
        """This process's member id."""
        return self._member

    @property
    def held(self) -> frozenset[int]:
        """Shards this process holds (including ones it is draining to give back)."""
        return frozenset(self._held)

    def may_own(self, key: ResourceKey) -> bool:
        """Whether ``key``'s shard is held and not being given back."""
        shard = shard_of(key, self._settings.shards)
        return shard in self._held and shard not in self._releasing

    def admit(self, key: ResourceKey) -> Admission:
        """Fence: run only with the shard held, not draining, and the lease outliving the longest reconcile."""
        shard = shard_of(key, self._settings.shards)
        expires = self._held.get(shard)
        if expires is None or shard in self._releasing:
            return Admission.NOT_MINE
        if expires - self._clock.now() < self._needed:
            return Admission.LATER
        self._in_flight[shard] += 1
        return Admission.RUN

    def has_time(self, key: ResourceKey, needed: timedelta) -> bool:
        """Whether the shard of ``key`` is still held (draining or not) with ``needed`` left on its lease."""
        expires = self._held.get(shard_of(key, self._settings.shards))
        return expires is not None and expires - self._clock.now() >= needed

    def finish(self, key: ResourceKey) -> None:
        """Count the reconcile of ``key`` as over, waking a drain that waits for its shard."""
        shard = shard_of(key, self._settings.shards)
        self._in_flight[shard] -= 1
        if self._in_flight[shard] <= 0:
            del self._in_flight[shard]
            self._drained.set()

    async def tick(self) -> None:
        """One round: heartbeat, renew, then take or give back shards towards the fair share."""
        # Lease changes are serialised with the release tasks, so a renewal in flight can never
        # resurrect a shard a release task has just given back.
        async with self._changing:
            await self._tick()

    async def _tick(self) -> None:
        settings = self._settings
        if not self._shards_ensured:
            await self._store.ensure_shards(group=settings.group, shards=settings.shards)
            self._shards_ensured = True
        now = self._clock.now()
        await self._store.heartbeat(group=settings.group, member=self._member, now=now, ttl=settings.lease_ttl)
        if self._held:
            renewed = await self._store.renew(
                group=settings.group,
                shards=list(self._held),
                holder=self._member,
                now=self._clock.now(),  # the heartbeat may have waited for a database lock
                ttl=settings.lease_ttl,
            )
            kept = {lease.shard: lease.expires_at for lease in renewed}
            lost = frozenset(self._held) - frozenset(kept)
            self._held = kept
            self._releasing &= set(kept)
            if lost:
                self._on_lost(lost)
        members = await self._store.live_members(group=settings.group, now=now)
        leases = await self._store.list_leases(group=settings.group)
        plan = plan_rebalance(
            member=self._member,
            held=self._held,
            leases=leases,
            live_members=members,
            now=now,
            releasing=self._releasing,
        )
        acquired: set[int] = set()
        for shard in plan.acquire:
            lease = await self._store.acquire(
                group=settings.group, shard=shard, holder=self._member, now=self._clock.now(), ttl=settings.lease_ttl
            )
            if lease is not None:
                self._held[shard] = lease.expires_at
                acquired.add(shard)
        if acquired:
            self._on_acquired(frozenset(acquired))
        if plan.release:
            self._start_release(frozenset(plan.release))

    def bind(self, *, on_acquired: ShardsCallback, on_lost: ShardsCallback) -> None:
        """Install the engine's callbacks for shards gained, and shards lost or being given back."""
        self._on_acquired = on_acquired
        self._on_lost = on_lost

    async def run(self, *, stop: asyncio.Event) -> None:
        """Tick every ``renew_interval`` until ``stop`` is set, then drain and give everything back."""
        settings = self._settings
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    # Leases held keep their last expiry; admission stops reconciles before it passes.
                    log.exception("engine member %s could not renew or rebalance its shard leases", self._member)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.renew_interval.total_seconds())
        finally:
            await self.leave()

    async def leave(self) -> None:
        """Drain every held shard, release all leases and remove this member's heartbeat."""
        everything = frozenset(self._held)
        self._releasing |= everything
        if everything:
            self._on_lost(everything)
        await self._wait_drained(everything)
        await asyncio.gather(*self._release_tasks, return_exceptions=True)
        async with self._changing:
            await self._store.release(group=self._settings.group, shards=list(self._held), holder=self._member)
            self._held.clear()
            self._releasing.clear()
            await self._store.leave(group=self._settings.group, member=self._member)

    def _start_release(self, shards: frozenset[int]) -> None:
        fresh = shards - self._releasing
        if not fresh:
            return
        self._releasing |= fresh
        self._on_lost(fresh)
        loop = asyncio.get_running_loop()
        # One task per shard, so an idle shard goes back at once while a busy one drains.
        for shard in sorted(fresh):
            task = loop.create_task(self._release_after_drain(shard))
            self._release_tasks.add(task)
            task.add_done_callback(self._release_tasks.discard)

    async def _release_after_drain(self, shard: int) -> None:
        await self._wait_drained(frozenset({shard}))
        async with self._changing:
            if shard not in self._held or shard not in self._releasing:
                return
            try:
                await self._store.release(group=self._settings.group, shards=[shard], holder=self._member)
            except Exception:
                # Not admitted any more either way; the lease simply lapses and another member takes it then.
                log.exception("engine member %s could not release shard %d", self._member, shard)
            self._held.pop(shard, None)
            self._releasing.discard(shard)

    async def _wait_drained(self, shards: frozenset[int]) -> None:
        # Every finish() sets the event, waking all waiters; each re-checks its own shards.
        while any(self._in_flight[shard] for shard in shards):
            self._drained.clear()
            await self._drained.wait()


def _ignore(shards: frozenset[int]) -> None:
    """The callback used before ``run`` installs the engine's."""
