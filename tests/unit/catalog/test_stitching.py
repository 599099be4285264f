"""The served entity: sorted ref lists, relations, uid, etag, orphan annotation and error status.

Test design notes: expectations follow the spec sheet sections 5.4 (generated location names) and
6.2-6.3 (sorting, stitching); the etag is only checked for stability and sensitivity, since
Backstage's own value is an opaque hash.
"""

from __future__ import annotations

import hashlib

from blacktop import catalog
from blacktop.catalog import (
    LocationSpec,
    compute_etag,
    derive_relations,
    generated_location_entity,
    ingest_location,
    sort_spec_lists,
    stitch_entity,
    validate_entity,
)
from blacktop.kernel.errors import Problem

from .corpus_reader import PAYMENT_SERVICE, corpus_reader, file_location

PUBLIC_NAMES = [
    "DEFAULT_CHECKS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_RULES",
    "FIELD_DEFAULT_KINDS",
    "INVERSE",
    "KIND_SCHEMAS",
    "KNOWN_KINDS",
    "RELATION_TYPES",
    "AllowRule",
    "CatalogError",
    "CheckSpec",
    "Claim",
    "Completeness",
    "DanglingRelation",
    "DarkMatter",
    "Derived",
    "Direction",
    "Entity",
    "EntityConflict",
    "EntityRef",
    "EntityScore",
    "FailedCheck",
    "Impact",
    "ImpactNode",
    "IngestOptions",
    "IngestedEntity",
    "Ingestion",
    "InvalidEntity",
    "InvalidEntityRef",
    "InvalidLocation",
    "KindMatcher",
    "KindSchema",
    "LocationMatcher",
    "LocationNotFound",
    "LocationReader",
    "LocationSpec",
    "OrphanPlan",
    "OrphanStrategy",
    "ParseResult",
    "ParsedDocument",
    "PlaceholderError",
    "PlaceholderPolicy",
    "Relation",
    "RelationGraph",
    "Substitution",
    "allow_rule",
    "completeness",
    "completeness_by_team",
    "compute_etag",
    "compute_impact",
    "dark_matter_report",
    "decide_claim",
    "derive_relations",
    "find_orphans",
    "format_ref",
    "generated_location_entity",
    "generated_location_name",
    "ingest_location",
    "ingestion_edges",
    "is_allowed",
    "is_same_repository",
    "mark_orphan",
    "may_change_catalog",
    "parse_checks",
    "parse_descriptor",
    "parse_location_ref",
    "parse_ref",
    "parse_spec_ref",
    "plan_orphans",
    "problems_in",
    "relations_from",
    "require_catalog_writer",
    "resolve_target",
    "schema_problems",
    "score_catalog",
    "score_entity",
    "select_schema",
    "sort_spec_lists",
    "split_ref",
    "stitch_entity",
    "substitute",
    "validate_document",
    "validate_entity",
]


def test_public_surface_is_pinned() -> None:
    assert sorted(catalog.__all__) == sorted(PUBLIC_NAMES)
    assert all(hasattr(catalog, name) for name in catalog.__all__)


async def test_ingested_entity_has_sorted_ref_lists() -> None:
    ingestion = await ingest_location(file_location(PAYMENT_SERVICE), corpus_reader())
    spec = ingestion.entities[0].entity.spec
    assert spec["consumesApis"] == ["ledger-api", "stripe-api"]
    assert spec["dependsOn"] == ["component:notification-service", "resource:orders-db"]


def test_sort_leaves_other_fields_alone() -> None:
    entity = validate_entity(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": "g"},
            "spec": {"type": "team", "children": ["b", "a"], "profile": {"email": "z"}},
        }
    )
    assert sort_spec_lists(entity).spec == {"type": "team", "children": ["a", "b"], "profile": {"email": "z"}}


async def test_stitched_entity_shape() -> None:
    ingestion = await ingest_location(file_location(PAYMENT_SERVICE), corpus_reader())
    entity = ingestion.entities[0].entity
    rows = derive_relations(entity).relations
    served = stitch_entity(entity, rows, uid="6b1f0e9c-0000-4000-8000-000000000001")
    assert set(served) == {"apiVersion", "kind", "metadata", "spec", "relations"}
    assert served["metadata"]["uid"] == "6b1f0e9c-0000-4000-8000-000000000001"
    assert served["relations"][0] == {"type": "consumesApi", "targetRef": "api:default/ledger-api"}
    assert [r["type"] for r in served["relations"]] == sorted(r["type"] for r in served["relations"])
    assert len(served["relations"]) == 7
    again = stitch_entity(entity, rows, uid="6b1f0e9c-0000-4000-8000-000000000001")
    assert again["metadata"]["etag"] == served["metadata"]["etag"]
    orphaned = stitch_entity(
        entity,
        rows,
        uid="6b1f0e9c-0000-4000-8000-000000000001",
        orphan=True,
        errors=[Problem(path="spec.owner", message="broken")],
    )
    assert orphaned["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert orphaned["status"]["items"][0]["type"] == "backstage.io/catalog-processing"
    assert orphaned["status"]["items"][0]["level"] == "error"
    assert orphaned["metadata"]["etag"] != served["metadata"]["etag"]
    assert compute_etag(orphaned) == orphaned["metadata"]["etag"]


def test_generated_location_entity_for_registered_location() -> None:
    location = LocationSpec("url", "https://github.com/acme/pay/blob/main/catalog-info.yaml")
    entity = generated_location_entity(location)
    digest = hashlib.sha1(location.key.encode(), usedforsecurity=False).hexdigest()
    assert entity.ref.key == f"location:default/generated-{digest}"
    assert entity.annotations["backstage.io/managed-by-location"] == location.key
    assert entity.spec == {"type": "url", "target": location.target}
    assert validate_entity(entity.to_dict()).ref == entity.ref


def test_yaml_merge_keys_are_off() -> None:
    parsed = catalog.parse_descriptor("base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n", source="s")
    assert parsed.documents[0].document["x"] == {"<<": {"a": 1}, "c": 2}
