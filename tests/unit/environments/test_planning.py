"""The preview planner: claims, status, readiness, requeue at expiry, expiry and clean-up, as pure decisions.

Test design notes: every case is a stored preview (the design's example unless said otherwise), what
the controller observed (claims with their Ready condition, catalog resolutions, the GitOps sync)
and a time; the expected decision is spelled out field by field. Time is passed in, never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop import environments
from blacktop.environments import reconcile, rendering
from blacktop.environments.reconcile import ClaimKey, Observed, ServiceResolution, SyncOutcome

from .conftest import preview, storable
from .test_rendering import NOTIFICATIONS, SETTINGS, stored

CREATED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
DB = ClaimKey("Database", "pr-1234-payment-refactor-orders-db")
RESOLVED = {"notification-service": ServiceResolution(NOTIFICATIONS)}
SYNCED = SyncOutcome(files=("a", "b"), commit="c0ffee")


def claim(
    *, ready: bool | None, deleting: bool = False, reason: str = "Available", fixture: str = "seed-data-minimal"
) -> dict[str, Any]:
    """The design's orders-db claim as stored (defaults filled in) with a Ready condition."""
    status: dict[str, Any] = {}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False", "reason": reason}]
    metadata: dict[str, Any] = {"name": DB.name, "annotations": {"environments.blacktop.dev/fixture": fixture}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-26T11:00:00Z"
    spec = {"engine": "postgresql", "version": "16", "tier": "dev", "size": "small", "owner": "payments"}
    return {"metadata": metadata, "spec": spec, "status": status}


@dataclass
class Case:
    observed: Observed
    now: datetime = CREATED + timedelta(minutes=5)
    document: dict[str, Any] = field(default_factory=storable)
    want_create: list[str] = field(default_factory=list)
    want_delete: list[ClaimKey] = field(default_factory=list)
    want_ready: tuple[bool, str] | None = (True, "Available")
    want_synced: bool = True
    want_requeue: timedelta | None = None
    want_delete_preview: bool = False


UNTIL_EXPIRY = timedelta(hours=72) - timedelta(minutes=5)
CASES = {
    "first-reconcile-creates-the-database-claim": Case(
        Observed(services=RESOLVED, sync=SYNCED),
        want_create=[DB.name],
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "claim-not-ready-waits-and-polls": Case(
        Observed(claims={DB: claim(ready=False, reason="Creating")}, services=RESOLVED, sync=SYNCED),
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "claim-without-conditions-is-not-ready": Case(
        Observed(claims={DB: claim(ready=None)}, services=RESOLVED, sync=SYNCED),
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "everything-ready-requeues-at-expiry": Case(
        Observed(claims={DB: claim(ready=True)}, services=RESOLVED, sync=SYNCED), want_requeue=UNTIL_EXPIRY
    ),
    "service-missing-from-catalog-waits-longer": Case(
        Observed(
            claims={DB: claim(ready=True)},
            services={"notification-service": ServiceResolution(None, "not in the catalog")},
            sync=SYNCED,
        ),
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_CATALOG,
    ),
    "gitops-failure-is-not-synced": Case(
        Observed(claims={DB: claim(ready=True)}, services=RESOLVED, sync=SyncOutcome(error="git is away")),
        want_ready=(False, "GitOpsWriteFailed"),
        want_synced=False,
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "polling-never-outlasts-the-expiry": Case(
        Observed(claims={DB: claim(ready=False)}, services=RESOLVED, sync=SYNCED),
        now=CREATED + timedelta(hours=72) - timedelta(seconds=1),
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=timedelta(seconds=1),
    ),
    "a-new-fixture-replaces-the-claim": Case(
        Observed(claims={DB: claim(ready=True, fixture="seed-data-full")}, services=RESOLVED, sync=SYNCED),
        want_delete=[DB],
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "a-claim-being-replaced-is-waited-for-not-recreated-yet": Case(
        Observed(claims={DB: claim(ready=True, deleting=True)}, services=RESOLVED, sync=SYNCED),
        want_ready=(False, "DependenciesNotReady"),
        want_requeue=reconcile.WAIT_FOR_DEPENDENCIES,
    ),
    "expired-preview-is-deleted": Case(
        Observed(), now=CREATED + timedelta(hours=72), want_ready=None, want_delete_preview=True
    ),
    "dependency-removed-deletes-its-claim": Case(
        Observed(claims={DB: claim(ready=True)}, sync=SYNCED),
        document=preview(),
        want_delete=[DB],
        want_requeue=timedelta(hours=72) - timedelta(minutes=5),
    ),
    "a-deleting-stale-claim-is-not-deleted-again": Case(
        Observed(claims={DB: claim(ready=True, deleting=True)}, sync=SYNCED),
        document=preview(),
        want_requeue=timedelta(hours=72) - timedelta(minutes=5),
    ),
}


def _plan(case: Case) -> reconcile.Decision:
    parsed = environments.parse_preview(stored(case.document))
    assert parsed.created == CREATED
    return reconcile.plan_preview(parsed, case.observed, now=case.now, settings=SETTINGS)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_planner_decides(case: Case) -> None:
    decision = _plan(case)
    assert [c["metadata"]["name"] for c in decision.create] == case.want_create
    assert list(decision.delete) == case.want_delete
    conditions = {c.type: c for c in decision.conditions}
    if case.want_ready is None:
        assert conditions == {} and decision.status == {}, "an expiring preview plans its deletion only"
    else:
        assert (conditions["Ready"].status, conditions["Ready"].reason) == case.want_ready
        assert conditions["Synced"].status is case.want_synced
    assert decision.requeue_after == case.want_requeue
    assert decision.delete_preview is case.want_delete_preview


def test_status_records_namespace_url_expiry_and_every_dependency() -> None:
    decision = _plan(CASES["everything-ready-requeues-at-expiry"])
    status = decision.status
    assert status["namespace"] == "preview-payments-pr-1234-payment-refactor"
    assert status["url"] == "https://pr-1234.preview.acme.io"
    assert status["expiresAt"] == "2026-11-29T10:00:00Z"
    assert status["image"] == "ghcr.io/acme-corp/payment-service:abc123def"
    assert status["gitops"]["commit"] == "c0ffee"
    by_name = {d["name"]: d for d in status["dependencies"]}
    assert by_name["orders-db"]["claim"]["kind"] == "Database" and by_name["orders-db"]["ready"] is True
    assert by_name["orders-db"]["fixture"] == {
        "name": "seed-data-minimal", "seeded": False, "note": reconcile.SEEDING_NOTE,
    }  # fmt: skip
    assert by_name["notification-service"]["component"] == "component:default/notification-service"
    assert by_name["notification-service"]["version"] == "latest-stable"
    assert by_name["stripe-mock"]["mock"] == {"name": "stripe-mock", "config": "test-mode"}


NOTIFY = {
    "ready": (CASES["everything-ready-requeues-at-expiry"], "success", "is ready at https://pr-1234.preview.acme.io"),
    "waiting": (CASES["claim-not-ready-waits-and-polls"], "pending", "is being prepared (DependenciesNotReady)"),
}


@pytest.mark.parametrize(("case", "state", "slack"), NOTIFY.values(), ids=NOTIFY.keys())
def test_notifications_are_recorded_not_sent(case: Case, state: str, slack: str) -> None:
    notifications = _plan(case).status["notifications"]
    assert notifications["githubStatus"]["state"] == state
    assert notifications["githubStatus"]["sha"] == "abc123def"
    assert notifications["githubStatus"]["delivered"] is False
    assert notifications["slack"]["channel"] == "#payments-previews"
    assert slack in notifications["slack"]["text"] and "PR #1234" in notifications["slack"]["text"]
    assert notifications["slack"]["delivered"] is False


def test_no_notifications_asked_records_none() -> None:
    decision = _plan(Case(Observed(sync=SYNCED), document=preview()))
    assert decision.status["notifications"] == {}


def test_claims_are_owned_labelled_and_carry_the_fixture() -> None:
    parsed = environments.parse_preview(stored(storable()))
    [(key, obj)] = reconcile.desired_claims(parsed).items()
    assert key == DB
    assert obj["apiVersion"] == "platform.company.io/v1alpha1" and obj["kind"] == "Database"
    assert obj["metadata"]["namespace"] == "payments"
    assert obj["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "platform.company.io/v1alpha1", "kind": "PreviewEnvironment",
            "name": "pr-1234-payment-refactor", "uid": parsed.uid, "controller": True, "blockOwnerDeletion": True,
        }
    ]  # fmt: skip
    assert obj["metadata"]["annotations"] == {"environments.blacktop.dev/fixture": "seed-data-minimal"}
    assert obj["spec"] == {
        "engine": "postgresql", "tier": "dev", "size": "small", "owner": "payments", "deletionProtection": False,
    }  # fmt: skip


def test_cache_and_mysql_claims() -> None:
    document = preview(
        dependencies=[
            {"name": "db", "type": "database", "engine": "mysql", "version": "8.0"},
            {"name": "c", "type": "cache"},
        ]
    )
    claims = reconcile.desired_claims(environments.parse_preview(stored(document)))
    specs = {key: obj["spec"] for key, obj in claims.items()}
    assert specs[ClaimKey("Database", "pr-7-db")]["engine"] == "mysql"
    assert specs[ClaimKey("Database", "pr-7-db")]["version"] == "8.0"
    assert specs[ClaimKey("Cache", "pr-7-c")] == {
        "tier": "dev",
        "size": "small",
        "owner": "team-a",
        "deletionProtection": False,
    }


LIVE = {DB: claim(ready=True)}
CLEANUP = {
    "nothing-left-finishes": ({}, None, [], None, None),
    "live-claim-is-deleted-and-waited-for": (LIVE, None, [DB], reconcile.WAIT_FOR_CLEANUP, "Deleting"),
    "deleting-claim-is-only-waited-for": (
        {DB: claim(ready=True, deleting=True)}, None, [], reconcile.WAIT_FOR_CLEANUP, "Deleting",
    ),
    "expired-says-so": (LIVE, "72h", [DB], reconcile.WAIT_FOR_CLEANUP, "Expired"),
}  # fmt: skip


DRIFT = {
    "same": ({}, []),
    "fixture": ({"fixture": "seed-data-full"}, ["metadata.annotations[environments.blacktop.dev/fixture]"]),
    "engine": ({"engine": "mysql"}, ["spec.engine"]),
    "version": ({"version": "15"}, ["spec.version"]),
    "owner-is-not-drift": ({"owner": "someone-else"}, []),
}


@pytest.mark.parametrize(("change", "want"), DRIFT.values(), ids=DRIFT.keys())
def test_drift_that_needs_a_new_claim(change: dict[str, str], want: list[str]) -> None:
    dependency = {"name": "orders-db", "type": "database", "fixture": "seed-data-minimal", "version": "16"}
    desired = reconcile.desired_claims(environments.parse_preview(stored(preview(dependencies=[dependency]))))
    [wanted] = desired.values()
    observed = claim(ready=True, fixture=change.get("fixture", "seed-data-minimal"))
    observed["spec"].update({k: v for k, v in change.items() if k != "fixture"})
    assert reconcile.drift_of(wanted, observed) == want


@pytest.mark.parametrize(
    ("claims", "expired", "want_delete", "want_requeue", "want_reason"), CLEANUP.values(), ids=CLEANUP.keys()
)
def test_cleanup_deletes_claims_and_holds_the_finalizer_until_they_are_gone(
    claims: Mapping[ClaimKey, Any],
    expired: str | None,
    want_delete: list[ClaimKey],
    want_requeue: timedelta | None,
    want_reason: str | None,
) -> None:
    decision = reconcile.plan_cleanup(claims, expired_ttl=expired)
    assert list(decision.delete) == want_delete
    assert decision.requeue_after == want_requeue
    assert [c.reason for c in decision.conditions] == ([want_reason] if want_reason else [])


def test_an_invalid_stored_preview_reports_every_path() -> None:
    problems = environments.problems_in(preview(ttl="3d", resources={"cpu": "x"}))
    decision = reconcile.invalid(problems)
    ready = decision.conditions[0]
    assert (ready.status, ready.reason) == (False, "InvalidSpec")
    assert "spec.ttl" in ready.message and "spec.resources.cpu" in ready.message


def test_render_settings_name_the_image_by_commit() -> None:
    parsed = environments.parse_preview(stored(storable()))
    other = rendering.RenderSettings(gitops_url="x", registry="registry.acme.io/")
    assert rendering.image_of(parsed, other) == "registry.acme.io/acme-corp/payment-service:abc123def"
