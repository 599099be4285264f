"""Two engine processes share 500 objects; one is SIGKILLed midway; the other finishes. PostgreSQL and SQLite.

Test design notes: the engines are real subprocesses (``scale_out_runner``) with 2-second leases.
Each reconcile logs (object, worker, started, ended) in a table. The test checks that

* every object was reconciled and its stored status says Ready (the work was finished);
* for every object, no two reconciles overlap in time, across both processes (a reconcile the
  killed process left unfinished counts as running until the moment it was confirmed dead);
* the survivor started nothing in a shard the killed process held before that lease had expired
  (fencing by lease expiry), and both processes did part of the work.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from blacktop.engine import shard_of
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import ResourceKey, is_condition_true
from blacktop.store import SqlResourceStore, build_engine, build_sync_engine

from . import scale_out_runner as runner

REPO = Path(__file__).resolve().parents[3]
OBJECTS = 500
NAMESPACE = "scale"

pytestmark = pytest.mark.slow


def job(name: str) -> dict[str, object]:
    return {
        "apiVersion": f"{runner.GROUP}/v1",
        "kind": runner.KIND,
        "metadata": {"name": name, "namespace": NAMESPACE, "generation": 1},
        "spec": {"n": name},
    }


async def create_objects(url: str) -> None:
    db = build_engine(url)
    try:
        store = SqlResourceStore(db)
        async with store.transaction() as tx:
            for i in range(OBJECTS):
                await tx.create(job(f"job-{i:03d}"))
    finally:
        await db.dispose()


async def stored_objects(url: str) -> list[dict[str, object]]:
    db = build_engine(url)
    try:
        page = await SqlResourceStore(db).list(ListQuery(group=runner.GROUP, kind=runner.KIND, namespace=NAMESPACE))
        return page.items
    finally:
        await db.dispose()


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.pg), "sqlite"])
def database(request: pytest.FixtureRequest) -> str:
    """The migrated database both processes share: PostgreSQL (the acceptance case) and SQLite."""
    return str(request.getfixturevalue("engine_postgres_url" if request.param == "postgres" else "engine_sqlite_url"))


@pytest.fixture
def log_table(database: str) -> Iterator[str]:
    name = f"scale_out_log_{secrets.token_hex(4)}"
    db = build_sync_engine(database)
    key = "bigserial PRIMARY KEY" if db.dialect.name == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    with db.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {name} (id {key}, rid text NOT NULL UNIQUE, object text NOT NULL, worker text NOT NULL, "
                "started double precision NOT NULL, ended double precision)"
            )
        )
    yield name
    with db.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    db.dispose()


def rows(url: str, table: str) -> list[tuple[str, str, float, float | None]]:
    db = build_sync_engine(url)
    try:
        with db.connect() as conn:
            found = conn.execute(text(f"SELECT object, worker, started, ended FROM {table} ORDER BY id")).all()
        return [(str(o), str(w), float(s), None if e is None else float(e)) for o, w, s, e in found]
    finally:
        db.dispose()


def held_leases(url: str, group: str, member: str) -> dict[int, float]:
    """Shard -> lease expiry (epoch seconds) of the leases ``member`` holds."""
    db = build_sync_engine(url)
    try:
        with db.connect() as conn:
            found = conn.execute(
                text('SELECT shard, expires_at_ms FROM leases WHERE "group" = :g AND holder = :h'),
                {"g": group, "h": member},
            ).all()
        return {int(shard): int(expires) / 1000 for shard, expires in found}
    finally:
        db.dispose()


def start(url: str, *, member: str, group: str, table: str, logs: Path) -> subprocess.Popen[bytes]:
    out = (logs / f"{member}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.engine.scale_out_runner",
            "--url",
            url,
            "--member",
            member,
            "--lease-group",
            group,
            "--log-table",
            table,
        ],
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(condition: object, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_two_processes_share_the_work_and_the_survivor_of_a_sigkill_finishes_it(
    database: str, log_table: str, tmp_path: Path
) -> None:
    url = database
    group = f"scale-{secrets.token_hex(4)}"
    asyncio.run(create_objects(url))
    names = {f"job-{i:03d}" for i in range(OBJECTS)}
    victim = start(url, member="victim", group=group, table=log_table, logs=tmp_path)
    survivor = start(url, member="survivor", group=group, table=log_table, logs=tmp_path)
    try:

        def both_working_and_a_third_done() -> bool:
            done = [r for r in rows(url, log_table) if r[3] is not None]
            return len({r[0] for r in done}) >= OBJECTS // 3 and {r[1] for r in done} == {"victim", "survivor"}

        wait_for(both_working_and_a_third_done, timeout=60, what="both processes to reconcile a third of the objects")
        leases_read_at = time.time()
        victim_leases = held_leases(url, group, "victim")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.time()
        assert victim_leases, "the victim held shards when it was killed"

        def all_ready() -> bool:
            return all(is_condition_true(o, "Ready") for o in asyncio.run(stored_objects(url)))

        wait_for(all_ready, timeout=90, what="the survivor to finish every object")
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=15) == 0, (tmp_path / "survivor.log").read_text()
        assert held_leases(url, group, "survivor") == {}, "a graceful stop gives every lease back"
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.kill()
                process.wait()

    log = rows(url, log_table)
    assert {r[0] for r in log if r[3] is not None} == names, "every object was reconciled to the end"
    assert len(asyncio.run(stored_objects(url))) == OBJECTS

    intervals: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for obj, worker, started, ended in log:
        if ended is None:
            assert worker == "victim", f"the survivor left a reconcile of {obj} unfinished after a graceful stop"
            ended = killed_at
        intervals[obj].append((started, ended, worker))
    for obj, spans in intervals.items():
        spans.sort()
        for (s1, e1, w1), (s2, _, w2) in itertools.pairwise(spans):
            assert e1 <= s2, f"{obj} was reconciled by {w1} and {w2} at once ({s1:.3f}-{e1:.3f} and from {s2:.3f})"

    # Between reading the victim's leases and their expiry, only the victim may start reconciles there.
    for obj, spans in intervals.items():
        shard = shard_of(ResourceKey(runner.GROUP, runner.KIND, NAMESPACE, obj), runner.SHARDS)
        if shard not in victim_leases:
            continue
        fenced = [s for s, _, w in spans if w == "survivor" and leases_read_at <= s < victim_leases[shard]]
        assert not fenced, f"the survivor reconciled {obj} in shard {shard} before the victim's lease expired"
    survivor_after_kill = {r[0] for r in log if r[1] == "survivor" and r[2] >= killed_at}
    assert survivor_after_kill, "the survivor took over work after the kill"
    assert {r[1] for r in log} == {"victim", "survivor"}
