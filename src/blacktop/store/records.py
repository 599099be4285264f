"""Mapping between table rows and the kernel's values (audit records, watch events, keys).

Kept apart from the store so both the SQL store and tooling (benchmarks, migrations checks) map
rows one way: ``namespace`` '' in a row is ``None`` in a ``ResourceKey``.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from blacktop.kernel.clock import parse_timestamp
from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.ports import AuditRecord, EventType, WatchEvent
from blacktop.kernel.resources import GroupVersion, Resource, ResourceKey

from .tables import AuditRecordRow

AUDIT_FIELDS = (
    "seq",
    "time",
    "actor",
    "verb",
    "group",
    "kind",
    "namespace",
    "name",
    "outcome",
    "code",
    "request_id",
    "message",
    "old_digest",
    "new_digest",
    "prev_hash",
    "hash",
)
"""The audit columns, named as the ``AuditRecord`` fields they hold."""

AUDIT_COLUMNS = tuple(getattr(AuditRecordRow, name) for name in AUDIT_FIELDS)


def audit_values(record: AuditRecord) -> dict[str, Any]:
    """The column values of ``record``."""
    return {name: getattr(record, name) for name in AUDIT_FIELDS}


def audit_from_row(row: Row[Any]) -> AuditRecord:
    """The audit record a selected row of ``AUDIT_COLUMNS`` holds."""
    return AuditRecord(**dict(zip(AUDIT_FIELDS, row, strict=True)))


def event_from_row(revision: int, type_: str, obj: Resource) -> WatchEvent:
    """A watch event from its stored columns."""
    return WatchEvent(revision=revision, type=EventType(type_), object=obj)


def storage_namespace(key: ResourceKey) -> str:
    """The ``namespace`` column value of ``key``: '' for cluster-scoped objects."""
    return key.namespace or ""


def key_of(obj: Resource) -> ResourceKey:
    """The key of a document, refusing documents the store cannot index."""
    key = ResourceKey.of(obj)
    given = (("kind", key.kind), ("metadata.name", key.name))
    problems = [Problem(path, "is required to store a resource") for path, value in given if not value]
    if problems:
        raise InputError(f"resource {key} cannot be stored without kind and name", problems=problems)
    return key


def prepare_new(obj: Resource, *, now: datetime) -> tuple[str, datetime]:
    """Fill ``metadata.uid`` and ``creationTimestamp`` when the caller left them out; return both."""
    meta = obj.setdefault("metadata", {})
    uid = str(meta.get("uid") or uuid.uuid4())
    meta["uid"] = uid
    stamp = meta.get("creationTimestamp")
    created = parse_timestamp(stamp) if isinstance(stamp, str) and stamp else now
    if not stamp:
        meta["creationTimestamp"] = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return uid, created


def labels_of(obj: Resource) -> dict[str, str]:
    """The document's labels as strings (the write pipeline has validated them)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def group_of(obj: Resource) -> str:
    """The API group of a document."""
    return GroupVersion.parse(str(obj.get("apiVersion", ""))).group


def copy_document(obj: Resource) -> Resource:
    """An independent copy of a document, so a store never aliases its caller's dicts."""
    return copy.deepcopy(obj)


def without_version(obj: Resource) -> Resource:
    """A shallow copy of ``obj`` whose metadata lacks ``resourceVersion`` (stored as a column instead)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}
