"""The catalog repository's contract, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

Entities are written in bulk, updated in place (uid kept, indexes replaced), filtered through the
search rows and relation rows, ranked by full-text search with prefix matching, counted in facets,
orphaned and deleted; locations and their processing errors round-trip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from blacktop import catalog
from blacktop.catalog import querying, records, refreshing
from blacktop.kernel.errors import Problem
from blacktop.store import build_engine
from blacktop.store.catalog import CATALOG_TABLES, SqlCatalogRepository

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def repo(request: pytest.FixtureRequest) -> AsyncIterator[SqlCatalogRepository]:
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres_url"))
    engine = build_engine(url)
    async with engine.begin() as conn:
        for table in CATALOG_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
    yield SqlCatalogRepository(engine)
    await engine.dispose()


def component(name: str, **spec: Any) -> records.EntityWrite:
    """A processed Component as the refresh prepares it."""
    document = {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": name, "namespace": "default", "description": spec.pop("description", f"the {name}"),
                     "tags": spec.pop("tags", ["python"])},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", **spec},
    }  # fmt: skip
    entity = catalog.Entity.from_dict(document)
    ingested = catalog.IngestedEntity(
        entity=entity, location_key="file:/x.yaml", origin_key="file:/x.yaml", parent=None,
        relations=catalog.derive_relations(entity).relations,
    )  # fmt: skip
    return refreshing.prepare_write(ingested)


def q(*filters: str, **kwargs: Any) -> records.EntityQuery:
    return records.EntityQuery(filter=querying.parse_filters(list(filters)), **kwargs)


def names(page: records.EntityPage) -> list[str]:
    return [e.ref.name for e in page.items]


async def test_bulk_write_then_update_keeps_uid_and_replaces_indexes(repo: SqlCatalogRepository) -> None:
    await repo.write_entities("loc-1", [component(f"svc-{i:03d}") for i in range(600)])
    page = await repo.query(q("kind=component", count_total=True, limit=5))
    assert page.total == 600 and names(page) == [f"svc-{i:03d}" for i in range(5)]
    before = (await repo.get_by_refs(["component:default/svc-001"]))["component:default/svc-001"]

    await repo.write_entities("loc-1", [component("svc-001", description="renamed thing", tags=["go"])])
    after = (await repo.get_by_refs(["component:default/svc-001"]))["component:default/svc-001"]
    assert after.uid == before.uid and after.id == before.id
    assert after.document["metadata"]["description"] == "renamed thing"
    assert names(await repo.query(q("metadata.tags=go"))) == ["svc-001"]
    assert names(await repo.query(q("kind=component,metadata.tags=python", count_total=True, limit=0))) == []
    assert (await repo.query(q("metadata.tags=python", count_total=True))).total == 599
    hashes = await repo.hashes_of_location("loc-1")
    assert len(hashes) == 600 and hashes["component:default/svc-001"] == (after_hash(after), False)


def after_hash(entity: records.StoredEntity) -> str:
    return refreshing.entity_hash(dict(entity.document))


async def test_filters_relations_order_and_served_shape(repo: SqlCatalogRepository) -> None:
    await repo.write_entities(
        "loc-1",
        [component("a", dependsOn=["resource:db"]), component("b", owner="team-b"), component("c", system="shop")],
    )
    assert names(await repo.query(q("relations.ownedby=group:default/team-b"))) == ["b"]
    assert names(await repo.query(q("relations.dependson"))) == ["a"]
    assert names(await repo.query(q("spec.system"))) == ["c"]
    assert names(await repo.query(q("spec.owner=TEAM-A", "metadata.name=b"))) == ["a", "b", "c"]
    ordered = await repo.query(q(order=[querying.Order("metadata.name", descending=True)]))
    assert names(ordered) == ["c", "b", "a"]
    served = (await repo.get_by_refs(["component:default/a"]))["component:default/a"].served()
    assert {"type": "dependsOn", "targetRef": "resource:default/db"} in served["relations"]
    by_uid = await repo.get_by_uid(served["metadata"]["uid"])
    assert by_uid is not None and by_uid.ref.key == "component:default/a"
    outgoing = await repo.outgoing(["resource:default/db"], ["dependencyOf"])
    assert [(r.source.key, r.target.key) for r in outgoing] == [("resource:default/db", "component:default/a")]


async def test_full_text_search_ranks_and_matches_prefixes(repo: SqlCatalogRepository) -> None:
    await repo.write_entities(
        "loc-1",
        [
            component("payment-service", description="Processes payments via Stripe"),
            component("ledger", description="Keeps the payment ledger"),
            component("search", description="Unrelated"),
        ],
    )
    everything = querying.EntityFilter()
    hits = await repo.search("paym", entity_filter=everything, limit=10)
    assert {h.entity.ref.name for h in hits} == {"payment-service", "ledger"}
    assert hits[0].entity.ref.name == "payment-service"
    assert hits[0].rank >= hits[1].rank
    assert [h.entity.ref.name for h in await repo.search("stri proc", entity_filter=everything, limit=10)] == [
        "payment-service"
    ]
    await repo.write_entities("loc-1", [component("ledger", description="Keeps the books")])
    assert [h.entity.ref.name for h in await repo.search("paym", entity_filter=everything, limit=10)] == [
        "payment-service"
    ]


async def test_facets_count_entities_with_original_case(repo: SqlCatalogRepository) -> None:
    await repo.write_entities("loc-1", [component("a", type="Website"), component("b"), component("c")])
    facets = await repo.facets(["spec.type", "kind"], querying.parse_filters(["kind=component"]))
    assert facets == {"spec.type": [("service", 2), ("Website", 1)], "kind": [("Component", 3)]}


async def test_orphans_and_deletion(repo: SqlCatalogRepository) -> None:
    await repo.write_entities("loc-1", [component("a"), component("b")])
    await repo.mark_orphans(["component:default/a"])
    owners = await repo.owners(["component:default/a", "component:default/b", "component:default/zzz"])
    assert owners["component:default/a"].orphan and owners["component:default/a"].location_id is None
    assert owners["component:default/b"].location_id == "loc-1"
    assert "component:default/zzz" not in owners
    assert names(await repo.query(q("metadata.annotations.backstage.io/orphan=true"))) == ["a"]
    await repo.delete_entities(["component:default/a"])
    assert names(await repo.query(q())) == ["b"]
    assert await repo.search("the", entity_filter=querying.EntityFilter(), limit=5) != []
    assert all(
        h.entity.ref.name == "b" for h in await repo.search("the", entity_filter=querying.EntityFilter(), limit=5)
    )


async def test_locations_round_trip_with_processing_errors(repo: SqlCatalogRepository) -> None:
    location = records.LocationRecord(id="loc-1", type="file", target="/x/catalog-info.yaml", created_at=NOW)
    await repo.add_location(location)
    assert (await repo.find_location("file", "/x/catalog-info.yaml")) == location
    problem = Problem(path="spec.owner", message="must be a ref", document="file:/x/catalog-info.yaml", line=7)
    await repo.save_location_state("loc-1", refreshed_at=NOW, summary={"entities": 3}, problems=[problem])
    stored = await repo.get_location("loc-1")
    assert stored is not None and stored.problems == (problem,) and stored.summary == {"entities": 3}
    assert [loc.id for loc in await repo.list_locations()] == ["loc-1"]
    await repo.delete_location("loc-1")
    assert await repo.get_location("loc-1") is None
