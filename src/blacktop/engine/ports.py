"""What the reconcile engine needs from the rest of blacktop, stated as Protocols.

The engine sits on the same tier as the store and the API server and may import only the kernel,
so it cannot name ``SqlResourceStore`` or the write pipeline. Instead it declares the few calls it
makes: a ``ResourceSource`` to read objects and follow the event log (the store satisfies it
structurally), a ``ResourceWriter`` for every write a controller plans (the composition root adapts
the API server's write pipeline to it under a service identity, so controller writes are
authorised, validated, audited and evented like any other), a ``LeaseStore`` for scale-out, and
``EngineMetrics`` for the numbers ``/metrics`` shows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from blacktop.kernel.ports import EventPage, ListPage, ListQuery, WatchEvent
from blacktop.kernel.resources import Resource, ResourceKey


class ResourceSource(Protocol):
    """Reads the engine does: list a kind page by page, then follow the event log from a revision."""

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects and the revision it was read at."""
        ...

    async def events(
        self, *, since: int, kinds: Collection[tuple[str, str]] | None = None, limit: int = 500
    ) -> Sequence[WatchEvent]:
        """Events with revision greater than ``since``, oldest first; ``kinds`` are (group, kind) pairs."""
        ...

    async def event_page(self, *, since: int, kinds: Collection[tuple[str, str]], limit: int = 500) -> EventPage:
        """Events of ``kinds`` after ``since``, and the revision through which every event has been read."""
        ...

    async def current_revision(self) -> int:
        """The newest revision written."""
        ...


class ResourceWriter(Protocol):
    """Writes a controller plans, performed on its behalf by the engine.

    Every method takes the ``expected_version`` (the ``metadata.resourceVersion`` the plan was made
    from) where it applies and raises ``ConflictError`` when the object has moved on, so a plan
    made from a stale read is never applied; the engine then requeues the key. Each method returns
    the object as stored after the write. Implementations raise the kernel's errors only.
    """

    async def update_status(
        self, key: ResourceKey, status: Mapping[str, Any], *, expected_version: str | None
    ) -> Resource:
        """Replace ``status`` of the object (the ``/status`` subresource); spec and metadata are untouched."""
        ...

    async def patch(self, key: ResourceKey, patch: Mapping[str, Any], *, expected_version: str | None) -> Resource:
        """Apply a JSON merge patch to metadata and spec."""
        ...

    async def add_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Append ``finalizer`` to ``metadata.finalizers`` unless present."""
        ...

    async def remove_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Drop ``finalizer``; when it was the last one on a deleting object, the object goes away.

        Returns the object as it was last stored (also when the removal deleted it).
        """
        ...

    async def create(self, obj: Resource) -> Resource:
        """Create a child object; ``ConflictError`` when it already exists."""
        ...

    async def delete(self, key: ResourceKey) -> None:
        """Delete a child object (finalizers are honoured); absent objects are not an error."""
        ...


class Lease(Protocol):
    """One shard lease: who holds it and until when; ``token`` grows every time the lease is taken.

    A Protocol rather than a class, so lease stores outside the engine return their own values.
    """

    @property
    def shard(self) -> int:
        """The shard number."""
        ...

    @property
    def holder(self) -> str | None:
        """The member holding the lease, or None when free."""
        ...

    @property
    def expires_at(self) -> datetime:
        """When the lease lapses unless renewed."""
        ...

    @property
    def token(self) -> int:
        """A fencing token: it grows every time the lease is taken."""
        ...


class LeaseStore(Protocol):
    """Shard leases and member heartbeats shared by every engine process of one group.

    All operations are atomic on their own; ``acquire`` is a compare-and-set, so two processes
    racing for the same free shard cannot both win. Times are passed in (from the engine's Clock),
    so expiry is decided by the caller's notion of now.
    """

    async def heartbeat(self, *, group: str, member: str, now: datetime, ttl: timedelta) -> None:
        """Record that ``member`` is alive until ``now + ttl``."""
        ...

    async def live_members(self, *, group: str, now: datetime) -> list[str]:
        """Members whose heartbeat has not expired at ``now``, sorted."""
        ...

    async def leave(self, *, group: str, member: str) -> None:
        """Remove ``member``'s heartbeat (a clean shutdown), so others rebalance at once."""
        ...

    async def ensure_shards(self, *, group: str, shards: int) -> None:
        """Create the lease rows for shards ``0..shards-1`` that do not exist yet."""
        ...

    async def list_leases(self, *, group: str) -> Sequence[Lease]:
        """Every shard lease of ``group``, by shard number."""
        ...

    async def acquire(self, *, group: str, shard: int, holder: str, now: datetime, ttl: timedelta) -> Lease | None:
        """Take ``shard`` if it is free, expired or already ``holder``'s; None when someone else holds it."""
        ...

    async def renew(
        self, *, group: str, shards: Collection[int], holder: str, now: datetime, ttl: timedelta
    ) -> Sequence[Lease]:
        """Extend the unexpired leases ``holder`` still holds among ``shards``; returns exactly those."""
        ...

    async def release(self, *, group: str, shards: Collection[int], holder: str) -> None:
        """Give up ``shards`` if ``holder`` still holds them."""
        ...


class EngineMetrics(Protocol):
    """The engine's numbers; the composition root backs this with prometheus-client."""

    def observe_queue_depth(self, depth: int) -> None:
        """The number of keys waiting to be reconciled (ready now, not counting delayed ones)."""
        ...

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        """One finished reconcile; ``outcome`` is one of ``running.OUTCOMES``."""
        ...


class NullMetrics:
    """Metrics that go nowhere, for tests and tools that do not export them."""

    def observe_queue_depth(self, depth: int) -> None:
        """Ignore the queue depth."""

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        """Ignore the reconcile."""
