"""The catalog repository's fast query paths answer exactly what the plain path answers, on both engines.

Design notes: a page of a broad filter may be found by walking entities in the served order
(``SqlCatalogRepository._walk``), and totals, facets and page ids are kept per write generation. Each query below is
compared with the same query asked without a total (which always materialises every match and is
never kept), with a walk prefix small enough that some walks come up short and fall back. The
generation tests use two repositories on one database, as two replicas would: a write through
either makes the other recompute.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from blacktop import catalog
from blacktop.catalog import querying, records, refreshing
from blacktop.store import build_engine, catalog_filters
from blacktop.store import catalog as catalog_store
from blacktop.store.catalog import CATALOG_TABLES, SqlCatalogRepository

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class Replicas:
    """Two repositories over one database, like two platform replicas."""

    one: SqlCatalogRepository
    two: SqlCatalogRepository


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def replicas(request: pytest.FixtureRequest) -> AsyncIterator[Replicas]:
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"))
    engines = [build_engine(url), build_engine(url)]
    async with engines[0].begin() as conn:
        for table in CATALOG_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
    yield Replicas(SqlCatalogRepository(engines[0]), SqlCatalogRepository(engines[1]))
    for engine in engines:
        await engine.dispose()


def entity(kind: str, name: str, **spec: Any) -> records.EntityWrite:
    """A processed entity as the refresh prepares it."""
    document = {
        "apiVersion": "backstage.io/v1alpha1", "kind": kind,
        "metadata": {"name": name, "namespace": "default", "tags": spec.pop("tags", [])},
        "spec": {"owner": "team-a", **spec},
    }  # fmt: skip
    ingested = catalog.IngestedEntity(
        entity=catalog.Entity.from_dict(document), location_key="file:/x.yaml", origin_key="file:/x.yaml",
        parent=None, relations=catalog.derive_relations(catalog.Entity.from_dict(document)).relations,
    )  # fmt: skip
    return refreshing.prepare_write(ingested)


def organisation() -> list[records.EntityWrite]:
    """300 entities whose kinds, types and tags cluster by name and by insertion order, as real catalogs do."""
    writes = []
    for i in range(200):
        kind_type = "website" if i >= 150 else "service"
        tags = ["go"] if i % 50 >= 45 else ["python"]
        writes.append(
            entity("Component", f"{'zz' if i >= 150 else 'aa'}-{i:03d}", type=kind_type, lifecycle="production",
                   tags=tags, owner=f"team-{i % 7}")
        )  # fmt: skip
    for i in range(100):
        lifecycle = "production" if i % 2 else "experimental"
        writes.append(entity("API", f"api-{i:03d}", type="openapi", lifecycle=lifecycle, definition="x"))
    return writes


def q(*filters: str, **kwargs: Any) -> records.EntityQuery:
    return records.EntityQuery(filter=querying.parse_filters(list(filters)), **kwargs)


BY_NAME = [querying.Order("metadata.name")]
BY_NAME_DESC = [querying.Order("metadata.name", descending=True)]
QUERIES = {
    "broad-two-conditions": q("kind=api,spec.lifecycle=production", limit=20),
    "broad-second-page": q("kind=api,spec.lifecycle=production", limit=20, offset=20),
    "clustered-at-the-end": q("kind=component,spec.type=website,metadata.tags=go", limit=5, order=BY_NAME),
    "clustered-descending": q("kind=component,spec.type=website", limit=7, order=BY_NAME_DESC),
    "no-kind-by-name": q("spec.lifecycle=production", limit=10, offset=3, order=BY_NAME),
    "negated-predicate": replace(
        q(limit=10), filter=querying.parse_predicate({"kind": "component", "$not": {"spec.type": "service"}})
    ),
    "relation-condition": q("kind=component,relations.ownedby=group:default/team-3", limit=4, order=BY_NAME),
    "several-kinds": q("kind=api,kind=component,spec.lifecycle=production", limit=10, order=BY_NAME),
    "past-the-end": q("kind=api,spec.lifecycle=production", limit=20, offset=45),
    "or-of-filters": q("kind=api,spec.lifecycle=experimental", "metadata.tags=go", limit=10),
    "order-by-search-key": q("kind=component", limit=10, order=[querying.Order("spec.owner")]),
}


def refs(page: records.EntityPage) -> list[str]:
    return [e.ref.key for e in page.items]


@pytest.mark.parametrize("walk_rows", [2000, 40], ids=["walk-finds-the-page", "walk-falls-back"])
@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
async def test_fast_paths_answer_what_materialising_answers(
    replicas: Replicas, query: records.EntityQuery, walk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_filters, "WALK_ROWS", walk_rows)
    await replicas.one.write_entities("loc-1", organisation())
    everything = await replicas.two.query(replace(query, limit=None, offset=0, count_total=False))
    want = refs(everything)[query.offset : query.offset + (query.limit or 0)]
    for _ in range(2):  # computed, then kept
        page = await replicas.one.query(replace(query, count_total=True))
        assert (refs(page), page.total) == (want, len(everything.items))


async def test_a_write_through_another_replica_is_seen_by_totals_pages_and_facets(replicas: Replicas) -> None:
    await replicas.one.write_entities("loc-1", organisation())
    broad = q("kind=api,spec.lifecycle=production", limit=3, order=BY_NAME, count_total=True)
    kinds = querying.EntityFilter()
    assert ((await replicas.one.query(broad)).total, refs(await replicas.one.query(broad))[0]) == (
        50, "api:default/api-001"
    )  # fmt: skip
    assert (await replicas.one.facets(["kind"], kinds))["kind"] == [("Component", 200), ("API", 100)]

    await replicas.two.write_entities("loc-2", [entity("API", "api-000a", type="openapi", lifecycle="production")])
    page = await replicas.one.query(broad)
    assert (page.total, refs(page)[0]) == (51, "api:default/api-000a")
    assert (await replicas.one.facets(["kind"], kinds))["kind"] == [("Component", 200), ("API", 101)]

    await replicas.two.mark_orphans(["api:default/api-000a"])
    orphaned = await replicas.one.query(q("metadata.annotations.backstage.io/orphan=true", count_total=True, limit=5))
    assert (orphaned.total, refs(orphaned)) == (1, ["api:default/api-000a"])

    await replicas.two.delete_entities(["api:default/api-000a", "api:default/api-001"])
    page = await replicas.one.query(broad)
    assert (page.total, refs(page)[0]) == (49, "api:default/api-003")
    assert (await replicas.one.facets(["kind"], kinds))["kind"] == [("Component", 200), ("API", 99)]


@pytest.mark.pg
async def test_a_large_refresh_refreshes_postgres_statistics(migrated_postgres_url: str) -> None:
    engine = build_engine(migrated_postgres_url)
    async with engine.begin() as conn:
        for table in CATALOG_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
        await conn.execute(text("ANALYZE catalog_search"))
    repo = SqlCatalogRepository(engine)
    writes = [entity("Component", f"svc-{i:04d}", type="service") for i in range(catalog_store.ANALYZE_AFTER)]
    await repo.write_entities("loc-1", writes)
    await repo.add_location(records.LocationRecord(id="loc-1", type="file", target="/x.yaml", created_at=NOW))
    await repo.save_location_state("loc-1", refreshed_at=NOW, summary={"written": len(writes)}, problems=())
    async with engine.connect() as conn:
        estimated = (
            await conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'catalog_search'"))
        ).scalar()
    await engine.dispose()
    assert estimated is not None and estimated > 5 * len(writes)
