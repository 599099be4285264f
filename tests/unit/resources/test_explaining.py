"""``blacktop plan`` and ``blacktop explain`` text, pinned by golden files.

Test design notes:

* Inputs are the built-in profile and the design's ``orders-db`` claim, with fixed uids so that
  generated names are stable; nothing reads a clock (explain prints no timestamps).
* Stored objects (a composed resource that failed, a composite's conditions) are written here as
  the controllers would store them, so the text shows conditions, last errors and provenance.
* Regenerate with ``BLACKTOP_UPDATE_GOLDEN=1`` and review the diff like code.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.corpus import examples_dir

from blacktop.kernel.kinds import validate_object
from blacktop.resources import definitions, explaining, reconcile
from blacktop.resources.composition import plan_revision
from blacktop.resources.profile import profile_files

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "resources"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} is missing; run with BLACKTOP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def profile() -> list[dict[str, Any]]:
    return [d for _, content in profile_files() for d in yaml.safe_load_all(content) if d]


DOCS = profile()
DATABASE = definitions.load_definition(
    next(d for d in DOCS if d["metadata"]["name"] == "xdatabases.platform.company.io")
)
COMPOSITIONS = [d for d in DOCS if d["kind"] == "Composition"]
REVISIONS = [plan_revision(c, []).revision for c in COMPOSITIONS]


def served(api_version: str, kind: str) -> bool:
    return api_version.startswith("local.blacktop.dev/")


def orders_db(**spec: Any) -> dict[str, Any]:
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    claim["metadata"]["uid"] = "claim-uid-1"
    claim["spec"].update(spec)
    assert DATABASE.claim is not None
    return validate_object(DATABASE.claim, claim)


def composite_of(claim: dict[str, Any]) -> dict[str, Any]:
    planned = reconcile.plan_claim(claim, definition=DATABASE, composite=None)
    assert planned.create_composite is not None
    xr = copy.deepcopy(dict(planned.create_composite))
    xr["metadata"]["uid"] = "xr-uid-1"
    return validate_object(DATABASE.composite, xr)


def with_status(obj: dict[str, Any], *conditions: tuple[str, str, str, str]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["status"] = {
        "conditions": [{"type": t, "status": s, "reason": r, "message": m} for t, s, r, m in conditions],
    }
    return out


def plan_for(xr: dict[str, Any], observed: list[dict[str, Any]] = ()) -> reconcile.CompositePlan:  # type: ignore[assignment]
    return reconcile.plan_composite(
        xr, definition=DATABASE, compositions=COMPOSITIONS, revisions=REVISIONS, observed=observed, served=served
    )


def stored_child(plan: reconcile.CompositePlan, *conditions: tuple[str, str, str, str]) -> dict[str, Any]:
    (write,) = plan.writes
    return with_status(dict(write.desired), *conditions)


def test_explain_local_database_with_a_failing_composed_resource() -> None:
    claim = orders_db()
    xr = composite_of(claim)
    first = plan_for(xr)
    child = stored_child(first, ("Ready", "False", "ServerUnavailable", "127.0.0.1:5432 refused the connection"))
    xr["status"] = {"compositionSelection": first.status_fields["compositionSelection"]}
    decided = plan_for(xr, [child])
    fields, conditions = reconcile.composite_status(decided, now=NOW)
    stored_xr = with_status(xr, *((c.type, "True" if c.status else "False", c.reason, c.message) for c in conditions))
    stored_xr["status"].update(fields)
    unready = ("Ready", "False", "Creating", "Unready resources: database")
    stored_claim = with_status(claim, ("Synced", "True", "ReconcileSuccess", ""), unready)
    tree = explaining.explain_tree(claim=stored_claim, composite=stored_xr, plan=decided, observed=[child])
    check_golden("explain-orders-db-local.txt", explaining.render_explain(tree))


def test_explain_aws_database_shows_external_resources_and_the_selector_reason() -> None:
    xr = composite_of(orders_db(compositionSelector={"matchLabels": {"provider": "aws", "engine": "postgresql"}}))
    decided = plan_for(xr)
    tree = explaining.explain_tree(claim=None, composite=xr, plan=decided, observed=[])
    check_golden("explain-orders-db-aws.txt", explaining.render_explain(tree))


def test_explain_surfaces_a_selection_error() -> None:
    xr = composite_of(orders_db(compositionRef={"name": "database-gcp"}))
    decided = plan_for(xr)
    stored = with_status(xr, ("Synced", "False", "CompositionNotFound", decided.error or ""))
    tree = explaining.explain_tree(claim=None, composite=stored, plan=decided, observed=[])
    check_golden("explain-selection-error.txt", explaining.render_explain(tree))


def test_plan_of_a_new_aws_claim_creates_the_design_resources() -> None:
    xr = composite_of(orders_db(compositionSelector={"matchLabels": {"provider": "aws", "engine": "postgresql"}}))
    changes = explaining.plan_changes(plan_for(xr), observed=[])
    assert [c["action"] for c in changes] == ["create", "create", "create"]
    check_golden("plan-orders-db-aws-create.txt", explaining.render_plan("Database orders-team/orders-db", changes))


def test_plan_of_a_resized_local_claim_changes_only_the_connection_limit() -> None:
    xr = composite_of(orders_db())
    child = stored_child(plan_for(xr))
    bigger = copy.deepcopy(xr)
    bigger["spec"]["size"] = "large"
    changes = explaining.plan_changes(plan_for(bigger, [child]), observed=[child])
    assert [c["action"] for c in changes] == ["update"]
    check_golden("plan-orders-db-local-resize.txt", explaining.render_plan("Database orders-team/orders-db", changes))


@pytest.mark.parametrize(
    ("size", "want"),
    [pytest.param("medium", "unchanged", id="same-size"), pytest.param("small", "update", id="smaller")],
)
def test_plan_of_an_aws_claim_diffs_against_the_current_render(size: str, want: str) -> None:
    selector = {"matchLabels": {"provider": "aws", "engine": "postgresql"}}
    xr = composite_of(orders_db(compositionSelector=selector))
    current = plan_for(xr)
    changed = copy.deepcopy(xr)
    changed["spec"]["size"] = size
    changes = explaining.plan_changes(
        plan_for(changed), observed=[], previous=current.render, previous_placements=current.placements
    )
    assert changes[0]["template"] == "rds-instance" and changes[0]["action"] == want
    assert all(c["action"] == "unchanged" for c in changes[1:])
