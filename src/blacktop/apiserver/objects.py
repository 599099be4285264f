"""Pure rules for how a write changes an object's server-managed fields.

Kept apart from the pipeline so every rule (what a client may not set, when generation moves,
how a replace keeps status) is a small function with a table-driven test.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from blacktop.kernel.clock import format_timestamp
from blacktop.kernel.errors import ConflictError, InputError, Problem
from blacktop.kernel.kinds import KindInfo
from blacktop.kernel.resources import GroupVersion, Resource

_SERVER_OWNED = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp")


def check_identity(
    kind: KindInfo, obj: Mapping[str, Any], *, namespace: str | None, name: str | None = None
) -> list[Problem]:
    """Problems when the body's kind, group, namespace or name disagree with the request path."""
    problems: list[Problem] = []
    if obj.get("kind") != kind.kind:
        problems.append(Problem("kind", f"must be {kind.kind!r} for this path, got {obj.get('kind')!r}"))
    gv = GroupVersion.parse(str(obj.get("apiVersion", "")))
    if gv.group != kind.group or gv.version not in kind.versions:
        served = ", ".join(kind.api_version(v) for v in kind.versions)
        problems.append(Problem("apiVersion", f"must be one of {served}, got {obj.get('apiVersion')!r}"))
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    body_ns = meta.get("namespace")
    if kind.namespaced and namespace and body_ns and body_ns != namespace:
        problems.append(
            Problem("metadata.namespace", f"{body_ns!r} does not match the namespace in the path ({namespace!r})")
        )
    if name is not None and meta.get("name") not in (None, name):
        problems.append(
            Problem("metadata.name", f"{meta.get('name')!r} does not match the name in the path ({name!r})")
        )
    return problems


def prepare_create(
    kind: KindInfo, obj: Mapping[str, Any], *, namespace: str | None, uid: str, now: datetime
) -> Resource:
    """The object to store for a create: client-set server fields dropped, identity and timestamps set."""
    new = copy.deepcopy(dict(obj))
    meta = dict(new.get("metadata") or {})
    for key in _SERVER_OWNED:
        meta.pop(key, None)
    if kind.namespaced:
        meta["namespace"] = meta.get("namespace") or namespace or "default"
    else:
        meta.pop("namespace", None)
    meta["uid"] = uid
    meta["generation"] = 1
    meta["creationTimestamp"] = format_timestamp(now)
    new["metadata"] = meta
    new.pop("status", None)
    return new


def spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Everything generation tracks: all top-level fields but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion")}


def prepare_update(old: Resource, body: Mapping[str, Any], *, status_only: bool) -> Resource:
    """Merge a replacement body onto the stored object.

    The main resource never changes status and the status subresource never changes anything
    else; server-owned metadata always comes from the stored object.
    """
    check_version(old, body)
    if status_only:
        new = copy.deepcopy(old)
        new["status"] = copy.deepcopy(body.get("status") or {})
        return new
    new = copy.deepcopy(dict(body))
    meta = dict(new.get("metadata") or {})
    old_meta = old["metadata"]
    for key in (*_SERVER_OWNED, "name", "namespace"):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    new["metadata"] = meta
    if "status" in old:
        new["status"] = copy.deepcopy(old["status"])
    else:
        new.pop("status", None)
    if spec_of(new) != spec_of(old):
        meta["generation"] = int(old_meta.get("generation", 1)) + 1
    if old_meta.get("deletionTimestamp"):
        added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
        if added:
            raise InputError(
                "finalizers cannot be added to an object that is being deleted",
                problems=[Problem("metadata.finalizers", f"remove {sorted(added)}")],
            )
    return new


def check_version(old: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Refuse a body carrying a resourceVersion other than the stored one."""
    given = (body.get("metadata") or {}).get("resourceVersion")
    current = old["metadata"].get("resourceVersion")
    if given and str(given) != str(current):
        raise ConflictError(
            f"the object has been modified: you sent resourceVersion {given} but it is now {current}; "
            "read it again, reapply your change and retry"
        )


def mark_deleted(old: Resource, *, now: datetime) -> Resource:
    """The object with deletionTimestamp set, waiting for its finalizers to be cleared."""
    new = copy.deepcopy(old)
    meta = new["metadata"]
    meta["deletionTimestamp"] = format_timestamp(now)
    meta["generation"] = int(meta.get("generation", 1)) + 1
    return new


def is_finalized(obj: Mapping[str, Any]) -> bool:
    """An object being deleted whose finalizers are all cleared is removed for good."""
    meta = obj.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and not meta.get("finalizers")


def merge_for_apply(old: Resource, body: Mapping[str, Any]) -> Resource:
    """``apply`` replaces what the manifest declares and keeps status and server-owned fields."""
    merged = copy.deepcopy(dict(body))
    meta = dict(merged.get("metadata") or {})
    if "finalizers" not in meta and old["metadata"].get("finalizers"):
        meta["finalizers"] = list(old["metadata"]["finalizers"])
    if "ownerReferences" not in meta and old["metadata"].get("ownerReferences"):
        meta["ownerReferences"] = copy.deepcopy(old["metadata"]["ownerReferences"])
    merged["metadata"] = meta
    return merged
