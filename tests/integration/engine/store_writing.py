"""A ResourceWriter straight over a ResourceStore's transactions, for engine tests only.

In the platform, controller writes go through the API server's write pipeline (authorisation,
validation, admission, audit); the engine tests need none of that, only the store's optimistic
concurrency, so this adapter reads and writes in one store transaction per call.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from blacktop.kernel.clock import Clock, SystemClock, format_timestamp
from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.kernel.ports import ResourceStore, ResourceTransaction
from blacktop.kernel.resources import Resource, ResourceKey, json_merge_patch


async def _current(tx: ResourceTransaction, key: ResourceKey, expected_version: str | None) -> Resource:
    obj = await tx.get(key)
    if obj is None:
        raise NotFoundError(f"{key} does not exist")
    version = str(obj["metadata"].get("resourceVersion"))
    if expected_version is not None and version != expected_version:
        raise ConflictError(f"{key} is at resourceVersion {version}, the write expected {expected_version}")
    return copy.deepcopy(obj)


class StoreWriter:
    """``engine.ResourceWriter`` over ``ResourceStore.transaction``."""

    def __init__(self, store: ResourceStore, *, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    async def update_status(
        self, key: ResourceKey, status: Mapping[str, Any], *, expected_version: str | None
    ) -> Resource:
        """Replace status."""
        async with self._store.transaction() as tx:
            obj = await _current(tx, key, expected_version)
            obj["status"] = copy.deepcopy(dict(status))
            return await tx.update(obj, expected_version=expected_version)

    async def patch(self, key: ResourceKey, patch: Mapping[str, Any], *, expected_version: str | None) -> Resource:
        """Merge-patch metadata and spec."""
        async with self._store.transaction() as tx:
            obj = await _current(tx, key, expected_version)
            merged = json_merge_patch(obj, {k: v for k, v in patch.items() if k in ("metadata", "spec")})
            return await tx.update(merged, expected_version=expected_version)

    async def add_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Append a finalizer."""
        async with self._store.transaction() as tx:
            obj = await _current(tx, key, expected_version)
            finalizers = obj["metadata"].setdefault("finalizers", [])
            if finalizer not in finalizers:
                finalizers.append(finalizer)
            return await tx.update(obj, expected_version=expected_version)

    async def remove_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Drop a finalizer; the last one on a deleting object deletes it."""
        async with self._store.transaction() as tx:
            obj = await _current(tx, key, expected_version)
            obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"]["finalizers"]:
                return await tx.delete(key, expected_version=expected_version)
            return await tx.update(obj, expected_version=expected_version)

    async def create(self, obj: Resource) -> Resource:
        """Create a child."""
        async with self._store.transaction() as tx:
            return await tx.create(obj)

    async def delete(self, key: ResourceKey) -> None:
        """Delete a child, or mark it deleting while it has finalizers."""
        async with self._store.transaction() as tx:
            obj = await tx.get(key)
            if obj is None:
                return
            if obj["metadata"].get("finalizers"):
                obj = copy.deepcopy(obj)
                meta = obj["metadata"]
                meta["deletionTimestamp"] = meta.get("deletionTimestamp") or format_timestamp(self._clock.now())
                await tx.update(obj, expected_version=None)
            else:
                await tx.delete(key, expected_version=None)
