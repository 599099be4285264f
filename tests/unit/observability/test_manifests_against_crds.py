"""Generated ServiceMonitor and PrometheusRule objects validate against the published CRD schemas.

Test design notes: the schemas are datreeio's JSON Schemas generated from the prometheus-operator
CRDs (``../shared/corpus/k8s-crd-schemas``). Each case validates with every error collected; the
negative cases show the schemas are strict enough to catch a misspelt field or a wrong type.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from blacktop.observability import model, prometheus, rendering, rules, slo

from .sloth_corpus import EXAMPLES, SHARED

CRDS = SHARED / "corpus" / "k8s-crd-schemas" / "monitoring.coreos.com"
DESIGN = SHARED / "examples" / "observability-payment-service.json"


def _validator(name: str) -> Draft7Validator:
    # No check_schema: one Go-only pattern (``^(?i)(abort|warn)?$``, a Thanos field blacktop never
    # sets) is not a Python regex; patterns are compiled only for fields that are present.
    return Draft7Validator(json.loads((CRDS / name).read_text()))


SERVICE_MONITOR = _validator("servicemonitor_v1.json")
PROMETHEUS_RULE = _validator("prometheusrule_v1.json")


def _errors(validator: Draft7Validator, document: dict[str, Any]) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


CONFIGS = {
    "design-payment-service": model.parse_observability_config(json.loads(DESIGN.read_text())),
    "defaults-only": model.parse_observability_config({"metadata": {"name": "orders"}, "spec": {"service": "orders"}}),
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_service_monitor_matches_the_crd(config: model.ObservabilityConfig) -> None:
    assert _errors(SERVICE_MONITOR, prometheus.render_service_monitor(config)) == []


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_slo_prometheus_rule_matches_the_crd(config: model.ObservabilityConfig) -> None:
    outputs = rendering.render_outputs(config)
    assert _errors(PROMETHEUS_RULE, outputs.prometheus_rule) == []


K8S_SPECS = sorted(p for p in EXAMPLES.iterdir() if p.name.startswith("k8s-"))


@pytest.mark.parametrize("spec", K8S_SPECS, ids=[p.name for p in K8S_SPECS])
def test_prometheus_rules_from_sloth_kubernetes_specs_match_the_crd(spec: Path) -> None:
    for level in slo.load_service_levels(spec.read_text()):
        assert level.name is not None
        assert level.namespace is not None
        rule = prometheus.render_prometheus_rule(
            rules.compute_rule_groups(level), name=level.name, namespace=level.namespace
        )
        assert _errors(PROMETHEUS_RULE, rule) == []


def _broken_monitor() -> dict[str, Any]:
    monitor = prometheus.render_service_monitor(CONFIGS["design-payment-service"])
    broken = copy.deepcopy(monitor)
    broken["spec"]["endpoints"][0]["interval"] = "15 seconds"
    broken["spec"]["endpoints"][0]["scrapeIntervall"] = "15s"
    return broken


def test_the_crd_schema_catches_a_broken_service_monitor() -> None:
    errors = _errors(SERVICE_MONITOR, _broken_monitor())
    assert any(e.startswith("spec/endpoints/0/interval") for e in errors)
    assert any("scrapeIntervall" in e for e in errors)


def test_the_crd_schema_catches_a_broken_prometheus_rule() -> None:
    rule = rendering.render_outputs(CONFIGS["design-payment-service"]).prometheus_rule
    broken = copy.deepcopy(rule)
    broken["spec"]["groups"][0]["rules"][0]["labels"]["sloth_window"] = 5
    assert _errors(PROMETHEUS_RULE, broken) == ["spec/groups/0/rules/0/labels/sloth_window: 5 is not of type 'string'"]
