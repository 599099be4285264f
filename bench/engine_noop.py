"""Benchmark: reconcile throughput of a no-op controller, one process, SQLite.

A no-op controller returns an empty plan, so what is measured is the engine itself: reading the
store (list, then the event log), the cache, the de-duplicating queue, the shard gate, worker
hand-off and metrics. Target (issue 2): at least 2,000 no-op reconciles per second on the 2-core
machine. Three phases are timed, each from the moment work becomes available until the last
reconcile finished:

* ``cold start``: ``Engine.start`` lists N objects from SQLite and reconciles each once;
* ``resync``: every cached object queued again, R rounds (steady-state queue and worker cost);
* ``events``: N objects changed (in transactions of 500, untimed), then picked up through
  ``events(since)`` after ``notify`` and reconciled (the watch path).

    .venv/bin/python bench/engine_noop.py                    # 5,000 objects, 4 workers, no leases
    .venv/bin/python bench/engine_noop.py --objects 20000 --workers 8 --rounds 5
    .venv/bin/python bench/engine_noop.py --leases           # with SqlLeaseStore shard fencing (32 shards)
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from blacktop.engine import (
    ControllerRegistry,
    Engine,
    EngineSettings,
    FunctionController,
    LeaseSettings,
    Plan,
    ReconcileContext,
)
from blacktop.kernel.clock import SystemClock
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import Resource, ResourceKey
from blacktop.store import SqlResourceStore, build_engine, upgrade_to_head
from blacktop.store.leases import SqlLeaseStore

GROUP = "bench.blacktop.io"
KIND = "Noop"


class Counting:
    """EngineMetrics that counts reconciles and wakes the benchmark when a target is reached."""

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.target = 0
        self.reached = asyncio.Event()

    def expect(self, more: int) -> None:
        self.target = self.count + more
        self.reached.clear()

    def observe_queue_depth(self, depth: int) -> None:
        pass

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        self.count += 1
        if outcome != "success":
            self.errors += 1
        if self.count >= self.target:
            self.reached.set()


class RefusingWriter:
    """A no-op controller never writes; any write is a bug in the benchmark."""

    async def _refuse(self, *args: Any, **kwargs: Any) -> Resource:
        raise AssertionError("a no-op controller wrote")

    update_status = patch = add_finalizer = remove_finalizer = _refuse

    async def create(self, obj: Resource) -> Resource:
        raise AssertionError("a no-op controller wrote")

    async def delete(self, key: ResourceKey) -> None:
        raise AssertionError("a no-op controller wrote")


async def noop(obj: Resource, ctx: ReconcileContext) -> Plan:
    return Plan()


def document(i: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": KIND,
        "metadata": {"name": f"obj-{i:06d}", "namespace": f"ns-{i % 20}", "labels": {"app": f"app-{i % 100}"}},
        "spec": {"replicas": i % 5},
    }


async def load(store: SqlResourceStore, objects: int) -> None:
    for start in range(0, objects, 2_000):
        async with store.transaction() as tx:
            for i in range(start, min(start + 2_000, objects)):
                await tx.create(document(i))


async def touch_all(store: SqlResourceStore) -> int:
    page = await store.list(ListQuery(group=GROUP, kind=KIND))
    for start in range(0, len(page.items), 500):
        async with store.transaction() as tx:
            for obj in page.items[start : start + 500]:
                changed = copy.deepcopy(obj)
                changed["spec"] = {"replicas": 99}
                await tx.update(changed, expected_version=None)
    return len(page.items)


async def timed(metrics: Counting, count: int, start: Any) -> float:
    metrics.expect(count)
    began = time.perf_counter()
    await start()
    await asyncio.wait_for(metrics.reached.wait(), timeout=600)
    return time.perf_counter() - began


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'state.db'}"
        upgrade_to_head(url)
        db = build_engine(url)
        store = SqlResourceStore(db)
        began = time.perf_counter()
        await load(store, args.objects)
        print(f"loaded {args.objects} objects in {time.perf_counter() - began:.1f} s (not measured)")
        metrics = Counting()
        engine = Engine(
            source=store,
            writer=RefusingWriter(),
            registry=ControllerRegistry([FunctionController(GROUP, KIND, noop)]),
            clock=SystemClock(),
            settings=EngineSettings(
                workers=args.workers,
                # Only notify() reads events, so the events phase starts exactly when it is timed.
                poll_interval=timedelta(hours=1),
                resync_period=timedelta(hours=1),
                leases=LeaseSettings(shards=32),
            ),
            lease_store=SqlLeaseStore(db) if args.leases else None,
            metrics=metrics,
        )
        results: list[tuple[str, int, float]] = []
        seconds = await timed(metrics, args.objects, engine.start)
        results.append(("cold start (list + reconcile)", args.objects, seconds))

        # Rounds queued while the previous one is still waiting collapse (de-duplication), so each
        # round is queued after the previous round has drained.
        total = 0.0
        for _ in range(args.rounds):
            total += await timed(metrics, args.objects, _resync(engine))
        results.append((f"resync x{args.rounds}", args.objects * args.rounds, total))

        touched = await touch_all(store)
        seconds = await timed(metrics, touched, _notify(engine))
        results.append(("events (read after notify)", touched, seconds))
        await engine.stop()
        await db.dispose()

    leases = "with SqlLeaseStore fencing" if args.leases else "single process, no leases"
    print(f"no-op reconciles on SQLite, {args.workers} workers, {leases}:")
    for name, count, secs in results:
        print(f"  {name:40s} {count:7d} reconciles in {secs:6.2f} s = {count / secs:8.0f} /s")
    if metrics.errors:
        raise SystemExit(f"{metrics.errors} reconciles did not succeed")


def _resync(engine: Engine) -> Any:
    async def start() -> None:
        engine.resync()

    return start


def _notify(engine: Engine) -> Any:
    async def start() -> None:
        engine.notify()

    return start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--leases", action="store_true", help="fence by SQL shard leases as in a multi-process run")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
