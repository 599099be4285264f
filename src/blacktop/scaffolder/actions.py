"""Template actions: the contract every step's action meets, and the registry that finds them by id.

An action is an id, a JSON Schema for its input (checked before the step runs, every problem
reported with its ``input.*`` path), a JSON Schema for its outputs, a declared dry-run behaviour,
whether it is safe to repeat after an interruption, an optional ``undo`` for rollback, runnable
examples, and ``async run(ctx, input)``. Dependencies an action needs (a skeleton reader, a git host,
the catalog) are given to its constructor by the composition root; per-run facts (workspace, user,
secrets, dry-run flag, logging and outputs) arrive in ``ActionContext``.

The registry refuses a duplicate id with ``ActionExists`` (a ``ConflictError``) and an unknown one with
``ActionNotFound`` (a ``NotFoundError``). Other packages contribute actions through the
``blacktop.scaffolder.actions`` entry-point group; ``load_entry_point_actions`` adds them.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Final

from jsonschema import Draft7Validator

from blacktop.kernel.errors import Problem
from blacktop.kernel.schemas import format_path

from .errors import ActionExists, ActionNotFound, InvalidActionInput
from .ports import Workspace
from .templating import redact

ENTRY_POINT_GROUP: Final = "blacktop.scaffolder.actions"
"""The entry-point group other distributions use to add template actions."""


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """What a run knows about its template: its entity ref and the folder (or URL) it was read from."""

    entity_ref: str | None = None
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class ActionExample:
    """A runnable example: a step as a template writes it, the skeleton files it reads and the
    workspace files it expects to exist (both path -> text, paths relative to the template folder).
    """

    description: str
    step: Mapping[str, Any]
    skeleton: Mapping[str, str] = field(default_factory=dict)
    workspace: Mapping[str, str] = field(default_factory=dict)


class ActionContext:
    """Per-run facts and sinks an action works with.

    ``log`` records a line (secrets redacted) and passes it to ``log_sink``; ``output`` records a named
    output. ``sleep`` is injectable so tests of waiting actions do not wait.
    """

    def __init__(
        self,
        *,
        workspace: Workspace,
        step_id: str = "step",
        task_id: str | None = None,
        template_info: TemplateInfo | None = None,
        is_dry_run: bool = False,
        user: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        each: Mapping[str, Any] | None = None,
        log_sink: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.workspace = workspace
        self.step_id = step_id
        self.task_id = task_id
        self.template_info = template_info or TemplateInfo()
        self.is_dry_run = is_dry_run
        self.user = dict(user or {})
        self.secrets = dict(secrets or {})
        self.each = dict(each) if each is not None else None
        self.sleep = sleep
        self.logs: list[str] = []
        self.outputs: dict[str, Any] = {}
        self._sink = log_sink

    def log(self, message: str) -> None:
        """Record one log line for this step, with secret values replaced by ``***``."""
        line = redact(message, self.secrets)
        self.logs.append(line)
        if self._sink is not None:
            self._sink(line)

    def output(self, name: str, value: Any) -> None:
        """Record the step output ``name`` (reachable as ``steps.<id>.output.<name>``)."""
        self.outputs[name] = value


class TemplateAction(abc.ABC):
    """Base class of template actions; subclasses set the class attributes and implement ``run``.

    ``repeatable`` says whether running the action again after an interruption is harmless (the
    durable runner resumes such a step, and fails a non-repeatable one with a clear message).
    Override ``undo`` to let a failed task be rolled back.
    """

    id: str = ""
    description: str = ""
    input_schema: Mapping[str, Any] = {"type": "object"}
    output_schema: Mapping[str, Any] = {"type": "object"}
    supports_dry_run: bool = False
    repeatable: bool = False
    examples: Sequence[ActionExample] = ()

    @abc.abstractmethod
    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Perform the action on ``ctx.workspace`` (and the action's own dependencies)."""

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        """Reverse a completed run (only called when ``has_undo``)."""
        raise NotImplementedError(f"template action {self.id!r} cannot be undone")

    @property
    def has_undo(self) -> bool:
        """Whether this action overrides ``undo``."""
        return type(self).undo is not TemplateAction.undo

    def describe(self) -> dict[str, Any]:
        """The action as ``GET /v2/actions`` lists it."""
        return {
            "id": self.id,
            "description": self.description,
            "schema": {"input": dict(self.input_schema), "output": dict(self.output_schema)},
            "examples": [{"description": e.description, "example": dict(e.step)} for e in self.examples],
            "supportsDryRun": self.supports_dry_run,
        }


class ActionRegistry:
    """Actions by id; duplicates and unknown ids are errors, never silently replaced or ignored."""

    def __init__(self, actions: Iterable[TemplateAction] = ()) -> None:
        self._actions: dict[str, TemplateAction] = {}
        for action in actions:
            self.add(action)

    def add(self, action: TemplateAction) -> None:
        """Register ``action``; raises ``ActionExists`` if its id is taken."""
        if not action.id:
            raise InvalidActionInput(f"template action {type(action).__name__} has no id; set its 'id' attribute")
        if action.id in self._actions:
            raise ActionExists(f"template action {action.id!r} is already registered; give the new action another id")
        self._actions[action.id] = action

    def get(self, action_id: str) -> TemplateAction | None:
        """The action registered as ``action_id``, or None."""
        return self._actions.get(action_id)

    def require(self, action_id: str) -> TemplateAction:
        """The action registered as ``action_id``; raises ``ActionNotFound``."""
        found = self._actions.get(action_id)
        if found is None:
            known = ", ".join(sorted(self._actions)) or "none"
            raise ActionNotFound(
                f"template action {action_id!r} is not registered; install the module that provides it "
                f"(registered: {known})"
            )
        return found

    def list(self) -> list[TemplateAction]:
        """Every action, sorted by id."""
        return [self._actions[k] for k in sorted(self._actions)]

    def __contains__(self, action_id: object) -> bool:
        return action_id in self._actions

    def __len__(self) -> int:
        return len(self._actions)


def load_entry_point_actions(
    registry: ActionRegistry, *, entry_points: Iterable[metadata.EntryPoint] | None = None
) -> list[str]:
    """Add the actions other distributions declare under ``blacktop.scaffolder.actions``; returns their ids.

    An entry point may name an action instance, an action class (built with no arguments) or a
    callable returning actions.
    """
    found = entry_points if entry_points is not None else metadata.entry_points(group=ENTRY_POINT_GROUP)
    added: list[str] = []
    for entry in found:
        loaded = entry.load()
        for action in _actions_from(loaded, entry.name):
            registry.add(action)
            added.append(action.id)
    return added


def _actions_from(loaded: Any, name: str) -> list[TemplateAction]:
    if isinstance(loaded, TemplateAction):
        return [loaded]
    if isinstance(loaded, type) and issubclass(loaded, TemplateAction):
        return [loaded()]
    if callable(loaded):
        produced = loaded()
        items = [produced] if isinstance(produced, TemplateAction) else list(produced)
        if all(isinstance(a, TemplateAction) for a in items):
            return items
    raise InvalidActionInput(
        f"entry point {name!r} in group {ENTRY_POINT_GROUP!r} does not provide template actions; it must name "
        "an action, an action class or a function returning actions"
    )


def validate_input(action: TemplateAction, value: Mapping[str, Any]) -> None:
    """Check a rendered step input against the action's input schema; raises ``InvalidActionInput``."""
    problems = input_problems(action, value)
    if problems:
        raise InvalidActionInput(
            f"Invalid input passed to action {action.id}: {len(problems)} problem(s); "
            + "; ".join(p.describe() for p in problems),
            problems=problems,
        )


def input_problems(action: TemplateAction, value: Mapping[str, Any]) -> list[Problem]:
    """Every problem with a step input, located as ``input.<field>``."""
    problems = []
    for error in Draft7Validator(dict(action.input_schema)).iter_errors(dict(value)):
        parts: list[Any] = ["input", *error.absolute_path]
        message = str(error.message)
        if error.validator == "required":
            missing = message.split("'")[1] if "'" in message else ""
            parts.append(missing)
            message = f"{missing} is required"
        problems.append(Problem(path=format_path(parts), message=message))
    return sorted(problems, key=lambda p: p.path)


def fake_output(schema: Mapping[str, Any]) -> Any:
    """A placeholder output for a step skipped in a dry run, built from its output schema.

    Each value is the schema's first ``examples`` entry, else ``"<example>"``, ``0``, ``false``, or
    nested objects and arrays built the same way (Backstage's rule).
    """
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: fake_output(v) for k, v in props.items() if isinstance(v, Mapping)}
    if kind == "array":
        items = schema.get("items")
        return [fake_output(items)] if isinstance(items, Mapping) else []
    if kind in ("number", "integer"):
        return 0
    if kind == "boolean":
        return False
    return "<example>"
