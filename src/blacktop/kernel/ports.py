"""The storage contract every part of blacktop reads and writes resources through.

The SQL adapter in ``blacktop.store`` implements it for SQLite and PostgreSQL; the write pipeline
in ``blacktop.apiserver`` is its only writer. A write transaction changes resources, appends their
watch events and the audit record together, so a write is never stored without its audit record.
Revisions are global and increase in commit order, so a watcher that resumes from revision N sees
every later change exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from .resources import Resource, ResourceKey
from .selectors import FieldSelector, LabelSelector


class EventType(StrEnum):
    """What happened to an object, as Kubernetes watch events name it."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change, with the object as it was after it (before it, for DELETED)."""

    revision: int
    type: EventType
    object: Resource


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events read from the log, and the revision through which the reader has now seen every event.

    ``through`` is the newest revision at the time of the read when the page was not cut short by
    its limit, else the last event's revision; a follower resumes from it.
    """

    events: Sequence[WatchEvent]
    through: int


CommitListener = Callable[[Sequence[WatchEvent]], None]
"""Called by a store in this process with the events of each transaction it committed, in commit order."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request: one kind, optionally one namespace, selectors and a page size."""

    group: str
    kind: str
    namespace: str | None = None
    label_selector: LabelSelector = field(default_factory=LabelSelector)
    field_selector: FieldSelector = field(default_factory=FieldSelector)
    limit: int | None = None
    continue_token: str | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    """A page of objects ordered by namespace then name; ``continue_token`` fetches the next page."""

    items: list[Resource]
    revision: int
    continue_token: str | None = None
    remaining: int | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One append-only audit entry; ``hash`` chains it to the previous entry's ``prev_hash``.

    Objects are never stored here, only digests of their redacted form.
    """

    seq: int
    time: datetime
    actor: str
    verb: str
    group: str
    kind: str
    namespace: str | None
    name: str | None
    outcome: str
    code: int
    request_id: str
    message: str
    old_digest: str | None
    new_digest: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for reading the audit trail; all optional."""

    actor: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    limit: int = 1000


class ResourceTransaction(Protocol):
    """Writes inside one atomic transaction; concurrent transactions are serialised by the store."""

    async def get(self, key: ResourceKey) -> Resource | None:
        """The current object, or None."""
        ...

    async def create(self, obj: Resource) -> Resource:
        """Insert ``obj``; sets ``metadata.resourceVersion``. ConflictError if the key exists."""
        ...

    async def update(self, obj: Resource, *, expected_version: str | None) -> Resource:
        """Replace the object; ConflictError when ``expected_version`` is stale, NotFoundError if absent."""
        ...

    async def delete(self, key: ResourceKey, *, expected_version: str | None) -> Resource:
        """Remove the object and return it as it was; ConflictError when ``expected_version`` is stale."""
        ...

    async def last_audit(self) -> AuditRecord | None:
        """The newest audit record, read under the transaction's write lock so chains never fork."""
        ...

    async def append_audit(self, record: AuditRecord) -> None:
        """Append one audit record."""
        ...


class ResourceStore(Protocol):
    """Reads outside transactions, and a factory for write transactions."""

    def transaction(self) -> AbstractAsyncContextManager[ResourceTransaction]:
        """A write transaction, committed when the block exits normally and rolled back otherwise."""
        ...

    async def get(self, key: ResourceKey) -> Resource | None:
        """The current object, or None."""
        ...

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects."""
        ...

    async def events(
        self, *, since: int, kinds: Collection[tuple[str, str]] | None = None, limit: int = 500
    ) -> Sequence[WatchEvent]:
        """Events with revision greater than ``since``, oldest first; ``kinds`` are (group, kind) pairs."""
        ...

    async def event_page(self, *, since: int, kinds: Collection[tuple[str, str]], limit: int = 500) -> EventPage:
        """Like ``events``, with the revision through which the log has been read (see ``EventPage``)."""
        ...

    def subscribe(self, listener: CommitListener) -> None:
        """Call ``listener`` after every transaction this store instance commits, in commit order.

        Listeners run synchronously while the next writer waits, so they must be quick and must not
        write; they see only this process's writes (other replicas' changes show as a revision gap).
        """
        ...

    async def current_revision(self) -> int:
        """The newest revision written."""
        ...

    async def audit_records(self, query: AuditQuery) -> Sequence[AuditRecord]:
        """Audit records matching ``query``, oldest first."""
        ...
