"""Planning a preview: which claims to create or delete, what status says, when to look again, when to expire.

The controller (``wiring/environments.py``) gathers what it observed (the preview's claims in the
store, ``service`` dependencies resolved in the catalog, the outcome of committing the rendered
manifests) and calls ``plan_preview``; on deletion it calls ``plan_cleanup``. Both are pure and
return a ``Decision`` the controller turns into an engine plan, so every write goes through the
write pipeline (authorised, validated, audited) and tests call them with dicts and a timestamp.

Time: ``status.expiresAt`` is ``creationTimestamp + spec.ttl``. Before it the decision asks to be
requeued at that instant (a claim it owns wakes it when the claim changes, since the engine wakes a
changed object's controlling owner; a slower safety requeue covers the rest); at or after it the
decision deletes the preview, whose
finalizer then deletes its claims and withdraws its GitOps files.

Notifications: the intended GitHub commit status and Slack message are recorded in status
(``status.notifications``) with ``delivered: false``; nothing is sent from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from blacktop.kernel.clock import format_timestamp

from . import durations, kinds, model, rendering

CLAIM_KINDS: Final = {"database": "Database", "cache": "Cache"}
"""Dependency types that become claims of the built-in profile's kinds (same group as the preview)."""
WAIT_FOR_DEPENDENCIES: Final = timedelta(seconds=30)
"""A safety net while a claim is not ready: the claim's own changes wake the preview (it owns the claim)."""
WAIT_FOR_CATALOG: Final = timedelta(seconds=30)
"""How soon to look again while a ``service`` dependency is not in the catalog (a person has to register it)."""
WAIT_FOR_CLEANUP: Final = timedelta(seconds=1)
GITHUB_CONTEXT: Final = "blacktop/preview-environment"
SEEDING_NOTE: Final = (
    "recorded on the claim as annotation environments.blacktop.dev/fixture; blacktop does not load fixture data "
    "itself: seed it from the application or a job reading that annotation"
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition to set: type, status, CamelCase reason, message."""

    type: str
    status: bool
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ClaimKey:
    """A claim of the preview: kind and name, in the preview's namespace."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class ServiceResolution:
    """What the catalog said about a ``service`` dependency."""

    target: rendering.ServiceTarget | None
    message: str = ""


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """The result of committing the rendered files: the commit (None when nothing changed) or an error."""

    files: tuple[str, ...] = ()
    commit: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Observed:
    """What the controller saw: the preview's claims by key, catalog resolutions, the GitOps sync."""

    claims: Mapping[ClaimKey, Mapping[str, Any]] = field(default_factory=dict)
    services: Mapping[str, ServiceResolution] = field(default_factory=dict)
    sync: SyncOutcome = field(default_factory=SyncOutcome)


@dataclass(frozen=True, slots=True)
class Decision:
    """What the controller should do: claims to create and delete, status, requeue, or delete the preview."""

    create: tuple[dict[str, Any], ...] = ()
    delete: tuple[ClaimKey, ...] = ()
    status: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    requeue_after: timedelta | None = None
    delete_preview: bool = False


def is_expired(preview: model.Preview, *, now: datetime) -> bool:
    """Whether the preview's TTL has run out."""
    expires = preview.expires_at
    return expires is not None and now >= expires


def desired_claims(preview: model.Preview) -> dict[ClaimKey, dict[str, Any]]:
    """The claim objects of the preview's database and cache dependencies, owned by the preview."""
    claims: dict[ClaimKey, dict[str, Any]] = {}
    owner = preview.labels.get("team") or preview.namespace
    for dependency in preview.spec.dependencies:
        kind = CLAIM_KINDS.get(dependency.type)
        if kind is None:
            continue
        name = model.claim_name(preview, dependency)
        spec: dict[str, Any] = {"tier": "dev", "size": "small", "owner": owner, "deletionProtection": False}
        if kind == "Database":
            spec["engine"] = dependency.engine or "postgresql"
            if dependency.version:
                spec["version"] = dependency.version
        metadata: dict[str, Any] = {
            "name": name,
            "namespace": preview.namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "blacktop",
                model.PREVIEW_LABEL: model.label_value(preview.name),
                model.DEPENDENCY_LABEL: dependency.name,
            },
            "ownerReferences": [
                {
                    "apiVersion": kinds.API_VERSION,
                    "kind": kinds.KIND,
                    "name": preview.name,
                    "uid": preview.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if dependency.fixture:
            metadata["annotations"] = {model.FIXTURE_ANNOTATION: dependency.fixture}
        claims[ClaimKey(kind, name)] = {
            "apiVersion": kinds.API_VERSION, "kind": kind, "metadata": metadata, "spec": spec,
        }  # fmt: skip
    return claims


def plan_preview(
    preview: model.Preview, observed: Observed, *, now: datetime, settings: rendering.RenderSettings
) -> Decision:
    """The decision for a live preview: expire it, or create/delete claims and report status."""
    if is_expired(preview, now=now):
        # Only the deletion: the clean-up's status says Expired (a status write in the same plan would
        # leave the engine holding the object as it was before the deletion).
        return Decision(delete_preview=True)
    desired = desired_claims(preview)
    create = tuple(obj for key, obj in desired.items() if key not in observed.claims)
    replaced = {
        key
        for key, obj in observed.claims.items()
        if key in desired and not _deleting(obj) and drift_of(desired[key], obj)
    }
    stale = tuple(
        key for key, obj in observed.claims.items() if (key not in desired or key in replaced) and not _deleting(obj)
    )
    entries = [_dependency_status(preview, d, observed, desired) for d in preview.spec.dependencies]
    waiting = [e for e in entries if not e["ready"]]
    sync = observed.sync
    if sync.error:
        synced = Condition("Synced", False, "GitOpsWriteFailed", sync.error)
    else:
        synced = Condition("Synced", True, "ManifestsCommitted", f"{len(sync.files)} file(s) in the GitOps repository")
    if sync.error:
        ready = Condition("Ready", False, "GitOpsWriteFailed", sync.error)
    elif waiting:
        names = ", ".join(f"{e['name']} ({e['reason']})" for e in waiting)
        ready = Condition("Ready", False, "DependenciesNotReady", f"waiting for {names}")
    else:
        ready = Condition(
            "Ready", True, "Available",
            "every dependency is Ready and the manifests are committed; Argo CD syncs them to the cluster",
        )  # fmt: skip
    status = {
        **_base_status(preview, settings),
        "dependencies": entries,
        "notifications": _notifications(preview, ready),
    }
    if sync.commit:
        status["gitops"] = {**status["gitops"], "commit": sync.commit}
    until_expiry = preview.expires_at - now if preview.expires_at is not None else None
    claims_pending = any(e["type"] in CLAIM_KINDS for e in waiting)
    requeue = WAIT_FOR_DEPENDENCIES if (claims_pending or sync.error) else WAIT_FOR_CATALOG if waiting else None
    if until_expiry is not None:
        requeue = until_expiry if requeue is None else min(requeue, until_expiry)
    return Decision(create=create, delete=stale, status=status, conditions=(ready, synced), requeue_after=requeue)


def drift_of(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[str]:
    """The fields where an existing claim differs from the dependency's claim in ways that need a new one.

    A different ``engine`` or ``version`` cannot be changed in place (the Database kind refuses an
    engine change), and a different fixture asks for freshly seeded data, so such a claim is
    replaced: deleted, then created again. Other fields (owner, size) are left as they are.
    """
    wanted_spec, have_spec = desired.get("spec") or {}, observed.get("spec") or {}
    fields = [
        f"spec.{name}"
        for name in ("engine", "version")
        if name in wanted_spec and wanted_spec[name] != have_spec.get(name)
    ]
    wanted_fixture = ((desired.get("metadata") or {}).get("annotations") or {}).get(model.FIXTURE_ANNOTATION)
    have_fixture = ((observed.get("metadata") or {}).get("annotations") or {}).get(model.FIXTURE_ANNOTATION)
    if wanted_fixture != have_fixture:
        fields.append(f"metadata.annotations[{model.FIXTURE_ANNOTATION}]")
    return fields


def plan_cleanup(claims: Mapping[ClaimKey, Mapping[str, Any]], *, expired_ttl: str | None = None) -> Decision:
    """The decision for a deleting preview: delete its claims, and wait until they are gone.

    ``expired_ttl`` is the TTL when the preview is going away because it ran out (status says so).
    """
    delete = tuple(key for key, obj in claims.items() if not _deleting(obj))
    if not claims:
        return Decision()
    names = ", ".join(f"{k.kind}/{k.name}" for k in claims)
    if expired_ttl is not None:
        message = f"the TTL {expired_ttl} ran out; waiting for the claims to be deleted: {names}"
        waiting = Condition("Ready", False, "Expired", message)
    else:
        waiting = Condition("Ready", False, "Deleting", f"waiting for the claims to be deleted: {names}")
    return Decision(delete=delete, conditions=(waiting,), requeue_after=WAIT_FOR_CLEANUP)


def invalid(problems: Sequence[Any]) -> Decision:
    """The decision for a stored preview that does not validate (written before the policy existed)."""
    text = "; ".join(f"{p.path}: {p.message}" for p in problems)
    return Decision(
        conditions=(
            Condition("Ready", False, "InvalidSpec", text),
            Condition("Synced", False, "InvalidSpec", text),
        )
    )


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _base_status(preview: model.Preview, settings: rendering.RenderSettings) -> dict[str, Any]:
    status: dict[str, Any] = {
        "namespace": model.preview_namespace(preview),
        "image": rendering.image_of(preview, settings),
        "ttl": durations.format_duration(preview.spec.ttl),
        "gitops": {"path": model.gitops_folder(preview), "application": rendering.application_path(preview)},
    }
    url = rendering.url_of(preview)
    if url is not None:
        status["url"] = url
    if preview.expires_at is not None:
        status["expiresAt"] = format_timestamp(preview.expires_at)
    return status


def _dependency_status(
    preview: model.Preview,
    dependency: model.Dependency,
    observed: Observed,
    desired: Mapping[ClaimKey, Mapping[str, Any]],
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": dependency.name, "type": dependency.type}
    kind = CLAIM_KINDS.get(dependency.type)
    if kind is not None:
        key = ClaimKey(kind, model.claim_name(preview, dependency))
        entry["claim"] = {"apiVersion": kinds.API_VERSION, "kind": kind, "name": key.name}
        entry["connectionSecret"] = f"{preview.namespace}/connections/{key.name}"
        if dependency.fixture:
            entry["fixture"] = {"name": dependency.fixture, "seeded": False, "note": SEEDING_NOTE}
        claim = observed.claims.get(key)
        ready = _condition(claim, "Ready") if claim is not None else None
        drift = drift_of(desired[key], claim) if claim is not None else []
        if claim is not None and (drift or _deleting(claim)):
            what = ", ".join(drift) if drift else "a changed dependency"
            message = f"{kind} claim {key.name} is being replaced ({what})"
            return {**entry, "ready": False, "reason": "Replacing", "message": message}
        if claim is None:
            return {
                **entry,
                "ready": False,
                "reason": "Creating",
                "message": f"{kind} claim {key.name} is being created",
            }
        if ready is None or ready.get("status") != "True":
            reason = str((ready or {}).get("reason") or "Provisioning")
            message = str((ready or {}).get("message") or f"{kind} claim {key.name} is not Ready yet")
            return {**entry, "ready": False, "reason": reason, "message": message}
        return {**entry, "ready": True, "reason": "Ready", "message": f"{kind} claim {key.name} is Ready"}
    if dependency.type == "service":
        entry["version"] = dependency.version or "latest"
        resolution = observed.services.get(dependency.name)
        if resolution is None or resolution.target is None:
            message = resolution.message if resolution else f"component {dependency.name} was not looked up"
            return {**entry, "ready": False, "reason": "Unresolved", "message": message}
        target = resolution.target
        return {
            **entry, "component": target.component, "host": target.host, "ready": True, "reason": "Resolved",
            "message": f"routes to {target.host}:{target.port} (version {entry['version']} recorded, not deployed)",
        }  # fmt: skip
    entry["mock"] = {"name": dependency.name, "config": dependency.config}
    return {**entry, "ready": True, "reason": "Rendered", "message": f"mock Deployment and Service {dependency.name}"}


def _condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type_:
            return dict(condition)
    return None


def _notifications(preview: model.Preview, ready: Condition) -> dict[str, Any]:
    """The GitHub commit status and Slack message the preview's current state calls for (not sent)."""
    notifications = preview.spec.notifications
    url = rendering.url_of(preview)
    state = "success" if ready.status else "pending"
    description = "Preview environment is ready" if ready.status else f"Preview environment: {ready.reason}"
    out: dict[str, Any] = {}
    if notifications.github_status:
        out["githubStatus"] = {
            "repository": preview.spec.source.repository, "sha": preview.spec.source.commit, "state": state,
            "context": GITHUB_CONTEXT, "description": description, "targetUrl": url or "", "delivered": False,
        }  # fmt: skip
    if notifications.slack:
        pr = preview.pull_request
        subject = f"PR #{pr}" if pr is not None else (preview.spec.source.branch or preview.name)
        text = (
            f"Preview for {preview.spec.source.repository} {subject} is ready at {url or '(no ingress)'}"
            if ready.status
            else f"Preview for {preview.spec.source.repository} {subject} is being prepared ({ready.reason})"
        )
        out["slack"] = {"channel": notifications.slack, "text": text, "delivered": False}
    if out:
        out["note"] = "recorded only: no GitHub or Slack integration is configured, nothing was sent"
    return out
