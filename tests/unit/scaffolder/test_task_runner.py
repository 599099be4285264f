"""The durable runner over the in-memory task store: checkpoints, resume rules, cancellation, rollback.

Test design notes: interruptions are simulated by writing the step records a killed worker
leaves behind (a ``processing`` record) and letting the lease expire on a ``FrozenClock``; the
kill -9 test in ``tests/integration/scaffolder`` does it for real with a process. Actions here
record every call, so "not run again" is checked by counting calls, not by reading logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.scaffolder import (
    ActionContext,
    ActionRegistry,
    InMemoryTaskStore,
    InMemoryWorkspace,
    RunnerSettings,
    StepIteration,
    StepRecord,
    Task,
    TaskRunner,
    TaskSpec,
    TemplateAction,
    TemplateRenderer,
    Workspace,
)


class Recorder(TemplateAction):
    """Records calls; ``fail`` makes it raise, ``gate`` makes it wait for an event."""

    input_schema: Mapping[str, Any] = {"type": "object"}

    def __init__(self, action_id: str, *, repeatable: bool = True, fail: bool = False) -> None:
        self.id = action_id
        self.repeatable = repeatable
        self.fail = fail
        self.calls: list[dict[str, Any]] = []
        self.undone: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.started: asyncio.Event | None = None

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        self.calls.append(dict(input))
        ctx.log(f"{self.id} ran")
        if self.started is not None:
            self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError(f"{self.id} broke")
        ctx.output("made", f"{self.id}-{len(self.calls)}")

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        self.undone.append(dict(outputs))
        ctx.log(f"undid {outputs.get('made')}")


class Workspaces:
    def __init__(self) -> None:
        self.open_count = 0
        self.discarded: list[str] = []

    def open(self, task_id: str) -> Workspace:
        self.open_count += 1
        return InMemoryWorkspace()

    def discard(self, task_id: str) -> None:
        self.discarded.append(task_id)


def setup(*actions: Recorder, lease: float = 30.0) -> tuple[TaskRunner, InMemoryTaskStore, FrozenClock, Workspaces]:
    store, clock, workspaces = InMemoryTaskStore(), FrozenClock(), Workspaces()
    runner = TaskRunner(
        store=store, registry=ActionRegistry(actions), renderer=TemplateRenderer(), workspaces=workspaces,
        clock=clock, settings=RunnerSettings(worker="w1", lease=timedelta(seconds=lease)),
    )  # fmt: skip
    return runner, store, clock, workspaces


def spec(steps: list[dict[str, Any]], output: dict[str, Any] | None = None) -> TaskSpec:
    document = {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"},
                "spec": {"type": "service", "steps": steps, "output": output or {}}}  # fmt: skip
    return TaskSpec(template=document, template_ref="template:default/t", values={"name": "svc"})


async def add(store: InMemoryTaskStore, clock: FrozenClock, task_spec: TaskSpec, **secrets: str) -> str:
    await store.add(Task("t1", task_spec, "open", clock.now()), secrets=secrets)
    return "t1"


async def test_a_task_runs_every_step_and_records_outputs_and_events() -> None:
    a, b = Recorder("x:a"), Recorder("x:b")
    runner, store, clock, workspaces = setup(a, b)
    steps = [{"id": "one", "action": "x:a", "input": {"n": "${{ parameters.name }}"}},
             {"id": "two", "action": "x:b", "input": {"from": "${{ steps.one.output.made }}"}}]  # fmt: skip
    await add(store, clock, spec(steps, {"made": "${{ steps.two.output.made }}"}))
    assert await runner.run_once() == "t1"
    task = await store.get("t1")
    assert task is not None and (task.status, task.output) == ("completed", {"made": "x:b-1"})
    assert b.calls == [{"from": "x:a-1"}]
    events = await store.events("t1")
    progress = [(e.body.get("stepId"), e.body.get("status")) for e in events if e.body.get("status")]
    assert progress == [("one", "processing"), ("one", "completed"), ("two", "processing"), ("two", "completed")]
    assert events[-1].type == "completion" and events[-1].body["message"] == "Run completed with status: completed"
    assert workspaces.discarded == ["t1"]
    assert await runner.run_once() is None


async def interrupted(action_repeatable: bool) -> tuple[Recorder, Recorder, TaskRunner, InMemoryTaskStore]:
    """A task whose worker died inside step two (step one completed)."""
    a, b, c = Recorder("x:a"), Recorder("x:b", repeatable=action_repeatable), Recorder("x:c")
    runner, store, clock, _ = setup(a, b, c)
    steps = [{"id": "one", "action": "x:a"}, {"id": "two", "action": "x:b"}, {"id": "three", "action": "x:c"}]
    await add(store, clock, spec(steps))
    claimed = await store.claim(worker="dead", now=clock.now(), ttl=timedelta(seconds=30))
    assert claimed is not None
    await store.save_step(StepRecord("t1", 0, "one", "x:a", "completed", (StepIteration({}, {"made": "old"}, True),)))
    await store.save_step(StepRecord("t1", 1, "two", "x:b", "processing", (StepIteration({}),)))
    assert await runner.run_once() is None, "the dead worker's lease still holds"
    clock.advance(timedelta(seconds=31))
    assert await runner.run_once() == "t1"
    return a, b, runner, store


async def test_an_interrupted_repeatable_step_runs_again_and_completed_ones_do_not() -> None:
    a, b, _, store = await interrupted(action_repeatable=True)
    task = await store.get("t1")
    assert task is not None and task.status == "completed"
    assert (len(a.calls), len(b.calls)) == (0, 1)
    assert [s.status for s in await store.steps("t1")] == ["completed"] * 3
    assert any(e.type == "recovered" for e in await store.events("t1"))


async def test_an_interrupted_non_repeatable_step_fails_the_task_naming_the_step() -> None:
    _, b, _, store = await interrupted(action_repeatable=False)
    task = await store.get("t1")
    assert task is not None and task.status == "failed" and task.error is not None
    assert task.error.startswith(
        "step 'two' (x:b) of task t1 was interrupted when the worker running it stopped mid-step"
    )
    assert b.calls == []
    assert [s.status for s in await store.steps("t1")] == ["completed", "failed", "skipped"]


async def test_after_a_failure_only_always_steps_run() -> None:
    broken, cleanup, never = Recorder("x:broken", fail=True), Recorder("x:cleanup"), Recorder("x:never")
    runner, store, clock, _ = setup(broken, cleanup, never)
    steps = [{"id": "b", "action": "x:broken"}, {"id": "n", "action": "x:never"},
             {"id": "c", "action": "x:cleanup", "if": "${{ always() }}"}]  # fmt: skip
    await add(store, clock, spec(steps))
    await runner.run_once()
    task = await store.get("t1")
    assert task is not None and (task.status, task.error) == ("failed", "x:broken broke")
    assert (len(never.calls), len(cleanup.calls)) == (0, 1)


async def test_cancel_stops_the_running_step() -> None:
    slow = Recorder("x:slow")
    slow.gate = asyncio.Event()
    runner, store, clock, _ = setup(slow, lease=0.15)
    await add(store, clock, spec([{"id": "s", "action": "x:slow"}]))
    started = asyncio.Event()
    slow.started = started
    running = asyncio.create_task(runner.run_once())
    await asyncio.wait_for(started.wait(), timeout=5)
    await store.request_cancel("t1", now=clock.now())
    assert await asyncio.wait_for(running, timeout=5) == "t1"
    task = await store.get("t1")
    assert task is not None and task.status == "cancelled"
    assert [e.type for e in await store.events("t1")][-2:] == ["cancelled", "completion"]


async def test_each_iterations_are_recorded_and_secrets_are_redacted_in_stored_inputs() -> None:
    a = Recorder("x:a")
    runner, store, clock, _ = setup(a)
    steps = [{"id": "e", "action": "x:a", "each": ["p", "q"], "input": {"v": "${{ each.value }}",
                                                                        "token": "${{ secrets.TOKEN }}"}}]  # fmt: skip
    await add(store, clock, spec(steps, {"all": "${{ steps.e.output.made }}"}), TOKEN="hunter2")
    await runner.run_once()
    (record,) = await store.steps("t1")
    assert [it.input for it in record.iterations] == [{"v": "p", "token": "***"}, {"v": "q", "token": "***"}]
    assert a.calls[0]["token"] == "hunter2", "the action itself gets the real secret"
    task = await store.get("t1")
    assert task is not None and task.output == {"all": ["x:a-1", "x:a-2"]}


async def test_rollback_undoes_newest_first_and_reports_failures() -> None:
    a, b, broken = Recorder("x:a"), Recorder("x:b"), Recorder("x:broken", fail=True)
    runner, store, clock, _ = setup(a, b, broken)
    steps = [{"id": "one", "action": "x:a"}, {"id": "two", "action": "x:b"}, {"id": "three", "action": "x:broken"}]
    await add(store, clock, spec(steps))
    await runner.run_once()
    assert await runner.rollback("t1") == "completed"
    assert (a.undone, b.undone) == ([{"made": "x:a-1"}], [{"made": "x:b-1"}])
    rollback = [e.body["message"] for e in await store.events("t1") if e.type == "rollback"]
    assert rollback == ["undid x:b-1", "undid x:a-1", "Rollback completed"]
    assert [s.status for s in await store.steps("t1")] == ["undone", "undone", "failed"]
    assert await runner.rollback("t1") == "completed", "a second rollback finds nothing left to undo"
    assert len(a.undone) == 1


async def test_rollback_of_a_running_task_is_refused() -> None:
    runner, store, clock, _ = setup(Recorder("x:a"))
    await add(store, clock, spec([{"id": "one", "action": "x:a"}]))
    with pytest.raises(Exception, match="is open; cancel it"):
        await runner.rollback("t1")


async def test_a_task_whose_template_no_longer_parses_fails_instead_of_looping() -> None:
    runner, store, clock, _ = setup(Recorder("x:a"))
    broken = TaskSpec(template={"kind": "Template"}, template_ref="template:default/t", values={})
    await add(store, clock, broken)
    assert await runner.run_once() == "t1"
    task = await store.get("t1")
    assert task is not None and task.status == "failed" and task.error is not None
    assert task.error.startswith("task t1 could not run: template '?' is invalid")
    assert await runner.run_once() is None


async def test_a_worker_shutting_down_hands_the_task_over_at_once() -> None:
    slow = Recorder("x:slow")
    slow.gate, slow.started = asyncio.Event(), asyncio.Event()
    runner, store, clock, _ = setup(slow)
    await add(store, clock, spec([{"id": "s", "action": "x:slow"}]))
    worker = asyncio.create_task(runner.run_once())
    await asyncio.wait_for(slow.started.wait(), timeout=5)
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    slow.gate.set()
    other = TaskRunner(store=store, registry=runner.registry, renderer=TemplateRenderer(), workspaces=Workspaces(),
                       clock=clock, settings=RunnerSettings(worker="w2"))  # fmt: skip
    assert await other.run_once() == "t1", "no need to wait for the lease to expire"
    task = await store.get("t1")
    assert task is not None and task.status == "completed" and len(slow.calls) == 2
