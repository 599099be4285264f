"""The engine end to end on in-memory ports: listing, events, plans, finalizers, failures, fencing.

Test design notes: the engine's steps (``prime``, ``poll_events``, ``process_next``, gate ticks)
are driven by hand with a FrozenClock, so every test is deterministic and nothing waits. Only
``test_started_engine_*`` runs the background tasks, waiting on an event a reconcile sets.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop.engine import (
    ConditionUpdate,
    ControllerRegistry,
    CreateChild,
    DeleteChild,
    Engine,
    EngineSettings,
    FunctionController,
    LeaseSettings,
    Plan,
    ReconcileContext,
    plan_status,
)
from blacktop.engine.controllers import ReconcileFn
from blacktop.engine.leasing import ShardCoordinator, shard_of
from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import PermanentFailure, TemporaryFailure
from blacktop.kernel.resources import Resource, ResourceKey, find_condition

from .fakes import GROUP, KIND, InMemoryLeaseStore, InMemoryResources, widget

NOW = datetime(2026, 3, 1, tzinfo=UTC)
FINALIZER = "test.blacktop.dev/cleanup"


@dataclass
class Script:
    """A controller whose behaviour each test sets, recording every call."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    broken: dict[str, Exception] = field(default_factory=dict)
    finalize_requeues: int = 0

    async def reconcile(self, obj: Resource, ctx: ReconcileContext) -> Plan:
        self.calls.append(("reconcile", ctx.key.name, ctx.attempt))
        pending = self.failures.get(ctx.key.name)
        if pending:
            raise pending.pop(0)
        if ctx.key.name in self.broken:
            raise self.broken[ctx.key.name]
        return plan_status(obj, now=ctx.now, conditions=[ConditionUpdate("Ready", True, "Reconciled")])

    async def finalize(self, obj: Resource, ctx: ReconcileContext) -> Plan:
        self.calls.append(("finalize", ctx.key.name, ctx.attempt))
        if self.finalize_requeues:
            self.finalize_requeues -= 1
            return Plan(requeue_after=timedelta(seconds=30))
        return Plan()

    def count(self, what: str = "reconcile") -> Counter[str]:
        return Counter(name for kind, name, _ in self.calls if kind == what)


class Outcomes:
    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()

    def observe_queue_depth(self, depth: int) -> None:
        assert depth >= 0

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        assert (group, kind) == (GROUP, KIND)
        assert seconds >= 0
        self.outcomes[outcome] += 1


@dataclass
class Rig:
    clock: FrozenClock
    store: InMemoryResources
    script: Script
    engine: Engine
    metrics: Outcomes

    async def settle(self, rounds: int = 20) -> None:
        """Read events and reconcile until nothing is left to do now."""
        for _ in range(rounds):
            read = await self.engine.poll_events()
            processed = False
            while await self.engine.process_next():
                processed = True
            if not read and not processed:
                return
        raise AssertionError("the engine did not settle")


def make_rig(*, finalizer: str | None = None, names: tuple[str, ...] = ("a", "b", "c")) -> Rig:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    for name in names:
        store.put(widget(name))
    script = Script()
    controller = FunctionController(GROUP, KIND, script.reconcile, script.finalize, finalizer=finalizer)
    metrics = Outcomes()
    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([controller]),
        clock=clock,
        settings=EngineSettings(page_size=2, backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=8)),
        metrics=metrics,
        rng=random.Random(0),
    )
    return Rig(clock, store, script, engine, metrics)


def key(name: str) -> ResourceKey:
    return ResourceKey(GROUP, KIND, "default", name)


async def test_every_listed_object_is_reconciled_and_gets_observed_status() -> None:
    rig = make_rig()
    await rig.engine.prime()
    assert rig.store.list_calls == 2, "three objects in pages of two"
    await rig.settle()
    for name in ("a", "b", "c"):
        status = rig.store.status_of(key(name))
        assert status["observedGeneration"] == 1
        assert find_condition({"status": status}, "Ready") is not None
    # The status writes come back as events and are reconciled once more, writing nothing.
    assert rig.script.count() == Counter({"a": 2, "b": 2, "c": 2})
    assert [w for w, _ in rig.store.writes] == ["status"] * 3
    assert rig.metrics.outcomes == Counter({"success": 6})


async def test_a_spec_change_is_picked_up_from_events_and_observed() -> None:
    rig = make_rig()
    await rig.engine.prime()
    await rig.settle()
    changed = widget("b", spec={"size": 2})
    rig.store.put(changed)
    await rig.settle()
    assert rig.store.objects[key("b")]["metadata"]["generation"] == 2
    assert rig.store.status_of(key("b"))["observedGeneration"] == 2
    assert rig.script.count()["a"] == 2, "unchanged objects are not reconciled again"


async def test_changes_while_waiting_are_reconciled_once() -> None:
    rig = make_rig(names=("a",))
    await rig.engine.prime()
    for size in range(5):
        rig.store.put(widget("a", spec={"size": size}))
    await rig.engine.poll_events()
    assert len(rig.engine.queue) == 1
    await rig.engine.process_next()
    assert rig.script.count()["a"] == 1
    assert rig.store.status_of(key("a"))["observedGeneration"] == 6, "created at 1, five spec changes"


async def test_delivered_commits_that_follow_on_are_applied_without_reading_the_log() -> None:
    rig = make_rig(names=("a",))
    await rig.engine.prime()
    rig.store.put(widget("b"))
    rig.store.put(widget("c"))
    rig.engine.deliver(rig.store.log[1:2])
    rig.engine.deliver(rig.store.log[2:3])
    rig.engine.deliver(rig.store.log[1:2])  # already seen: ignored

    assert rig.engine.revision == 3
    assert rig.engine.cached(key("c")) is not None
    assert sorted(k.name for k in [rig.engine.queue.get_nowait(), rig.engine.queue.get_nowait()]) == ["a", "b"]


async def test_a_delivered_commit_after_a_gap_is_left_to_the_log_read() -> None:
    rig = make_rig(names=("a",))
    await rig.engine.prime()
    rig.store.put(widget("b"))  # another replica's write: never delivered here
    rig.store.put(widget("c"))
    rig.engine.deliver(rig.store.log[2:3])

    assert rig.engine.revision == 1, "revision 2 is missing, so nothing is applied out of order"
    assert rig.engine.cached(key("c")) is None
    await rig.engine.poll_events()
    assert rig.engine.revision == 3
    assert rig.engine.cached(key("b")) is not None and rig.engine.cached(key("c")) is not None


async def test_a_change_to_an_owned_object_of_another_kind_wakes_its_owner() -> None:
    rig = make_rig(names=("a", "b"))
    await rig.engine.prime()
    await rig.settle()
    part = {
        "apiVersion": "parts.test/v1",
        "kind": "Part",
        "metadata": {
            "name": "a-part",
            "namespace": "default",
            "ownerReferences": [{"apiVersion": f"{GROUP}/v1", "kind": KIND, "name": "a", "controller": True}],
        },
    }
    stray = {"apiVersion": "parts.test/v1", "kind": "Part", "metadata": {"name": "lone", "namespace": "default"}}
    rig.store.put(part)
    rig.store.put(stray)
    rig.engine.deliver(rig.store.log[-2:])

    assert rig.engine.queue.get_nowait() == key("a")
    assert rig.engine.queue.get_nowait() is None, "only the owner is woken, and the Part itself is not cached"
    assert rig.engine.cached(ResourceKey("parts.test", "Part", "default", "a-part")) is None


async def test_a_plan_that_deletes_its_own_object_leaves_the_deletion_in_the_cache() -> None:
    """The store delivers each write's event as it commits; the plan's earlier copy must not win afterwards."""
    rig = make_rig(names=("a",), finalizer=FINALIZER)
    original_commit = rig.store._commit

    def commit_and_deliver(type_: Any, obj: Resource) -> Resource:
        stored = original_commit(type_, obj)
        rig.engine.deliver(rig.store.log[-1:])
        return stored

    rig.store._commit = commit_and_deliver  # type: ignore[method-assign]
    await rig.engine.prime()
    await rig.settle()
    stored = rig.store.objects[key("a")]
    plan = plan_status(stored, now=NOW, conditions=[ConditionUpdate("Ready", False, "Expired")]).then(
        DeleteChild(key("a"))
    )
    await rig.engine._apply(stored, plan)

    cached = rig.engine.cached(key("a"))
    assert cached is not None and cached["metadata"].get("deletionTimestamp"), "the deletion is what is cached"


async def test_resync_queues_every_object_again() -> None:
    rig = make_rig()
    await rig.engine.prime()
    await rig.settle()
    rig.engine.resync()
    await rig.settle()
    assert rig.script.count() == Counter({"a": 3, "b": 3, "c": 3})
    assert len(rig.store.writes) == 3, "a resync of settled objects writes nothing"


async def test_finalizer_is_added_first_then_finalize_runs_on_deletion_and_the_object_goes() -> None:
    rig = make_rig(finalizer=FINALIZER, names=("a",))
    await rig.engine.prime()
    await rig.settle()
    assert rig.store.objects[key("a")]["metadata"]["finalizers"] == [FINALIZER]
    assert [w for w, _ in rig.store.writes][:2] == ["add_finalizer", "status"]
    rig.store.request_deletion(key("a"))
    await rig.settle()
    assert key("a") not in rig.store.objects
    assert rig.script.count("finalize") == Counter({"a": 1})
    assert rig.engine.cached(key("a")) is None


async def test_finalize_asking_for_a_requeue_keeps_the_finalizer_until_it_is_done() -> None:
    rig = make_rig(finalizer=FINALIZER, names=("a",))
    rig.script.finalize_requeues = 1
    await rig.engine.prime()
    await rig.settle()
    rig.store.request_deletion(key("a"))
    await rig.settle()
    assert rig.store.objects[key("a")]["metadata"]["finalizers"] == [FINALIZER]
    rig.clock.advance(timedelta(seconds=30))
    await rig.settle()
    assert key("a") not in rig.store.objects
    assert rig.script.count("finalize") == Counter({"a": 2})


async def test_a_temporary_failure_is_retried_after_its_delay_with_the_attempt_counted() -> None:
    rig = make_rig(names=("a",))
    rig.script.failures["a"] = [TemporaryFailure("bucket not ready", delay=timedelta(seconds=20))]
    await rig.engine.prime()
    await rig.settle()
    assert rig.script.calls == [("reconcile", "a", 0)]
    rig.clock.advance(timedelta(seconds=19))
    await rig.settle()
    assert len(rig.script.calls) == 1
    rig.clock.advance(timedelta(seconds=1))
    await rig.settle()
    assert rig.script.calls[1] == ("reconcile", "a", 1)
    assert rig.metrics.outcomes["temporary_failure"] == 1


async def test_unexpected_errors_back_off_exponentially_then_recover() -> None:
    rig = make_rig(names=("a",))
    rig.script.failures["a"] = [RuntimeError("boom"), RuntimeError("boom"), RuntimeError("boom")]
    await rig.engine.prime()
    await rig.settle()
    waits = []
    for _ in range(3):
        due = rig.engine.queue.next_due_in()
        assert due is not None
        waits.append(due)
        rig.clock.advance(due)
        await rig.settle()
    # Base 1 s, doubling, with jitter keeping each delay within [d/2, d].
    for attempt, wait in enumerate(waits[:3]):
        ceiling = timedelta(seconds=2**attempt)
        assert ceiling / 2 <= wait <= ceiling
    assert [c[2] for c in rig.script.calls[:4]] == [0, 1, 2, 3]
    assert rig.store.status_of(key("a"))["observedGeneration"] == 1
    assert rig.metrics.outcomes["error"] == 3


async def test_a_permanent_failure_sets_ready_false_and_is_not_retried() -> None:
    rig = make_rig(names=("a",))
    rig.script.broken["a"] = PermanentFailure("spec.size 0 is not allowed")
    await rig.engine.prime()
    await rig.settle()
    ready = find_condition({"status": rig.store.status_of(key("a"))}, "Ready")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("False", "ReconcileFailed")
    assert ready["message"] == "spec.size 0 is not allowed"
    rig.clock.advance(timedelta(hours=1))
    await rig.settle()
    assert rig.engine.queue.delayed == 0
    assert rig.metrics.outcomes["permanent_failure"] == 2, "once, and once more for its own status event"


async def test_a_plan_from_a_stale_read_conflicts_and_is_retried_on_the_fresh_object() -> None:
    rig = make_rig(names=("a",))
    await rig.engine.prime()
    rig.store.put(widget("a", spec={"size": 9}))  # changed after the engine cached it
    await rig.engine.process_next()
    assert rig.metrics.outcomes["conflict"] == 1
    assert "observedGeneration" not in rig.store.status_of(key("a"))
    rig.clock.advance(timedelta(seconds=1))
    await rig.settle()
    assert rig.store.status_of(key("a"))["observedGeneration"] == 2


async def test_children_are_created_and_deleted_and_existing_children_are_fine() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    store.put(widget("parent"))
    store.put(widget("stale-child"))

    async def reconcile(obj: Resource, ctx: ReconcileContext) -> Plan:
        if ctx.key.name != "parent":
            return Plan()
        return Plan(actions=(CreateChild(widget("child")), DeleteChild(key("stale-child"))))

    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, reconcile)]),
        clock=clock,
    )
    await engine.prime()
    await engine.process_next()
    assert set(store.objects) == {key("parent"), key("child")}
    engine.resync()
    while await engine.process_next():
        pass
    assert set(store.objects) == {key("parent"), key("child")}


async def test_two_engines_with_leases_split_the_objects_and_never_both_reconcile_one() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    names = tuple(f"w{i}" for i in range(40))
    for name in names:
        store.put(widget(name))
    leases = InMemoryLeaseStore()
    lease_settings = LeaseSettings(shards=8, lease_ttl=timedelta(seconds=30))
    scripts = [Script(), Script()]
    engines = [
        Engine(
            source=store,
            writer=store,
            registry=ControllerRegistry([FunctionController(GROUP, KIND, s.reconcile, s.finalize)]),
            clock=clock,
            settings=EngineSettings(member=f"m{i}", leases=lease_settings),
            lease_store=leases,
        )
        for i, s in enumerate(scripts)
    ]
    for engine in engines:
        await engine.prime()
    for _ in range(3):
        for engine in engines:
            await engine.gate.tick()
            await asyncio.sleep(0)
    coordinators = [e.gate for e in engines]
    assert all(isinstance(c, ShardCoordinator) for c in coordinators)
    held = [c.held for c in coordinators if isinstance(c, ShardCoordinator)]
    assert held[0].isdisjoint(held[1])
    assert held[0] | held[1] == frozenset(range(8))
    for _ in range(5):
        for engine in engines:
            await engine.poll_events()
            while await engine.process_next():
                pass
    for i, script in enumerate(scripts):
        for name in script.count():
            assert shard_of(key(name), 8) in held[i], f"m{i} reconciled {name} outside its shards"
    assert set(scripts[0].count()) | set(scripts[1].count()) == set(names)
    assert not set(scripts[0].count()) & set(scripts[1].count())


async def test_started_engine_reconciles_new_objects_at_once_when_notified_and_stops_cleanly() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    seen = asyncio.Event()

    async def reconcile(obj: Resource, ctx: ReconcileContext) -> Plan:
        if ctx.key.name == "late":
            seen.set()
        return Plan()

    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, reconcile)]),
        clock=clock,
        settings=EngineSettings(poll_interval=timedelta(hours=1)),
    )
    async with engine:
        store.put(widget("late"))
        engine.notify()
        await asyncio.wait_for(seen.wait(), timeout=5)
    assert engine.revision == 1


@pytest.mark.parametrize("workers", [pytest.param(1, id="one-worker"), pytest.param(4, id="four-workers")])
async def test_started_engine_never_runs_one_key_on_two_workers(workers: int) -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    for i in range(10):
        store.put(widget(f"w{i}"))
    running: set[str] = set()
    overlaps: list[str] = []
    done: Counter[str] = Counter()
    finished = asyncio.Event()

    async def reconcile(obj: Resource, ctx: ReconcileContext) -> Plan:
        if ctx.key.name in running:
            overlaps.append(ctx.key.name)
        running.add(ctx.key.name)
        await asyncio.sleep(0)
        running.discard(ctx.key.name)
        done[ctx.key.name] += 1
        if sum(done.values()) >= 30:
            finished.set()
        return Plan()

    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, reconcile)]),
        clock=clock,
        settings=EngineSettings(workers=workers),
    )

    async def keep_resyncing() -> None:
        while not finished.is_set():
            engine.resync()
            await asyncio.sleep(0)

    async with engine:
        await asyncio.wait_for(keep_resyncing(), timeout=5)
    assert overlaps == []


async def test_a_key_whose_lease_runs_short_is_retried_after_the_next_renewal_not_the_poll_interval() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    store.put(widget("a"))
    script = Script()
    lease_settings = LeaseSettings(shards=4, lease_ttl=timedelta(seconds=30), renew_interval=timedelta(seconds=4))
    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, script.reconcile, script.finalize)]),
        clock=clock,
        settings=EngineSettings(
            poll_interval=timedelta(hours=1), reconcile_timeout=timedelta(seconds=20), leases=lease_settings
        ),
        lease_store=InMemoryLeaseStore(),
    )
    await engine.prime()
    await engine.gate.tick()
    clock.advance(timedelta(seconds=9))  # 21 s left; a reconcile needs 20 s + 2 s margin
    assert await engine.process_next()
    assert script.calls == []
    assert engine.queue.next_due_in() == timedelta(seconds=2)
    await engine.gate.tick()
    clock.advance(timedelta(seconds=2))
    await engine.process_next()
    assert script.count() == Counter({"a": 1})


async def test_an_object_deleted_after_it_was_cached_is_dropped_quietly() -> None:
    rig = make_rig(names=("a",))
    await rig.engine.prime()
    rig.store.request_deletion(key("a"))  # gone before the engine read the event
    await rig.engine.process_next()
    assert rig.metrics.outcomes == Counter({"conflict": 1})
    rig.clock.advance(timedelta(seconds=1))
    await rig.settle()
    assert rig.engine.cached(key("a")) is None
    assert rig.metrics.outcomes == Counter({"conflict": 1})


def leased_engine(store: InMemoryResources, clock: FrozenClock, reconcile: ReconcileFn, **settings: Any) -> Engine:
    lease_settings = LeaseSettings(
        shards=4,
        lease_ttl=timedelta(seconds=30),
        renew_interval=timedelta(seconds=4),
        safety_margin=timedelta(seconds=2),
    )
    return Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, reconcile)]),
        clock=clock,
        settings=EngineSettings(reconcile_timeout=timedelta(seconds=20), leases=lease_settings, **settings),
        lease_store=InMemoryLeaseStore(),
    )


async def test_a_plan_is_not_written_once_the_lease_is_too_close_to_expiry() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    store.put(widget("a"))

    async def slow_planner(obj: Resource, ctx: ReconcileContext) -> Plan:
        clock.advance(timedelta(seconds=28.5))  # planning "took" until 1.5 s before expiry
        return plan_status(obj, now=ctx.now, conditions=[ConditionUpdate("Ready", True, "Reconciled")])

    engine = leased_engine(store, clock, slow_planner)
    await engine.prime()
    await engine.gate.tick()
    await engine.process_next()
    assert store.writes == [], "the plan's writes must not start with less than the safety margin left"
    assert engine.queue.next_due_in() == timedelta(seconds=2)


async def test_planning_that_overruns_the_timeout_is_cancelled_and_nothing_is_written() -> None:
    clock = FrozenClock(NOW)
    store = InMemoryResources(clock)
    store.put(widget("a"))
    metrics = Outcomes()
    never = asyncio.Event()

    async def stuck(obj: Resource, ctx: ReconcileContext) -> Plan:
        await never.wait()
        return plan_status(obj, now=ctx.now, conditions=[ConditionUpdate("Ready", True, "Reconciled")])

    engine = Engine(
        source=store,
        writer=store,
        registry=ControllerRegistry([FunctionController(GROUP, KIND, stuck)]),
        clock=clock,
        settings=EngineSettings(reconcile_timeout=timedelta(milliseconds=10)),
        metrics=metrics,
    )
    await engine.prime()
    await engine.process_next()
    assert metrics.outcomes == Counter({"timeout": 1})
    assert store.writes == []
    assert engine.queue.delayed == 1
