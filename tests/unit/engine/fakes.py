"""In-memory adapters for the engine's ports: a resource store that is both source and writer, and leases.

They keep the same rules as the SQL adapters where the engine relies on them: every change gets
the next global revision as its resourceVersion and one event, a write based on a stale version
raises ConflictError, removing the last finalizer of a deleting object deletes it, and a lease is
taken only when free, expired or already the taker's.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from blacktop.kernel.clock import Clock, format_timestamp
from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.kernel.ports import EventPage, EventType, ListPage, ListQuery, WatchEvent
from blacktop.kernel.resources import Resource, ResourceKey, json_merge_patch

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GROUP = "test.blacktop.dev"
KIND = "Widget"


def widget(name: str, *, namespace: str = "default", spec: Mapping[str, Any] | None = None) -> Resource:
    """A test object of the Widget kind."""
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": KIND,
        "metadata": {"name": name, "namespace": namespace},
        "spec": dict(spec or {}),
    }


class InMemoryResources:
    """A ResourceSource and ResourceWriter over dicts, with a global revision and an event log."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.objects: dict[ResourceKey, Resource] = {}
        self.log: list[WatchEvent] = []
        self.writes: list[tuple[str, ResourceKey]] = []
        self.list_calls = 0

    # -- setup and inspection, as the API server would write --------------------------------------

    def _commit(self, type_: EventType, obj: Resource) -> Resource:
        revision = len(self.log) + 1
        obj["metadata"]["resourceVersion"] = str(revision)
        key = ResourceKey.of(obj)
        if type_ is EventType.DELETED:
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.log.append(WatchEvent(revision=revision, type=type_, object=copy.deepcopy(obj)))
        return copy.deepcopy(obj)

    def put(self, obj: Resource) -> Resource:
        """Create or replace an object the way a user's write would (spec changes bump generation)."""
        obj = copy.deepcopy(obj)
        key = ResourceKey.of(obj)
        old = self.objects.get(key)
        meta = obj["metadata"]
        if old is None:
            meta["generation"] = 1
            meta["uid"] = f"uid-{key.name}"
            return self._commit(EventType.ADDED, obj)
        meta["generation"] = old["metadata"]["generation"] + (obj.get("spec") != old.get("spec"))
        meta["uid"] = old["metadata"]["uid"]
        obj.setdefault("status", old.get("status"))
        return self._commit(EventType.MODIFIED, obj)

    def request_deletion(self, key: ResourceKey) -> None:
        """Delete as the API does: set deletionTimestamp while finalizers remain, else remove."""
        obj = copy.deepcopy(self.objects[key])
        if obj["metadata"].get("finalizers"):
            obj["metadata"]["deletionTimestamp"] = format_timestamp(self._clock.now())
            self._commit(EventType.MODIFIED, obj)
        else:
            self._commit(EventType.DELETED, obj)

    def status_of(self, key: ResourceKey) -> dict[str, Any]:
        """The stored status of an object."""
        return dict(self.objects[key].get("status") or {})

    # -- ResourceSource --------------------------------------------------------------------------

    async def list(self, query: ListQuery) -> ListPage:
        """All objects of the kind, paginated by ``limit`` with an integer offset as continue token."""
        self.list_calls += 1
        items = [
            copy.deepcopy(o) for k, o in sorted(self.objects.items()) if (k.group, k.kind) == (query.group, query.kind)
        ]
        start = int(query.continue_token or 0)
        size = query.limit or len(items)
        page = items[start : start + size]
        more = start + size < len(items)
        return ListPage(items=page, revision=len(self.log), continue_token=str(start + size) if more else None)

    async def events(
        self, *, since: int, kinds: Collection[tuple[str, str]] | None = None, limit: int = 500
    ) -> Sequence[WatchEvent]:
        """Events after ``since``."""
        wanted = None if kinds is None else set(kinds)
        found = [
            e
            for e in self.log[since:]
            if wanted is None or (ResourceKey.of(e.object).group, ResourceKey.of(e.object).kind) in wanted
        ]
        return found[:limit]

    async def event_page(self, *, since: int, kinds: Collection[tuple[str, str]], limit: int = 500) -> EventPage:
        """Events after ``since`` and the revision read through."""
        found = await self.events(since=since, kinds=kinds, limit=limit)
        return EventPage(found, found[-1].revision if len(found) >= limit else max(len(self.log), since))

    async def current_revision(self) -> int:
        """The newest revision."""
        return len(self.log)

    # -- ResourceWriter --------------------------------------------------------------------------

    def _current(self, key: ResourceKey, expected_version: str | None) -> Resource:
        obj = self.objects.get(key)
        if obj is None:
            raise NotFoundError(f"{key} does not exist")
        if expected_version is not None and obj["metadata"]["resourceVersion"] != expected_version:
            raise ConflictError(f"{key} was modified since it was read")
        return copy.deepcopy(obj)

    async def update_status(
        self, key: ResourceKey, status: Mapping[str, Any], *, expected_version: str | None
    ) -> Resource:
        """Replace status."""
        self.writes.append(("status", key))
        obj = self._current(key, expected_version)
        obj["status"] = copy.deepcopy(dict(status))
        return self._commit(EventType.MODIFIED, obj)

    async def patch(self, key: ResourceKey, patch: Mapping[str, Any], *, expected_version: str | None) -> Resource:
        """Merge-patch metadata and spec."""
        self.writes.append(("patch", key))
        obj = self._current(key, expected_version)
        patched = json_merge_patch(obj, patch)
        if patched.get("spec") != obj.get("spec"):
            patched["metadata"]["generation"] += 1
        return self._commit(EventType.MODIFIED, patched)

    async def add_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Append a finalizer."""
        self.writes.append(("add_finalizer", key))
        obj = self._current(key, expected_version)
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if finalizer not in finalizers:
            finalizers.append(finalizer)
        return self._commit(EventType.MODIFIED, obj)

    async def remove_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Drop a finalizer; the last one on a deleting object deletes it."""
        self.writes.append(("remove_finalizer", key))
        obj = self._current(key, expected_version)
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f != finalizer]
        deleting = obj["metadata"].get("deletionTimestamp")
        if deleting and not obj["metadata"]["finalizers"]:
            return self._commit(EventType.DELETED, obj)
        return self._commit(EventType.MODIFIED, obj)

    async def create(self, obj: Resource) -> Resource:
        """Create a child."""
        key = ResourceKey.of(obj)
        self.writes.append(("create", key))
        if key in self.objects:
            raise ConflictError(f"{key} already exists")
        return self.put(obj)

    async def delete(self, key: ResourceKey) -> None:
        """Delete a child (absent is fine)."""
        self.writes.append(("delete", key))
        if key in self.objects:
            self.request_deletion(key)


@dataclass(frozen=True, slots=True)
class MemoryLease:
    """A lease value."""

    shard: int
    holder: str | None
    expires_at: datetime
    token: int


class InMemoryLeaseStore:
    """LeaseStore over dicts, with the compare-and-set rules of SqlLeaseStore."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, int], MemoryLease] = {}
        self.members: dict[tuple[str, str], datetime] = {}

    async def heartbeat(self, *, group: str, member: str, now: datetime, ttl: timedelta) -> None:
        """Record a heartbeat."""
        self.members[(group, member)] = now + ttl

    async def live_members(self, *, group: str, now: datetime) -> list[str]:
        """Unexpired members."""
        return sorted(m for (g, m), expires in self.members.items() if g == group and expires > now)

    async def leave(self, *, group: str, member: str) -> None:
        """Forget a member."""
        self.members.pop((group, member), None)

    async def ensure_shards(self, *, group: str, shards: int) -> None:
        """Create missing lease rows."""
        for shard in range(shards):
            self.leases.setdefault((group, shard), MemoryLease(shard, None, EPOCH, 0))

    async def list_leases(self, *, group: str) -> list[MemoryLease]:
        """All leases of a group."""
        return [lease for (g, _), lease in sorted(self.leases.items()) if g == group]

    def _expired(self, lease: MemoryLease, now: datetime) -> bool:
        return lease.expires_at <= now

    async def acquire(
        self, *, group: str, shard: int, holder: str, now: datetime, ttl: timedelta
    ) -> MemoryLease | None:
        """Compare-and-set take."""
        lease = self.leases[(group, shard)]
        if lease.holder not in (None, holder) and not self._expired(lease, now):
            return None
        taken = MemoryLease(shard, holder, now + ttl, lease.token + 1)
        self.leases[(group, shard)] = taken
        return taken

    async def renew(
        self, *, group: str, shards: Collection[int], holder: str, now: datetime, ttl: timedelta
    ) -> list[MemoryLease]:
        """Extend unexpired leases still held."""
        renewed = []
        for shard in sorted(shards):
            lease = self.leases[(group, shard)]
            if lease.holder == holder and not self._expired(lease, now):
                lease = MemoryLease(shard, holder, now + ttl, lease.token)
                self.leases[(group, shard)] = lease
                renewed.append(lease)
        return renewed

    async def release(self, *, group: str, shards: Collection[int], holder: str) -> None:
        """Free leases still held."""
        for shard in shards:
            lease = self.leases[(group, shard)]
            if lease.holder == holder:
                self.leases[(group, shard)] = MemoryLease(shard, None, EPOCH, lease.token)

    def holders(self, group: str) -> dict[str | None, int]:
        """How many shards each holder has (None for free)."""
        counts: dict[str | None, int] = {}
        for (g, _), lease in self.leases.items():
            if g == group:
                counts[lease.holder] = counts.get(lease.holder, 0) + 1
        return counts
