"""One engine process for the scale-out test: ``python -m tests.integration.engine.scale_out_runner``.

It reconciles the test kind against the database at ``--url`` with shard leases, recording every
reconcile as a row (object, worker, started, ended) in ``--log-table``, and runs until SIGTERM
(a graceful stop that gives its leases back) or SIGKILL (the test's simulated crash).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import signal
import time
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from blacktop.engine import (
    ConditionUpdate,
    ControllerRegistry,
    Engine,
    EngineSettings,
    FunctionController,
    LeaseSettings,
    Plan,
    ReconcileContext,
    plan_status,
)
from blacktop.kernel.clock import SystemClock
from blacktop.kernel.resources import Resource
from blacktop.store import SqlResourceStore, build_engine
from blacktop.store.leases import SqlLeaseStore

from .store_writing import StoreWriter

GROUP = "scaleout.test.blacktop.dev"
KIND = "Job"
SHARDS = 32
LEASES = LeaseSettings(
    shards=SHARDS,
    lease_ttl=timedelta(seconds=2),
    renew_interval=timedelta(milliseconds=300),
    safety_margin=timedelta(milliseconds=300),
)
RECONCILE_TIMEOUT = timedelta(milliseconds=800)


def make_reconcile(
    db: AsyncEngine, *, member: str, table: str, seconds: float, pending: set[asyncio.Task[None]]
) -> FunctionController:
    """A controller that logs each reconcile's interval, takes ``seconds``, then marks the object Ready.

    The log rows are written by tasks of their own, so a reconcile the engine cancels at its timeout
    still records when it really stopped; ``pending`` holds the writes not finished yet.
    """
    numbers = itertools.count()

    async def insert(rid: str, name: str, started: float) -> None:
        async with db.begin() as conn:
            await conn.execute(
                text(f"INSERT INTO {table} (rid, object, worker, started) VALUES (:r, :o, :w, :s)"),
                {"r": rid, "o": name, "w": member, "s": started},
            )

    async def close(inserted: asyncio.Task[None], rid: str, ended: float) -> None:
        await inserted
        async with db.begin() as conn:
            await conn.execute(text(f"UPDATE {table} SET ended = :e WHERE rid = :r"), {"e": ended, "r": rid})

    def keep(task: asyncio.Task[None]) -> asyncio.Task[None]:
        pending.add(task)
        task.add_done_callback(pending.discard)
        return task

    async def reconcile(obj: Resource, ctx: ReconcileContext) -> Plan:
        started = time.time()
        rid = f"{member}-{next(numbers)}"
        inserted = keep(asyncio.ensure_future(insert(rid, ctx.key.name, started)))
        try:
            await asyncio.shield(inserted)
            await asyncio.sleep(seconds)
        finally:
            keep(asyncio.ensure_future(close(inserted, rid, time.time())))
        return plan_status(obj, now=ctx.now, conditions=[ConditionUpdate("Ready", True, "Reconciled")])

    return FunctionController(GROUP, KIND, reconcile)


async def main(args: argparse.Namespace) -> None:
    """Run one engine until SIGTERM."""
    db = build_engine(args.url)
    store = SqlResourceStore(db)
    stop = asyncio.Event()
    pending: set[asyncio.Task[None]] = set()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    engine = Engine(
        source=store,
        writer=StoreWriter(store),
        registry=ControllerRegistry(
            [make_reconcile(db, member=args.member, table=args.log_table, seconds=args.seconds, pending=pending)]
        ),
        clock=SystemClock(),
        settings=EngineSettings(
            member=args.member,
            workers=4,
            poll_interval=timedelta(milliseconds=200),
            reconcile_timeout=RECONCILE_TIMEOUT,
            leases=LeaseSettings(
                group=args.lease_group,
                shards=LEASES.shards,
                lease_ttl=LEASES.lease_ttl,
                renew_interval=LEASES.renew_interval,
                safety_margin=LEASES.safety_margin,
            ),
        ),
        lease_store=SqlLeaseStore(db),
    )
    try:
        async with engine:
            print(f"{args.member} started", flush=True)
            await stop.wait()
        await asyncio.gather(*pending)
    finally:
        await db.dispose()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--member", required=True)
    parser.add_argument("--lease-group", required=True)
    parser.add_argument("--log-table", required=True)
    parser.add_argument("--seconds", type=float, default=0.02)
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(main(parse_args()))
