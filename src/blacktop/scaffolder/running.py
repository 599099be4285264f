"""The durable task runner: workers claim tasks, run them step by step with checkpoints, and roll them back.

A worker claims a task through the ``TaskStore`` (a lease that it renews while it works) and
runs the template's steps with the same step semantics as ``executing`` (``prepare_step``: ``if``,
``each``, input rendering and validation). Before an action runs, its step is recorded as
``processing`` with the rendered inputs; after each iteration the outputs are saved. So when a
worker dies mid-task and another one takes the task over once the lease expired, the record says
exactly where it stopped: completed steps are not run again and their outputs are reused; the
interrupted step runs again only when its action declares itself ``repeatable``; otherwise the
task fails at that step with a message saying so. It is never left silently half-done.

A task whose template was sent inline carries its skeleton files; its steps run with a registry
built over those files (``registry_for``), never over the worker's own disk.

Cancellation and lease loss are noticed by the heartbeat, which cancels the running action.
``rollback`` calls ``undo`` of every step that did something, newest first, and logs each.
Everything here talks to ports; the composition root supplies the SQL store and workspaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import BlacktopError, ConflictError, NotFoundError

from . import model, tasks
from .actions import ActionContext, ActionRegistry, TemplateInfo
from .adapters import InMemorySkeletonReader, InMemoryWorkspace
from .executing import PreparedStep, RunOptions, prepare_step, step_context
from .ports import SkeletonReader, TaskStore, Workspace, WorkspaceFile
from .templating import TemplateRenderer, build_context, redact

log = logging.getLogger("blacktop.scaffolder")

HEARTBEAT_MAX_SECONDS = 2.0
"""Longest pause between lease renewals (which is also how soon a running task notices a cancel)."""

RegistryFactory = Callable[[SkeletonReader], ActionRegistry]
"""Builds an action registry whose fetch actions read skeletons through the given reader."""


class Workspaces(Protocol):
    """Hands out each task's working folder (kept across a worker crash, removed when the task ends)."""

    def open(self, task_id: str) -> Workspace:
        """The workspace of ``task_id``, created empty when new."""
        ...

    def discard(self, task_id: str) -> None:
        """Remove the workspace of ``task_id``."""
        ...


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """How a worker claims and holds tasks."""

    worker: str
    lease: timedelta = timedelta(seconds=30)
    """A task whose worker stopped renewing is taken over after this."""
    poll_seconds: float = 1.0
    """How often an idle worker looks for tasks other processes created."""


class _Events:
    """Writes a task's events in order from synchronous log callbacks (one writer task per run)."""

    def __init__(self, store: TaskStore, task_id: str, clock: Clock) -> None:
        self._store, self._task_id, self._clock = store, task_id, clock
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._drain())

    def emit(self, type_: str, body: dict[str, Any]) -> None:
        """Queue one event."""
        self._queue.put_nowait((type_, body))

    def log(self, message: str, *, step_id: str | None = None, status: str | None = None) -> None:
        """Queue a ``log`` event (Backstage marks step progress with ``stepId`` and ``status``)."""
        body: dict[str, Any] = {"message": message}
        if step_id is not None:
            body["stepId"] = step_id
        if status is not None:
            body["status"] = status
        self.emit("log", body)

    async def _drain(self) -> None:
        while (item := await self._queue.get()) is not None:
            await self._store.append_event(self._task_id, item[0], item[1], now=self._clock.now())

    async def close(self) -> None:
        """Write everything queued, then stop."""
        self._queue.put_nowait(None)
        await asyncio.shield(self._writer)


class TaskRunner:
    """Claims and runs durable tasks; also rolls finished ones back."""

    def __init__(
        self,
        *,
        store: TaskStore,
        registry: ActionRegistry,
        renderer: TemplateRenderer,
        workspaces: Workspaces,
        clock: Clock,
        settings: RunnerSettings,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        registry_for: RegistryFactory | None = None,
    ) -> None:
        self.store, self.registry, self.renderer = store, registry, renderer
        self.workspaces, self.clock, self.settings = workspaces, clock, settings
        self._sleep = sleep
        self._registry_for = registry_for
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Wake idle workers of this process (a task was just created)."""
        self._wake.set()

    async def run_forever(self) -> None:
        """Claim and run tasks until cancelled; idle workers wake on ``notify`` or every poll interval."""
        while True:
            try:
                ran = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scaffolder worker %s failed to run a task", self.settings.worker)
                ran = None
            if ran is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_seconds)

    async def run_once(self) -> str | None:
        """Claim one task and run it to the end; returns its id, or None when none was waiting."""
        task = await self.store.claim(worker=self.settings.worker, now=self.clock.now(), ttl=self.settings.lease)
        if task is None:
            return None
        await self.execute(task)
        return task.id

    async def execute(self, task: tasks.Task) -> None:
        """Run a claimed task while heartbeating; cancellation or a lost lease stops the running step."""
        events = _Events(self.store, task.id, self.clock)
        work = asyncio.create_task(self._run(task, events))
        stop_reason: list[str] = []
        beat = asyncio.create_task(self._heartbeat(task.id, work, stop_reason))
        try:
            status, output, error = await work
        except asyncio.CancelledError:
            if not stop_reason:  # this worker is shutting down: let another one take the task over at once
                beat.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._release(task.id, events))
                raise
            status, output, error = "cancelled", {}, "the task was cancelled"
        except Exception as exc:  # a template that no longer parses, a store failure: end it, never loop on it
            log.exception("scaffolder task %s could not run", task.id)
            status, output, error = "failed", {}, f"task {task.id} could not run: {exc}"
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        if stop_reason == ["lost"]:
            events.log(f"Worker {self.settings.worker} lost its lease on the task; another worker takes it over")
            await events.close()
            return
        if status == "cancelled":
            events.emit("cancelled", {"message": "Run was cancelled"})
        body: dict[str, Any] = {"message": f"Run completed with status: {status}", "output": output}
        if error:
            body["error"] = {"name": "TaskError", "message": error}
        events.emit("completion", body)
        await events.close()
        await self.store.finish(
            task.id, worker=self.settings.worker, status=status, output=output, error=error, now=self.clock.now()
        )
        self.workspaces.discard(task.id)

    async def _release(self, task_id: str, events: _Events) -> None:
        events.log(f"Worker {self.settings.worker} stopped; the task is handed to another worker")
        await events.close()
        await self.store.release(task_id, worker=self.settings.worker)

    async def _heartbeat(self, task_id: str, work: asyncio.Task[Any], reason: list[str]) -> None:
        # Renew well within the lease, and often enough that a cancel stops the step within a couple of seconds.
        interval = max(min(self.settings.lease.total_seconds() / 3, HEARTBEAT_MAX_SECONDS), 0.05)
        while not work.done():
            await self._sleep(interval)
            current = await self.store.heartbeat(
                task_id, worker=self.settings.worker, now=self.clock.now(), ttl=self.settings.lease
            )
            if current is None or current.cancel_requested:
                reason.append("lost" if current is None else "cancelled")
                work.cancel()
                return

    def registry_of(self, task: tasks.Task) -> ActionRegistry:
        """The registry ``task`` runs with: over its captured skeleton when the template came inline."""
        if not task.spec.is_inline:
            return self.registry
        if self._registry_for is None:
            raise BlacktopError(f"task {task.id} has an inline template, but this worker cannot run inline templates")
        files = [WorkspaceFile(f.path, f.content, f.executable) for f in task.spec.skeleton]
        return self._registry_for(InMemorySkeletonReader(files))

    async def _run(self, task: tasks.Task, events: _Events) -> tuple[tasks.TaskStatus, dict[str, Any], str | None]:
        spec = task.spec
        template = model.parse_template(spec.template, source=spec.template_ref)
        registry = self.registry_of(task)
        records = {r.index: r for r in await self.store.steps(task.id)}
        options = RunOptions(
            user=spec.user,
            secrets=await self.store.secrets(task.id),
            template_info=TemplateInfo(entity_ref=spec.template_ref, base_url=spec.base_url),
            task_id=task.id,
        )
        if records:
            done = sum(1 for r in records.values() if r.status in ("completed", "skipped"))
            events.emit(
                "recovered",
                {"message": f"Worker {self.settings.worker} took the task over after {done} finished step(s)"},
            )
        workspace = self.workspaces.open(task.id)
        outputs: dict[str, dict[str, Any]] = {}
        first_error: str | None = None
        for index, step in enumerate(template.steps):
            record = records.get(index)
            if record is not None and record.status in ("completed", "skipped", "failed"):
                outputs[step.id] = record.outputs()
                if record.status == "failed":
                    first_error = first_error or record.error
                continue
            if record is not None and record.status == "processing":
                refused = await self._refuse_resume(task, step, record, events)
                if refused is not None:
                    outputs[step.id] = record.outputs()
                    first_error = first_error or refused
                    continue
            context = step_context(spec.values, outputs, options)
            try:
                prepared = prepare_step(
                    step, index, context=context, registry=registry, renderer=self.renderer,
                    task_failed=first_error is not None,
                )  # fmt: skip
            except BlacktopError as exc:
                await self._save(task.id, step, index, "failed", error=str(exc))
                events.log(f"Step {step.id} failed: {exc}", step_id=step.id, status="failed")
                first_error = first_error or str(exc)
                continue
            if prepared.is_skipped:
                await self._save(task.id, step, index, "skipped")
                events.log(f"Skipping step {step.id}: its condition is false", step_id=step.id, status="skipped")
                outputs[step.id] = {}
                continue
            record = await self._run_step(task.id, prepared, workspace, options, events)
            outputs[step.id] = record.outputs()
            if record.status == "failed":
                first_error = first_error or record.error
        output_context = build_context(parameters=spec.values, steps=outputs, user=spec.user, task_id=task.id)
        try:
            output = self.renderer.render_output(template.output, output_context, task_failed=first_error is not None)
        except BlacktopError as exc:
            output, first_error = {}, first_error or f"the template output could not be rendered: {exc}"
        return ("failed" if first_error else "completed"), output, first_error

    async def _refuse_resume(
        self, task: tasks.Task, step: model.Step, record: tasks.StepRecord, events: _Events
    ) -> str | None:
        """None when the interrupted step may run again, else the failure message (and the record is failed)."""
        action = self.registry.get(record.action)
        if action is not None and action.repeatable:
            events.log(
                f"Step {step.id} ({record.action}) was interrupted when its worker stopped; the action is safe to "
                "repeat, so it runs again",
                step_id=step.id,
            )
            return None
        message = (
            f"step {step.id!r} ({record.action}) of task {task.id} was interrupted when the worker running it "
            f"stopped mid-step; {record.action} is not safe to repeat, so the task "
            f"fails here instead of running it twice. Check what the step did, then roll the task back "
            f"(blacktop task rollback {task.id}) or run the template again"
        )
        failed = replace(record, status="failed", error=message, finished_at=self.clock.now())
        await self.store.save_step(failed)
        events.log(message, step_id=step.id, status="failed")
        return message

    async def _run_step(
        self, task_id: str, prepared: PreparedStep, workspace: Workspace, options: RunOptions, events: _Events
    ) -> tasks.StepRecord:
        step, action = prepared.step, prepared.action
        assert action is not None
        iterations = [
            tasks.StepIteration(
                input=_redacted(it.input, options.secrets),
                each={"key": it.each.key, "value": it.each.value} if it.each is not None else None,
            )
            for it in prepared.iterations
        ]
        record: tasks.StepRecord = tasks.StepRecord(
            task_id, prepared.index, step.id, action.id, "processing", tuple(iterations), started_at=self.clock.now()
        )
        await self.store.save_step(record)
        events.log(f"Beginning step {step.name}", step_id=step.id, status="processing")
        for number, iteration in enumerate(prepared.iterations):
            ctx = ActionContext(
                workspace=workspace, step_id=step.id, task_id=task_id, template_info=options.template_info,
                user=options.user, secrets=options.secrets, each=iterations[number].each,
                log_sink=lambda line: events.log(line, step_id=step.id),
            )  # fmt: skip
            error: str | None = None
            try:
                await action.run(ctx, iteration.input)
            except asyncio.CancelledError:
                iterations[number] = replace(iterations[number], outputs=dict(ctx.outputs))
                await self.store.save_step(replace(record, iterations=tuple(iterations)))
                events.log(f"Step {step.id} was stopped", step_id=step.id, status="failed")
                raise
            except Exception as exc:  # an action's failure ends the step, never the worker
                error = str(exc) or type(exc).__name__
            iterations[number] = replace(iterations[number], outputs=dict(ctx.outputs), done=error is None)
            record = replace(record, iterations=tuple(iterations))
            if error is not None:
                record = replace(record, status="failed", error=error, finished_at=self.clock.now())
                await self.store.save_step(record)
                events.log(f"Step {step.id} failed: {error}", step_id=step.id, status="failed")
                return record
            await self.store.save_step(record)
        record = replace(record, status="completed", finished_at=self.clock.now())
        await self.store.save_step(record)
        events.log(f"Finished step {step.name}", step_id=step.id, status="completed")
        return record

    async def _save(
        self, task_id: str, step: model.Step, index: int, status: tasks.StepStatus, *, error: str | None = None
    ) -> None:
        now = self.clock.now()
        await self.store.save_step(
            tasks.StepRecord(task_id, index, step.id, step.action, status, error=error, started_at=now, finished_at=now)
        )

    async def rollback(self, task_id: str) -> tasks.RollbackStatus:
        """Undo every step that did something, newest first; returns whether every undo succeeded."""
        task = await self.store.get(task_id)
        if task is None:
            raise NotFoundError(f"task {task_id!r} does not exist; list tasks with GET /api/scaffolder/v2/tasks")
        if not task.is_terminal:
            raise ConflictError(f"task {task_id} is {task.status}; cancel it and wait for it to stop before rollback")
        events = _Events(self.store, task_id, self.clock)
        failures = 0
        for record in sorted(await self.store.steps(task_id), key=lambda r: r.index, reverse=True):
            touched = [it for it in record.iterations if it.done or it.outputs]
            if record.status in ("skipped", "undone") or not touched:
                continue
            failures += await self._undo_step(task, record, touched, events)
        status: tasks.RollbackStatus = "failed" if failures else "completed"
        events.emit(
            "rollback", {"message": f"Rollback {status}" + (f": {failures} undo(s) failed" if failures else "")}
        )
        await events.close()
        await self.store.set_rollback(task_id, status)
        return status

    async def _undo_step(
        self, task: tasks.Task, record: tasks.StepRecord, touched: list[tasks.StepIteration], events: _Events
    ) -> int:
        action = self.registry.get(record.action)
        if action is None or not action.has_undo:
            events.emit("rollback", {"stepId": record.step_id, "message": f"Step {record.step_id} ({record.action}) "
                                     "has no undo; what it did is left as is"})  # fmt: skip
            return 0
        failures = 0
        for iteration in reversed(touched):
            ctx = ActionContext(
                workspace=InMemoryWorkspace(), step_id=record.step_id, task_id=task.id, user=task.spec.user,
                template_info=TemplateInfo(entity_ref=task.spec.template_ref, base_url=task.spec.base_url),
                log_sink=lambda line: events.emit("rollback", {"stepId": record.step_id, "message": line}),
            )  # fmt: skip
            try:
                await action.undo(ctx, iteration.input, iteration.outputs)
            except Exception as exc:  # keep undoing the rest; report this one
                failures += 1
                events.emit("rollback", {"stepId": record.step_id, "status": "failed",
                                         "message": f"Undo of step {record.step_id} failed: {exc}"})  # fmt: skip
        if not failures:
            await self.store.save_step(replace(record, status="undone", finished_at=self.clock.now()))
        return failures


def _redacted(value: Any, secrets: Mapping[str, str]) -> Any:
    """``value`` with every secret replaced by ``***`` (rendered inputs are stored for rollback)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: _redacted(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, secrets) for v in value]
    return value
