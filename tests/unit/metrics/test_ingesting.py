"""GitHub and Argo CD webhook payloads map to Deployment records that the kind's schema accepts.

Test design notes: the payloads under ``payloads/`` are shaped as GitHub and Argo CD send them
(GitHub's documented ``workflow_run`` and ``deployment_status`` bodies; the Argo CD notification
template of docs/metrics.md, with a commit date printed in Go's default time format). Each test
changes one field of a sample. Bad payloads list every problem with its path in the payload.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.kernel.kinds import KindRegistry
from blacktop.metrics import ingesting, kinds

from .conftest import payload

TARGET = ingesting.Target(namespace="payments", service="component:default/payment-service")


@pytest.fixture(scope="module")
def registry() -> KindRegistry:
    found = KindRegistry()
    for kind in kinds.KINDS:
        found.register(kind)
    return found


def test_a_successful_workflow_run_is_a_succeeded_deployment(registry: KindRegistry) -> None:
    outcome = ingesting.from_workflow_run(payload("github-workflow-run-success.json"), delivery_id="d-1", target=TARGET)
    assert outcome.record is not None
    registry.validate(outcome.record)
    assert outcome.record["metadata"]["namespace"] == "payments"
    assert outcome.record["metadata"]["annotations"] == {ingesting.DELIVERY_ANNOTATION: "d-1"}
    assert outcome.record["spec"] == {
        "service": "component:default/payment-service",
        "environment": "production",
        "version": "main@9f2c4e1b7a3d",
        "commitSha": "9f2c4e1b7a3d5c8e0f1a2b3c4d5e6f708192a3b4",
        "commits": [{"sha": "9f2c4e1b7a3d5c8e0f1a2b3c4d5e6f708192a3b4", "committedAt": "2026-11-20T08:40:00Z"}],
        "startedAt": "2026-11-20T09:58:12Z",
        "finishedAt": "2026-11-20T10:12:40Z",
        "status": "succeeded",
        "source": {
            "system": "github-actions",
            "deliveryId": "d-1",
            "url": "https://github.com/acme-corp/payment-service/actions/runs/11928371623",
            "repository": "acme-corp/payment-service",
        },
    }


def test_a_failed_deployment_status_keeps_the_commits_of_its_payload(registry: KindRegistry) -> None:
    outcome = ingesting.from_deployment_status(
        payload("github-deployment-status-failure.json"), delivery_id="d-2", target=TARGET
    )
    assert outcome.record is not None
    registry.validate(outcome.record)
    spec = outcome.record["spec"]
    assert (spec["status"], spec["environment"], spec["startedAt"], spec["finishedAt"]) == (
        "failed",
        "production",
        "2026-11-21T14:20:00Z",
        "2026-11-21T14:31:05Z",
    )
    assert spec["commits"] == [
        {"sha": "b1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e", "committedAt": "2026-11-21T12:20:00Z"},
        {"sha": "a0c1b2d3e4f5061728394a5b6c7d8e9f0a1b2c3d", "committedAt": "2026-11-21T10:20:00Z"},
    ]


def test_an_argocd_sync_reads_go_time_and_its_own_service(registry: KindRegistry) -> None:
    outcome = ingesting.from_argocd(payload("argocd-sync-succeeded.json"), target=ingesting.Target("payments"))
    assert outcome.record is not None
    registry.validate(outcome.record)
    spec = outcome.record["spec"]
    assert spec["service"] == "component:default/payment-service"
    assert spec["commits"] == [
        {"sha": "c3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c", "committedAt": "2026-11-22T13:05:31Z"}
    ]
    assert (spec["status"], spec["finishedAt"]) == ("succeeded", "2026-11-22T16:05:31Z")
    assert outcome.delivery_id == "0b8e3c2a-5d0f-4a51-9d7e-3c1f2a4b5c6d/2026-11-22T16:05:31Z"


def changed(name: str, path: str, value: Any) -> dict[str, Any]:
    """A sample with the dotted ``path`` set to ``value`` (removed when value is ...)."""
    document = copy.deepcopy(payload(name))
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    if value is ...:
        node.pop(last)
    else:
        node[last] = value
    return document


IGNORED = {
    "run-in-progress": ("github-workflow-run-success.json", "action", "in_progress", "action 'in_progress'"),
    "run-cancelled": ("github-workflow-run-success.json", "workflow_run.conclusion", "cancelled", "conclusion"),
    "status-pending": ("github-deployment-status-failure.json", "deployment_status.state", "pending", "state"),
    "argo-running": ("argocd-sync-succeeded.json", "phase", "Running", "phase 'Running'"),
}


@pytest.mark.parametrize(("sample", "path", "value", "reason"), IGNORED.values(), ids=IGNORED.keys())
def test_unfinished_work_is_ignored_with_a_reason(sample: str, path: str, value: Any, reason: str) -> None:
    outcome = _map(sample, changed(sample, path, value))
    assert outcome.record is None and outcome.ignored is not None and reason in outcome.ignored


def test_other_workflows_are_ignored_when_the_url_names_one() -> None:
    target = ingesting.Target("payments", service="payment-service", workflow="Release")
    outcome = ingesting.from_workflow_run(payload("github-workflow-run-success.json"), delivery_id="d", target=target)
    assert outcome.record is None and outcome.ignored == "workflow 'Deploy' is not 'Release'"


BAD = {
    "run-missing": ("github-workflow-run-success.json", [("workflow_run", ...)], ["workflow_run"]),
    "run-without-sha-and-time": (
        "github-workflow-run-success.json",
        [("workflow_run.head_sha", ...), ("workflow_run.updated_at", "last tuesday")],
        ["workflow_run.head_sha", "workflow_run.updated_at"],
    ),
    "status-without-environment-and-bad-commits": (
        "github-deployment-status-failure.json",
        [("deployment.environment", ...), ("deployment.payload", {"commits": [{"sha": "zz"}, 3]})],
        ["deployment.environment", "deployment.payload.commits[0].sha", "deployment.payload.commits[1]"],
    ),
    "argo-missing-revision-bad-finish": (
        "argocd-sync-succeeded.json",
        [("revision", ...), ("finishedAt", "2026-11-22T16:05:31")],
        ["finishedAt", "revision"],
    ),
}


@pytest.mark.parametrize(("sample", "changes", "want_paths"), BAD.values(), ids=BAD.keys())
def test_bad_payloads_list_every_problem_path(
    sample: str, changes: list[tuple[str, Any]], want_paths: list[str]
) -> None:
    document = payload(sample)
    for path, value in changes:
        document = _apply(document, path, value)
    with pytest.raises(InputError) as caught:
        _map(sample, document)
    assert sorted(p.path for p in caught.value.problems) == want_paths


def test_without_a_service_the_repository_is_the_problem() -> None:
    document = changed("github-workflow-run-success.json", "repository", {"name": "x"})
    with pytest.raises(InputError) as caught:
        ingesting.from_workflow_run(document, delivery_id="d", target=ingesting.Target("payments"))
    assert [p.path for p in caught.value.problems] == ["repository.full_name"]


def test_the_repository_name_is_the_fallback_service() -> None:
    outcome = ingesting.from_workflow_run(
        payload("github-workflow-run-success.json"), delivery_id="d", target=ingesting.Target("payments")
    )
    assert outcome.record is not None and outcome.record["spec"]["service"] == "component:default/payment-service"


def test_argocd_without_a_delivery_id_derives_one_from_app_revision_and_finish() -> None:
    document = changed("argocd-sync-succeeded.json", "deliveryId", ...)
    first = ingesting.from_argocd(document, target=ingesting.Target("payments"))
    again = ingesting.from_argocd(copy.deepcopy(document), target=ingesting.Target("payments"))
    assert (
        first.delivery_id == "payment-service-production/c3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c/2026-11-22T16:05:31Z"
    )
    assert first.record is not None and again.record is not None
    assert first.record["metadata"]["name"] == again.record["metadata"]["name"]


@given(st.text(min_size=1, max_size=200), st.sampled_from(["gha", "ghd", "argocd"]))
def test_record_names_are_stable_dns_labels(delivery_id: str, source: str) -> None:
    name = ingesting.record_name(source, delivery_id)
    assert name == ingesting.record_name(source, delivery_id)
    assert len(name) <= 63 and name.replace("-", "").isalnum() and name == name.lower()


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_different_deliveries_get_different_names(first: str, second: str) -> None:
    if first != second:
        assert ingesting.record_name("gha", first) != ingesting.record_name("gha", second)


def _apply(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    if value is ...:
        node.pop(last)
    else:
        node[last] = value
    return document


def _map(sample: str, document: dict[str, Any]) -> ingesting.Outcome:
    if sample.startswith("argocd"):
        return ingesting.from_argocd(document, target=TARGET)
    if "workflow-run" in sample:
        return ingesting.from_workflow_run(document, delivery_id="d", target=TARGET)
    return ingesting.from_deployment_status(document, delivery_id="d", target=TARGET)
