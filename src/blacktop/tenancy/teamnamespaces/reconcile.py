"""Planning a TeamNamespace: the platform RoleBindings it owns, and the status that describes it.

Pure functions over plain objects: ``plan_bindings`` compares the bindings a TeamNamespace wants in
its platform namespace with the ones stored there and says what to create, update and delete;
``status_fields`` and ``digest`` summarise the result. The wiring (``blacktop.wiring.teamnamespaces``)
turns these into engine plans and performs the GitOps commit.

Bindings are owned through ``metadata.ownerReferences`` (the TeamNamespace's uid): only owned ones
are updated or deleted, and a same-named binding someone else wrote is reported as a conflict
rather than taken over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from blacktop.kernel.resources import Resource, ResourceKey

from .. import kinds as tenancy_kinds
from . import kind, model, rendering

PLATFORM_ROLES: Final = {"admins": "admin", "developers": "developer", "viewers": "viewer"}
"""``spec.rbac`` list → the tenancy role its platform RoleBinding grants."""


@dataclass(frozen=True, slots=True)
class BindingChanges:
    """What to write so the namespace's owned RoleBindings match the spec."""

    create: tuple[Resource, ...] = ()
    update: tuple[tuple[ResourceKey, Mapping[str, Any]], ...] = ()
    """Key and merge patch (spec and labels) of each owned binding that drifted."""
    delete: tuple[ResourceKey, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Sentences naming bindings that exist but are not owned by this TeamNamespace."""
    desired: int = 0

    @property
    def is_empty(self) -> bool:
        """Whether nothing needs writing."""
        return not (self.create or self.update or self.delete)


def owner_reference(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The ownerReference pointing at ``owner`` as the controlling owner."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion") or kind.API_VERSION,
        "kind": owner.get("kind") or kind.KIND,
        "name": meta.get("name"),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``obj`` lists an ownerReference with ``uid``."""
    return any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def desired_bindings(team_ns: model.TeamNamespace, owner: Mapping[str, Any]) -> list[Resource]:
    """The tenancy RoleBindings granting the spec's subjects admin, developer and viewer in the namespace."""
    return [
        {
            "apiVersion": tenancy_kinds.API_VERSION,
            "kind": "RoleBinding",
            "metadata": {
                "name": rendering.binding_name(section),
                "namespace": team_ns.namespace,
                "labels": {**rendering.MANAGED_BY, rendering.OWNER_LABEL: team_ns.name},
                "ownerReferences": [owner_reference(owner)],
            },
            "spec": {
                "role": PLATFORM_ROLES[section],
                "subjects": [{"kind": s.kind, "name": s.name} for s in subjects],
            },
        }
        for section, subjects in team_ns.rbac.items()
    ]


def plan_bindings(
    team_ns: model.TeamNamespace, owner: Mapping[str, Any], observed: Sequence[Mapping[str, Any]]
) -> BindingChanges:
    """Compare the desired bindings with ``observed`` (every RoleBinding stored in the namespace)."""
    by_name = {str((o.get("metadata") or {}).get("name")): o for o in observed}
    wanted = desired_bindings(team_ns, owner)
    create: list[Resource] = []
    update: list[tuple[ResourceKey, Mapping[str, Any]]] = []
    conflicts: list[str] = []
    for binding in wanted:
        name = binding["metadata"]["name"]
        current = by_name.get(name)
        if current is None:
            create.append(binding)
        elif not is_owned_by(current, team_ns.uid):
            conflicts.append(
                f"RoleBinding {team_ns.namespace}/{name} exists and is not owned by {kind.KIND} {team_ns.name}; "
                "delete or rename it so the TeamNamespace can manage it"
            )
        elif current.get("spec") != binding["spec"] or _labels(current) != binding["metadata"]["labels"]:
            update.append((ResourceKey.of(current), {"metadata": {"labels": binding["metadata"]["labels"]},
                                                     "spec": binding["spec"]}))  # fmt: skip
    names = {b["metadata"]["name"] for b in wanted}
    delete = [
        ResourceKey.of(o)
        for o in observed
        if is_owned_by(o, team_ns.uid) and (o.get("metadata") or {}).get("name") not in names
    ]
    return BindingChanges(tuple(create), tuple(update), tuple(delete), tuple(conflicts), desired=len(wanted))


def plan_cleanup(uid: str, observed: Sequence[Mapping[str, Any]]) -> tuple[ResourceKey, ...]:
    """The bindings to delete when the TeamNamespace with ``uid`` goes away: every one it owns."""
    return tuple(ResourceKey.of(o) for o in observed if is_owned_by(o, uid))


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("labels") or {}


def digest(files: Mapping[str, str]) -> str:
    """A sha256 over the rendered files (paths and contents), to tell whether the repository needs a commit."""
    hasher = hashlib.sha256()
    for path, text in sorted(files.items()):
        hasher.update(path.encode() + b"\0" + text.encode() + b"\0")
    return hasher.hexdigest()


def quota_summary(team_ns: model.TeamNamespace) -> str:
    """``cpu=32, memory=64Gi, ...`` or ``none``."""
    return ", ".join(f"{k}={v}" for k, v in team_ns.quotas.items()) or "none"


@dataclass(frozen=True, slots=True)
class Published:
    """Where the manifests are: repository, folder, commit and the digest of what was committed."""

    repository: str
    path: str
    commit: str | None
    digest: str
    files: int

    def to_json(self) -> dict[str, Any]:
        """The ``status.gitops`` block."""
        return {"repository": self.repository, "path": self.path, "commit": self.commit, "digest": self.digest,
                "files": self.files}  # fmt: skip

    @staticmethod
    def from_status(status: Mapping[str, Any] | None) -> Published | None:
        """The block ``to_json`` wrote, or None."""
        block = (status or {}).get("gitops")
        if not isinstance(block, Mapping) or not isinstance(block.get("digest"), str):
            return None
        return Published(str(block.get("repository")), str(block.get("path")), block.get("commit"),
                         str(block["digest"]), int(block.get("files") or 0))  # fmt: skip


def status_fields(team_ns: model.TeamNamespace, *, bindings: int, published: Published) -> dict[str, Any]:
    """The summary fields of ``status`` beside the conditions."""
    return {
        "namespace": team_ns.namespace,
        "quota": quota_summary(team_ns),
        "bindings": bindings,
        "gitops": published.to_json(),
        "monitoring": rendering.monitoring_notes(team_ns),
    }


def ready_message(team_ns: model.TeamNamespace, *, bindings: int, published: Published) -> str:
    """The Ready condition's message: namespace, quota, bindings, where the manifests are."""
    commit = (published.commit or "")[:12] or "unchanged"
    return (
        f"namespace {team_ns.namespace} (team {team_ns.team}, {team_ns.environment}, tier {team_ns.tier}): "
        f"quota {quota_summary(team_ns)}; {bindings} role binding(s); "
        f"{published.files} manifest(s) in {published.repository}:{published.path} at {commit}"
    )
