"""The SQL resource store: ``kernel.ports.ResourceStore`` on SQLite and PostgreSQL.

Write transactions are serialised, so the global revision (the ``events`` primary key) increases in
commit order and a watcher resuming from revision N never misses a change committed after it:
within a process an asyncio lock queues writers before they take a connection, and across
processes the database lock does (``BEGIN IMMEDIATE`` on SQLite, ``pg_advisory_xact_lock`` on
PostgreSQL). Under that lock the next revision is simply the newest one plus one.

A change updates the object row, its label rows and appends one event in the same transaction;
``metadata.resourceVersion`` is that event's revision. Lists are keyset-paginated on
(namespace, name) and read in one snapshot (REPEATABLE READ on PostgreSQL, a read transaction on
SQLite), so a page and the revision reported with it agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop.kernel.clock import Clock, SystemClock
from blacktop.kernel.errors import ConflictError, InputError, Problem
from blacktop.kernel.ports import (
    AuditQuery,
    AuditRecord,
    EventType,
    ListPage,
    ListQuery,
    ResourceTransaction,
    WatchEvent,
)
from blacktop.kernel.resources import Resource, ResourceKey

from . import errors, paging, querying, records, writing
from .tables import AuditRecordRow, EventRow, ResourceLabelRow, ResourceRow

WRITE_LOCK_KEY: Final = 0x626C_6B74_7772_0001
"""The PostgreSQL advisory lock every resource write transaction holds ("blktwr" + 1)."""


def _key_condition(key: ResourceKey) -> Any:
    return and_(
        ResourceRow.group == key.group,
        ResourceRow.kind == key.kind,
        ResourceRow.namespace == records.storage_namespace(key),
        ResourceRow.name == key.name,
    )


class SqlResourceTransaction:
    """One write transaction on an open connection that holds the store's write lock."""

    def __init__(self, conn: AsyncConnection, *, clock: Clock, guard: _Guard) -> None:
        self._conn = conn
        self._clock = clock
        self._guard = guard
        self._revision: int | None = None

    async def _next_revision(self) -> int:
        if self._revision is None:
            newest = await self._conn.scalar(select(func.coalesce(func.max(EventRow.revision), 0)))
            self._revision = int(newest or 0)
        self._revision += 1
        return self._revision

    async def _stored(self, key: ResourceKey) -> tuple[str, int, Resource] | None:
        stmt = select(ResourceRow.uid, ResourceRow.resource_version, ResourceRow.document).where(_key_condition(key))
        row = (await self._conn.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def _append_event(self, revision: int, type_: EventType, key: ResourceKey, obj: Resource) -> None:
        await self._conn.execute(
            insert(EventRow).values(
                revision=revision,
                type=type_.value,
                group=key.group,
                kind=key.kind,
                namespace=records.storage_namespace(key),
                name=key.name,
                object=obj,
            )
        )

    async def _write_labels(self, uid: str, key: ResourceKey, labels: dict[str, str]) -> None:
        if labels:
            namespace = records.storage_namespace(key)
            rows = [
                {"uid": uid, "group": key.group, "kind": key.kind, "namespace": namespace, "name": key.name}
                | {"key": k, "value": v}
                for k, v in labels.items()
            ]
            await self._conn.execute(insert(ResourceLabelRow), rows)

    async def get(self, key: ResourceKey) -> Resource | None:
        """The current object as this transaction sees it, or None."""
        with self._guard(f"read {key}"):
            stored = await self._stored(key)
        return None if stored is None else stored[2]

    async def create(self, obj: Resource) -> Resource:
        """Insert a copy of ``obj`` with uid, creationTimestamp and resourceVersion filled in."""
        obj = records.copy_document(obj)
        key = records.key_of(obj)
        with self._guard(f"create {key}"):
            if await self._stored(key) is not None:
                raise writing.already_exists(key)
            uid, created = records.prepare_new(obj, now=self._clock.now())
            revision = await self._next_revision()
            writing.with_version(obj, revision)
            await self._conn.execute(
                insert(ResourceRow).values(
                    uid=uid,
                    group=key.group,
                    kind=key.kind,
                    namespace=records.storage_namespace(key),
                    name=key.name,
                    resource_version=revision,
                    document=obj,
                    created_at=created,
                )
            )
            await self._write_labels(uid, key, records.labels_of(obj))
            await self._append_event(revision, EventType.ADDED, key, obj)
        return obj

    async def update(self, obj: Resource, *, expected_version: str | None) -> Resource:
        """Replace the stored object with a copy of ``obj``; 409 on a stale ``expected_version``."""
        obj = records.copy_document(obj)
        key = records.key_of(obj)
        with self._guard(f"update {key}"):
            stored = await self._stored(key)
            if stored is None:
                raise writing.not_found(key)
            uid, current, old = stored
            writing.check_version(key, current=str(current), expected=expected_version)
            writing.carry_server_fields(obj, old, key)
            revision = await self._next_revision()
            writing.with_version(obj, revision)
            await self._conn.execute(
                update(ResourceRow).where(ResourceRow.uid == uid).values(resource_version=revision, document=obj)
            )
            labels = records.labels_of(obj)
            if labels != records.labels_of(old):
                await self._conn.execute(delete(ResourceLabelRow).where(ResourceLabelRow.uid == uid))
                await self._write_labels(uid, key, labels)
            await self._append_event(revision, EventType.MODIFIED, key, obj)
        return obj

    async def delete(self, key: ResourceKey, *, expected_version: str | None) -> Resource:
        """Remove the object; it is returned (and sent to watchers) with the deletion's resourceVersion."""
        with self._guard(f"delete {key}"):
            stored = await self._stored(key)
            if stored is None:
                raise writing.not_found(key)
            uid, current, old = stored
            writing.check_version(key, current=str(current), expected=expected_version)
            revision = await self._next_revision()
            writing.with_version(old, revision)
            await self._conn.execute(delete(ResourceLabelRow).where(ResourceLabelRow.uid == uid))
            await self._conn.execute(delete(ResourceRow).where(ResourceRow.uid == uid))
            await self._append_event(revision, EventType.DELETED, key, old)
        return old

    async def last_audit(self) -> AuditRecord | None:
        """The newest audit record; the write lock is held, so no other writer can append meanwhile."""
        with self._guard("read the last audit record"):
            stmt = select(*records.AUDIT_COLUMNS).order_by(AuditRecordRow.seq.desc()).limit(1)
            row = (await self._conn.execute(stmt)).first()
        return None if row is None else records.audit_from_row(row)

    async def append_audit(self, record: AuditRecord) -> None:
        """Append ``record``; ConflictError when its ``seq`` is already taken."""
        with self._guard(f"append audit record {record.seq}"):
            taken = await self._conn.scalar(select(AuditRecordRow.seq).where(AuditRecordRow.seq == record.seq))
            if taken is not None:
                raise ConflictError(
                    f"audit record {record.seq} already exists; read the last record again and append after it"
                )
            await self._conn.execute(insert(AuditRecordRow).values(**records.audit_values(record)))


class _Guard:
    """Translates driver failures of one store into kernel errors, naming the action that failed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._url = engine.url

    @contextmanager
    def __call__(self, action: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._url, action=action) from exc
            raise


class SqlResourceStore:
    """``ResourceStore`` on an AsyncEngine (SQLite or PostgreSQL) migrated to head.

    The store does not own the engine: whoever built it disposes of it.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or SystemClock()
        self._guard = _Guard(engine)
        self._is_postgres = engine.dialect.name == "postgresql"
        self._local_writes = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ResourceTransaction]:
        """A serialised write transaction, committed when the block exits normally."""
        async with self._local_writes:
            with self._guard("write resources"):
                async with self._engine.connect() as conn:
                    if not self._is_postgres:
                        await conn.execution_options(sqlite_begin="IMMEDIATE")
                    async with conn.begin():
                        if self._is_postgres:
                            await conn.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
                        yield SqlResourceTransaction(conn, clock=self._clock, guard=self._guard)

    @asynccontextmanager
    async def _snapshot(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._guard(action):
            async with self._engine.connect() as conn:
                if self._is_postgres:
                    await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    yield conn

    async def get(self, key: ResourceKey) -> Resource | None:
        """The current object, or None."""
        with self._guard(f"read {key}"):
            async with self._engine.connect() as conn:
                document = await conn.scalar(select(ResourceRow.document).where(_key_condition(key)))
        return None if document is None else dict(document)

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects ordered by (namespace, name)."""
        limit = _page_size(query.limit)
        after = (
            paging.decode_continue(query.continue_token, group=query.group, kind=query.kind)
            if query.continue_token
            else None
        )
        stmt = querying.list_statement(query, after=after, limit=None if limit is None else limit + 1)
        async with self._snapshot(f"list {query.kind}.{query.group}") as conn:
            rows = (await conn.execute(stmt)).all()
            if after is not None:
                revision = after.revision
            else:
                revision = int(rows[0][3]) if rows else await _newest_revision(conn)
            if limit is None or len(rows) <= limit:
                return ListPage(items=[row[2] for row in rows], revision=revision)
            rows = rows[:limit]
            cursor = paging.Cursor(namespace=rows[-1][0], name=rows[-1][1], revision=revision)
            remaining = int(await conn.scalar(querying.count_statement(query, after=cursor)) or 0)
        token = paging.encode_continue(cursor, group=query.group, kind=query.kind)
        return ListPage(items=[row[2] for row in rows], revision=revision, continue_token=token, remaining=remaining)

    async def events(
        self, *, since: int, kinds: Collection[tuple[str, str]] | None = None, limit: int = 500
    ) -> Sequence[WatchEvent]:
        """Events with revision greater than ``since``, oldest first, at most ``limit``."""
        if kinds is not None and not kinds:
            return []
        stmt = select(EventRow.revision, EventRow.type, EventRow.object).where(EventRow.revision > since)
        if kinds is not None:
            stmt = stmt.where(or_(*(and_(EventRow.group == g, EventRow.kind == k) for g, k in kinds)))
        stmt = stmt.order_by(EventRow.revision).limit(max(limit, 0))
        with self._guard("read events"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [records.event_from_row(row[0], row[1], row[2]) for row in rows]

    async def current_revision(self) -> int:
        """The newest revision written (0 before the first write)."""
        with self._guard("read the current revision"):
            async with self._engine.connect() as conn:
                return await _newest_revision(conn)

    async def audit_records(self, query: AuditQuery) -> Sequence[AuditRecord]:
        """Audit records matching ``query``, oldest first."""
        row = AuditRecordRow
        stmt = select(*records.AUDIT_COLUMNS).where(row.seq > query.after_seq)
        filters = ((row.actor, query.actor), (row.kind, query.kind), (row.namespace, query.namespace))
        for column, wanted in (*filters, (row.name, query.name)):
            if wanted is not None:
                stmt = stmt.where(column == wanted)
        if query.since is not None:
            stmt = stmt.where(row.time >= query.since)
        if query.until is not None:
            stmt = stmt.where(row.time < query.until)
        stmt = stmt.order_by(row.seq).limit(max(query.limit, 0))
        with self._guard("read audit records"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [records.audit_from_row(r) for r in rows]


async def _newest_revision(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.coalesce(func.max(EventRow.revision), 0))) or 0)


def _page_size(limit: int | None) -> int | None:
    """``limit`` as a page size; None or 0 mean everything, as in Kubernetes."""
    if limit is None or limit == 0:
        return None
    if limit < 0:
        raise InputError(f"limit {limit} is negative", problems=[Problem(path="limit", message="must be 0 or more")])
    return limit
