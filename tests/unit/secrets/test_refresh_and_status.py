"""ESO refresh semantics (refreshInterval incl. 0, refreshPolicy, invalid targets) and status
conditions, driven by explicit instants rather than a wall clock.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop.secrets import eso, refreshing, syncing
from blacktop.secrets.templating import TemplateEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def es(*, interval: str = "1h", policy: str = "Periodic", generation: int = 1, **target: Any) -> eso.ExternalSecret:
    parsed = eso.parse_eso_document(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "app", "namespace": "ns", "generation": generation},
            "spec": {
                "refreshInterval": interval,
                "refreshPolicy": policy,
                "secretStoreRef": {"name": "s"},
                "target": target,
                "data": [{"secretKey": "k", "remoteRef": {"key": "x"}}],
            },
        }
    )
    assert isinstance(parsed, eso.ExternalSecret)
    return parsed


NEVER = refreshing.SyncStatus()
SYNCED_AT_T0 = refreshing.synced(es(), now=T0)

CASES = {
    "never-synced-refreshes": (es(), NEVER, T0, True),
    "within-interval-waits": (es(), SYNCED_AT_T0, T0 + timedelta(minutes=59), False),
    "interval-elapsed-refreshes": (es(), SYNCED_AT_T0, T0 + timedelta(hours=1), True),
    "generation-change-refreshes": (es(generation=2), SYNCED_AT_T0, T0 + timedelta(minutes=1), True),
    "future-refresh-time-refreshes": (es(), SYNCED_AT_T0, T0 - timedelta(minutes=1), True),
    "interval-0-never-synced-syncs": (es(interval="0"), NEVER, T0, True),
    "interval-0-synced-never-again": (es(interval="0s"), SYNCED_AT_T0, T0 + timedelta(days=400), False),
    "interval-0-ignores-spec-change": (es(interval="0", generation=5), SYNCED_AT_T0, T0 + timedelta(days=1), False),
    "created-once-after-sync": (es(policy="CreatedOnce"), SYNCED_AT_T0, T0 + timedelta(days=9), False),
    "created-once-first-time": (es(policy="CreatedOnce"), NEVER, T0, True),
    "on-change-unchanged": (es(policy="OnChange"), SYNCED_AT_T0, T0 + timedelta(days=9), False),
    "on-change-generation-bumped": (es(policy="OnChange", generation=3), SYNCED_AT_T0, T0, True),
}


@pytest.mark.parametrize(("resource", "status", "now", "want"), CASES.values(), ids=CASES.keys())
def test_should_refresh(resource: eso.ExternalSecret, status: refreshing.SyncStatus, now: datetime, want: bool) -> None:
    assert refreshing.should_refresh(resource, status, now=now) is want


def valid_target(data: dict[str, bytes]) -> refreshing.ObservedTarget:
    return refreshing.ObservedTarget(
        data=data,
        labels={syncing.MANAGED_LABEL: "true"},
        annotations={syncing.DATA_HASH_ANNOTATION: syncing.data_hash(data)},
    )


TARGETS = {
    "valid-target-no-sync": (valid_target({"k": b"v"}), False),
    "missing-target-forces-sync": (None, True),
    "hand-edited-target-forces-sync": (replace(valid_target({"k": b"v"}), data={"k": b"edited"}), True),
    "unmanaged-target-forces-sync": (replace(valid_target({"k": b"v"}), labels={}), True),
}


@pytest.mark.parametrize(("target", "want"), TARGETS.values(), ids=TARGETS.keys())
def test_invalid_target_forces_sync_even_with_interval_0(target: refreshing.ObservedTarget | None, want: bool) -> None:
    resource = es(interval="0")
    status = refreshing.synced(resource, now=T0)
    assert refreshing.needs_sync(resource, status, target=target, now=T0 + timedelta(days=1)) is want


REQUEUE = {
    "half-way": (es(), SYNCED_AT_T0, T0 + timedelta(minutes=30), timedelta(minutes=30)),
    "overdue-is-now": (es(), SYNCED_AT_T0, T0 + timedelta(hours=3), timedelta(0)),
    "interval-0-no-requeue": (es(interval="0"), SYNCED_AT_T0, T0, None),
    "never-synced-full-interval": (es(interval="5m"), NEVER, T0, timedelta(minutes=5)),
}


@pytest.mark.parametrize(("resource", "status", "now", "want"), REQUEUE.values(), ids=REQUEUE.keys())
def test_requeue_after(
    resource: eso.ExternalSecret, status: refreshing.SyncStatus, now: datetime, want: timedelta | None
) -> None:
    assert refreshing.requeue_after(resource, status, now=now) == want


def test_status_conditions_as_eso_reports_them() -> None:
    ok = refreshing.synced(es(), now=T0).to_json()
    assert ok["refreshTime"] == "2026-01-01T00:00:00Z"
    assert ok["conditions"] == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "SecretSynced",
            "message": "secret synced",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ]
    assert str(ok["syncedResourceVersion"]).startswith("1-")
    assert ok["binding"] == {"name": "app"}
    bad = refreshing.failed(
        refreshing.synced(es(), now=T0), now=T0 + timedelta(hours=1), message="could not get secret data from provider"
    )
    assert bad.refresh_time == T0
    assert [(c.status, c.reason) for c in bad.conditions] == [("False", "SecretSyncedError")]


EMPTY = {
    "retain": ("Owner", "Retain", "keep", "secret retained due to DeletionPolicy=Retain"),
    "delete": ("Owner", "Delete", "delete", "secret deleted due to DeletionPolicy=Delete"),
    "merge": ("Owner", "Merge", "clear", "secret synced"),
}


@pytest.mark.parametrize(("creation", "deletion", "action", "message"), EMPTY.values(), ids=EMPTY.keys())
def test_deletion_policy_when_provider_returns_no_data(creation: str, deletion: str, action: str, message: str) -> None:
    got, status = refreshing.empty_data_outcome(es(creationPolicy=creation, deletionPolicy=deletion), now=T0)
    assert got == action
    assert status.conditions[0].message == message
    assert status.conditions[0].status == "True"


def test_merge_creation_policy_with_missing_secret_reports_secret_missing() -> None:
    status = refreshing.missing_for_merge(es(creationPolicy="Merge"), refreshing.SyncStatus(), now=T0)
    assert (status.conditions[0].reason, status.conditions[0].message) == (
        "SecretMissing",
        "secret will not be created due to CreationPolicy=Merge",
    )


ENGINE = TemplateEngine(clock=lambda: T0, entropy=os.urandom)
KEY = syncing.RemoteKey("x")


def fetched(values: dict[str, str] | None) -> syncing.Fetched:
    return syncing.Fetched(secrets={} if values is None else {KEY: values})


def es_with(data: list[dict[str, Any]] | None = None, **target: Any) -> eso.ExternalSecret:
    parsed = eso.parse_eso_document(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "app", "namespace": "ns"},
            "spec": {
                "secretStoreRef": {"name": "s"},
                "target": target,
                "data": data if data is not None else [{"secretKey": "k", "remoteRef": {"key": "x", "property": "k"}}],
                **({"dataFrom": [{"extract": {"key": "x"}}]} if data == [] else {}),
            },
        }
    )
    assert isinstance(parsed, eso.ExternalSecret)
    return parsed


PLAN_CASES: dict[str, tuple[eso.ExternalSecret, refreshing.SyncStatus, syncing.Fetched, Any, str | None, str, str]] = {
    "first-sync-writes": (es_with(), NEVER, fetched({"k": "v"}), None, None, "write", "SecretSynced"),
    "valid-and-fresh-skips": (es_with(), SYNCED_AT_T0, fetched({"k": "v"}), "valid", None, "skip", "SecretSynced"),
    "provider-error-fails": (es_with(), NEVER, fetched({"k": "v"}), None, "timeout", "fail", "SecretSyncedError"),
    "missing-property-fails": (es_with(), NEVER, fetched({"other": "v"}), None, None, "fail", "SecretSyncedError"),
    "merge-without-target-waits": (
        es_with(creationPolicy="Merge"),
        NEVER,
        fetched({"k": "v"}),
        None,
        None,
        "wait",
        "SecretMissing",
    ),
    "empty-provider-data-retains": (es_with([]), NEVER, fetched({}), None, None, "keep", "SecretSynced"),
    "empty-provider-data-deletes": (
        es_with([], deletionPolicy="Delete"),
        NEVER,
        fetched({}),
        None,
        None,
        "delete",
        "SecretDeleted",
    ),
}


@pytest.mark.parametrize(
    ("resource", "status", "values", "observed", "error", "action", "reason"),
    PLAN_CASES.values(),
    ids=PLAN_CASES.keys(),
)
def test_plan_sync(
    resource: eso.ExternalSecret,
    status: refreshing.SyncStatus,
    values: syncing.Fetched,
    observed: str | None,
    error: str | None,
    action: str,
    reason: str,
) -> None:
    target = valid_target({"k": b"v"}) if observed == "valid" else None
    plan = refreshing.plan_sync(
        resource,
        status,
        fetched=values,
        observed=target,
        now=T0 + timedelta(minutes=1),
        engine=ENGINE,
        entropy=os.urandom,
        fetch_error=error,
    )
    assert plan.action == action
    assert plan.status.conditions[0].reason == reason
    if action == "write":
        assert plan.target is not None
        assert dict(plan.target.data) == {"k": b"v"}
        assert plan.requeue_after == timedelta(hours=1)
    if action == "fail":
        assert plan.status.conditions[0].status == "False"
