"""The service catalog's SQL storage: entities, relations, search rows, full text and locations.

Entities are written in bulk (one statement per table per batch) because a location refresh may
carry 100,000 of them; only entities whose hash changed reach this module. Filters run on the
flattened ``catalog_search`` rows (Backstage's design; the statements are built in
``catalog_filters``); ``relations.<type>`` conditions run on the relation rows. Full text is FTS5
on SQLite and ``tsvector``/GIN on PostgreSQL, written with each entity change. Totals, facets and
page ids are kept per write generation (``generations``). Served entities are stitched on read from
the processed document and the relation rows whose source is the entity, so a change to one entity
never requires rewriting its peers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop import catalog
from blacktop.catalog import querying, records
from blacktop.kernel.errors import Problem

from . import catalog_filters as filters
from . import errors, generations
from .catalog_tables import CATALOG_TABLES as CATALOG_TABLES
from .catalog_tables import entities, locations_table, processing_errors, relations, search, state

_CHUNK: Final = 500
SQLITE_CACHE_KIB: Final = 32 * 1024
"""Page cache of a connection that writes the catalog (per connection, in KiB)."""


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {"path": problem.path, "message": problem.message, "document": problem.document, "line": problem.line}


def _problem(value: Mapping[str, Any]) -> Problem:
    return Problem(
        path=str(value.get("path", "")), message=str(value.get("message", "")),
        document=value.get("document"), line=value.get("line"),
    )  # fmt: skip


class SqlCatalogRepository:
    """``catalog.ports.CatalogRepository`` on SQLite or PostgreSQL (migrated to ``0003_catalog``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pg = engine.dialect.name == "postgresql"
        self._kept = generations.GenerationCache()

    @asynccontextmanager
    async def _write(self, action: str, *, changes_entities: bool = False) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                if not self._pg:
                    await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    if not self._pg:
                        # Bulk index maintenance on million-row indexes needs more than SQLite's 2 MiB cache.
                        await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                    yield conn
                    if changes_entities:
                        # Last statement before commit: on PostgreSQL the row lock is held only briefly.
                        await conn.execute(
                            update(state).where(state.c.id == 1).values(generation=state.c.generation + 1)
                        )
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn, conn.begin():
                yield conn
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise

    # -- locations -------------------------------------------------------------------------------

    async def add_location(self, location: records.LocationRecord) -> None:
        """Store a new location."""
        async with self._write("register a catalog location") as conn:
            await conn.execute(
                insert(locations_table).values(
                    id=location.id, type=location.type, target=location.target, key=location.key,
                    created_at=location.created_at, refreshed_at=None, summary={}, problems=[],
                )
            )  # fmt: skip

    async def get_location(self, location_id: str) -> records.LocationRecord | None:
        """The location with this id, or None."""
        async with self._read("read a catalog location") as conn:
            row = (await conn.execute(select(locations_table).where(locations_table.c.id == location_id))).first()
        return None if row is None else _location(row._mapping)

    async def find_location(self, type_: str, target: str) -> records.LocationRecord | None:
        """The location registered for ``type:target``, or None."""
        async with self._read("read a catalog location") as conn:
            row = (
                await conn.execute(select(locations_table).where(locations_table.c.key == f"{type_}:{target}"))
            ).first()
        return None if row is None else _location(row._mapping)

    async def list_locations(self) -> list[records.LocationRecord]:
        """Every location, oldest first."""
        async with self._read("list catalog locations") as conn:
            rows = await conn.execute(
                select(locations_table).order_by(locations_table.c.created_at, locations_table.c.id)
            )
        return [_location(r._mapping) for r in rows]

    async def delete_location(self, location_id: str) -> None:
        """Remove a location row and its processing errors."""
        async with self._write("delete a catalog location") as conn:
            await conn.execute(delete(processing_errors).where(processing_errors.c.location_id == location_id))
            await conn.execute(delete(locations_table).where(locations_table.c.id == location_id))

    async def update_location(self, location_id: str, *, type_: str, target: str) -> None:
        """Point a location at another ``type:target``."""
        async with self._write("update a catalog location") as conn:
            await conn.execute(
                update(locations_table)
                .where(locations_table.c.id == location_id)
                .values(type=type_, target=target, key=f"{type_}:{target}")
            )

    async def save_location_state(
        self, location_id: str, *, refreshed_at: datetime, summary: Mapping[str, Any], problems: Sequence[Problem]
    ) -> None:
        """Record the last refresh: its summary, and its problems as processing-error rows.

        On PostgreSQL a refresh that changed at least ``ANALYZE_AFTER`` entities refreshes the
        planner's statistics: until autovacuum gets to it, a freshly ingested catalog is planned as
        empty tables, which made filters 20-30x slower.
        """
        await self._save_location_state(location_id, refreshed_at=refreshed_at, summary=summary, problems=problems)
        changed = sum(int(summary.get(k) or 0) for k in ("written", "removed", "orphaned"))
        if self._pg and changed >= ANALYZE_AFTER:
            async with self._write("analyze the catalog tables") as conn:
                await conn.exec_driver_sql("ANALYZE catalog_entities, catalog_search, catalog_relations")

    async def mark_location_stale(self, location_id: str) -> None:
        """Clear the location's ``refreshed_at``: what it holds no longer matches its last refresh."""
        async with self._write("mark a catalog location stale") as conn:
            await conn.execute(
                update(locations_table).where(locations_table.c.id == location_id).values(refreshed_at=None)
            )

    async def _save_location_state(
        self, location_id: str, *, refreshed_at: datetime, summary: Mapping[str, Any], problems: Sequence[Problem]
    ) -> None:
        async with self._write("record a catalog refresh") as conn:
            await conn.execute(
                update(locations_table)
                .where(locations_table.c.id == location_id)
                .values(refreshed_at=refreshed_at, summary=dict(summary), problems=[_problem_json(p) for p in problems])
            )
            await conn.execute(delete(processing_errors).where(processing_errors.c.location_id == location_id))
            if problems:
                await conn.execute(
                    insert(processing_errors),
                    [
                        {"location_id": location_id, "document": p.document, "line": p.line, "path": p.path,
                         "message": p.message}
                        for p in problems
                    ],
                )  # fmt: skip

    # -- entity writes ---------------------------------------------------------------------------

    async def hashes_of_location(self, location_id: str) -> dict[str, tuple[str, bool]]:
        """``{ref: (hash, orphan)}`` of the entities a location holds."""
        async with self._read("read catalog hashes") as conn:
            rows = await conn.execute(
                select(entities.c.ref, entities.c.hash, entities.c.orphan).where(entities.c.location_id == location_id)
            )
            return {r.ref: (r.hash, bool(r.orphan)) for r in rows}

    async def owners(self, refs: Sequence[str]) -> dict[str, records.Owner]:
        """Who holds each of ``refs``."""
        found: dict[str, records.Owner] = {}
        async with self._read("read catalog owners") as conn:
            for chunk in _chunks(list(refs)):
                rows = await conn.execute(
                    select(entities.c.ref, entities.c.location_id, entities.c.location_key, entities.c.orphan).where(
                        entities.c.ref.in_(chunk)
                    )
                )
                for r in rows:
                    found[r.ref] = records.Owner(r.location_id, r.location_key, bool(r.orphan))
        return found

    async def write_entities(self, location_id: str, writes: Sequence[records.EntityWrite]) -> None:
        """Insert or update entities with their relations, search rows and full text, in one transaction."""
        if not writes:
            return
        async with self._write("write catalog entities", changes_entities=True) as conn:
            for chunk in _chunks(list(writes)):
                await self._write_chunk(conn, location_id, chunk)

    async def _write_chunk(
        self, conn: AsyncConnection, location_id: str, writes: Sequence[records.EntityWrite]
    ) -> None:
        keys = [w.ref.key for w in writes]
        found = await conn.execute(
            select(entities.c.ref, entities.c.id, entities.c.uid).where(entities.c.ref.in_(keys))
        )
        existing: dict[str, int] = {}
        uids: dict[str, str] = {}
        for r in found:
            existing[r.ref], uids[r.ref] = r.id, r.uid
        changed_ids = list(existing.values())
        if changed_ids:
            await self._clear_indexes(conn, changed_ids)
            await conn.execute(
                update(entities).where(entities.c.id == bindparam("b_id")).values(
                    document=bindparam("b_document"), hash=bindparam("b_hash"), location_id=location_id,
                    location_key=bindparam("b_location_key"), orphan=False, errors=[],
                ),
                [
                    {"b_id": existing[w.ref.key], "b_document": dict(w.document), "b_hash": w.hash,
                     "b_location_key": w.location_key}
                    for w in writes if w.ref.key in existing
                ],
            )  # fmt: skip
        new = [w for w in writes if w.ref.key not in existing]
        uids.update({w.ref.key: str(uuid.uuid4()) for w in new})
        ids = dict(existing)
        if new:
            # A plain executemany, then the ids by ref: ``RETURNING`` with parameter order has no
            # sentinel column here, so SQLAlchemy would send one INSERT per entity.
            await conn.execute(
                insert(entities),
                [
                    {"uid": uids[w.ref.key], "ref": w.ref.key, "kind": w.ref.kind.lower(),
                     "namespace": w.ref.namespace.lower(), "name": w.ref.name.lower(), "document": dict(w.document),
                     "hash": w.hash, "location_id": location_id, "location_key": w.location_key, "orphan": False,
                     "errors": []}
                    for w in new
                ],
            )  # fmt: skip
            found = await conn.execute(
                select(entities.c.ref, entities.c.id).where(entities.c.ref.in_([w.ref.key for w in new]))
            )
            ids.update({r.ref: r.id for r in found})
        # One id lookup per entity (``EntityRef.key`` formats a string each time it is read).
        by_write = [(ids[key], w) for key, w in zip(keys, writes, strict=True)]
        relation_rows = [
            (entity_id, r.source.key, r.type, r.type.lower(), r.target.key)
            for entity_id, w in by_write
            for r in w.relations
        ]
        if relation_rows:
            await conn.exec_driver_sql(
                "INSERT INTO catalog_relations (origin_id, source_ref, type, type_key, target_ref) "
                f"VALUES ({self._marks(5)})",
                relation_rows,
            )
        search_rows = [(entity_id, s.key, s.value, s.original) for entity_id, w in by_write for s in w.search]
        search_rows += [(ids[key], "metadata.uid", uids[key], uids[key]) for key in keys]
        # In (key, value) order the batch lands in neighbouring pages of the (key, value, entity) index.
        search_rows.sort(key=_search_order)
        await conn.exec_driver_sql(
            f"INSERT INTO catalog_search (entity_id, key, value, original) VALUES ({self._marks(4)})", search_rows
        )
        await self._write_fulltext(conn, [(entity_id, w.text) for entity_id, w in by_write])

    def _marks(self, count: int) -> str:
        return ", ".join(["%s" if self._pg else "?"] * count)

    async def _write_fulltext(self, conn: AsyncConnection, rows: Sequence[tuple[int, str]]) -> None:
        if not rows:
            return
        if self._pg:
            sql = "INSERT INTO catalog_fulltext (entity_id, body) VALUES (%s, to_tsvector('simple', %s))"
        else:
            sql = "INSERT INTO catalog_fulltext (rowid, body) VALUES (?, ?)"
        await conn.exec_driver_sql(sql, list(rows))

    async def _clear_indexes(self, conn: AsyncConnection, ids: Sequence[int]) -> None:
        await conn.execute(delete(relations).where(relations.c.origin_id.in_(ids)))
        await conn.execute(delete(search).where(search.c.entity_id.in_(ids)))
        if self._pg:
            await conn.execute(text("DELETE FROM catalog_fulltext WHERE entity_id = ANY(:ids)"), {"ids": list(ids)})
        else:
            await conn.execute(text("DELETE FROM catalog_fulltext WHERE rowid = :id"), [{"id": i} for i in ids])

    async def delete_entities(self, refs: Sequence[str]) -> None:
        """Remove entities and everything indexed for them."""
        if not refs:
            return
        async with self._write("delete catalog entities", changes_entities=True) as conn:
            for chunk in _chunks(list(refs)):
                ids = [r.id for r in await conn.execute(select(entities.c.id).where(entities.c.ref.in_(chunk)))]
                if ids:
                    await self._clear_indexes(conn, ids)
                    await conn.execute(delete(entities).where(entities.c.id.in_(ids)))

    async def mark_orphans(self, refs: Sequence[str]) -> None:
        """Keep entities but flag them as orphans (claimable by any location)."""
        async with self._write("mark catalog orphans", changes_entities=True) as conn:
            for chunk in _chunks(list(refs)):
                await conn.execute(
                    update(entities).where(entities.c.ref.in_(chunk)).values(orphan=True, location_id=None)
                )
                await conn.execute(
                    delete(search).where(
                        search.c.entity_id.in_(select(entities.c.id).where(entities.c.ref.in_(chunk))),
                        search.c.key == "metadata.annotations.backstage.io/orphan",
                    )
                )
                await conn.execute(
                    insert(search).from_select(
                        ["entity_id", "key", "value", "original"],
                        select(
                            entities.c.id, text("'metadata.annotations.backstage.io/orphan'"), text("'true'"),
                            text("'true'"),
                        ).where(entities.c.ref.in_(chunk)),
                    )
                )  # fmt: skip

    # -- reads -----------------------------------------------------------------------------------

    async def query(self, query: records.EntityQuery) -> records.EntityPage:
        """Entities matching a filter (and substring/full-text term), ordered and paged.

        Totals and the ids of pages up to ``KEPT_PAGE`` entities are kept per write generation
        (``generations``). A page of a broad filter is first looked for by walking the first
        ``filters.WALK_ROWS`` entities in the served order and probing each (``_walk``); only when they hold
        too few matches are all matches materialised and sorted.
        """
        shape = (query.filter, query.fulltext, tuple(query.fulltext_fields), tuple(query.order))
        async with self._read("query the catalog") as conn:
            generation = await self._generation(conn)
            query = replace(query, filter=await self._smallest_first(conn, generation, query.filter))
            condition = filters.filter_condition(query.filter)
            if query.fulltext:
                condition = and_(condition, filters.term_condition(query.fulltext, query.fulltext_fields))
            for order in query.order:
                if order.field not in filters.ENTITY_COLUMNS:
                    # Backstage (since 3.7) leaves out entities that lack the order field.
                    condition = and_(condition, filters.has_key(order.field))
            total = None
            if query.count_total:
                count = filters.count_statement(query, condition)
                total = await self._kept.get_or_compute(
                    generation, ("total", *shape), lambda: self._scalar(conn, count)
                )
            if total == 0 or query.limit == 0:
                return records.EntityPage((), total)
            if query.limit is None or query.limit > KEPT_PAGE:
                rows = list((await conn.execute(self._materialised(query, select(entities), condition))).mappings())
            else:
                ids = await self._kept.get_or_compute(
                    generation, ("page", *shape, query.offset, query.limit),
                    lambda: self._page_ids(conn, generation, query, condition, total),
                )  # fmt: skip
                rows = await self._rows(conn, ids)
            items = await self._with_relations(conn, rows)
        return records.EntityPage(tuple(items), total)

    async def _smallest_first(
        self, conn: AsyncConnection, generation: int | None, entity_filter: querying.EntityFilter
    ) -> querying.EntityFilter:
        """The filter with broad conditions ordered by how many search rows match each (kept per generation).

        Intersecting index ranges smallest first halves the cost of e.g. ``kind=component`` (72%
        of a catalog) with ``spec.type`` and a tag; counting one range reads its index entries only.
        """
        alternatives = []
        for conditions in entity_filter.alternatives:
            if filters.broad_ranges(conditions) is None:
                alternatives.append(conditions)
                continue
            sizes: dict[querying.Condition, int] = {}
            for cond in conditions:
                rows = select(func.count()).where(search.c.key == cond.key, search.c.value.in_(cond.values or ()))
                sizes[cond] = await self._kept.get_or_compute(
                    generation, ("range", cond.key, cond.values), partial(self._scalar, conn, rows)
                )
            alternatives.append(tuple(sorted(conditions, key=lambda c: sizes[c])))
        return querying.EntityFilter(tuple(alternatives), nothing=entity_filter.nothing)

    async def _generation(self, conn: AsyncConnection) -> int | None:
        return (await conn.execute(select(state.c.generation).where(state.c.id == 1))).scalar_one_or_none()

    async def _scalar(self, conn: AsyncConnection, stmt: Select[Any]) -> int:
        return int((await conn.execute(stmt)).scalar_one())

    async def _is_dense(
        self, conn: AsyncConnection, generation: int | None, query: records.EntityQuery, total: int
    ) -> bool:
        """Whether matches spread evenly would put the page within the first ``filters.WALK_ROWS`` entities."""
        # The id span bounds the number of entities and costs one index lookup (a count reads them all).
        span = select(func.coalesce(func.max(entities.c.id) - func.min(entities.c.id) + 1, 0))
        size = await self._kept.get_or_compute(generation, ("size",), lambda: self._scalar(conn, span))
        return (query.offset + (query.limit or 0)) * size <= filters.WALK_ROWS * total

    async def _page_ids(
        self,
        conn: AsyncConnection,
        generation: int | None,
        query: records.EntityQuery,
        condition: ColumnElement[bool],
        total: int | None,
    ) -> tuple[int, ...]:
        if total is not None and filters.is_walkable(query) and await self._is_dense(conn, generation, query, total):
            found = await self._walk(conn, query)
            if len(found) >= min(query.limit or 0, total - query.offset):
                return found
        stmt = self._materialised(query, select(entities.c.id), condition)
        return tuple(int(i) for i in (await conn.execute(stmt)).scalars())

    async def _walk(self, conn: AsyncConnection, query: records.EntityQuery) -> tuple[int, ...]:
        """The page among the first ``filters.WALK_ROWS`` entities of the kind(s) in served order (may be short).

        Matches found in a prefix of the order are the first matches overall, so a full page found
        there is the right page; a short one means the matches cluster later and the caller
        materialises instead. The prefix comes from the ``(kind, name)`` / ``(kind, id)`` indexes.
        """
        (conditions,) = query.filter.alternatives
        kinds = [c for c in conditions if c.key == "kind" and c.values is not None and not c.negate]
        prefix = select(entities.c.id)
        if kinds:
            prefix = prefix.where(*(entities.c.kind.in_(c.values or ()) for c in kinds))
        prefix = filters.ordered(prefix, query.order).limit(filters.WALK_ROWS)
        probes = [filters.matches(c, drive=False) for c in conditions if c not in kinds]
        stmt = filters.ordered(select(entities.c.id).where(entities.c.id.in_(prefix), *probes), query.order)
        stmt = stmt.limit(query.limit).offset(query.offset)
        return tuple(int(i) for i in (await conn.execute(stmt)).scalars())

    async def _rows(self, conn: AsyncConnection, ids: Sequence[int]) -> list[Mapping[Any, Any]]:
        if not ids:
            return []
        found = {r["id"]: r for r in (await conn.execute(select(entities).where(entities.c.id.in_(ids)))).mappings()}
        return [found[i] for i in ids if i in found]

    def _materialised(
        self, query: records.EntityQuery, stmt: Select[Any], condition: ColumnElement[bool]
    ) -> Select[Any]:
        stmt = stmt.where(condition)
        for order in query.order:
            sort: ColumnElement[Any]
            if order.field in filters.ENTITY_COLUMNS:
                sort = filters.ENTITY_COLUMNS[order.field]
            else:
                sort = (
                    select(func.min(search.c.value))
                    .where(search.c.entity_id == entities.c.id, search.c.key == order.field)
                    .scalar_subquery()
                )
            stmt = stmt.order_by(sort.desc() if order.descending else sort.asc())
        # Insertion order is stable across pages and lets the database stop after ``limit`` rows.
        stmt = stmt.order_by(entities.c.id)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        if query.offset:
            stmt = stmt.offset(query.offset)
        return stmt

    async def _with_relations(
        self, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]]
    ) -> list[records.StoredEntity]:
        refs = [r["ref"] for r in rows]
        by_source: dict[str, list[catalog.Relation]] = {}
        for chunk in _chunks(refs):
            result = await conn.execute(
                select(relations.c.source_ref, relations.c.type, relations.c.target_ref).where(
                    relations.c.source_ref.in_(chunk)
                )
            )
            for r in result:
                by_source.setdefault(r.source_ref, []).append(
                    catalog.Relation(_ref(r.source_ref), r.type, _ref(r.target_ref))
                )
        return [_entity(r, tuple(by_source.get(r["ref"], ()))) for r in rows]

    async def get_by_refs(self, refs: Sequence[str]) -> dict[str, records.StoredEntity]:
        """Entities by canonical ref."""
        found: dict[str, records.StoredEntity] = {}
        async with self._read("read catalog entities") as conn:
            for chunk in _chunks([r.lower() for r in refs]):
                rows = list((await conn.execute(select(entities).where(entities.c.ref.in_(chunk)))).mappings())
                found.update({e.ref.key: e for e in await self._with_relations(conn, rows)})
        return found

    async def get_by_uid(self, uid: str) -> records.StoredEntity | None:
        """The entity with this uid, or None."""
        async with self._read("read a catalog entity") as conn:
            rows = list((await conn.execute(select(entities).where(entities.c.uid == uid))).mappings())
            items = await self._with_relations(conn, rows)
        return items[0] if items else None

    async def facets(
        self, facets: Sequence[str], entity_filter: querying.EntityFilter
    ) -> dict[str, list[tuple[str, int]]]:
        """``{facet: [(value, count)]}`` over the matching entities, most frequent first (kept per generation)."""
        condition = filters.filter_condition(entity_filter)
        out: dict[str, list[tuple[str, int]]] = {}
        async with self._read("compute catalog facets") as conn:
            generation = await self._generation(conn)
            for facet in facets:
                key = facet.lower()
                out[facet] = await self._kept.get_or_compute(
                    generation, ("facet", key, entity_filter),
                    lambda key=key: self._facet(conn, key, entity_filter, condition),  # type: ignore[misc]
                )  # fmt: skip
        return out

    async def _facet(
        self, conn: AsyncConnection, key: str, entity_filter: querying.EntityFilter, condition: ColumnElement[bool]
    ) -> list[tuple[str, int]]:
        counted = select(search.c.value, func.count().label("n")).where(
            search.c.key == key, search.c.value.is_not(None)
        )
        if not entity_filter.is_everything:
            counted = counted.where(search.c.entity_id.in_(select(entities.c.id).where(condition)))
        grouped = counted.group_by(search.c.value).subquery()
        # One original spelling per value, looked up once per group rather than read for every row.
        spelling = (
            select(search.c.original)
            .where(search.c.key == key, search.c.value == grouped.c.value)
            .limit(1)
            .scalar_subquery()
        )
        rows = (await conn.execute(select(spelling, grouped.c.n))).all()
        return sorted(((str(v), int(n)) for v, n in rows), key=lambda item: (-item[1], item[0]))

    async def search(self, term: str, *, entity_filter: querying.EntityFilter, limit: int) -> list[records.SearchHit]:
        """Ranked full-text matches; every word of ``term`` matches as a prefix."""
        words = querying.search_terms(term)
        if not words:
            return []
        condition = filters.filter_condition(entity_filter)
        async with self._read("search the catalog") as conn:
            if self._pg:
                query = " & ".join(f"{w}:*" for w in words)
                stmt = text(
                    "SELECT f.entity_id AS id, ts_rank(f.body, q) AS rank "
                    "FROM catalog_fulltext f, to_tsquery('simple', :q) q WHERE f.body @@ q "
                    "ORDER BY rank DESC, f.entity_id LIMIT :n"
                )
            else:
                query = " ".join(f'"{w}"*' for w in words)
                stmt = text(
                    "SELECT rowid AS id, -bm25(catalog_fulltext) AS rank FROM catalog_fulltext "
                    "WHERE catalog_fulltext MATCH :q ORDER BY bm25(catalog_fulltext), rowid LIMIT :n"
                )
            scan = limit if entity_filter.is_everything else max(limit * 20, 1000)
            ranked = [(int(r.id), float(r.rank)) for r in await conn.execute(stmt, {"q": query, "n": scan})]
            if not ranked:
                return []
            ids = [i for i, _ in ranked]
            rows = list((await conn.execute(select(entities).where(entities.c.id.in_(ids), condition))).mappings())
            stored = {e.id: e for e in await self._with_relations(conn, rows)}
        return [records.SearchHit(stored[i], rank) for i, rank in ranked if i in stored][:limit]

    async def outgoing(self, refs: Sequence[str], types: Sequence[str]) -> list[catalog.Relation]:
        """Relation rows whose source is one of ``refs`` and type one of ``types``."""
        found: list[catalog.Relation] = []
        async with self._read("read catalog relations") as conn:
            for chunk in _chunks(list(refs)):
                rows = await conn.execute(
                    select(relations.c.source_ref, relations.c.type, relations.c.target_ref).where(
                        relations.c.source_ref.in_(chunk), relations.c.type.in_(list(types))
                    )
                )
                found += [catalog.Relation(_ref(r.source_ref), r.type, _ref(r.target_ref)) for r in rows]
        return found

    async def all_entities(self) -> list[records.StoredEntity]:
        """Every entity with its relation rows."""
        async with self._read("read the whole catalog") as conn:
            rows = list((await conn.execute(select(entities).order_by(entities.c.ref))).mappings())
            return await self._with_relations(conn, rows)


ANALYZE_AFTER: Final = 1000
"""Entities a refresh must change before PostgreSQL's statistics of the catalog tables are refreshed."""
KEPT_PAGE: Final = 500
"""Pages up to this many entities have their ids kept per write generation."""


def _search_order(row: tuple[int, str, str | None, str | None]) -> tuple[str, str, int]:
    return (row[1], row[2] or "", row[0])


def _ref(key: str) -> catalog.EntityRef:
    kind, _, rest = key.partition(":")
    namespace, _, name = rest.partition("/")
    return catalog.EntityRef(kind, namespace, name)


def _entity(row: Mapping[Any, Any], rels: tuple[catalog.Relation, ...]) -> records.StoredEntity:
    document = row["document"]
    return records.StoredEntity(
        id=int(row["id"]), uid=str(row["uid"]), document=document,
        ref=catalog.EntityRef(
            str(document["kind"]), str(document["metadata"].get("namespace") or "default"),
            str(document["metadata"]["name"]),
        ),
        location_id=row["location_id"], location_key=str(row["location_key"]), orphan=bool(row["orphan"]),
        relations=rels, errors=tuple(_problem(p) for p in row["errors"] or []),
    )  # fmt: skip


def _location(row: Mapping[Any, Any]) -> records.LocationRecord:
    return records.LocationRecord(
        id=str(row["id"]), type=str(row["type"]), target=str(row["target"]), created_at=row["created_at"],
        refreshed_at=row["refreshed_at"], summary=dict(row["summary"] or {}),
        problems=tuple(_problem(p) for p in row["problems"] or []),
    )  # fmt: skip
