"""An in-memory ``TaskStore``: the fake the runner's unit tests use, with the SQL store's semantics.

Claims follow the same rule as ``store.scaffolder.SqlTaskStore`` (oldest open task, or a
processing one whose lease expired), so the contract suite runs against both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from blacktop.kernel.errors import ConflictError, NotFoundError

from .. import tasks


@dataclass
class _Row:
    task: tasks.Task
    secrets: dict[str, str]
    lease_expires: datetime | None = None


class InMemoryTaskStore:
    """``TaskStore`` in dicts."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}
        self._steps: dict[tuple[str, int], tasks.StepRecord] = {}
        self._events: list[tasks.TaskEvent] = []

    async def add(self, task: tasks.Task, *, secrets: Mapping[str, str]) -> None:
        """Store a new task."""
        if task.id in self._rows:
            raise ConflictError(f"scaffolder task {task.id} exists")
        self._rows[task.id] = _Row(task, dict(secrets))

    async def get(self, task_id: str) -> tasks.Task | None:
        """The task, or None."""
        row = self._rows.get(task_id)
        return None if row is None else row.task

    async def list_tasks(
        self, *, created_by: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tasks.TaskPage:
        """Tasks newest first."""
        found = [
            r.task
            for r in self._rows.values()
            if (created_by is None or r.task.created_by == created_by) and (status is None or r.task.status == status)
        ]
        found.sort(key=lambda t: (-t.created_at.timestamp(), t.id))
        return tasks.TaskPage(found[offset : offset + limit], len(found))

    async def claim(self, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """The oldest open task, or one whose lease expired."""
        for row in sorted(self._rows.values(), key=lambda r: (r.task.created_at, r.task.id)):
            expired = row.task.status == "processing" and row.lease_expires is not None and row.lease_expires <= now
            if row.task.status == "open" or expired:
                row.task = replace(row.task, status="processing", claimed_by=worker, last_heartbeat_at=now)
                row.lease_expires = now + ttl
                return row.task
        return None

    async def heartbeat(self, task_id: str, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """Extend the lease when ``worker`` holds it."""
        row = self._rows.get(task_id)
        if row is None or row.task.claimed_by != worker or row.task.status != "processing":
            return None
        row.lease_expires = now + ttl
        row.task = replace(row.task, last_heartbeat_at=now)
        return row.task

    async def release(self, task_id: str, *, worker: str) -> None:
        """Expire ``worker``'s lease now."""
        row = self._rows.get(task_id)
        if row is not None and row.task.claimed_by == worker and row.task.status == "processing":
            row.lease_expires = datetime.min.replace(tzinfo=row.task.created_at.tzinfo)

    async def secrets(self, task_id: str) -> dict[str, str]:
        """The task's secrets."""
        row = self._rows.get(task_id)
        return dict(row.secrets) if row else {}

    async def save_step(self, record: tasks.StepRecord) -> None:
        """Insert or replace."""
        self._steps[(record.task_id, record.index)] = record

    async def steps(self, task_id: str) -> list[tasks.StepRecord]:
        """Records by index."""
        return [r for (tid, _), r in sorted(self._steps.items()) if tid == task_id]

    async def append_event(self, task_id: str, type_: str, body: Mapping[str, Any], *, now: datetime) -> int:
        """Append; ids grow across tasks like the SQL sequence."""
        event = tasks.TaskEvent(len(self._events) + 1, task_id, type_, dict(body), now)
        self._events.append(event)
        return event.id

    async def events(self, task_id: str, *, after: int | None = None) -> list[tasks.TaskEvent]:
        """Events after ``after``."""
        return [e for e in self._events if e.task_id == task_id and (after is None or e.id > after)]

    async def finish(
        self, task_id: str, *, worker: str | None, status: tasks.TaskStatus, output: Mapping[str, Any] | None,
        error: str | None, now: datetime,
    ) -> bool:  # fmt: skip
        """End the run when ``worker`` (if given) still holds it."""
        row = self._rows.get(task_id)
        if row is None or (worker is not None and row.task.claimed_by != worker):
            return False
        row.task = replace(
            row.task, status=status, output=dict(output) if output is not None else None, error=error,
            claimed_by=None, last_heartbeat_at=now, spec=row.task.spec.without_skeleton(),
        )  # fmt: skip
        row.secrets, row.lease_expires = {}, None
        return True

    async def request_cancel(self, task_id: str, *, now: datetime) -> tasks.Task:
        """Cancel an open task, or flag a processing one."""
        row = self._rows.get(task_id)
        if row is None:
            raise NotFoundError(f"scaffolder task {task_id!r} does not exist")
        if row.task.status == "open":
            row.task = replace(
                row.task, status="cancelled", error="the task was cancelled before it started",
                spec=row.task.spec.without_skeleton(),
            )  # fmt: skip
            row.secrets = {}
        elif row.task.status == "processing":
            row.task = replace(row.task, cancel_requested=True)
        return row.task

    async def set_rollback(self, task_id: str, status: tasks.RollbackStatus) -> None:
        """Record the rollback outcome."""
        row = self._rows[task_id]
        row.task = replace(row.task, rollback=status)
