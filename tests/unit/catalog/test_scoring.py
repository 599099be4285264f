"""Completeness scorecards, organisation and team roll-ups, and the dark-matter report.

Test design notes: the payment-service example carries every annotation the default rules look for
except a resolvable owner, so its scorecard fails exactly the owner check until ``team-payments``
exists; its seven forward references dangle until their targets are added. Corpus ingestion shows the
known dangling owner (``playback-order`` owned by ``group:default/guest``).
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.catalog import (
    KNOWN_KINDS,
    CheckSpec,
    Entity,
    EntityRef,
    IngestOptions,
    allow_rule,
    completeness,
    completeness_by_team,
    dark_matter_report,
    derive_relations,
    ingest_location,
    parse_checks,
    score_catalog,
    score_entity,
    validate_entity,
)
from blacktop.kernel.errors import InputError

from .corpus_reader import EXAMPLES, PAYMENT_SERVICE, corpus_reader, file_location


def doc(kind: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **metadata}, "spec": spec}


async def payment_service() -> Entity:
    ingestion = await ingest_location(file_location(PAYMENT_SERVICE), corpus_reader())
    return ingestion.entities[0].entity


TARGETS = [
    doc("Group", "team-payments", {"type": "team", "children": []}),
    doc("System", "commerce-platform", {"owner": "team-payments"}),
    *(
        doc("API", n, {"type": "openapi", "lifecycle": "production", "owner": "team-payments", "definition": "x"})
        for n in ("payment-api", "stripe-api", "ledger-api")
    ),
    doc("Resource", "orders-db", {"type": "database", "owner": "team-payments"}),
    doc("Component", "notification-service", {"type": "service", "lifecycle": "production", "owner": "team-payments"}),
]


async def test_payment_service_fails_only_the_owner_check_while_its_team_is_missing() -> None:
    entity = await payment_service()
    score = score_entity(entity, {entity.ref: entity})
    assert [f.id for f in score.failed] == ["owner"]
    assert "group:default/team-payments" in score.failed[0].message
    assert score.passed == ("description", "lifecycle", "system", "techdocs", "on-call", "dashboard", "links")
    assert score.percent == 87.5


async def test_payment_service_dangling_refs_show_in_dark_matter_until_targets_exist() -> None:
    entity = await payment_service()
    rows = list(derive_relations(entity).relations)
    report = dark_matter_report([entity], rows)
    assert [r.key for r in report.without_valid_owner] == ["component:default/payment-service"]
    assert {k.key: [v.key for v in vs] for k, vs in report.missing_owners.items()} == {
        "group:default/team-payments": ["component:default/payment-service"]
    }
    assert sorted((d.type, d.target.key) for d in report.dangling_relations) == [
        ("consumesApi", "api:default/ledger-api"),
        ("consumesApi", "api:default/stripe-api"),
        ("dependsOn", "component:default/notification-service"),
        ("dependsOn", "resource:default/orders-db"),
        ("ownedBy", "group:default/team-payments"),
        ("partOf", "system:default/commerce-platform"),
        ("providesApi", "api:default/payment-api"),
    ]
    others = [validate_entity(d) for d in TARGETS]
    all_rows = rows + [r for e in others for r in derive_relations(e).relations]
    healed = dark_matter_report([entity, *others], all_rows)
    assert healed.is_empty
    assert score_entity(entity, {e.ref: e for e in [entity, *others]}).failed == ()


async def test_corpus_dark_matter_names_the_known_dangling_owner() -> None:
    options = IngestOptions(rules=(allow_rule(*KNOWN_KINDS),))
    entities, rows = [], []
    for root in ("all.yaml", "acme/org.yaml", "all-ai-resources.yaml"):
        ingestion = await ingest_location(file_location(EXAMPLES / root), corpus_reader(), options=options)
        entities += [e.entity for e in ingestion.entities]
        rows += ingestion.all_relations()
    report = dark_matter_report(entities, rows)
    playback_order = EntityRef("Component", "default", "playback-order")
    assert report.missing_owners[EntityRef("Group", "default", "guest")] == (playback_order,)
    assert playback_order in report.without_valid_owner
    # searcher is owned by user:guest, which exists: a User is a valid owner.
    assert EntityRef("Component", "default", "searcher") not in report.without_valid_owner


def test_org_and_team_completeness() -> None:
    full = {
        "description": "d",
        "annotations": {
            "backstage.io/techdocs-ref": "dir:.",
            "pagerduty.com/service-id": "P",
            "grafana/dashboard-selector": "x",
        },
        "links": [{"url": "https://x.io"}],
    }
    entities = [
        validate_entity(d)
        for d in [
            doc("Group", "team-a", {"type": "team", "children": []}),
            doc(
                "Component",
                "good",
                {"type": "service", "lifecycle": "production", "owner": "team-a", "system": "s"},
                **full,
            ),
            doc("Component", "bare", {"type": "service", "lifecycle": "production", "owner": "team-a"}),
            doc("Component", "stray", {"type": "service", "lifecycle": "production", "owner": "team-x"}, **full),
        ]
    ]
    scores = score_catalog(entities)
    assert [s.ref.name for s in scores] == ["bare", "good", "stray"]
    by_name = {s.ref.name: s for s in scores}
    assert by_name["good"].failed == ()
    assert sorted(f.id for f in by_name["bare"].failed) == [
        "dashboard",
        "description",
        "links",
        "on-call",
        "system",
        "techdocs",
    ]
    assert [f.id for f in by_name["stray"].failed] == ["owner", "system"]
    org = completeness(scores)
    assert (org.entities, org.complete_entities, org.checks_passed, org.checks_applicable) == (3, 1, 16, 24)
    assert org.percent == 66.7
    teams = completeness_by_team(scores)
    assert {t: c.percent for t, c in teams.items()} == {"group:default/team-a": 62.5, "group:default/team-x": 75.0}


def test_checks_are_configurable() -> None:
    checks = parse_checks(
        [
            {"id": "runbook", "type": "annotation", "keys": ["acme.io/runbook"], "kinds": ["Component"]},
            {"id": "tier", "type": "field", "path": "metadata.labels.tier"},
        ]
    )
    assert checks[0] == CheckSpec(
        "runbook", "runbook", "annotation", frozenset({"component"}), keys=("acme.io/runbook",)
    )
    entity = validate_entity(
        doc("Component", "c", {"type": "s", "lifecycle": "l", "owner": "o"}, labels={"tier": "gold"})
    )
    score = score_entity(entity, {}, checks=checks)
    assert score.passed == ("tier",)
    assert [f.id for f in score.failed] == ["runbook"]


BAD_CONFIG = {
    "unknown-type": ([{"id": "x", "type": "magic"}], ["checks[0].type"]),
    "field-without-path": ([{"id": "x", "type": "field"}], ["checks[0].path"]),
    "annotation-without-keys": ([{"id": "x", "type": "annotation"}], ["checks[0].keys"]),
    "missing-id-second-item": ([{"id": "a", "type": "links"}, {"type": "links"}], ["checks[1].id"]),
}


@pytest.mark.parametrize(("config", "paths"), BAD_CONFIG.values(), ids=BAD_CONFIG.keys())
def test_bad_check_configuration_names_every_path(config: list[dict[str, Any]], paths: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        parse_checks(config)
    assert [p.path for p in caught.value.problems] == paths


def test_orphans_are_part_of_dark_matter() -> None:
    orphan = EntityRef("Component", "default", "old")
    report = dark_matter_report([], [], orphans=[orphan])
    assert report.orphans == (orphan,)
    assert not report.is_empty
