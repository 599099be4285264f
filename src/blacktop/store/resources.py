"""The SQL resource store: ``kernel.ports.ResourceStore`` on SQLite and PostgreSQL.

On SQLite, write transactions run on one blocking connection on the event loop's own thread
rather than through aiosqlite's worker thread: a write transaction is a handful of statements
that SQLite finishes in well under a millisecond, while each hop to a worker thread and back costs
more than the statement itself; ``get`` reads its one row there too (see ``onloop``). Lists and
event reads stay on the async engine.

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
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final, Protocol

from sqlalchemy import Connection, Executable, Insert, and_, func, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop.kernel.clock import Clock, SystemClock
from blacktop.kernel.errors import ConflictError, InputError, Problem
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

from . import errors, onloop, paging, querying, records, statements, writing
from .tables import AuditRecordRow, EventRow

WRITE_LOCK_KEY: Final = 0x626C_6B74_7772_0001
"""The PostgreSQL advisory lock every resource write transaction holds ("blktwr" + 1)."""

_TAKE_WRITE_LOCK: Final = select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY))


class _Executor(Protocol):
    """The two calls a write transaction makes; an AsyncConnection has them, ``_OnLoop`` adapts a blocking one."""

    async def execute(self, statement: Executable, parameters: Any = None, /) -> Any: ...

    async def scalar(self, statement: Executable, parameters: Mapping[str, Any] | None = None, /) -> Any: ...


class _OnLoop:
    """A blocking SQLAlchemy connection behind the async calls a write transaction makes."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None, /) -> Any:
        return self._conn.execute(statement, parameters)

    async def scalar(self, statement: Executable, parameters: Mapping[str, Any] | None = None, /) -> Any:
        return self._conn.scalar(statement, parameters)


def _key_params(key: ResourceKey) -> dict[str, str]:
    return {
        "group": key.group,
        "kind": key.kind,
        "namespace": records.storage_namespace(key),
        "name": key.name,
    }


class SqlResourceTransaction:
    """One write transaction on an open connection that holds the store's write lock.

    Documents are stored without ``metadata.resourceVersion``; it is the row's revision column and
    is put back on every read, so a revision assigned inside a statement never needs a second write.
    """

    def __init__(self, conn: _Executor, *, clock: Clock, guard: _Guard, insert_resource: Insert) -> None:
        self._conn = conn
        self._clock = clock
        self._guard = guard
        self._insert_resource = insert_resource
        self.events: list[WatchEvent] = []
        """The events this transaction appended, for the store's commit listeners."""

    def _committed(self, revision: int, type_: EventType, obj: Resource) -> None:
        self.events.append(WatchEvent(revision, type_, records.copy_document(obj)))

    async def _stored(self, key: ResourceKey) -> tuple[str, int, Resource] | None:
        row = (await self._conn.execute(statements.SELECT_STORED, _key_params(key))).first()
        if row is None:
            return None
        return row[0], row[1], writing.with_version(row[2], row[1])

    async def _append_event(self, revision: int, type_: EventType, key: ResourceKey, obj: Resource) -> None:
        params = {"revision": revision, "type": type_.value, "object": records.without_version(obj)}
        await self._conn.execute(statements.INSERT_EVENT, params | _key_params(key))

    async def _write_labels(self, uid: str, key: ResourceKey, labels: dict[str, str]) -> None:
        if labels:
            common = {"uid": uid} | _key_params(key)
            rows = [common | {"key": k, "value": v} for k, v in labels.items()]
            await self._conn.execute(statements.INSERT_LABELS, rows)

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
            uid, created = records.prepare_new(obj, now=self._clock.now())
            params = {"uid": uid, "document": records.without_version(obj), "created_at": created}
            revision = await self._conn.scalar(self._insert_resource, params | _key_params(key))
            if revision is None:
                raise writing.already_exists(key)
            writing.with_version(obj, revision)
            await self._write_labels(uid, key, records.labels_of(obj))
            await self._append_event(revision, EventType.ADDED, key, obj)
        self._committed(revision, EventType.ADDED, obj)
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
            params = {"target_uid": uid, "document": records.without_version(obj)}
            revision = int(await self._conn.scalar(statements.UPDATE_RESOURCE, params) or 0)
            writing.with_version(obj, revision)
            labels = records.labels_of(obj)
            if labels != records.labels_of(old):
                await self._conn.execute(statements.DELETE_LABELS, {"uid": uid})
                await self._write_labels(uid, key, labels)
            await self._append_event(revision, EventType.MODIFIED, key, obj)
        self._committed(revision, EventType.MODIFIED, obj)
        return obj

    async def delete(self, key: ResourceKey, *, expected_version: str | None) -> Resource:
        """Remove the object; it is returned (and sent to watchers) with the deletion's resourceVersion."""
        with self._guard(f"delete {key}"):
            stored = await self._stored(key)
            if stored is None:
                raise writing.not_found(key)
            uid, current, old = stored
            writing.check_version(key, current=str(current), expected=expected_version)
            await self._conn.execute(statements.DELETE_LABELS, {"uid": uid})
            await self._conn.execute(statements.DELETE_RESOURCE, {"uid": uid})
            params = {"type": EventType.DELETED.value, "object": records.without_version(old)}
            revision = int(
                await self._conn.scalar(statements.INSERT_EVENT_AT_NEXT_REVISION, params | _key_params(key)) or 0
            )
        deleted = writing.with_version(old, revision)
        self._committed(revision, EventType.DELETED, deleted)
        return deleted

    async def last_audit(self) -> AuditRecord | None:
        """The newest audit record; the write lock is held, so no other writer can append meanwhile."""
        with self._guard("read the last audit record"):
            row = (await self._conn.execute(statements.SELECT_LAST_AUDIT)).first()
        return None if row is None else records.audit_from_row(row)

    async def append_audit(self, record: AuditRecord) -> None:
        """Append ``record``; ConflictError when its ``seq`` is already taken."""
        with self._guard(f"append audit record {record.seq}"):
            # The sequence number is the primary key, so a taken one fails the insert itself (under the
            # write lock it cannot happen; a separate check cost a statement on every write).
            try:
                await self._conn.execute(statements.INSERT_AUDIT, records.audit_values(record))
            except sa_exc.IntegrityError as error:
                raise ConflictError(
                    f"audit record {record.seq} already exists; read the last record again and append after it"
                ) from error


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
        self._insert_resource = statements.insert_resource(engine.dialect.name)
        self._listeners: list[CommitListener] = []
        self._on_loop = onloop.SqliteOnLoop(engine.url) if onloop.applies_to(engine) else None

    def subscribe(self, listener: CommitListener) -> None:
        """Call ``listener`` with the events of every transaction committed here, in commit order."""
        self._listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ResourceTransaction]:
        """A serialised write transaction, committed when the block exits normally.

        Transactions do not nest: opening a second one inside the block waits for the first forever.
        """
        if self._on_loop is not None:
            async with self._sqlite_transaction(self._on_loop) as tx:
                yield tx
            return
        async with self._local_writes:
            with self._guard("write resources"):
                async with self._engine.connect() as conn:
                    if not self._is_postgres:
                        await conn.execution_options(sqlite_begin="IMMEDIATE")
                    async with conn.begin():
                        if self._is_postgres:
                            await conn.execute(_TAKE_WRITE_LOCK)
                        tx = SqlResourceTransaction(
                            conn, clock=self._clock, guard=self._guard, insert_resource=self._insert_resource
                        )
                        yield tx
            # Still under the local write lock, so listeners hear of commits in revision order.
            if tx.events:
                writing.tell_listeners(self._listeners, tx.events)

    @asynccontextmanager
    async def _sqlite_transaction(self, on_loop: onloop.SqliteOnLoop) -> AsyncIterator[SqlResourceTransaction]:
        async with self._local_writes:
            with self._guard("write resources"):
                conn = await on_loop.begin()
                try:
                    tx = SqlResourceTransaction(
                        _OnLoop(conn), clock=self._clock, guard=self._guard, insert_resource=self._insert_resource
                    )
                    yield tx
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
            on_loop.committed()
            if tx.events:
                writing.tell_listeners(self._listeners, tx.events)

    async def close(self) -> None:
        """Close the SQLite loop-thread connections, if any (the async engine is the owner's to dispose)."""
        if self._on_loop is not None:
            async with self._local_writes:
                await self._on_loop.close()

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
            if self._on_loop is not None:
                found, row = self._on_loop.read_first(statements.SELECT_DOCUMENT, _key_params(key))
                if found:
                    return None if row is None else writing.with_version(row[0], row[1])
            async with self._engine.connect() as conn:
                row = (await conn.execute(statements.SELECT_DOCUMENT, _key_params(key))).first()
        return None if row is None else writing.with_version(row[0], row[1])

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects ordered by (namespace, name)."""
        limit = _page_size(query.limit)
        after = (
            paging.decode_continue(query.continue_token, group=query.group, kind=query.kind)
            if query.continue_token
            else None
        )
        shape = querying.statement_key(query)
        stmt = querying.list_statement(shape, paged=after is not None, limit=None if limit is None else limit + 1)
        async with self._snapshot(f"list {query.kind}.{query.group}") as conn:
            rows = (await conn.execute(stmt, querying.cursor_params(after))).all()
            if after is not None:
                revision = after.revision
            else:
                revision = int(rows[0][4]) if rows else await _newest_revision(conn)
            if limit is None or len(rows) <= limit:
                return ListPage(items=_documents(rows), revision=revision)
            rows = rows[:limit]
            cursor = paging.Cursor(namespace=rows[-1][0], name=rows[-1][1], revision=revision)
            count = querying.count_statement(shape)
            remaining = int(await conn.scalar(count, querying.cursor_params(cursor)) or 0)
        token = paging.encode_continue(cursor, group=query.group, kind=query.kind)
        return ListPage(items=_documents(rows), revision=revision, continue_token=token, remaining=remaining)

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
        return [records.event_from_row(row[0], row[1], writing.with_version(row[2], row[0])) for row in rows]

    async def event_page(self, *, since: int, kinds: Collection[tuple[str, str]], limit: int = 500) -> EventPage:
        """Events of ``kinds`` after ``since`` and the revision through which the log was read, in one snapshot."""
        stmt = select(EventRow.revision, EventRow.type, EventRow.object).where(EventRow.revision > since)
        if kinds:
            stmt = stmt.where(or_(*(and_(EventRow.group == g, EventRow.kind == k) for g, k in kinds)))
        stmt = stmt.order_by(EventRow.revision).limit(max(limit, 1))
        async with self._snapshot("read events") as conn:
            newest = await _newest_revision(conn)
            rows = (await conn.execute(stmt)).all() if kinds else []
        events = [records.event_from_row(row[0], row[1], writing.with_version(row[2], row[0])) for row in rows]
        through = events[-1].revision if len(events) >= limit else max(newest, since)
        return EventPage(events=events, through=through)

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


def _documents(rows: Sequence[Sequence[Any]]) -> list[Resource]:
    """Documents of (namespace, name, document, resource_version, ...) rows, with their resourceVersion."""
    return [writing.with_version(row[2], row[3]) for row in rows]


async def _newest_revision(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.coalesce(func.max(EventRow.revision), 0))) or 0)


def _page_size(limit: int | None) -> int | None:
    """``limit`` as a page size; None or 0 mean everything, as in Kubernetes."""
    if limit is None or limit == 0:
        return None
    if limit < 0:
        raise InputError(f"limit {limit} is negative", problems=[Problem(path="limit", message="must be 0 or more")])
    return limit
