"""Benchmark: Database claims on the local provider, from apply to Ready (issue 6).

The whole platform runs in this process (``build_platform`` + engine, SQLite state by default) with
the built-in profile, and the local provider provisions on real servers: PostgreSQL at
``--postgres-url`` (default: the machine's 127.0.0.1:5432 when it answers, else the embedded
pgserver). N ``Database`` claims (``platform.company.io/v1alpha1``, the design's ``orders-db``
shape, tier ``dev``) are applied in batches through the write pipeline; each one's apply→Ready
latency is taken from the write listener (the moment the claim's Ready condition turns True).
``--path managed`` applies ``PostgresDatabase`` objects directly (the provider alone, without the
claim → composite → composed chain); ``--engine redis`` applies ``Cache`` claims (Redis ACL users).

Reported: wall time from the first apply to the last Ready, claims/s, p50/p95/max apply→Ready,
a single-claim apply→Ready (p50/p95 over ``--single`` sequential claims on an idle platform) and
the peak RSS of this process. Targets: p95 apply→Ready < 1 s for a single claim; 1,000 claims
Ready in < 60 s. Everything created on the servers is dropped afterwards (not timed).

Run it as a module from the repository root (``bench/secrets.py`` would shadow the standard
library's ``secrets`` if the script's own folder came first on ``sys.path``):

    .venv/bin/python -m bench.claims_local                       # 1,000 Database claims, PostgreSQL
    .venv/bin/python -m bench.claims_local --count 200 --single 20
    .venv/bin/python -m bench.claims_local --path managed        # PostgresDatabase objects directly
    .venv/bin/python -m bench.claims_local --engine redis        # Cache claims (Redis ACL users)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg import sql

from blacktop.apiserver import RequestContext
from blacktop.bootstrap import Platform, build_platform, running
from blacktop.kernel.identity import service_caller
from blacktop.kernel.resources import find_condition
from blacktop.settings import Settings

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
CTX = RequestContext(caller=service_caller("bench"), request_id="bench-claims-local")


def answers_pg(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def answers_redis(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def claim(args: argparse.Namespace, namespace: str, name: str) -> dict[str, Any]:
    if args.path == "managed":
        kind = "PostgresDatabase" if args.engine == "postgresql" else "RedisUser"
        return {"apiVersion": "local.blacktop.dev/v1alpha1", "kind": kind,
                "metadata": {"name": name, "namespace": namespace}, "spec": {"forProvider": {}}}  # fmt: skip
    if args.engine == "redis":
        return {"apiVersion": "platform.company.io/v1alpha1", "kind": "Cache",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"tier": "dev", "size": "small", "owner": namespace}}  # fmt: skip
    return {
        "apiVersion": "platform.company.io/v1alpha1", "kind": "Database",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"engine": "postgresql", "version": "16", "tier": "dev", "size": "small", "owner": namespace,
                 "alerts": {"slack-channel": "#bench"}},
    }  # fmt: skip


class ReadyClock:
    """Records, from the write listener, when each watched object first reports Ready=True."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.ready_at: dict[str, float] = {}
        self.failures: dict[str, str] = {}
        self.all_ready = asyncio.Event()
        self.expected = 0

    def __call__(self, obj: Mapping[str, Any]) -> None:
        if obj.get("kind") != self.kind:
            return
        name = str(obj["metadata"]["name"])
        condition = find_condition(obj, "Ready")
        if condition is None:
            return
        if condition.get("status") == "True" and name not in self.ready_at:
            self.ready_at[name] = time.perf_counter()
            if len(self.ready_at) >= self.expected:
                self.all_ready.set()
        elif condition.get("status") == "False":
            self.failures[name] = f"{condition.get('reason')}: {condition.get('message')}"


async def apply_and_wait(
    platform: Platform, clock: ReadyClock, objects: list[dict[str, Any]], *, batch: int, limit: float
) -> dict[str, float]:
    """Apply in batches; returns name -> apply time (perf_counter, at the start of its batch's apply)."""
    clock.expected += len(objects)
    applied: dict[str, float] = {}
    for start in range(0, len(objects), batch):
        chunk = objects[start : start + batch]
        at = time.perf_counter()
        await platform.resources.apply(CTX, [(f"bench#{start + i}", obj) for i, obj in enumerate(chunk)])
        applied.update({obj["metadata"]["name"]: at for obj in chunk})
    try:
        await asyncio.wait_for(clock.all_ready.wait(), limit)
    except TimeoutError:
        missing = [n for n in applied if n not in clock.ready_at]
        sample = {n: clock.failures.get(n, "no Ready condition yet") for n in missing[:3]}
        raise SystemExit(f"{len(missing)} of {len(applied)} not Ready after {limit} s; e.g. {sample}") from None
    clock.all_ready.clear()
    return applied


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report(title: str, applied: dict[str, float], clock: ReadyClock) -> None:
    latencies = [clock.ready_at[n] - t for n, t in applied.items()]
    wall = max(clock.ready_at[n] for n in applied) - min(applied.values())
    print(
        f"{title}: {len(applied)} Ready in {wall:.2f} s ({len(applied) / wall:.1f}/s); apply->Ready "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )


async def clean_up(args: argparse.Namespace, namespace: str) -> None:
    prefix = namespace.replace("-", "_") + "__"
    if args.engine == "postgresql":
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            pattern = prefix.replace("_", r"\_") + "%"
            for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            for (name,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)).fetchall():
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    else:
        client = redis.Redis.from_url(args.redis_url)
        names = [u if isinstance(u, str) else u.decode() for u in client.acl_users()]
        users = [u for u in names if u.startswith(namespace + ".")]
        if users:
            client.acl_deluser(*users)


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    providers: dict[str, Any] = {"embedded": True, "pool_size": args.pool}
    if args.postgres_url:
        providers["postgres_url"] = args.postgres_url
    if args.redis_url:
        providers["redis_url"] = args.redis_url
    settings = Settings(
        data_dir=data_dir,
        engine={"workers": args.workers},
        providers=providers,
        **({"database_url": args.state_url} if args.state_url else {}),
    )
    platform = await build_platform(settings)
    if args.path == "managed":
        kind = "PostgresDatabase" if args.engine == "postgresql" else "RedisUser"
    else:
        kind = "Database" if args.engine == "postgresql" else "Cache"
    clock = ReadyClock(kind)
    platform.resources.add_listener(clock)
    namespace = f"bench-{os.urandom(3).hex()}"
    print(f"state: {settings.database_url}; servers: {args.postgres_url or args.redis_url or 'embedded'}; "
          f"path: {args.path}; engine workers: {args.workers}; namespace {namespace}")  # fmt: skip
    try:
        async with running(platform):
            await asyncio.sleep(1.0)  # the resources feature applies its profile at start
            if args.single:
                singles: dict[str, float] = {}
                for i in range(args.single):
                    singles |= await apply_and_wait(
                        platform, clock, [claim(args, namespace, f"single-{i:03d}")], batch=1, limit=args.timeout
                    )
                report(f"single {kind} (sequential, idle platform)", singles, clock)
            if args.count:
                objects = [claim(args, namespace, f"claim-{i:04d}") for i in range(args.count)]
                cpu_before, load_before = time.process_time(), os.getloadavg()[0]
                many = await apply_and_wait(platform, clock, objects, batch=args.batch, limit=args.timeout)
                cpu = time.process_time() - cpu_before
                report(f"{args.count} {kind}", many, clock)
                print(
                    f"platform CPU for the {args.count}: {cpu:.1f} s ({cpu / args.count * 1000:.0f} ms per claim); "
                    f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
                )
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS of the platform process: {peak_mb:.0f} MB")
    finally:
        await clean_up(args, namespace)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="claims applied at once (0: none)")
    parser.add_argument("--single", type=int, default=20, help="sequential single claims measured first")
    parser.add_argument("--batch", type=int, default=100, help="claims per apply call")
    parser.add_argument("--workers", type=int, default=8, help="engine workers")
    parser.add_argument("--pool", type=int, default=8, help="admin connections per server")
    parser.add_argument("--path", choices=["claims", "managed"], default="claims")
    parser.add_argument("--engine", choices=["postgresql", "redis"], default="postgresql")
    parser.add_argument("--postgres-url", default=None, help="PostgreSQL admin URL (default: 127.0.0.1 or embedded)")
    parser.add_argument("--redis-url", default=None, help="Redis admin URL (default: 127.0.0.1 or embedded)")
    parser.add_argument("--state-url", default=None, help="platform state database (default: SQLite in a temp dir)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if args.postgres_url is None and answers_pg(LOCAL_PG):
        args.postgres_url = LOCAL_PG
    if args.redis_url is None and answers_redis(LOCAL_REDIS):
        args.redis_url = LOCAL_REDIS
    return args


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(parse_args()))
