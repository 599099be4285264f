"""Durable scaffolder tasks in SQL: ``scaffolder.ports.TaskStore`` on SQLite and PostgreSQL.

Three tables: the task (spec, status, the claiming worker's lease, secrets until it ends), one row
per step (rendered inputs and outputs per iteration, for resuming and rollback) and the event log
(numbered, so the event stream resumes after an id). Workers claim a task with one conditional
``UPDATE`` on a candidate (open, or processing with an expired lease); the database decides races
exactly as for the engine's shard leases (row lock on PostgreSQL, the write lock on SQLite).
Times are epoch milliseconds. The tables are created by the migration ``0005_scaffolder_tasks``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop.kernel.errors import NotFoundError
from blacktop.scaffolder import tasks

from . import errors
from .leases import from_ms, to_ms
from .tables import Base

TASKS: Final = Table(
    "scaffolder_tasks",
    Base.metadata,
    Column("id", String(64), primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("created_by", String(512), nullable=True, index=True),
    Column("claimed_by", String(255), nullable=True),
    Column("lease_expires_ms", BigInteger, nullable=False),
    Column("heartbeat_ms", BigInteger, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("secrets", JSON, nullable=True),
    Column("output", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("rollback", String(16), nullable=True),
)
"""One row per task: what it runs, where it stands and who holds it until when."""

STEPS: Final = Table(
    "scaffolder_task_steps",
    Base.metadata,
    Column("task_id", String(64), ForeignKey("scaffolder_tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("index", Integer, primary_key=True, autoincrement=False),
    Column("step_id", String(255), nullable=False),
    Column("action", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("iterations", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("started_at_ms", BigInteger, nullable=True),
    Column("finished_at_ms", BigInteger, nullable=True),
)
"""One row per step a task reached: status, and each iteration's rendered input and outputs."""

EVENTS: Final = Table(
    "scaffolder_task_events",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(64), ForeignKey("scaffolder_tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)
"""The event log of every task (log lines, step progress, completion, recovery, rollback)."""


async def _without_skeleton(conn: AsyncConnection, task_id: str) -> dict[str, Any]:
    """``{"spec": ...}`` without the captured skeleton files when the task has any, else ``{}``."""
    spec = (await conn.execute(select(TASKS.c.spec).where(TASKS.c.id == task_id))).scalar()
    if not isinstance(spec, dict) or "skeleton" not in spec:
        return {}
    return {"spec": {key: value for key, value in spec.items() if key != "skeleton"}}


class SqlTaskStore:
    """``TaskStore`` on an AsyncEngine migrated to head (it does not own the engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"

    async def add(self, task: tasks.Task, *, secrets: Mapping[str, str]) -> None:
        """Store a new open task."""
        async with self._write(f"create scaffolder task {task.id}") as conn:
            await conn.execute(
                insert(TASKS).values(
                    id=task.id, spec=task.spec.to_dict(), status=task.status, created_at_ms=to_ms(task.created_at),
                    created_by=task.created_by, claimed_by=None, lease_expires_ms=0, heartbeat_ms=None,
                    cancel_requested=False, secrets=dict(secrets), output=None, error=None, rollback=None,
                )
            )  # fmt: skip

    async def get(self, task_id: str) -> tasks.Task | None:
        """The task, or None."""
        async with self._read(f"read scaffolder task {task_id}") as conn:
            row = (await conn.execute(select(TASKS).where(TASKS.c.id == task_id))).first()
        return None if row is None else _task(row)

    async def list_tasks(
        self, *, created_by: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tasks.TaskPage:
        """Tasks newest first, filtered by creator and status."""
        where = []
        if created_by:
            where.append(TASKS.c.created_by == created_by)
        if status:
            where.append(TASKS.c.status == status)
        query = select(TASKS).where(*where).order_by(TASKS.c.created_at_ms.desc(), TASKS.c.id).limit(limit)
        async with self._read("list scaffolder tasks") as conn:
            rows = (await conn.execute(query.offset(offset))).all()
            total = (await conn.execute(select(func.count()).select_from(TASKS).where(*where))).scalar_one()
        return tasks.TaskPage(tasks=[_task(r) for r in rows], total=int(total))

    async def claim(self, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """Take the oldest open task or one whose lease expired (compare-and-set per candidate)."""
        now_ms = to_ms(now)
        claimable = or_(
            TASKS.c.status == "open", (TASKS.c.status == "processing") & (TASKS.c.lease_expires_ms <= now_ms)
        )
        candidates = select(TASKS.c.id).where(claimable).order_by(TASKS.c.created_at_ms, TASKS.c.id).limit(5)
        async with self._read("find claimable scaffolder tasks") as conn:
            ids = [str(r[0]) for r in await conn.execute(candidates)]
        for task_id in ids:
            async with self._write(f"claim scaffolder task {task_id}") as conn:
                taken = await conn.execute(
                    update(TASKS)
                    .where(TASKS.c.id == task_id, claimable)
                    .values(status="processing", claimed_by=worker, lease_expires_ms=to_ms(now + ttl),
                            heartbeat_ms=now_ms)
                )  # fmt: skip
                if taken.rowcount != 1:
                    continue
                row = (await conn.execute(select(TASKS).where(TASKS.c.id == task_id))).one()
            return _task(row)
        return None

    async def heartbeat(self, task_id: str, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """Extend ``worker``'s lease on the task; None when it no longer holds it."""
        async with self._write(f"renew the lease on scaffolder task {task_id}") as conn:
            renewed = await conn.execute(
                update(TASKS)
                .where(TASKS.c.id == task_id, TASKS.c.claimed_by == worker, TASKS.c.status == "processing")
                .values(lease_expires_ms=to_ms(now + ttl), heartbeat_ms=to_ms(now))
            )
            if renewed.rowcount != 1:
                return None
            row = (await conn.execute(select(TASKS).where(TASKS.c.id == task_id))).one()
        return _task(row)

    async def release(self, task_id: str, *, worker: str) -> None:
        """Expire ``worker``'s lease on the task now."""
        async with self._write(f"release scaffolder task {task_id}") as conn:
            await conn.execute(
                update(TASKS)
                .where(TASKS.c.id == task_id, TASKS.c.claimed_by == worker, TASKS.c.status == "processing")
                .values(lease_expires_ms=0)
            )

    async def secrets(self, task_id: str) -> dict[str, str]:
        """The task's secrets (empty once it finished)."""
        async with self._read(f"read the secrets of scaffolder task {task_id}") as conn:
            value = (await conn.execute(select(TASKS.c.secrets).where(TASKS.c.id == task_id))).scalar_one_or_none()
        return {str(k): str(v) for k, v in (value or {}).items()}

    async def save_step(self, record: tasks.StepRecord) -> None:
        """Insert or replace a step record."""
        values = {
            "step_id": record.step_id, "action": record.action, "status": record.status,
            "iterations": [it.to_dict() for it in record.iterations], "error": record.error,
            "started_at_ms": to_ms(record.started_at) if record.started_at else None,
            "finished_at_ms": to_ms(record.finished_at) if record.finished_at else None,
        }  # fmt: skip
        key = (STEPS.c.task_id == record.task_id, STEPS.c.index == record.index)
        async with self._write(f"save step {record.step_id} of scaffolder task {record.task_id}") as conn:
            changed = await conn.execute(update(STEPS).where(*key).values(**values))
            if changed.rowcount == 0:
                await conn.execute(insert(STEPS).values(task_id=record.task_id, index=record.index, **values))

    async def steps(self, task_id: str) -> list[tasks.StepRecord]:
        """The task's step records by index."""
        async with self._read(f"read the steps of scaffolder task {task_id}") as conn:
            rows = (await conn.execute(select(STEPS).where(STEPS.c.task_id == task_id).order_by(STEPS.c.index))).all()
        return [_step(r) for r in rows]

    async def append_event(self, task_id: str, type_: str, body: Mapping[str, Any], *, now: datetime) -> int:
        """Append an event; returns its id."""
        async with self._write(f"append an event to scaffolder task {task_id}") as conn:
            result = await conn.execute(
                insert(EVENTS).values(task_id=task_id, type=type_, body=dict(body), created_at_ms=to_ms(now))
            )
            key = result.inserted_primary_key
        return int(key[0]) if key else 0

    async def events(self, task_id: str, *, after: int | None = None) -> list[tasks.TaskEvent]:
        """Events with ids above ``after``, in order."""
        query = select(EVENTS).where(EVENTS.c.task_id == task_id)
        if after is not None:
            query = query.where(EVENTS.c.id > after)
        async with self._read(f"read the events of scaffolder task {task_id}") as conn:
            rows = (await conn.execute(query.order_by(EVENTS.c.id))).all()
        return [
            tasks.TaskEvent(int(r.id), str(r.task_id), str(r.type), dict(r.body), from_ms(int(r.created_at_ms)))
            for r in rows
        ]

    async def finish(
        self, task_id: str, *, worker: str | None, status: tasks.TaskStatus, output: Mapping[str, Any] | None,
        error: str | None, now: datetime,
    ) -> bool:  # fmt: skip
        """End the run and forget its secrets (and an inline template's skeleton); False when ``worker`` lost it."""
        where = [TASKS.c.id == task_id]
        if worker is not None:
            where.append(TASKS.c.claimed_by == worker)
        async with self._write(f"finish scaffolder task {task_id}") as conn:
            done = await conn.execute(
                update(TASKS)
                .where(*where)
                .values(status=status, output=dict(output) if output is not None else None, error=error,
                        secrets=None, claimed_by=None, lease_expires_ms=0, heartbeat_ms=to_ms(now),
                        **await _without_skeleton(conn, task_id))
            )  # fmt: skip
        return bool(done.rowcount == 1)

    async def request_cancel(self, task_id: str, *, now: datetime) -> tasks.Task:
        """Cancel an open task at once; flag a processing one for its worker."""
        async with self._write(f"cancel scaffolder task {task_id}") as conn:
            await conn.execute(
                update(TASKS)
                .where(TASKS.c.id == task_id, TASKS.c.status == "open")
                .values(status="cancelled", secrets=None, error="the task was cancelled before it started",
                        **await _without_skeleton(conn, task_id))
            )  # fmt: skip
            await conn.execute(
                update(TASKS).where(TASKS.c.id == task_id, TASKS.c.status == "processing").values(cancel_requested=True)
            )
            row = (await conn.execute(select(TASKS).where(TASKS.c.id == task_id))).first()
        if row is None:
            raise NotFoundError(f"scaffolder task {task_id!r} does not exist")
        return _task(row)

    async def set_rollback(self, task_id: str, status: tasks.RollbackStatus) -> None:
        """Record the outcome of a rollback."""
        async with self._write(f"record the rollback of scaffolder task {task_id}") as conn:
            await conn.execute(update(TASKS).where(TASKS.c.id == task_id).values(rollback=status))

    async def delete(self, task_id: str) -> None:
        """Remove a task with its steps and events (tests and retention)."""
        async with self._write(f"delete scaffolder task {task_id}") as conn:
            for table in (EVENTS, STEPS):
                await conn.execute(delete(table).where(table.c.task_id == task_id))
            await conn.execute(delete(TASKS).where(TASKS.c.id == task_id))

    @asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._guard(action):
            async with self._engine.connect() as conn:
                if self._is_sqlite:
                    await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._guard(action):
            async with self._engine.connect() as conn:
                yield conn

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise


def _task(row: Row[Any]) -> tasks.Task:
    heartbeat = row.heartbeat_ms
    return tasks.Task(
        id=str(row.id),
        spec=tasks.TaskSpec.from_dict(row.spec),
        status=row.status,
        created_at=from_ms(int(row.created_at_ms)),
        created_by=row.created_by,
        claimed_by=row.claimed_by,
        last_heartbeat_at=from_ms(int(heartbeat)) if heartbeat is not None else None,
        cancel_requested=bool(row.cancel_requested),
        output=row.output,
        error=row.error,
        rollback=row.rollback,
    )


def _step(row: Row[Any]) -> tasks.StepRecord:
    return tasks.StepRecord(
        task_id=str(row.task_id),
        index=int(row._mapping["index"]),
        step_id=str(row.step_id),
        action=str(row.action),
        status=row.status,
        iterations=tuple(tasks.StepIteration.from_dict(it) for it in row.iterations or ()),
        error=row.error,
        started_at=from_ms(int(row.started_at_ms)) if row.started_at_ms is not None else None,
        finished_at=from_ms(int(row.finished_at_ms)) if row.finished_at_ms is not None else None,
    )
