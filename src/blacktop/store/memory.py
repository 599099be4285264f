"""An in-memory ``ResourceStore`` with the SQL store's semantics, for fast tests of other packages.

The same contract suite runs against it and the SQL store, so behaviour (revisions, conflicts,
selectors, pagination, events) matches. A transaction stages its changes and applies them only on
a normal exit; transactions are serialised by one asyncio lock, as the SQL store serialises them.
Nothing is persisted, and one instance must be used from one event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from blacktop.kernel.clock import Clock, SystemClock
from blacktop.kernel.errors import ConflictError, InputError, NotFoundError, Problem
from blacktop.kernel.ports import (
    AuditQuery,
    AuditRecord,
    CommitListener,
    EventPage,
    EventType,
    ListPage,
    ListQuery,
    ResourceTransaction,
    WatchEvent,
)
from blacktop.kernel.resources import Resource, ResourceKey

from . import paging, records, writing
from .tokens import ApiTokenRecord

_Sort = tuple[str, str]


def _sort_key(key: ResourceKey) -> _Sort:
    return (records.storage_namespace(key), key.name)


class _State:
    """Everything the store holds; a transaction works on staged changes on top of it."""

    def __init__(self) -> None:
        self.objects: dict[ResourceKey, Resource] = {}
        self.events: list[WatchEvent] = []
        self.audit: list[AuditRecord] = []


class InMemoryResourceTransaction:
    """Staged writes on top of the committed state."""

    def __init__(self, state: _State, *, clock: Clock) -> None:
        self._state = state
        self._clock = clock
        self._staged: dict[ResourceKey, Resource | None] = {}
        self.events: list[WatchEvent] = []
        self.audit: list[AuditRecord] = []
        self._revision = state.events[-1].revision if state.events else 0

    def _current(self, key: ResourceKey) -> Resource | None:
        return self._staged[key] if key in self._staged else self._state.objects.get(key)

    async def get(self, key: ResourceKey) -> Resource | None:
        """The object as this transaction sees it, or None."""
        current = self._current(key)
        return None if current is None else records.copy_document(current)

    async def create(self, obj: Resource) -> Resource:
        """Insert a copy of ``obj`` with uid, creationTimestamp and resourceVersion filled in."""
        obj = records.copy_document(obj)
        key = records.key_of(obj)
        if self._current(key) is not None:
            raise writing.already_exists(key)
        records.prepare_new(obj, now=self._clock.now())
        writing.with_version(obj, self._revision + 1)
        self._stage(EventType.ADDED, key, obj)
        return obj

    async def update(self, obj: Resource, *, expected_version: str | None) -> Resource:
        """Replace the stored object with a copy of ``obj``; 409 on a stale ``expected_version``."""
        obj = records.copy_document(obj)
        key = records.key_of(obj)
        old = self._current(key)
        if old is None:
            raise writing.not_found(key)
        writing.check_version(key, current=str(old["metadata"]["resourceVersion"]), expected=expected_version)
        writing.carry_server_fields(obj, old, key)
        writing.with_version(obj, self._revision + 1)
        self._stage(EventType.MODIFIED, key, obj)
        return obj

    async def delete(self, key: ResourceKey, *, expected_version: str | None) -> Resource:
        """Remove the object; it is returned with the deletion's resourceVersion."""
        old = self._current(key)
        if old is None:
            raise writing.not_found(key)
        writing.check_version(key, current=str(old["metadata"]["resourceVersion"]), expected=expected_version)
        old = writing.with_version(records.copy_document(old), self._revision + 1)
        self._stage(EventType.DELETED, key, old)
        return records.copy_document(old)

    def _stage(self, type_: EventType, key: ResourceKey, obj: Resource) -> None:
        self._revision += 1
        self._staged[key] = None if type_ is EventType.DELETED else records.copy_document(obj)
        self.events.append(WatchEvent(revision=self._revision, type=type_, object=records.copy_document(obj)))

    async def last_audit(self) -> AuditRecord | None:
        """The newest audit record, staged ones included."""
        if self.audit:
            return self.audit[-1]
        return self._state.audit[-1] if self._state.audit else None

    async def append_audit(self, record: AuditRecord) -> None:
        """Append ``record``; ConflictError when its ``seq`` is already taken."""
        if any(r.seq == record.seq for r in (*self._state.audit, *self.audit)):
            raise ConflictError(
                f"audit record {record.seq} already exists; read the last record again and append after it"
            )
        self.audit.append(record)

    def apply(self) -> None:
        """Make the staged changes visible; called once, when the transaction block exits normally."""
        for key, obj in self._staged.items():
            if obj is None:
                self._state.objects.pop(key, None)
            else:
                self._state.objects[key] = obj
        self._state.events.extend(self.events)
        self._state.audit.extend(sorted(self.audit, key=lambda r: r.seq))
        self._state.audit.sort(key=lambda r: r.seq)


class InMemoryResourceStore:
    """``ResourceStore`` kept in dictionaries; for unit tests and simulations."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._state = _State()
        self._clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._listeners: list[CommitListener] = []

    def subscribe(self, listener: CommitListener) -> None:
        """Call ``listener`` with the events of every committed transaction, in commit order."""
        self._listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ResourceTransaction]:
        """A serialised write transaction; its changes apply only if the block exits normally.

        Transactions do not nest: opening a second one inside the block waits for the first forever.
        """
        async with self._lock:
            tx = InMemoryResourceTransaction(self._state, clock=self._clock)
            yield tx
            tx.apply()
            if tx.events:
                committed = [dataclasses.replace(e, object=records.copy_document(e.object)) for e in tx.events]
                writing.tell_listeners(self._listeners, committed)

    async def get(self, key: ResourceKey) -> Resource | None:
        """The current object, or None."""
        obj = self._state.objects.get(key)
        return None if obj is None else records.copy_document(obj)

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects ordered by (namespace, name)."""
        if query.limit is not None and query.limit < 0:
            raise InputError(
                f"limit {query.limit} is negative", problems=[Problem(path="limit", message="must be 0 or more")]
            )
        after = (
            paging.decode_continue(query.continue_token, group=query.group, kind=query.kind)
            if query.continue_token
            else None
        )
        revision = after.revision if after else await self.current_revision()
        matching = sorted(
            (key for key, obj in self._state.objects.items() if self._matches(query, key, obj)), key=_sort_key
        )
        if after is not None:
            matching = [k for k in matching if _sort_key(k) > (after.namespace, after.name)]
        if not query.limit or len(matching) <= query.limit:
            return ListPage(items=[self._copy(k) for k in matching], revision=revision)
        page, rest = matching[: query.limit], matching[query.limit :]
        last = _sort_key(page[-1])
        token = paging.encode_continue(
            paging.Cursor(namespace=last[0], name=last[1], revision=revision), group=query.group, kind=query.kind
        )
        items = [self._copy(k) for k in page]
        return ListPage(items=items, revision=revision, continue_token=token, remaining=len(rest))

    def _copy(self, key: ResourceKey) -> Resource:
        return records.copy_document(self._state.objects[key])

    @staticmethod
    def _matches(query: ListQuery, key: ResourceKey, obj: Resource) -> bool:
        if (key.group, key.kind) != (query.group, query.kind):
            return False
        if query.namespace is not None and records.storage_namespace(key) != query.namespace:
            return False
        return query.label_selector.matches(records.labels_of(obj)) and query.field_selector.matches(
            key.name, key.namespace
        )

    async def events(
        self, *, since: int, kinds: Collection[tuple[str, str]] | None = None, limit: int = 500
    ) -> Sequence[WatchEvent]:
        """Events with revision greater than ``since``, oldest first, at most ``limit``."""
        wanted = None if kinds is None else set(kinds)
        found: list[WatchEvent] = []
        for event in self._state.events:
            if len(found) >= limit:
                break
            key = ResourceKey.of(event.object)
            if event.revision > since and (wanted is None or (key.group, key.kind) in wanted):
                found.append(dataclasses.replace(event, object=records.copy_document(event.object)))
        return found

    async def event_page(self, *, since: int, kinds: Collection[tuple[str, str]], limit: int = 500) -> EventPage:
        """Events of ``kinds`` after ``since`` and the revision through which the log was read."""
        events = await self.events(since=since, kinds=kinds, limit=max(limit, 1)) if kinds else []
        through = events[-1].revision if len(events) >= limit else max(await self.current_revision(), since)
        return EventPage(events=events, through=through)

    async def current_revision(self) -> int:
        """The newest revision written (0 before the first write)."""
        return self._state.events[-1].revision if self._state.events else 0

    async def audit_records(self, query: AuditQuery) -> Sequence[AuditRecord]:
        """Audit records matching ``query``, oldest first."""
        found = [r for r in self._state.audit if _audit_matches(query, r)]
        return found[: max(query.limit, 0)]


def _audit_matches(query: AuditQuery, record: AuditRecord) -> bool:
    wanted = ((query.actor, record.actor), (query.kind, record.kind), (query.namespace, record.namespace))
    if any(want is not None and want != have for want, have in (*wanted, (query.name, record.name))):
        return False
    if query.since is not None and record.time < query.since:
        return False
    if query.until is not None and record.time >= query.until:
        return False
    return record.seq > query.after_seq


class InMemoryTokenStore:
    """``SqlTokenStore``'s methods over a dictionary; for unit tests."""

    def __init__(self) -> None:
        self._tokens: dict[str, ApiTokenRecord] = {}

    async def add(self, record: ApiTokenRecord) -> ApiTokenRecord:
        """Store ``record``; ConflictError when its id or hash is already stored."""
        if record.id in self._tokens or any(t.token_hash == record.token_hash for t in self._tokens.values()):
            raise ConflictError(
                f"API token {record.id} cannot be added: a token with that id or secret already exists; "
                "issue a new token"
            )
        self._tokens[record.id] = record
        return record

    async def get_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """The token whose secret hashes to ``token_hash``, or None."""
        return next((t for t in self._tokens.values() if t.token_hash == token_hash), None)

    async def list(self, *, user: str | None = None) -> Sequence[ApiTokenRecord]:
        """Every token (of ``user`` when given), oldest first."""
        tokens = [t for t in self._tokens.values() if user is None or t.user == user]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    async def mark_used(self, token_id: str, *, at: datetime) -> None:
        """Record that token ``token_id`` authenticated a request at ``at`` (no-op if it was deleted)."""
        if token_id in self._tokens:
            self._tokens[token_id] = dataclasses.replace(self._tokens[token_id], last_used_at=at)

    async def delete(self, token_id: str) -> None:
        """Revoke token ``token_id``; NotFoundError when there is none."""
        if self._tokens.pop(token_id, None) is None:
            raise NotFoundError(f"API token {token_id} does not exist; list tokens to find its id")
