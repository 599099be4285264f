"""The ObservabilityConfig controller's plans, driven with stored-object dicts and an in-memory repository.

Test design: the controller is called the way the engine calls it (object dict, ReconcileContext)
and its plan is inspected: status fields and conditions on success, the failure reason per kind
of failure, a requeue for a folder conflict, the folder removed on finalize, and no repository
work at all for a resync of an unchanged config.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from blacktop.engine import Plan, ReconcileContext, SetStatus
from blacktop.kernel.resources import ResourceKey
from blacktop.observability import dashboards, publishing
from blacktop.observability.memory import InMemoryOutputRepository
from blacktop.wiring.observability import ObservabilityController

from .sloth_corpus import SHARED

DESIGN: dict[str, Any] = json.loads((SHARED / "examples" / "observability-payment-service.json").read_text())
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def stored(**spec: Any) -> dict[str, Any]:
    obj = copy.deepcopy(DESIGN)
    obj["spec"].update(spec)
    obj["metadata"].update({"uid": "u1", "generation": 1, "resourceVersion": "1"})
    return obj


def ctx(obj: dict[str, Any]) -> ReconcileContext:
    return ReconcileContext(key=ResourceKey.of(obj), now=NOW)


def status_of(plan: Plan) -> dict[str, Any]:
    (action,) = plan.actions
    assert isinstance(action, SetStatus)
    return dict(action.status)


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


async def test_success_records_outputs_and_both_conditions() -> None:
    repo = InMemoryOutputRepository()
    obj = stored()
    status = status_of(await ObservabilityController(publishing.OutputPublisher(repo)).reconcile(obj, ctx(obj)))
    assert conditions(status) == {"Synced": ("True", "Committed"), "Ready": ("True", "OutputsPublished")}
    assert status["outputs"]["commit"] == await repo.head()
    assert status["observedGeneration"] == 1


async def test_resync_of_an_unchanged_config_renders_and_writes_nothing() -> None:
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    controller = ObservabilityController(publisher)
    obj = stored()
    obj["status"] = status_of(await controller.reconcile(obj, ctx(obj)))
    calls: list[Any] = []

    def counting_render(config: Any) -> dict[str, str]:
        calls.append(config)
        return {}

    publisher.render = counting_render  # type: ignore[method-assign]
    assert await controller.reconcile(obj, ctx(obj)) == Plan()
    assert calls == []
    assert len(repo.commits) == 1


FAILURES = {
    "unknown-template": (stored(dashboard={"template": "nope"}), "TemplateNotFound"),
    "windows-not-divisible": (
        stored(
            alerts={"burnRate": {"fast": {"window": "1ms", "threshold": 2}, "slow": {"window": "2h", "threshold": 1}}}
        ),
        "InvalidSpec",
    ),
}


@pytest.mark.parametrize(("obj", "reason"), FAILURES.values(), ids=FAILURES.keys())
async def test_failures_set_ready_false_with_a_reason(obj: dict[str, Any], reason: str) -> None:
    controller = ObservabilityController(publishing.OutputPublisher(InMemoryOutputRepository()))
    plan = await controller.reconcile(obj, ctx(obj))
    assert conditions(status_of(plan)) == {"Synced": ("False", reason), "Ready": ("False", reason)}
    assert plan.requeue_after is None


async def test_folder_conflict_is_retried() -> None:
    repo = InMemoryOutputRepository()
    controller = ObservabilityController(publishing.OutputPublisher(repo, templates=dashboards.default_templates()))
    first = stored()
    await controller.reconcile(first, ctx(first))
    second = stored()
    second["metadata"]["name"] = "copy"
    plan = await controller.reconcile(second, ctx(second))
    assert conditions(status_of(plan))["Ready"] == ("False", "ServiceConflict")
    assert plan.requeue_after is not None


async def test_finalize_removes_the_folder_and_notifies() -> None:
    repo = InMemoryOutputRepository()
    changes: list[str] = []
    controller = ObservabilityController(publishing.OutputPublisher(repo), on_change=[lambda: changes.append("x")])
    obj = stored()
    obj["status"] = status_of(await controller.reconcile(obj, ctx(obj)))
    assert await controller.finalize(obj, ctx(obj)) == Plan()
    assert repo.files == {}
    assert changes == ["x", "x"]


async def test_hand_written_config_asks_for_a_catalog_sync_managed_one_does_not() -> None:
    synced: list[str] = []
    controller = ObservabilityController(
        publishing.OutputPublisher(InMemoryOutputRepository()), on_hand_written=[lambda: synced.append("sync")]
    )
    hand = stored()
    await controller.reconcile(hand, ctx(hand))
    managed = stored(service="other")
    managed["metadata"]["name"] = "other"
    managed["metadata"]["labels"] = {"observability.blacktop.dev/managed-by": "catalog"}
    await controller.reconcile(managed, ctx(managed))
    assert synced == ["sync"]
