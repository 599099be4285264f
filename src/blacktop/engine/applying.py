"""Performing a controller's plan: the only place the engine writes.

Kept apart from the loop in ``running`` so the order of writes and the rules for skipping ones
that change nothing can be read (and tested) on their own. Each write passes the resourceVersion
the plan was made from and returns the stored object, whose version the next write expects; a
plan made from a stale read therefore fails with ``ConflictError`` instead of overwriting newer
state, and the engine requeues the key.
"""

from __future__ import annotations

import contextlib
from typing import Any

from blacktop.kernel.errors import ConflictError
from blacktop.kernel.resources import Resource, ResourceKey

from . import controllers
from .ports import ResourceWriter


def version_of(obj: Resource) -> str | None:
    """``metadata.resourceVersion`` as a string, or None."""
    version: Any = (obj.get("metadata") or {}).get("resourceVersion")
    return None if version is None else str(version)


async def apply_plan(writer: ResourceWriter, obj: Resource, plan: controllers.Plan) -> Resource:
    """Perform ``plan``'s actions in order on ``obj``; returns the object as last stored.

    Writes that would change nothing (a status equal to the current one, a finalizer already
    present or absent) are skipped. Creating a child that already exists is not an error: the
    desired child is there, and a later reconcile compares it if it must.
    """
    key = ResourceKey.of(obj)
    current = obj
    for action in plan.actions:
        match action:
            case controllers.SetStatus(status=status):
                if dict(status) != (current.get("status") or {}):
                    current = await writer.update_status(key, status, expected_version=version_of(current))
            case controllers.PatchObject(patch=patch):
                current = await writer.patch(key, patch, expected_version=version_of(current))
            case controllers.AddFinalizer(name=name):
                if not controllers.has_finalizer(current, name):
                    current = await writer.add_finalizer(key, name, expected_version=version_of(current))
            case controllers.RemoveFinalizer(name=name):
                if controllers.has_finalizer(current, name):
                    current = await writer.remove_finalizer(key, name, expected_version=version_of(current))
            case controllers.CreateChild(obj=child):
                with contextlib.suppress(ConflictError):
                    await writer.create(child)
            case controllers.DeleteChild(key=child_key):
                await writer.delete(child_key)
    return current
