"""Zero-config: configs derived from catalog services and their owning groups, and the sync plan.

Test design: each case is a small catalog (entity documents as Backstage serves them) and the
config fields it must produce; the sync cases feed the plan existing platform configs. The fuzz
test feeds arbitrary JSON-shaped entities and requires problems, never crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.observability import defaulting, model
from blacktop.observability.memory import InMemoryCatalogReader, InMemoryConfigObjects
from blacktop.observability.syncing import CatalogSync

from .catalog_entities import component, group


@dataclass
class Case:
    entities: list[dict[str, Any]]
    want: dict[str, Any]
    """Dotted path in the generated config → expected value."""
    want_problems: list[str] = field(default_factory=list)
    defaults: defaulting.CatalogDefaults = field(default_factory=defaulting.CatalogDefaults)


def lookup(document: Any, path: str) -> Any:
    for part in path.split("."):
        document = document[part]
    return document


CASES = {
    "channels-from-owner-group": Case(
        [group("payments", slack="payments-alerts", pagerduty="PD123"), component("payment-service")],
        {
            "spec.alerts.channels": ["#payments-alerts", "pagerduty:PD123"],
            "metadata.namespace": "payments",
            "metadata.name": "payment-service",
            "spec.service": "payment-service",
            "spec.metrics.additionalLabels": {"team": "payments", "tier": "standard"},
            "spec.dashboard.folder": "payments",
        },
    ),
    "component-pagerduty-overrides-group": Case(
        [
            group("payments", slack="#payments", pagerduty="PDTEAM"),
            component("pay", annotations={"pagerduty.com/service-id": "PDSVC"}),
        ],
        {"spec.alerts.channels": ["#payments", "pagerduty:PDSVC"]},
    ),
    "owner-without-annotations-has-no-channels": Case(
        [group("payments"), component("pay")], {"spec.alerts.channels": []}
    ),
    "tier-annotation-critical": Case(
        [group("payments"), component("pay", annotations={"observability.blacktop.dev/tier": "critical"})],
        {"spec.alerts.slo.availability": 0.9999, "spec.metrics.additionalLabels.tier": "critical"},
    ),
    "tier-label-internal": Case(
        [group("payments"), component("pay", labels={"tier": "internal"})], {"spec.alerts.slo.availability": 0.995}
    ),
    "lifecycle-production-is-standard": Case(
        [group("payments"), component("pay", lifecycle="production")], {"spec.alerts.slo.availability": 0.999}
    ),
    "lifecycle-experimental-is-internal": Case(
        [group("payments"), component("pay", lifecycle="experimental")], {"spec.alerts.slo.availability": 0.995}
    ),
    "configured-tiers": Case(
        [group("payments"), component("pay", lifecycle="experimental")],
        {"spec.alerts.slo.availability": 0.98},
        defaults=defaulting.CatalogDefaults(
            tiers={"gold": 0.9995, "bronze": 0.98}, lifecycle_tiers={"experimental": "bronze"}, default_tier="gold"
        ),
    ),
    "unknown-tier-falls-back-with-a-problem": Case(
        [group("payments"), component("pay", labels={"tier": "platinum"})],
        {"spec.alerts.slo.availability": 0.999},
        want_problems=["metadata.labels.tier"],
    ),
    "dashboard-selector-carried": Case(
        [group("payments"), component("pay", annotations={"grafana/dashboard-selector": "tags @> 'payments'"})],
        {
            "metadata.annotations": {
                "observability.blacktop.dev/entity-ref": "component:default/pay",
                "grafana/dashboard-selector": "tags @> 'payments'",
            }
        },
    ),
    "prometheus-annotations": Case(
        [group("payments"), component("pay", annotations={"prometheus.io/port": "8081", "prometheus.io/path": "m"})],
        {"spec.metrics.port": 8081, "spec.metrics.path": "/m"},
    ),
    "latency-and-availability-annotations": Case(
        [
            group("payments"),
            component(
                "pay",
                annotations={
                    "observability.blacktop.dev/latency-p99-ms": "250",
                    "observability.blacktop.dev/availability": "99.95%",
                },
            ),
        ],
        {"spec.alerts.slo.latencyP99Ms": 250, "spec.alerts.slo.availability": pytest.approx(0.9995)},
    ),
    "bad-slack-channel-is-a-problem-not-a-crash": Case(
        [group("payments", slack="Not A Channel!"), component("pay")],
        {"spec.alerts.channels": []},
        want_problems=["metadata.annotations.slack.com/channel"],
    ),
    "owner-namespace-strategy-entity": Case(
        [group("payments"), component("pay", namespace="retail")],
        {"metadata.namespace": "retail"},
        defaults=defaulting.CatalogDefaults(namespace="entity"),
    ),
    "owner-given-with-kind-and-namespace": Case(
        [group("payments", slack="pay", namespace="fin"), component("pay", owner="group:fin/payments")],
        {"spec.alerts.channels": ["#pay"], "metadata.namespace": "payments"},
    ),
    "name-normalised-to-a-dns-label": Case(
        [group("payments"), component("Payment_Service.v2")], {"spec.service": "payment-service-v2"}
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_catalog_service_becomes_a_config(case: Case) -> None:
    desired = defaulting.compute_catalog_configs(case.entities, defaults=case.defaults)
    assert len(desired.configs) == 1
    (config,) = desired.configs
    model.parse_observability_config(config)
    for path, value in case.want.items():
        assert lookup(config, path) == value, path
    assert [p.path for p in desired.problems] == case.want_problems


def test_only_components_of_type_service_get_configs() -> None:
    entities = [group("payments"), component("web", type_="website"), component("lib", type_="library")]
    assert defaulting.compute_catalog_configs(entities).configs == ()


def test_ownedby_relation_wins_over_spec_owner() -> None:
    pay = component("pay", owner="someone-else")
    pay["relations"] = [{"type": "ownedBy", "targetRef": "group:default/payments"}]
    (config,) = defaulting.compute_catalog_configs([group("payments", slack="pay"), pay]).configs
    assert config["spec"]["alerts"]["channels"] == ["#pay"]


def test_two_components_mapping_to_one_config_are_reported() -> None:
    entities = [group("payments"), component("pay"), component("pay", namespace="other")]
    desired = defaulting.compute_catalog_configs(entities)
    assert len(desired.configs) == 1
    assert [p.document for p in desired.problems] == ["component:other/pay"]


def managed(name: str, namespace: str = "payments", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {defaulting.MANAGED_BY_LABEL: defaulting.MANAGED_BY_CATALOG},
            "annotations": {defaulting.ENTITY_REF_ANNOTATION: f"component:default/{name}"},
        },
        "spec": {"service": name, **spec},
    }


def desired_for(*names: str) -> tuple[dict[str, Any], ...]:
    return defaulting.compute_catalog_configs([group("payments"), *(component(n) for n in names)]).configs


def test_sync_plan_creates_updates_and_deletes_managed_configs() -> None:
    wanted = desired_for("new-svc", "same-svc", "changed-svc")
    existing = [
        *[dict(d) for d in desired_for("same-svc")],
        {**desired_for("changed-svc")[0], "spec": {"service": "changed-svc"}},
        managed("gone-svc"),
    ]
    plan = defaulting.plan_catalog_sync(wanted, existing)
    assert sorted(d["metadata"]["name"] for d in plan.apply) == ["changed-svc", "new-svc"]
    assert plan.delete == (("payments", "gone-svc"),)
    assert plan.unchanged == 1


def test_sync_plan_treats_stored_defaults_as_equal() -> None:
    (wanted,) = desired_for("svc")
    stored = {**wanted, "spec": model.ObservabilityConfigSpec.model_validate(wanted["spec"]).model_dump(by_alias=True)}
    assert defaulting.plan_catalog_sync([wanted], [stored]).apply == ()


def test_hand_written_config_wins_and_replaces_the_managed_one() -> None:
    (wanted,) = desired_for("payment-service")
    hand_written = {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {"name": "payment-service-observability", "namespace": "payments"},
        "spec": {"service": "payment-service"},
    }
    plan = defaulting.plan_catalog_sync([wanted], [hand_written, wanted])
    assert plan.apply == ()
    assert plan.delete == (("payments", "payment-service"),)
    assert plan.skipped == ("payment-service",)


async def test_catalog_sync_follows_catalog_changes() -> None:
    catalog = InMemoryCatalogReader([group("payments", slack="payments"), component("pay")])
    configs = InMemoryConfigObjects()
    sync = CatalogSync(catalog, configs)
    first = await sync.sync()
    assert first.applied == ("payments/pay",)
    assert (await sync.sync()).applied == ()
    catalog.entities[0] = group("payments", slack="payments-oncall")
    second = await sync.sync()
    assert second.applied == ("payments/pay",)
    assert configs.objects[("payments", "pay")]["spec"]["alerts"]["channels"] == ["#payments-oncall"]
    catalog.entities.pop()
    third = await sync.sync()
    assert third.deleted == ("payments/pay",)
    assert configs.objects == {}


@pytest.mark.parametrize(
    ("selector", "tags"),
    [
        pytest.param("tags @> 'payments'", ("payments",), id="one-tag"),
        pytest.param("tags @> 'a' && tags @> \"b\"", ("a", "b"), id="and"),
        pytest.param("(tags @> 'a' || tags @> 'a')", ("a",), id="duplicates-once"),
        pytest.param("title == 'Payments'", (), id="title-needs-no-tag"),
    ],
)
def test_dashboard_selector_tags(selector: str, tags: tuple[str, ...]) -> None:
    from blacktop.observability import dashboards

    assert dashboards.selector_tags(selector) == tags


def test_generated_dashboard_carries_the_selector_tags() -> None:
    from blacktop.observability import dashboards

    (document,) = defaulting.compute_catalog_configs(
        [group("payments"), component("pay", annotations={"grafana/dashboard-selector": "tags @> 'team-pay'"})]
    ).configs
    rendered = dashboards.render_dashboard(model.parse_observability_config(document))
    assert "team-pay" in rendered["dashboard"]["tags"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@st.composite
def entities(draw: st.DrawFn) -> dict[str, Any]:
    base = draw(st.sampled_from([component("svc"), group("payments")]))
    metadata = dict(base["metadata"])
    metadata["annotations"] = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "slack.com/channel",
                    "pagerduty.com/service-id",
                    "prometheus.io/port",
                    "observability.blacktop.dev/tier",
                    "observability.blacktop.dev/availability",
                    "observability.blacktop.dev/latency-p99-ms",
                ]
            ),
            st.text(max_size=10),
        )
    )
    metadata["name"] = draw(st.text(min_size=1, max_size=20))
    spec = dict(base["spec"])
    spec.update(draw(st.dictionaries(st.sampled_from(["owner", "lifecycle", "type"]), JSON, max_size=2)))
    return {**base, "metadata": metadata, "spec": spec}


@settings(deadline=None, max_examples=150)
@given(st.lists(entities(), max_size=4))
def test_any_catalog_gives_valid_configs_or_problems(catalog: list[dict[str, Any]]) -> None:
    desired = defaulting.compute_catalog_configs(catalog)
    for config in desired.configs:
        model.parse_observability_config(config)
