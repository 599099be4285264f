"""The ObservabilityConfig kind: defaults, every problem reported with its path, schema parity.

Test design notes: the model (pydantic) and the registered OpenAPI schema are two shapes of one
definition, so the schema's defaults are checked to produce exactly the model's defaults, and
invalid documents are checked against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.kernel import schemas
from blacktop.kernel.errors import InputError
from blacktop.observability import OBSERVABILITY_CONFIG_KIND, OBSERVABILITY_CONFIG_SCHEMA, model


def _doc(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {"name": "orders-observability", "namespace": "shop"},
        "spec": {"service": "orders", **spec},
    }


def test_a_service_name_alone_gets_every_default() -> None:
    spec = model.parse_observability_config(_doc()).spec
    assert spec.metrics.scrape_interval == "30s"
    assert spec.metrics.path == "/metrics"
    assert spec.tracing.sampling_rate == 0.1
    assert spec.tracing.propagation == ["w3c"]
    assert spec.alerts.slo.availability == 0.999
    assert spec.alerts.slo.latency_p99_ms is None
    assert (spec.alerts.burn_rate.fast.window, spec.alerts.burn_rate.fast.threshold) == ("1h", 14.4)
    assert (spec.alerts.burn_rate.slow.window, spec.alerts.burn_rate.slow.threshold) == ("6h", 6.0)
    assert spec.dashboard.template == "microservice-standard"


def test_schema_defaults_equal_model_defaults() -> None:
    defaulted = schemas.apply_defaults(_doc(), OBSERVABILITY_CONFIG_KIND.schema)
    assert schemas.validate(defaulted, OBSERVABILITY_CONFIG_KIND.schema) == []
    from_schema = model.parse_observability_config(defaulted).spec
    assert from_schema == model.ObservabilityConfigSpec(service="orders")
    assert defaulted["spec"] == model.ObservabilityConfigSpec(service="orders").model_dump(by_alias=True, mode="json")


def test_schema_is_structural() -> None:
    assert schemas.check_schema(OBSERVABILITY_CONFIG_KIND.schema) == []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            assert not {"$ref", "anyOf", "title"} & node.keys(), path
            if "properties" in node:
                assert node.get("type") == "object", path
                for name, sub in node["properties"].items():
                    assert "type" in sub, f"{path}.{name}"
                    walk(sub, f"{path}.{name}")
            if "items" in node:
                walk(node["items"], path + "[]")

    walk(OBSERVABILITY_CONFIG_SCHEMA, "spec")


@dataclass(frozen=True)
class Case:
    spec: dict[str, Any]
    want_paths: list[str]


CASES = {
    "bad-service-name": Case({"service": "Payment_Service"}, ["spec.service"]),
    "bad-duration": Case({"metrics": {"scrapeInterval": "15 seconds"}}, ["spec.metrics.scrapeInterval"]),
    "port-out-of-range": Case({"metrics": {"port": 70000}}, ["spec.metrics.port"]),
    "sampling-above-one": Case({"tracing": {"samplingRate": 1.5}}, ["spec.tracing.samplingRate"]),
    "unknown-propagator": Case({"tracing": {"propagation": ["w3c", "zipkin"]}}, ["spec.tracing.propagation[1]"]),
    "availability-as-percent": Case({"alerts": {"slo": {"availability": 99.9}}}, ["spec.alerts.slo.availability"]),
    "channel-without-prefix": Case(
        {"alerts": {"channels": ["#ok", "payments-alerts", "pagerduty:"]}},
        ["spec.alerts.channels[1]", "spec.alerts.channels[2]"],
    ),
    "typo-field": Case({"metrics": {"scrapeIntervall": "15s"}}, ["spec.metrics.scrapeIntervall"]),
    "several-at-once": Case(
        {"metrics": {"port": 0}, "logging": {"level": "verbose"}},
        ["spec.metrics.port", "spec.logging.level"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_problem_is_reported_with_its_path(case: Case) -> None:
    document = _doc()
    document["spec"].update(case.spec)
    with pytest.raises(InputError) as info:
        model.parse_observability_config(document)
    assert sorted(p.path for p in info.value.problems) == sorted(case.want_paths)
    assert "orders-observability" in str(info.value)
    schema_paths = {p.path for p in schemas.validate(document, OBSERVABILITY_CONFIG_KIND.schema)}
    assert schema_paths, "the registered schema must reject what the model rejects"


def test_fast_window_must_be_shorter_than_slow_window() -> None:
    burn = {"fast": {"window": "6h", "threshold": 6}, "slow": {"window": "1h", "threshold": 14.4}}
    with pytest.raises(InputError) as info:
        model.parse_observability_config(_doc(alerts={"burnRate": burn}))
    assert [p.path for p in info.value.problems] == ["spec.alerts.burnRate"]
    assert "fast.window must be shorter" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("channel", "slack", "pagerduty"),
    [
        pytest.param("#payments-alerts", True, None, id="slack"),
        pytest.param("pagerduty:payments-oncall", False, "payments-oncall", id="pagerduty"),
    ],
)
def test_channel_kinds(channel: str, slack: bool, pagerduty: str | None) -> None:
    assert model.is_slack_channel(channel) is slack
    assert model.pagerduty_service(channel) == pagerduty


def test_kind_definition() -> None:
    assert OBSERVABILITY_CONFIG_KIND.api_version() == "platform.company.io/v1alpha1"
    assert OBSERVABILITY_CONFIG_KIND.name == "observabilityconfigs.platform.company.io"
    assert OBSERVABILITY_CONFIG_KIND.schema["properties"]["spec"] == OBSERVABILITY_CONFIG_SCHEMA
    assert OBSERVABILITY_CONFIG_SCHEMA["required"] == ["service"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
SPEC_KEYS = ["service", "metrics", "tracing", "logging", "alerts", "dashboard"]


@settings(max_examples=200)
@given(
    metadata=json_values,
    spec=st.dictionaries(st.sampled_from(SPEC_KEYS), json_values, max_size=4),
)
def test_malformed_documents_raise_input_errors_only(metadata: object, spec: dict[str, Any]) -> None:
    document = {"apiVersion": model.API_VERSION, "kind": model.KIND, "metadata": metadata, "spec": spec}
    try:
        model.parse_observability_config(document)
    except InputError as exc:
        problems = exc.problems
    else:
        problems = ()
    assert all(p.path for p in problems)
