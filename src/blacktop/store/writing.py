"""The write rules both stores share: optimistic concurrency and server-owned metadata.

Pure functions over documents, so the SQL and in-memory stores refuse the same writes with the
same messages. A stale ``expected_version`` is a 409 that tells the caller what to do next.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.kernel.ports import CommitListener, WatchEvent
from blacktop.kernel.resources import Resource, ResourceKey

log = logging.getLogger(__name__)


def already_exists(key: ResourceKey) -> ConflictError:
    """The error for creating an object whose key is taken."""
    return ConflictError(
        f"{key} already exists; choose another name, or replace the existing object instead of creating it"
    )


def not_found(key: ResourceKey) -> NotFoundError:
    """The error for writing an object that is not stored."""
    return NotFoundError(f"{key} does not exist; create it first, or check its kind, namespace and name")


def check_version(key: ResourceKey, *, current: str, expected: str | None) -> None:
    """Refuse a write based on a stale ``resourceVersion`` (None means: do not check)."""
    if expected is not None and str(expected) != current:
        raise ConflictError(
            f"{key} was modified since it was read: its current resourceVersion is {current}, "
            f"the write was based on {expected}; re-read the object, apply your change again and retry"
        )


def carry_server_fields(new: Resource, stored: Resource, key: ResourceKey) -> None:
    """Keep ``uid`` and ``creationTimestamp`` of the stored object in ``new``; refuse a different uid."""
    meta = new.setdefault("metadata", {})
    stored_meta = stored.get("metadata") or {}
    stored_uid = stored_meta.get("uid")
    if meta.get("uid") and meta["uid"] != stored_uid:
        raise ConflictError(
            f"{key} has uid {stored_uid}, but the write names uid {meta['uid']}; the object was deleted "
            "and re-created since it was read, so re-read it and retry"
        )
    meta["uid"] = stored_uid
    if stored_meta.get("creationTimestamp"):
        meta["creationTimestamp"] = stored_meta["creationTimestamp"]


def with_version(obj: Resource, revision: int) -> Resource:
    """``obj`` with ``metadata.resourceVersion`` set to ``revision`` (in place; returned for chaining)."""
    obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
    return obj


def tell_listeners(listeners: Sequence[CommitListener], events: Sequence[WatchEvent]) -> None:
    """Hand committed ``events`` to each listener; a failing listener stops neither the others nor the write."""
    for listener in listeners:
        try:
            listener(events)
        except Exception:
            log.exception("a commit listener failed on revisions %s-%s", events[0].revision, events[-1].revision)
