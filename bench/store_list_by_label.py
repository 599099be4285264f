"""Benchmark: label-selector lists against 100,000 stored objects, on SQLite and PostgreSQL.

Loads N objects of one kind (bulk inserts straight into the store's tables, since the setup is not
what is measured), then times ``SqlResourceStore.list`` (SQL, JSON decoding, the page's revision)
for selectors of different selectivity and prints p50/p95 per query, plus this process's CPU time
per list (which neighbours on a shared machine do not inflate). Target (issue 2): a selector
returning 100 of 100,000 objects answers in under 20 ms at p95.

    .venv/bin/python bench/store_list_by_label.py                       # SQLite temp file + local PostgreSQL
    .venv/bin/python bench/store_list_by_label.py --objects 20000 --skip-postgres
    .venv/bin/python bench/store_list_by_label.py --postgres-url postgresql://postgres@127.0.0.1/postgres

For PostgreSQL a scratch database ``blacktop_bench_<random>`` is created on the server of
``--postgres-url`` and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.selectors import parse_label_selector
from blacktop.store import SqlResourceStore, build_engine, build_sync_engine, upgrade_to_head
from blacktop.store.tables import EventRow, ResourceLabelRow, ResourceRow

GROUP = "bench.blacktop.io"
KIND = "Service"
BATCH = 5_000


@dataclass(frozen=True)
class Case:
    name: str
    selector: str
    namespace: str | None = None
    limit: int | None = None


CASES = (
    Case("eq: 100 of N", "app=app-421"),
    Case("in + notin: 100 of N", "app in (app-421,app-none),tier notin (nothing)"),
    Case("eq + exists in one namespace: 15 of N", "app=app-421,team", namespace="ns-0"),
    Case("broad (1% match), first page of 100", "team=team-7,env=prod", limit=100),
)


def document(i: int) -> tuple[dict[str, Any], dict[str, str]]:
    labels = {
        "app": f"app-{i % 1000}",
        "tier": ("web", "api", "db")[i % 3],
        "team": f"team-{i % 50}",
        "env": ("prod", "dev")[(i // 50) % 2],
    }
    doc = {
        "apiVersion": f"{GROUP}/v1",
        "kind": KIND,
        "metadata": {
            "name": f"svc-{i:06d}",
            "namespace": f"ns-{(i // 7) % 20}",
            "uid": str(uuid.UUID(int=i)),
            "labels": labels,
            "annotations": {"blacktop.io/description": f"benchmark object {i}"},
            "creationTimestamp": "2026-11-26T00:00:00Z",
            "generation": 1,
            "resourceVersion": str(i + 1),
        },
        "spec": {"image": f"registry.example.com/app-{i % 1000}:1.{i % 7}", "replicas": 1 + i % 5, "port": 8080},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "message": ""}]},
    }
    return doc, labels


def load(url: str, count: int) -> float:
    """Migrate and bulk-load ``count`` objects; return the seconds it took."""
    started = time.perf_counter()
    upgrade_to_head(url)
    engine = build_sync_engine(url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            for start in range(0, count, BATCH):
                resources, labels, events = [], [], []
                for i in range(start, min(start + BATCH, count)):
                    doc, doc_labels = document(i)
                    meta = doc["metadata"]
                    key = {"group": GROUP, "kind": KIND, "namespace": meta["namespace"], "name": meta["name"]}
                    resources.append(
                        {**key, "uid": meta["uid"], "resource_version": i + 1, "document": doc, "created_at": now}
                    )
                    labels.extend({**key, "uid": meta["uid"], "key": k, "value": v} for k, v in doc_labels.items())
                    events.append({**key, "revision": i + 1, "type": "ADDED", "object": doc})
                conn.execute(insert(ResourceRow), resources)
                conn.execute(insert(ResourceLabelRow), labels)
                conn.execute(insert(EventRow), events)
    finally:
        engine.dispose()
    # What autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) would do after a bulk load.
    engine = build_sync_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Result:
    case: Case
    items: int
    p50: float
    p95: float
    client_cpu: float
    """CPU time of this process (SQLAlchemy, drivers, JSON) per list, in ms: load on other cores does not move it."""


async def measure(url: str, *, iterations: int, warmup: int) -> list[Result]:
    engine = build_engine(url)
    store = SqlResourceStore(engine)
    results = []
    try:
        for case in CASES:
            query = ListQuery(
                group=GROUP,
                kind=KIND,
                namespace=case.namespace,
                label_selector=parse_label_selector(case.selector),
                limit=case.limit,
            )
            timings = []
            for _ in range(warmup):
                page = await store.list(query)
            cpu_started = time.process_time()
            for _ in range(iterations):
                started = time.perf_counter()
                page = await store.list(query)
                timings.append((time.perf_counter() - started) * 1000)
            cpu = (time.process_time() - cpu_started) * 1000 / iterations
            p95 = statistics.quantiles(timings, n=100)[94]
            results.append(Result(case, len(page.items), statistics.median(timings), p95, cpu))
    finally:
        await engine.dispose()
    return results


def report(label: str, load_seconds: float, count: int, results: list[Result]) -> None:
    load1, _, _ = os.getloadavg()
    print(f"\n{label}: {count:,} objects loaded in {load_seconds:.1f} s; load average now {load1:.1f}")
    print(f"  {'query':<40} {'selector':<50} {'items':>5} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>7}")
    for r in results:
        selector = r.case.selector + (f" -n {r.case.namespace}" if r.case.namespace else "")
        selector += f" limit={r.case.limit}" if r.case.limit else ""
        print(f"  {r.case.name:<40} {selector:<50} {r.items:>5} {r.p50:>8.2f} {r.p95:>8.2f} {r.client_cpu:>7.2f}")


def run(label: str, url: str, args: argparse.Namespace) -> None:
    seconds = load(url, args.objects)
    results = asyncio.run(measure(url, iterations=args.iterations, warmup=args.warmup))
    report(label, seconds, args.objects, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite (WAL, temp file)", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if not args.skip_postgres:
        admin = make_url(args.postgres_url).set(drivername="postgresql")
        name = f"blacktop_bench_{uuid.uuid4().hex[:8]}"
        admin_dsn = admin.render_as_string(hide_password=False)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            run("PostgreSQL", admin.set(database=name).render_as_string(hide_password=False), args)
        finally:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
