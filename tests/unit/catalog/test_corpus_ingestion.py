"""Every Backstage corpus entity file ingests from its Location roots.

Test design notes: the corpus is served by an in-memory reader holding the real files (keyed by
``file:`` path), so the walk resolves relative targets exactly as it would on disk. The three roots
named in the corpus SOURCES reach 49 files and 67 entities; the demo and create-app files are roots
of their own. The example app allows every kind explicitly (Backstage's defaults allow only
Component, API and Location), and a second test shows the default rules rejecting the org file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blacktop.catalog import (
    DEFAULT_RULES,
    KNOWN_KINDS,
    IngestOptions,
    LocationSpec,
    allow_rule,
    ingest_location,
)

from .corpus_reader import ENTITIES, EXAMPLES, corpus_reader, file_location

ALL_KINDS = IngestOptions(rules=(allow_rule(*KNOWN_KINDS),))
ROOTS = (EXAMPLES / "all.yaml", EXAMPLES / "acme" / "org.yaml", EXAMPLES / "all-ai-resources.yaml")
OTHER_ROOTS = (
    ENTITIES / "demo" / "catalog-info.yaml",
    ENTITIES / "demo" / "examples" / "ai-resources.yaml",
    ENTITIES / "demo" / "examples" / "mcp-server-api.yaml",
    ENTITIES / "create-app" / "templates" / "default-app" / "examples" / "entities.yaml",
    ENTITIES / "create-app" / "templates" / "default-app" / "examples" / "org.yaml",
)


async def test_three_roots_reach_every_example_file_and_67_entities() -> None:
    reader = corpus_reader()
    files: set[str] = set()
    refs: list[str] = []
    for root in ROOTS:
        ingestion = await ingest_location(file_location(root), reader, options=ALL_KINDS)
        assert [p.describe() for p in ingestion.problems] == []
        files.update(ingestion.files_read)
        refs += ingestion.refs()
    # The OpenAPI file is read as a $text placeholder target, not as a descriptor.
    descriptor_files = {file_location(p).key for p in EXAMPLES.rglob("*.yaml") if p.name != "petstore-webhook.oas.yaml"}
    assert files == descriptor_files
    assert len(files) == 49
    assert len(refs) == 67 == len(set(refs))
    assert "user:development/guest" in refs
    assert "user:default/guest" in refs


@pytest.mark.parametrize("root", OTHER_ROOTS, ids=[p.relative_to(ENTITIES).as_posix() for p in OTHER_ROOTS])
async def test_other_corpus_files_ingest_as_their_own_roots(root: Path) -> None:
    ingestion = await ingest_location(file_location(root), corpus_reader(), options=ALL_KINDS)
    assert [p.describe() for p in ingestion.problems] == []
    assert ingestion.entities


async def test_ingested_entities_carry_location_annotations_and_substituted_definitions() -> None:
    root = file_location(EXAMPLES / "all.yaml")
    ingestion = await ingest_location(root, corpus_reader(), options=ALL_KINDS)
    by_ref = {e.entity.ref.key: e for e in ingestion.entities}
    webhook = by_ref["api:default/petstore-webhook"]
    source_file = file_location(EXAMPLES / "apis" / "petstore-webhook-api.yaml").key
    assert webhook.entity.annotations["backstage.io/managed-by-location"] == source_file
    assert webhook.entity.annotations["backstage.io/managed-by-origin-location"] == root.key
    assert webhook.location_key == source_file
    oas = (EXAMPLES / "apis" / "petstore-webhook.oas.yaml").read_text(encoding="utf-8")
    assert webhook.entity.spec["definition"] == oas
    assert webhook.refresh_keys == (file_location(EXAMPLES / "apis" / "petstore-webhook.oas.yaml").key,)
    # Children of a nested Location record it as their parent.
    assert by_ref["component:default/artist-lookup"].parent is not None
    assert by_ref["component:default/artist-lookup"].parent.key == "location:default/example-components"


async def test_default_rules_reject_groups_and_users_naming_the_rule() -> None:
    root = file_location(EXAMPLES / "acme" / "org.yaml")
    ingestion = await ingest_location(root, corpus_reader(), options=IngestOptions(rules=DEFAULT_RULES))
    assert ingestion.refs() == ["location:default/example-groups"]
    assert ingestion.problems
    assert all("not of an allowed kind for that location" in p.message for p in ingestion.problems)
    assert {p.path for p in ingestion.problems} == {"kind"}


async def test_missing_root_is_reported_not_raised() -> None:
    ingestion = await ingest_location(LocationSpec("file", "/nowhere/catalog-info.yaml"), corpus_reader())
    assert ingestion.entities == ()
    assert [p.document for p in ingestion.problems] == ["file:/nowhere/catalog-info.yaml"]
    assert "does not exist" in ingestion.problems[0].message
