"""Controllers, the plans they return, their registry and the helpers every reconciler uses.

A controller looks after one kind. Its ``reconcile`` reads the object (and, where it must, the
outside world) and returns a ``Plan``: the writes it wants and when to look again. It does not
write itself; the engine performs the plan through the ``ResourceWriter``, so every controller
write goes through the one write pipeline, and planners stay pure functions that tests call with
a dict and a timestamp (style.md B5). Finalizers, conditions and observedGeneration follow the
Kubernetes conventions so that ``kubectl``-trained users read status the way they expect.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeAlias

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.kernel.resources import Resource, ResourceKey, set_condition


@dataclass(frozen=True, slots=True)
class SetStatus:
    """Replace the object's status with ``status``."""

    status: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PatchObject:
    """Apply a JSON merge patch to the object's metadata and spec."""

    patch: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AddFinalizer:
    """Add a finalizer to the object."""

    name: str


@dataclass(frozen=True, slots=True)
class RemoveFinalizer:
    """Remove a finalizer from the object."""

    name: str


@dataclass(frozen=True, slots=True)
class CreateChild:
    """Create another object (typically owned by this one through ``ownerReferences``)."""

    obj: Resource


@dataclass(frozen=True, slots=True)
class DeleteChild:
    """Delete another object; absent objects are fine."""

    key: ResourceKey


Action: TypeAlias = SetStatus | PatchObject | AddFinalizer | RemoveFinalizer | CreateChild | DeleteChild
"""One write a plan asks for."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a reconciler wants done; the engine performs it in order, then requeues if asked."""

    actions: tuple[Action, ...] = ()
    requeue_after: timedelta | None = None

    def then(self, *actions: Action) -> Plan:
        """This plan with ``actions`` appended."""
        return Plan(actions=self.actions + actions, requeue_after=self.requeue_after)

    def requeue(self, after: timedelta) -> Plan:
        """This plan, asking to be reconciled again ``after`` from now (the sooner request wins)."""
        sooner = after if self.requeue_after is None else min(after, self.requeue_after)
        return Plan(actions=self.actions, requeue_after=sooner)


Result: TypeAlias = Plan
"""What ``reconcile`` and ``finalize`` return: a Plan (the name reads better at the call site)."""


@dataclass(frozen=True, slots=True)
class ReconcileContext:
    """What a reconciler gets besides the object: the time, its key, and how often it failed before."""

    key: ResourceKey
    now: datetime
    attempt: int = 0
    """Failures in a row before this run (0 on a first or post-success run)."""
    member: str = ""
    """The engine process reconciling, for logs and messages."""


class Controller(Protocol):
    """Looks after one kind: plans towards the spec and cleans up on deletion."""

    @property
    def group(self) -> str:
        """The API group of the kind this controller owns."""
        ...

    @property
    def kind(self) -> str:
        """The kind this controller owns."""
        ...

    @property
    def finalizer(self) -> str | None:
        """A finalizer the engine adds before the first reconcile and removes after ``finalize``; None for none."""
        ...

    async def reconcile(self, obj: Resource, ctx: ReconcileContext) -> Result:
        """Plan the writes that move ``obj`` towards its spec; raise TemporaryFailure/PermanentFailure if not."""
        ...

    async def finalize(self, obj: Resource, ctx: ReconcileContext) -> Result:
        """Plan the clean-up for a deleting object; a plan with ``requeue_after`` means "not finished yet"."""
        ...


ReconcileFn: TypeAlias = Callable[[Resource, ReconcileContext], Awaitable[Result]]


async def _nothing_to_finalize(obj: Resource, ctx: ReconcileContext) -> Result:
    return Plan()


@dataclass(frozen=True)
class FunctionController:
    """A controller made of plain async functions, the usual way to wire a pure planner."""

    group: str
    kind: str
    on_reconcile: ReconcileFn
    on_finalize: ReconcileFn = field(default=_nothing_to_finalize)
    finalizer: str | None = None

    async def reconcile(self, obj: Resource, ctx: ReconcileContext) -> Result:
        """Call ``on_reconcile``."""
        return await self.on_reconcile(obj, ctx)

    async def finalize(self, obj: Resource, ctx: ReconcileContext) -> Result:
        """Call ``on_finalize``."""
        return await self.on_finalize(obj, ctx)


class ControllerRegistry:
    """Controllers by (group, kind); one controller per kind."""

    def __init__(self, controllers: Sequence[Controller] = ()) -> None:
        self._controllers: dict[tuple[str, str], Controller] = {}
        for controller in controllers:
            self.register(controller)

    def register(self, controller: Controller) -> None:
        """Add ``controller``; ``ConflictError`` when its kind already has one."""
        key = (controller.group, controller.kind)
        if key in self._controllers:
            raise ConflictError(
                f"a controller for kind {_kind_name(key)} is already registered; register one controller per kind"
            )
        self._controllers[key] = controller

    def get(self, group: str, kind: str) -> Controller | None:
        """The controller of a kind, or None."""
        return self._controllers.get((group, kind))

    def require(self, group: str, kind: str) -> Controller:
        """The controller of a kind; ``NotFoundError`` naming the registered kinds when there is none."""
        controller = self._controllers.get((group, kind))
        if controller is None:
            known = ", ".join(_kind_name(k) for k in sorted(self._controllers)) or "none"
            raise NotFoundError(
                f"no controller is registered for kind {_kind_name((group, kind))} (registered: {known})"
            )
        return controller

    def kinds(self) -> list[tuple[str, str]]:
        """The (group, kind) pairs that have a controller, sorted."""
        return sorted(self._controllers)

    def __iter__(self) -> Iterator[Controller]:
        return iter([self._controllers[k] for k in sorted(self._controllers)])

    def __len__(self) -> int:
        return len(self._controllers)


def _kind_name(key: tuple[str, str]) -> str:
    group, kind = key
    return f"'{kind}.{group}'" if group else f"'{kind}'"


def is_deleting(obj: Mapping[str, Any]) -> bool:
    """Whether the object has been asked to go away (``metadata.deletionTimestamp`` is set)."""
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def has_finalizer(obj: Mapping[str, Any], name: str) -> bool:
    """Whether ``metadata.finalizers`` holds ``name``."""
    return name in ((obj.get("metadata") or {}).get("finalizers") or [])


def generation_of(obj: Mapping[str, Any]) -> int:
    """``metadata.generation`` (1 when the store has not set one)."""
    return int((obj.get("metadata") or {}).get("generation") or 1)


def observed_generation_of(obj: Mapping[str, Any]) -> int | None:
    """``status.observedGeneration``, or None before the first reconcile wrote status."""
    value = (obj.get("status") or {}).get("observedGeneration")
    return None if value is None else int(value)


def is_observed(obj: Mapping[str, Any]) -> bool:
    """Whether status describes the current spec (observedGeneration equals generation)."""
    return observed_generation_of(obj) == generation_of(obj)


@dataclass(frozen=True, slots=True)
class ConditionUpdate:
    """A condition a reconciler wants set: type, status, a CamelCase reason and a message."""

    type: str
    status: bool | str
    reason: str
    message: str = ""


def compute_status(
    obj: Mapping[str, Any],
    *,
    now: datetime,
    conditions: Sequence[ConditionUpdate] = (),
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The object's status with ``fields`` merged in, ``conditions`` set and observedGeneration recorded.

    Every condition set here and ``status.observedGeneration`` carry the object's current
    generation, so readers can tell a status about the current spec from one about an older one.
    Transition times only move when a condition's status flips, so the result is stable: computing
    it again from its own output changes nothing, and the engine skips writes that change nothing.
    """
    status: dict[str, Any] = copy.deepcopy(dict(obj.get("status") or {}))
    status.update(copy.deepcopy(dict(fields or {})))
    generation = generation_of(obj)
    current = list(status.get("conditions") or [])
    for update in conditions:
        current = set_condition(
            current,
            type=update.type,
            status=update.status,
            reason=update.reason,
            message=update.message,
            now=now,
            observed_generation=generation,
        )
    if current:
        status["conditions"] = current
    status["observedGeneration"] = generation
    return status


def plan_status(
    obj: Mapping[str, Any],
    *,
    now: datetime,
    conditions: Sequence[ConditionUpdate] = (),
    fields: Mapping[str, Any] | None = None,
) -> Plan:
    """A plan writing ``compute_status(...)``, or an empty plan when status would not change."""
    status = compute_status(obj, now=now, conditions=conditions, fields=fields)
    if status == (obj.get("status") or {}):
        return Plan()
    return Plan(actions=(SetStatus(status),))


def plan_finalizer(obj: Mapping[str, Any], name: str, *, present: bool) -> Plan:
    """A plan adding (``present=True``) or removing a finalizer, or an empty plan when already so."""
    if has_finalizer(obj, name) == present:
        return Plan()
    return Plan(actions=(AddFinalizer(name) if present else RemoveFinalizer(name),))
