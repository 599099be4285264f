"""Webhook payloads from delivery tools turned into ``Deployment`` records: pure mapping and validation.

Three shapes are read as their tools send them:

* GitHub ``workflow_run`` (``X-GitHub-Event: workflow_run``): a completed run of the deploy workflow;
  ``success`` is a succeeded deployment, ``failure``/``timed_out`` a failed one, any other
  conclusion (cancelled, skipped, ...) and any other action (requested, in_progress) is not a
  deployment and is ignored. The head commit's timestamp starts the lead time.
* GitHub ``deployment_status``: ``success`` succeeded, ``failure``/``error`` failed, other states
  ignored. Commit times may be passed in the deployment's ``payload.commits``.
* Argo CD notifications: the body of the webhook template in docs/metrics.md (an Application's
  ``operationState``: phase, revision, startedAt, finishedAt, and the commit's date).

Every problem is collected with its path in the payload, then raised once. The record's name is
derived from the delivery id (GitHub's ``X-GitHub-Delivery``; Argo CD's ``deliveryId`` or the
application, revision and finish time), so a redelivered webhook names the same record and is
stored once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

from . import kinds, model

DELIVERY_ANNOTATION: Final = "metrics.blacktop.dev/delivery-id"
SOURCE_LABEL: Final = "metrics.blacktop.dev/source"
GITHUB_SUCCESS: Final = frozenset({"success"})
GITHUB_RUN_FAILURE: Final = frozenset({"failure", "timed_out", "startup_failure"})
GITHUB_STATUS_FAILURE: Final = frozenset({"failure", "error"})
ARGO_SUCCESS: Final = frozenset({"Succeeded"})
ARGO_FAILURE: Final = frozenset({"Failed", "Error"})
_SHA: Final = re.compile(kinds.SHA_PATTERN)
_GO_TIME: Final = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}) (?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?) "
    r"(?P<offset>[+-][0-9]{4})( [A-Z]+)?$"
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a record goes and what it is about, from the webhook URL (query parameters)."""

    namespace: str
    service: str | None = None
    environment: str | None = None
    workflow: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The record a delivery maps to, or why it is not a deployment (``ignored``)."""

    delivery_id: str
    record: dict[str, Any] | None = None
    ignored: str | None = None
    repository: str | None = None


def record_name(source: str, delivery_id: str) -> str:
    """The record name of a delivery: stable across redeliveries, a valid DNS label."""
    digest = hashlib.sha256(f"{source}\0{delivery_id}".encode()).hexdigest()[:20]
    return f"{source}-{digest}"


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(payload: Mapping[str, Any], path: str, problems: list[Problem], *, required: bool = True) -> str | None:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str) and value:
        return value
    if value is not None and not isinstance(value, str):
        problems.append(Problem(path, f"must be a string, got {type(value).__name__}"))
    elif required:
        problems.append(Problem(path, "is required"))
    return None


def _timestamp(payload: Mapping[str, Any], path: str, problems: list[Problem], *, required: bool = True) -> str | None:
    text = _text(payload, path, problems, required=required)
    if text is None:
        return None
    go = _GO_TIME.match(text)
    if go is not None:
        # Go's default time format (an Argo CD template printing a time.Time as is).
        offset = go["offset"]
        text = f"{go['date']}T{go['time']}{offset[:3]}:{offset[3:]}"
    moment = model.parse_timestamp(text, path, problems)
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _sha(payload: Mapping[str, Any], path: str, problems: list[Problem]) -> str | None:
    text = _text(payload, path, problems)
    if text is not None and not _SHA.match(text):
        problems.append(Problem(path, f"{text!r} is not a commit SHA (7 to 64 hex digits)"))
        return None
    return text


def _service(target: Target, fallback: str | None, path: str, problems: list[Problem]) -> str | None:
    value = target.service or fallback
    if not value:
        problems.append(
            Problem(path, "names no catalog component; add ?service=component:<namespace>/<name> to the webhook URL")
        )
        return None
    return model.canonical_service(value, "service" if target.service else path, problems) or None


def _record(
    *,
    source: str,
    delivery_id: str,
    target: Target,
    spec: dict[str, Any],
) -> dict[str, Any]:
    spec["source"] = {
        k: v for k, v in {**spec.get("source", {}), "system": source, "deliveryId": delivery_id}.items() if v
    }
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": kinds.DEPLOYMENT_KIND,
        "metadata": {
            "name": record_name(
                {"github-actions": "gha", "github-deployments": "ghd"}.get(source, source), delivery_id
            ),
            "namespace": target.namespace,
            "labels": {SOURCE_LABEL: source},
            "annotations": {DELIVERY_ANNOTATION: delivery_id},
        },
        "spec": {k: v for k, v in spec.items() if v is not None},
    }


def _raise(what: str, delivery_id: str, problems: list[Problem]) -> None:
    if problems:
        raise InputError(
            f"{what} delivery {delivery_id!r} cannot be recorded as a deployment; fix the payload or the webhook URL",
            problems=problems,
        )


def from_workflow_run(payload: Mapping[str, Any], *, delivery_id: str, target: Target) -> Outcome:
    """A GitHub ``workflow_run`` event as a Deployment record (or ignored)."""
    problems: list[Problem] = []
    action = _text(payload, "action", problems)
    run = _object(payload.get("workflow_run"))
    if not run:
        problems.append(Problem("workflow_run", "is required: the workflow run this event is about"))
        _raise("GitHub workflow_run", delivery_id, problems)
    repository = _text(payload, "repository.full_name", problems, required=False)
    if action != "completed":
        _raise("GitHub workflow_run", delivery_id, problems)
        return Outcome(delivery_id, ignored=f"action {action!r} is not a finished run", repository=repository)
    name = _text(payload, "workflow_run.name", problems, required=False)
    if target.workflow and name != target.workflow:
        return Outcome(delivery_id, ignored=f"workflow {name!r} is not {target.workflow!r}", repository=repository)
    conclusion = _text(payload, "workflow_run.conclusion", problems)
    sha = _sha(payload, "workflow_run.head_sha", problems)
    started = _timestamp(payload, "workflow_run.run_started_at", problems, required=False)
    finished = _timestamp(payload, "workflow_run.updated_at", problems)
    committed = _timestamp(payload, "workflow_run.head_commit.timestamp", problems, required=False)
    fallback = repository.rsplit("/", 1)[-1] if repository else None
    service = _service(target, fallback, "repository.full_name", problems)
    _raise("GitHub workflow_run", delivery_id, problems)
    if conclusion not in GITHUB_SUCCESS | GITHUB_RUN_FAILURE:
        return Outcome(
            delivery_id, ignored=f"conclusion {conclusion!r} is not a deployment outcome", repository=repository
        )
    head = _object(run.get("head_commit"))
    commit = {"sha": str(head.get("id") or sha), "committedAt": committed}
    spec: dict[str, Any] = {
        "service": service,
        "environment": target.environment or "production",
        "version": str(run.get("head_branch") or "") + f"@{sha[:12]}" if sha else None,
        "commitSha": sha,
        "commits": [{k: v for k, v in commit.items() if v}],
        "startedAt": started,
        "finishedAt": finished,
        "status": "succeeded" if conclusion in GITHUB_SUCCESS else "failed",
        "source": {"url": run.get("html_url"), "repository": repository},
    }
    return Outcome(delivery_id, _record(source="github-actions", delivery_id=delivery_id, target=target, spec=spec))


def _payload_commits(value: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem("deployment.payload.commits", "must be a list of {sha, committedAt}"))
        return []
    commits = []
    for index, item in enumerate(value):
        path = f"deployment.payload.commits[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(path, "must be an object with sha and committedAt"))
            continue
        found: list[Problem] = []
        sha = _sha(item, "sha", found)
        at = _timestamp(item, "committedAt", found, required=False) or _timestamp(
            item, "authoredAt", found, required=False
        )
        problems.extend(Problem(f"{path}.{p.path}", p.message) for p in found)
        if sha:
            commits.append({"sha": sha, "committedAt": at} if at else {"sha": sha})
    return commits


def from_deployment_status(payload: Mapping[str, Any], *, delivery_id: str, target: Target) -> Outcome:
    """A GitHub ``deployment_status`` event as a Deployment record (or ignored)."""
    problems: list[Problem] = []
    state = _text(payload, "deployment_status.state", problems)
    sha = _sha(payload, "deployment.sha", problems)
    repository = _text(payload, "repository.full_name", problems, required=False)
    environment = target.environment or _text(payload, "deployment.environment", problems)
    started = _timestamp(payload, "deployment.created_at", problems, required=False)
    finished = _timestamp(payload, "deployment_status.created_at", problems)
    deployment = _object(payload.get("deployment"))
    extra = _object(deployment.get("payload"))
    commits = _payload_commits(extra.get("commits"), problems)
    fallback = extra.get("service") if isinstance(extra.get("service"), str) else None
    if fallback is None and repository:
        fallback = repository.rsplit("/", 1)[-1]
    service = _service(target, fallback, "repository.full_name", problems)
    _raise("GitHub deployment_status", delivery_id, problems)
    if state not in GITHUB_SUCCESS | GITHUB_STATUS_FAILURE:
        return Outcome(delivery_id, ignored=f"state {state!r} is not a finished deployment", repository=repository)
    status = _object(payload.get("deployment_status"))
    spec: dict[str, Any] = {
        "service": service,
        "environment": environment,
        "version": str(deployment.get("ref") or "") + f"@{sha[:12]}" if sha else None,
        "commitSha": sha,
        "commits": commits or [{"sha": sha}],
        "startedAt": started,
        "finishedAt": finished,
        "status": "succeeded" if state in GITHUB_SUCCESS else "failed",
        "source": {"url": status.get("target_url") or status.get("log_url"), "repository": repository},
    }
    return Outcome(delivery_id, _record(source="github-deployments", delivery_id=delivery_id, target=target, spec=spec))


def argocd_delivery_id(payload: Mapping[str, Any]) -> str | None:
    """The delivery id of an Argo CD notification: its ``deliveryId``, else application, revision and finish time."""
    given = payload.get("deliveryId")
    if isinstance(given, str) and given:
        return given
    parts = [payload.get(k) for k in ("app", "revision", "finishedAt")]
    if all(isinstance(p, str) and p for p in parts):
        return "/".join(str(p) for p in parts)
    return None


def from_argocd(payload: Mapping[str, Any], *, target: Target) -> Outcome:
    """An Argo CD notification (the template in docs/metrics.md) as a Deployment record (or ignored)."""
    problems: list[Problem] = []
    app = _text(payload, "app", problems)
    phase = _text(payload, "phase", problems)
    sha = _sha(payload, "revision", problems)
    started = _timestamp(payload, "startedAt", problems, required=False)
    finished = _timestamp(payload, "finishedAt", problems)
    committed = _timestamp(payload, "commitDate", problems, required=False)
    environment = target.environment or _text(payload, "environment", problems, required=False) or "production"
    service_field = _text(payload, "service", problems, required=False)
    service = _service(target, service_field or app, "service", problems)
    delivery_id = argocd_delivery_id(payload) or ""
    _raise("Argo CD", delivery_id or str(app), problems)
    if phase not in ARGO_SUCCESS | ARGO_FAILURE:
        return Outcome(delivery_id, ignored=f"operation phase {phase!r} is not finished")
    commit = {"sha": sha, "committedAt": committed}
    spec: dict[str, Any] = {
        "service": service,
        "environment": environment,
        "version": f"{app}@{sha[:12]}" if sha else None,
        "commitSha": sha,
        "commits": [{k: v for k, v in commit.items() if v}],
        "startedAt": started,
        "finishedAt": finished,
        "status": "succeeded" if phase in ARGO_SUCCESS else "failed",
        "source": {
            "url": payload.get("url") if isinstance(payload.get("url"), str) else None,
            "repository": payload.get("repoURL") if isinstance(payload.get("repoURL"), str) else None,
        },
    }
    return Outcome(delivery_id, _record(source="argocd", delivery_id=delivery_id, target=target, spec=spec))
