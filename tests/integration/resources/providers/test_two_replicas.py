"""Two blacktop replicas on PostgreSQL never provision the same claim twice.

Test design notes: two engine processes (``replica_runner``) share one state database and its
shard leases, and provision on the same PostgreSQL. Each logs every CreateRole/CreateDatabase it
is about to perform. The test creates the managed resources, waits for every one to be Ready,
stops both replicas and checks: each database and each role was created exactly once, by one
replica, and both replicas took part. Resources are then deleted through the provider.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import is_condition_true
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.providers import LocalProvider, model
from blacktop.store import SqlResourceStore, build_engine, upgrade_to_head
from blacktop.wiring.providers import new_password

from .conftest import REPO, managed
from .replica_runner import TableSink

pytestmark = [pytest.mark.pg, pytest.mark.slow]
OBJECTS = 24


@pytest.fixture
def tables(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    log, sink = f"replica_log_{secrets.token_hex(4)}", f"replica_secrets_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (name text, step text, member text)").format(sql.Identifier(log)))
        conn.execute(sql.SQL("CREATE TABLE {} (ref text PRIMARY KEY, data jsonb)").format(sql.Identifier(sink)))
    yield log, sink
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for table in (log, sink):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


async def stored(url: str, namespace: str) -> list[dict[str, Any]]:
    db = build_engine(url)
    try:
        page = await SqlResourceStore(db).list(
            ListQuery(group=model.GROUP, kind="PostgresDatabase", namespace=namespace, limit=1000)
        )
        return page.items
    finally:
        await db.dispose()


async def create(url: str, objects: list[dict[str, Any]]) -> None:
    db = build_engine(url)
    try:
        async with SqlResourceStore(db).transaction() as tx:
            for obj in objects:
                await tx.create(obj)
    finally:
        await db.dispose()


def wait_for_members(url: str, group: str, count: int, *, timeout: float = 60.0) -> None:
    """Block until ``count`` replicas heartbeat in the lease group (a slow start must not skew the test)."""
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(libpq) as conn:
            row = conn.execute('SELECT count(*) FROM members WHERE "group" = %s', (group,)).fetchone()
        if row is not None and row[0] >= count:
            time.sleep(1.0)  # one rebalance round, so each replica holds its share
            return
        time.sleep(0.2)
    raise AssertionError(f"{count} replicas did not join lease group {group} within {timeout} s")


def start(args: dict[str, str], member: str, logs: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "tests.integration.resources.providers.replica_runner", "--member", member]
    for name, value in args.items():
        argv += [f"--{name}", value]
    out = (logs / f"{member}.log").open("wb")
    return subprocess.Popen(
        argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )


def test_two_replicas_never_provision_the_same_claim_twice(
    postgres_url: str, pg_admin_url: str, tables: tuple[str, str], tmp_path: Path
) -> None:
    upgrade_to_head(postgres_url)
    namespace = f"r{secrets.token_hex(3)}"
    objects = [managed("PostgresDatabase", namespace, f"db-{i:02d}") for i in range(OBJECTS)]
    for obj in objects:
        obj["metadata"]["generation"] = 1
    log, sink = tables
    args = {"url": postgres_url, "pg-admin": pg_admin_url, "lease-group": f"providers-{secrets.token_hex(3)}",
            "log-table": log, "secrets-table": sink}  # fmt: skip
    replicas = [start(args, "replica-a", tmp_path), start(args, "replica-b", tmp_path)]
    try:
        wait_for_members(postgres_url, args["lease-group"], 2)  # both hold shards before the work appears
        asyncio.run(create(postgres_url, objects))
        created_at = time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = asyncio.run(stored(postgres_url, namespace))
            if len(items) == OBJECTS and all(is_condition_true(o, "Ready") for o in items):
                print(f"all Ready {time.monotonic() - created_at:.1f} s after creation")
                break
            time.sleep(0.3)
        else:
            logs = {p.name: p.read_text()[-2000:] for p in tmp_path.glob("*.log")}
            raise AssertionError(f"not every resource became Ready within 60 s; replica logs: {logs}")
        time.sleep(1.5)  # let any straggling reconcile finish before counting
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.send_signal(signal.SIGTERM)
        for replica in replicas:
            try:
                replica.wait(timeout=20)
            except subprocess.TimeoutExpired:
                replica.kill()
                replica.wait()

    with psycopg.connect(pg_admin_url) as conn:
        rows = conn.execute(sql.SQL("SELECT name, step, member FROM {}").format(sql.Identifier(log))).fetchall()
    counts = Counter((name, step) for name, step, _ in rows)
    wanted = {model.default_identifier(namespace, o["metadata"]["name"], limit=63) for o in objects}
    assert {name for name, _ in counts} == wanted
    assert all(count == 1 for count in counts.values()), f"provisioned more than once: {counts}"
    members = {member for _, _, member in rows}
    assert members == {"replica-a", "replica-b"}, f"both replicas took part ({Counter(m for *_, m in rows)})"

    async def clean_up() -> None:
        admin = PsycopgPostgresAdmin(pg_admin_url)
        provider = LocalProvider(
            postgres=admin, mysql=None, redis=None, secrets=TableSink(pg_admin_url, sink),
            new_password=new_password, rotation_cadences={},
        )  # fmt: skip
        for obj in objects:
            assert (await provider.finalize("PostgresDatabase", obj)).finished
        await admin.close()

    asyncio.run(clean_up())
