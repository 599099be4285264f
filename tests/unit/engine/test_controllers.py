"""The controller registry's errors, plans, and the finalizer, condition and generation helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop.engine import controllers
from blacktop.engine.controllers import (
    AddFinalizer,
    ConditionUpdate,
    ControllerRegistry,
    FunctionController,
    Plan,
    ReconcileContext,
    RemoveFinalizer,
    SetStatus,
)
from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.kernel.resources import Resource, ResourceKey

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def noop(obj: Resource, ctx: ReconcileContext) -> Plan:
    return Plan()


def obj(
    *,
    generation: int = 1,
    status: dict[str, Any] | None = None,
    finalizers: list[str] | None = None,
    deleting: bool = False,
) -> Resource:
    meta: dict[str, Any] = {"name": "w", "namespace": "default", "generation": generation}
    if finalizers is not None:
        meta["finalizers"] = finalizers
    if deleting:
        meta["deletionTimestamp"] = "2026-03-01T11:00:00Z"
    out: Resource = {"apiVersion": "test.dev/v1", "kind": "Widget", "metadata": meta, "spec": {}}
    if status is not None:
        out["status"] = status
    return out


def test_registering_a_second_controller_for_a_kind_is_a_conflict() -> None:
    registry = ControllerRegistry([FunctionController("test.dev", "Widget", noop)])
    with pytest.raises(ConflictError, match=r"kind 'Widget\.test\.dev' is already registered"):
        registry.register(FunctionController("test.dev", "Widget", noop))


def test_requiring_an_unknown_kind_names_what_is_registered() -> None:
    registry = ControllerRegistry([FunctionController("test.dev", "Widget", noop)])
    with pytest.raises(NotFoundError, match=r"'Gadget\.test\.dev' \(registered: 'Widget\.test\.dev'\)"):
        registry.require("test.dev", "Gadget")
    assert registry.get("test.dev", "Gadget") is None


def test_registry_lists_kinds_sorted_and_finds_controllers() -> None:
    widget = FunctionController("test.dev", "Widget", noop)
    gadget = FunctionController("a.dev", "Gadget", noop)
    registry = ControllerRegistry([widget, gadget])
    assert registry.kinds() == [("a.dev", "Gadget"), ("test.dev", "Widget")]
    assert registry.require("test.dev", "Widget") is widget
    assert list(registry) == [gadget, widget]
    assert len(registry) == 2


@dataclass(frozen=True)
class StateCase:
    obj: Resource
    deleting: bool
    has_fin: bool
    observed: bool
    observed_generation: int | None


STATE_CASES = {
    "fresh-object": StateCase(obj(), deleting=False, has_fin=False, observed=False, observed_generation=None),
    "status-current": StateCase(
        obj(generation=3, status={"observedGeneration": 3}, finalizers=["f"]),
        deleting=False,
        has_fin=True,
        observed=True,
        observed_generation=3,
    ),
    "spec-changed-since-status": StateCase(
        obj(generation=4, status={"observedGeneration": 3}),
        deleting=False,
        has_fin=False,
        observed=False,
        observed_generation=3,
    ),
    "deleting-with-finalizer": StateCase(
        obj(finalizers=["other", "f"], deleting=True),
        deleting=True,
        has_fin=True,
        observed=False,
        observed_generation=None,
    ),
}


@pytest.mark.parametrize("case", STATE_CASES.values(), ids=STATE_CASES.keys())
def test_state_helpers_read_metadata_and_status(case: StateCase) -> None:
    assert controllers.is_deleting(case.obj) is case.deleting
    assert controllers.has_finalizer(case.obj, "f") is case.has_fin
    assert controllers.is_observed(case.obj) is case.observed
    assert controllers.observed_generation_of(case.obj) == case.observed_generation


@dataclass(frozen=True)
class FinalizerCase:
    obj: Resource
    present: bool
    want: tuple[controllers.Action, ...]


FINALIZER_CASES = {
    "add-when-missing": FinalizerCase(obj(), present=True, want=(AddFinalizer("f"),)),
    "add-when-present-is-noop": FinalizerCase(obj(finalizers=["f"]), present=True, want=()),
    "remove-when-present": FinalizerCase(obj(finalizers=["g", "f"]), present=False, want=(RemoveFinalizer("f"),)),
    "remove-when-missing-is-noop": FinalizerCase(obj(finalizers=["g"]), present=False, want=()),
}


@pytest.mark.parametrize("case", FINALIZER_CASES.values(), ids=FINALIZER_CASES.keys())
def test_plan_finalizer_only_plans_a_change(case: FinalizerCase) -> None:
    assert controllers.plan_finalizer(case.obj, "f", present=case.present).actions == case.want


def test_compute_status_records_observed_generation_on_status_and_conditions() -> None:
    status = controllers.compute_status(
        obj(generation=5, status={"phase": "Old", "keep": 1}),
        now=NOW,
        conditions=[ConditionUpdate("Ready", True, "Provisioned", "all good")],
        fields={"phase": "Ready"},
    )
    assert status == {
        "phase": "Ready",
        "keep": 1,
        "observedGeneration": 5,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Provisioned",
                "message": "all good",
                "lastTransitionTime": "2026-03-01T12:00:00Z",
                "observedGeneration": 5,
            }
        ],
    }


def test_plan_status_is_empty_when_nothing_changes_even_later() -> None:
    first = obj(generation=2)
    ready = [ConditionUpdate("Ready", True, "Provisioned")]
    plan = controllers.plan_status(first, now=NOW, conditions=ready)
    assert len(plan.actions) == 1
    action = plan.actions[0]
    assert isinstance(action, SetStatus)
    written = obj(generation=2, status=dict(action.status))
    later = NOW + timedelta(hours=1)
    assert controllers.plan_status(written, now=later, conditions=ready) == Plan()


def test_condition_transition_time_moves_only_when_status_flips() -> None:
    ready = controllers.compute_status(obj(), now=NOW, conditions=[ConditionUpdate("Ready", True, "Ok")])
    later = NOW + timedelta(minutes=5)
    same = controllers.compute_status(
        obj(status=ready), now=later, conditions=[ConditionUpdate("Ready", True, "StillOk", "new message")]
    )
    flipped = controllers.compute_status(
        obj(status=ready), now=later, conditions=[ConditionUpdate("Ready", False, "Broken")]
    )
    assert same["conditions"][0]["lastTransitionTime"] == "2026-03-01T12:00:00Z"
    assert same["conditions"][0]["reason"] == "StillOk"
    assert flipped["conditions"][0]["lastTransitionTime"] == "2026-03-01T12:05:00Z"


@dataclass(frozen=True)
class RequeueCase:
    first: timedelta | None
    then: timedelta
    want: timedelta


REQUEUE_CASES = {
    "none-then-some": RequeueCase(None, timedelta(seconds=30), timedelta(seconds=30)),
    "sooner-wins": RequeueCase(timedelta(seconds=10), timedelta(seconds=30), timedelta(seconds=10)),
    "new-sooner-wins": RequeueCase(timedelta(seconds=30), timedelta(seconds=5), timedelta(seconds=5)),
}


@pytest.mark.parametrize("case", REQUEUE_CASES.values(), ids=REQUEUE_CASES.keys())
def test_plan_requeue_keeps_the_sooner_request(case: RequeueCase) -> None:
    plan = Plan(actions=(AddFinalizer("f"),), requeue_after=case.first).requeue(case.then)
    assert plan.requeue_after == case.want
    assert plan.then(RemoveFinalizer("g")).actions == (AddFinalizer("f"), RemoveFinalizer("g"))


@dataclass
class Recorder:
    seen: list[str] = field(default_factory=list)


async def test_function_controller_calls_its_functions() -> None:
    recorder = Recorder()

    async def reconcile(o: Resource, ctx: ReconcileContext) -> Plan:
        recorder.seen.append(f"reconcile {ctx.key.name}")
        return Plan(requeue_after=timedelta(seconds=1))

    controller = FunctionController("test.dev", "Widget", reconcile, finalizer="test.dev/cleanup")
    ctx = ReconcileContext(key=ResourceKey.of(obj()), now=NOW)
    assert (await controller.reconcile(obj(), ctx)).requeue_after == timedelta(seconds=1)
    assert await controller.finalize(obj(), ctx) == Plan()
    assert recorder.seen == ["reconcile w"]
