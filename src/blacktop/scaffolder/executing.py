"""Running a template's steps in order, in process: the step semantics every runner shares.

A step is *prepared* (``if`` and ``each`` evaluated, every iteration's input rendered and validated
against the action's schema before anything runs) and then *run* (the action called once per
iteration, outputs collected; in a dry run, actions that do not support it are skipped and their
outputs faked from the output schema). ``run_template`` chains the two for dry runs, the CLI and
tests; the durable task runner calls ``prepare_step`` and ``run_prepared_step`` itself so it can
checkpoint between steps and decide, from ``action.repeatable``, whether an interrupted step may run
again. After a failure later steps are skipped unless their ``if`` calls ``always()``/``failure()``;
the run still ends failed with the first error, and the output is rendered with what exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from blacktop.kernel.errors import BlacktopError

from . import model
from .actions import ActionContext, ActionRegistry, TemplateAction, TemplateInfo, fake_output, validate_input
from .ports import Workspace, WorkspaceFile
from .templating import EachItem, TemplateRenderer, build_context

StepStatus = Literal["completed", "failed", "skipped"]
LogSink = Callable[[str, str], None]
"""Receives ``(step_id, line)`` for every log line, secrets already redacted."""


@dataclass(frozen=True, slots=True)
class PreparedIteration:
    """One call of the action: the ``each`` item (None without ``each``) and the rendered input."""

    each: EachItem | None
    input: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PreparedStep:
    """A step ready to run; ``iterations`` is empty when its ``if`` is false for every item."""

    step: model.Step
    index: int
    action: TemplateAction | None
    iterations: tuple[PreparedIteration, ...]

    @property
    def is_skipped(self) -> bool:
        """Whether nothing will run (condition false, or an empty ``each``)."""
        return not self.iterations


@dataclass(slots=True)
class StepResult:
    """What one step did: status, outputs (lists per name under ``each``), log lines and error."""

    id: str
    name: str
    action: str
    status: StepStatus
    outputs: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class RunResult:
    """A finished run: its status, every step's result, the rendered output and the first error."""

    status: Literal["completed", "failed"]
    steps: list[StepResult]
    output: dict[str, Any]
    error: str | None = None
    files: Sequence[WorkspaceFile] = ()


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run facts: who runs it, secrets, the template's location, dry-run, logging and sleeping."""

    user: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    template_info: TemplateInfo = field(default_factory=TemplateInfo)
    task_id: str | None = None
    dry_run: bool = False
    log_sink: LogSink | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


def step_context(
    parameters: Mapping[str, Any], outputs: Mapping[str, Mapping[str, Any]], options: RunOptions
) -> dict[str, Any]:
    """The ``${{ }}`` context for step inputs: parameters, earlier outputs, user, secrets, task id.

    A dry run renders without secrets, as Backstage does.
    """
    secrets = {} if options.dry_run else options.secrets
    return build_context(
        parameters=parameters, steps=outputs, user=options.user, secrets=secrets, task_id=options.task_id
    )


def prepare_step(
    step: model.Step,
    index: int,
    *,
    context: Mapping[str, Any],
    registry: ActionRegistry,
    renderer: TemplateRenderer,
    task_failed: bool = False,
    dry_run: bool = False,
) -> PreparedStep:
    """Evaluate ``if``/``each`` and render and validate every iteration's input; nothing runs yet.

    Raises ``ActionNotFound``, ``TemplateRenderError`` or ``InvalidActionInput`` (paths under
    ``input``) so a bad step fails before it touches anything. In a dry run, a step whose action
    does not support dry runs is neither rendered nor validated (Backstage skips it and fakes its
    outputs); it gets one empty iteration.
    """
    where = f"spec.steps[{index}]"
    if step.each is None and not renderer.evaluate_if(
        step.condition, context, path=f"{where}.if", task_failed=task_failed
    ):
        return PreparedStep(step=step, index=index, action=None, iterations=())
    action = registry.require(step.action)
    if dry_run and not action.supports_dry_run:
        return PreparedStep(step=step, index=index, action=action, iterations=(PreparedIteration(None, {}),))
    items: list[EachItem | None] = [None]
    if step.each is not None:
        items = list(renderer.expand_each(step.each, context, path=f"{where}.each"))
    iterations = []
    for item in items:
        scope = dict(context)
        if item is not None:
            scope["each"] = {"key": item.key, "value": item.value}
            if not renderer.evaluate_if(step.condition, scope, path=f"{where}.if", task_failed=task_failed):
                continue
        rendered = renderer.render_value(dict(step.input), scope, path=f"{where}.input")
        validate_input(action, rendered)
        iterations.append(PreparedIteration(item, rendered))
    return PreparedStep(step=step, index=index, action=action, iterations=tuple(iterations))


async def run_prepared_step(prepared: PreparedStep, *, workspace: Workspace, options: RunOptions) -> StepResult:
    """Run every iteration of a prepared step; a raised error marks the step failed with its message."""
    step = prepared.step
    result = StepResult(step.id, step.name, step.action, "skipped")
    if prepared.is_skipped or prepared.action is None:
        return result
    action = prepared.action

    def sink(line: str) -> None:
        result.logs.append(line)
        if options.log_sink is not None:
            options.log_sink(step.id, line)

    collected: dict[str, Any] = {}
    for iteration in prepared.iterations:
        ctx = ActionContext(
            workspace=workspace,
            step_id=step.id,
            task_id=options.task_id,
            template_info=options.template_info,
            is_dry_run=options.dry_run,
            user=options.user,
            secrets=options.secrets,
            each={"key": iteration.each.key, "value": iteration.each.value} if iteration.each else None,
            log_sink=sink,
            sleep=options.sleep,
        )
        try:
            if options.dry_run and not action.supports_dry_run:
                ctx.log(f"Skipping {action.id} in dry run: it does not support dry runs; outputs are examples")
                faked = fake_output(action.output_schema)
                ctx.outputs.update(faked if isinstance(faked, dict) else {})
            else:
                await action.run(ctx, iteration.input)
        except Exception as exc:  # an action's failure ends the step, never the process
            result.status = "failed"
            result.error = str(exc) or type(exc).__name__
            ctx.log(f"Step {step.id} failed: {result.error}")
            return result
        for name, value in ctx.outputs.items():
            if iteration.each is not None:
                collected.setdefault(name, []).append(value)
            else:
                collected[name] = value
    result.status = "completed"
    result.outputs = collected
    return result


async def run_template(
    template: model.Template,
    parameters: Mapping[str, Any],
    *,
    registry: ActionRegistry,
    renderer: TemplateRenderer,
    workspace: Workspace,
    options: RunOptions | None = None,
) -> RunResult:
    """Run every step in order on ``workspace`` and render the output (values must already be validated)."""
    opts = options or RunOptions()
    outputs: dict[str, dict[str, Any]] = {}
    results: list[StepResult] = []
    first_error: str | None = None
    for index, step in enumerate(template.steps):
        context = step_context(parameters, outputs, opts)
        try:
            prepared = prepare_step(
                step,
                index,
                context=context,
                registry=registry,
                renderer=renderer,
                task_failed=first_error is not None,
                dry_run=opts.dry_run,
            )
        except BlacktopError as exc:
            results.append(StepResult(step.id, step.name, step.action, "failed", error=str(exc)))
            first_error = first_error or str(exc)
            continue
        result = await run_prepared_step(prepared, workspace=workspace, options=opts)
        results.append(result)
        if result.status == "skipped" and opts.log_sink is not None:
            opts.log_sink(step.id, f"Skipping step {step.id}: its condition is false")
        outputs[step.id] = result.outputs
        if result.status == "failed":
            first_error = first_error or result.error
    output_context = build_context(parameters=parameters, steps=outputs, user=opts.user, task_id=opts.task_id)
    try:
        output = renderer.render_output(template.output, output_context, task_failed=first_error is not None)
    except BlacktopError as exc:
        output = {}
        first_error = first_error or f"the template output could not be rendered: {exc}"
    files = await workspace.snapshot() if opts.dry_run else ()
    return RunResult(
        status="failed" if first_error else "completed",
        steps=results,
        output=output,
        error=first_error,
        files=files,
    )
