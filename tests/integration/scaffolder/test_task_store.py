"""The task store contract, on the in-memory fake, SQLite and PostgreSQL alike.

Test design: each test starts from an empty store (a fresh SQLite file; unique task ids on the
session's PostgreSQL database) and drives time explicitly, so lease expiry is exact. The claim
race runs several claims concurrently against one task and expects exactly one winner.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blacktop.scaffolder import InMemoryTaskStore, StepIteration, StepRecord, Task, TaskSpec, TaskStore
from blacktop.scaffolder.tasks import SkeletonFile
from blacktop.store import build_engine, upgrade_to_head
from blacktop.store.scaffolder import SqlTaskStore

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TaskStore]:
    if request.param == "memory":
        yield InMemoryTaskStore()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tasks.db'}"
        upgrade_to_head(url)
    else:
        url = str(request.getfixturevalue("migrated_postgres_url"))
    engine = build_engine(url)
    try:
        yield SqlTaskStore(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:8]


def task(task_id: str, *, minutes: int = 0, by: str = "user:default/ada") -> Task:
    spec = TaskSpec(template={"apiVersion": "scaffolder.backstage.io/v1beta3", "spec": {"steps": []}},
                    template_ref="template:default/t", values={"name": "x"}, base_url="file:///t")  # fmt: skip
    return Task(task_id, spec, "open", NOW + timedelta(minutes=minutes), created_by=by)


async def test_claims_take_the_oldest_open_task_and_respect_the_lease(store: TaskStore, prefix: str) -> None:
    await store.add(task(f"{prefix}-new", minutes=1), secrets={})
    await store.add(task(f"{prefix}-old"), secrets={})
    first = await store.claim(worker="w1", now=NOW, ttl=TTL)
    assert first is not None and (first.id, first.status, first.claimed_by) == (f"{prefix}-old", "processing", "w1")
    second = await store.claim(worker="w2", now=NOW, ttl=TTL)
    assert second is not None and second.id == f"{prefix}-new"
    assert await store.claim(worker="w3", now=NOW + TTL - timedelta(seconds=1), ttl=TTL) is None
    taken_over = await store.claim(worker="w3", now=NOW + TTL, ttl=TTL)
    assert taken_over is not None and taken_over.claimed_by == "w3"
    assert await store.heartbeat(taken_over.id, worker="w1", now=NOW + TTL, ttl=TTL) is None, "w1 lost it"
    assert not await store.finish(taken_over.id, worker="w1", status="completed", output={}, error=None, now=NOW)


async def test_concurrent_claims_have_exactly_one_winner(store: TaskStore, prefix: str) -> None:
    await store.add(task(f"{prefix}-only"), secrets={})
    won = await asyncio.gather(*(store.claim(worker=f"w{i}", now=NOW, ttl=TTL) for i in range(5)))
    assert len([t for t in won if t is not None and t.id == f"{prefix}-only"]) == 1


async def test_steps_events_secrets_and_finish_round_trip(store: TaskStore, prefix: str) -> None:
    task_id = f"{prefix}-t"
    await store.add(task(task_id), secrets={"TOKEN": "s3cret"})
    assert await store.secrets(task_id) == {"TOKEN": "s3cret"}
    record = StepRecord(task_id, 0, "publish", "publish:github", "processing",
                        (StepIteration({"repoUrl": "github.com?owner=a&repo=b"}, {"created": True}, done=False),),
                        started_at=NOW)  # fmt: skip
    await store.save_step(record)
    await store.save_step(StepRecord(task_id, 0, "publish", "publish:github", "completed", record.iterations))
    assert [(s.status, s.iterations[0].outputs) for s in await store.steps(task_id)] == [
        ("completed", {"created": True})
    ]
    first = await store.append_event(task_id, "log", {"message": "one"}, now=NOW)
    await store.append_event(task_id, "completion", {"message": "two"}, now=NOW)
    assert [e.body["message"] for e in await store.events(task_id, after=first)] == ["two"]
    claimed = await store.claim(worker="w", now=NOW, ttl=TTL)
    assert claimed is not None
    assert await store.finish(task_id, worker="w", status="failed", output={"links": []}, error="boom", now=NOW)
    done = await store.get(task_id)
    assert done is not None and (done.status, done.error, done.claimed_by) == ("failed", "boom", None)
    assert await store.secrets(task_id) == {}, "secrets are forgotten when the run ends"
    await store.set_rollback(task_id, "completed")
    rolled = await store.get(task_id)
    assert rolled is not None and rolled.rollback == "completed"


async def test_cancel_stops_an_open_task_and_flags_a_running_one(store: TaskStore, prefix: str) -> None:
    await store.add(task(f"{prefix}-a"), secrets={})
    await store.add(task(f"{prefix}-b", minutes=1), secrets={})
    running = await store.claim(worker="w", now=NOW, ttl=TTL)
    assert running is not None and running.id == f"{prefix}-a"
    flagged = await store.request_cancel(f"{prefix}-a", now=NOW)
    assert (flagged.status, flagged.cancel_requested) == ("processing", True)
    beat = await store.heartbeat(f"{prefix}-a", worker="w", now=NOW, ttl=TTL)
    assert beat is not None and beat.cancel_requested
    cancelled = await store.request_cancel(f"{prefix}-b", now=NOW)
    assert cancelled.status == "cancelled"


async def test_listing_filters_and_counts(store: TaskStore, prefix: str) -> None:
    for index in range(3):
        await store.add(task(f"{prefix}-{index}", minutes=index, by=f"user:default/{prefix}"), secrets={})
    await store.add(task(f"{prefix}-other", by=f"user:default/{prefix}-other"), secrets={})
    page = await store.list_tasks(created_by=f"user:default/{prefix}", limit=2)
    assert (page.total, [t.id for t in page.tasks]) == (3, [f"{prefix}-2", f"{prefix}-1"])


async def test_an_inline_template_s_skeleton_is_kept_until_the_task_ends(store: TaskStore, prefix: str) -> None:
    skeleton = (SkeletonFile("skeleton/run.sh", b"#!/bin/sh\n\x00\xff", executable=True),)
    source = {"type": "inline", "sha256": "ab" * 32, "files": 1, "bytes": 12}
    for suffix in ("run", "cancel"):
        base = task(f"{prefix}-{suffix}")
        await store.add(replace(base, spec=replace(base.spec, source=source, skeleton=skeleton)), secrets={})
    # Not claimed: on PostgreSQL the database is shared by the whole session, so "oldest open" is not ours.
    stored = await store.get(f"{prefix}-run")
    assert stored is not None and stored.spec.skeleton == skeleton and stored.spec.is_inline
    assert await store.finish(stored.id, worker=None, status="completed", output={}, error=None, now=NOW)
    cancelled = await store.request_cancel(f"{prefix}-cancel", now=NOW)
    for ended in (await store.get(stored.id), cancelled):
        assert ended is not None and ended.spec.skeleton == () and ended.spec.source == source
