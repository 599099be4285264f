"""How the controller turns the planner's decisions into engine plans (``wiring/environments.py``).

Test design notes: pure, no platform. The one rule that matters beyond a straight translation: an
expiring preview's plan holds its own deletion and nothing else, because the engine keeps the
object returned by a plan's last status write, and a status write before the deletion would leave
it holding the pre-deletion object (the preview would then never be finalized).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blacktop import engine
from blacktop.environments import reconcile
from blacktop.kernel.resources import ResourceKey
from blacktop.wiring.environments import to_engine_plan

from .conftest import storable
from .test_rendering import stored

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OBJ = stored(storable())
CTX = engine.ReconcileContext(key=ResourceKey.of(OBJ), now=NOW)


def test_an_expiring_preview_plans_only_its_own_deletion() -> None:
    plan = to_engine_plan(OBJ, reconcile.Decision(delete_preview=True), CTX)
    assert plan == engine.Plan(actions=(engine.DeleteChild(ResourceKey.of(OBJ)),))


def test_claims_come_before_status_and_the_requeue_is_kept() -> None:
    claim = {"apiVersion": "platform.company.io/v1alpha1", "kind": "Database", "metadata": {"name": "c"}}
    decision = reconcile.Decision(
        create=(claim,),
        delete=(reconcile.ClaimKey("Cache", "old"),),
        status={"url": "https://x.example"},
        conditions=(reconcile.Condition("Ready", False, "DependenciesNotReady", "waiting"),),
        requeue_after=timedelta(seconds=2),
    )
    plan = to_engine_plan(OBJ, decision, CTX)
    assert plan.actions[0] == engine.CreateChild(claim)
    assert plan.actions[1] == engine.DeleteChild(ResourceKey("platform.company.io", "Cache", "payments", "old"))
    [status] = [a for a in plan.actions if isinstance(a, engine.SetStatus)]
    assert status.status["url"] == "https://x.example"
    assert status.status["conditions"][0]["reason"] == "DependenciesNotReady"
    assert status.status["observedGeneration"] == 1
    assert plan.requeue_after == timedelta(seconds=2)
