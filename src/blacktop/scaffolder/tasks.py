"""Durable tasks: a template run requested through the API, persisted step by step so it survives workers.

A ``Task`` carries its ``TaskSpec`` (the template document as it was when the task was created,
where its skeletons live, the validated values and who asked), Backstage's status
(``open -> processing -> completed | failed | cancelled``) and who holds it. Each step's progress
is a ``StepRecord`` holding, per ``each`` iteration, the rendered input and the outputs, so a worker
that picks up an interrupted task knows what already happened and a rollback knows what to undo.
Everything a user sees of a run is a ``TaskEvent`` (Backstage's event shape: ``log``,
``completion``, ``cancelled``, ``recovered``, plus blacktop's ``rollback``), numbered so the event
stream can resume after an id. These are plain values; ``ports.TaskStore`` persists them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

TaskStatus = Literal["open", "processing", "completed", "failed", "cancelled"]
StepStatus = Literal["processing", "completed", "failed", "skipped", "undone"]
RollbackStatus = Literal["completed", "failed"]
TERMINAL: Final[frozenset[str]] = frozenset({"completed", "failed", "cancelled"})
"""Statuses a task never leaves (except for the rollback marker)."""


@dataclass(frozen=True, slots=True)
class SkeletonFile:
    """One skeleton file captured into an inline task (its path relative to the template file's folder)."""

    path: str
    content: bytes
    executable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Backstage's ``directoryContents`` entry shape."""
        content = base64.b64encode(self.content).decode()
        return {"path": self.path, "base64Content": content, "executable": self.executable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkeletonFile:
        """Read back what ``to_dict`` wrote."""
        content = base64.b64decode(str(data.get("base64Content") or ""))
        return cls(str(data["path"]), content, bool(data.get("executable")))


CATALOG_SOURCE: Final[Mapping[str, Any]] = {"type": "catalog"}
"""``TaskSpec.source`` of a task whose template was read from the catalog."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a task runs: the template document, its skeleton base, the values and the requesting user.

    ``source`` says where the template came from: ``{"type": "catalog"}``, or for a template sent
    with the request ``{"type": "inline", "sha256", "files", "bytes", "origin"?}``. An inline task
    carries its skeleton files in ``skeleton`` (captured when the task was created), so any worker,
    later or on another machine, runs exactly what was sent; they are stored, never served, and
    dropped when the task ends (like its secrets).
    """

    template: Mapping[str, Any]
    template_ref: str
    values: Mapping[str, Any]
    base_url: str | None = None
    user: Mapping[str, Any] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=lambda: dict(CATALOG_SOURCE))
    skeleton: tuple[SkeletonFile, ...] = ()

    def without_skeleton(self) -> TaskSpec:
        """The spec once the task ended: the captured files are dropped (``source`` still describes them)."""
        return replace(self, skeleton=())

    @property
    def is_inline(self) -> bool:
        """Whether the template was sent with the request rather than read from the catalog."""
        return self.source.get("type") == "inline"

    def to_dict(self, *, include_skeleton: bool = True) -> dict[str, Any]:
        """The spec as Backstage serializes it (``templateInfo``, ``parameters``, ``steps``, ``output``).

        ``templateInfo.source`` is a blacktop addition. The skeleton files are included for storage
        only (``include_skeleton=False`` for API answers).
        """
        spec = self.template.get("spec") or {}
        body: dict[str, Any] = {
            "apiVersion": self.template.get("apiVersion"),
            "templateInfo": {"entityRef": self.template_ref, "baseUrl": self.base_url, "source": dict(self.source)},
            "parameters": dict(self.values),
            "steps": list(spec.get("steps") or []),
            "output": dict(spec.get("output") or {}),
            "user": dict(self.user),
            "template": dict(self.template),
        }
        if include_skeleton and self.skeleton:
            body["skeleton"] = [f.to_dict() for f in self.skeleton]
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        """Read back what ``to_dict`` wrote."""
        info = data.get("templateInfo") or {}
        return cls(
            template=dict(data.get("template") or {}),
            template_ref=str(info.get("entityRef") or ""),
            values=dict(data.get("parameters") or {}),
            base_url=info.get("baseUrl"),
            user=dict(data.get("user") or {}),
            source=dict(info.get("source") or CATALOG_SOURCE),
            skeleton=tuple(SkeletonFile.from_dict(f) for f in data.get("skeleton") or ()),
        )


@dataclass(frozen=True, slots=True)
class Task:
    """A task as stored."""

    id: str
    spec: TaskSpec
    status: TaskStatus
    created_at: datetime
    created_by: str | None = None
    claimed_by: str | None = None
    last_heartbeat_at: datetime | None = None
    cancel_requested: bool = False
    output: Mapping[str, Any] | None = None
    error: str | None = None
    rollback: RollbackStatus | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the run is over."""
        return self.status in TERMINAL

    @property
    def is_cancellable(self) -> bool:
        """Whether cancelling would change anything: the run is not over and no cancel is pending yet."""
        return not self.is_terminal and not self.cancel_requested

    @property
    def is_undoable(self) -> bool:
        """Whether a rollback applies: the run is over and no rollback has completed (a failed one may be retried)."""
        return self.is_terminal and self.rollback != "completed"

    def to_dict(self) -> dict[str, Any]:
        """Backstage's ``SerializedTask`` plus blacktop's ``output``, ``error`` and ``rollback``."""
        body: dict[str, Any] = {
            "id": self.id,
            "spec": self.spec.to_dict(include_skeleton=False),
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
            "lastHeartbeatAt": self.last_heartbeat_at.isoformat() if self.last_heartbeat_at else None,
            "createdBy": self.created_by,
        }
        if self.output is not None:
            body["output"] = dict(self.output)
        if self.error:
            body["error"] = {"name": "TaskError", "message": self.error}
        if self.rollback:
            body["rollback"] = self.rollback
        return body


@dataclass(frozen=True, slots=True)
class StepIteration:
    """One call of a step's action: its rendered input (secrets redacted), outputs and whether it finished."""

    input: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    done: bool = False
    each: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for storage."""
        return {"input": dict(self.input), "outputs": dict(self.outputs), "done": self.done, "each": self.each}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepIteration:
        """Read back what ``to_dict`` wrote."""
        return cls(
            input=dict(data.get("input") or {}),
            outputs=dict(data.get("outputs") or {}),
            done=bool(data.get("done")),
            each=data.get("each"),
        )


@dataclass(frozen=True, slots=True)
class StepRecord:
    """A step's progress within a task."""

    task_id: str
    index: int
    step_id: str
    action: str
    status: StepStatus
    iterations: tuple[StepIteration, ...] = ()
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def outputs(self) -> dict[str, Any]:
        """The step's outputs as later steps see them (per-name lists for ``each`` steps)."""
        collected: dict[str, Any] = {}
        for iteration in self.iterations:
            for name, value in iteration.outputs.items():
                if iteration.each is not None:
                    collected.setdefault(name, []).append(value)
                else:
                    collected[name] = value
        return collected


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One entry of a task's event log (Backstage's event shape)."""

    id: int
    task_id: str
    type: str
    body: Mapping[str, Any]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The event as the API serves it."""
        return {
            "id": self.id,
            "taskId": self.task_id,
            "type": self.type,
            "body": dict(self.body),
            "createdAt": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of a task listing and the total matching."""

    tasks: Sequence[Task]
    total: int
