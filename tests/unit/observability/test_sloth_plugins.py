"""Sloth plugins blacktop implements, and how plugin chains are assembled.

Test design notes: equality with Sloth's output for the plugin examples is proven in
``test_sloth_equality``; these tests cover the behaviour around it (errors, chain order and
override, rejecting a plugin on an SLI it cannot work with).
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.kernel.errors import InputError
from blacktop.observability import plugins, rules, slo

OFF = {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}}
EVENTS = {"events": {"error_query": "sum(rate(e[{{.window}}]))", "total_query": "sum(rate(t[{{.window}}]))"}}


def spec(*, slo_plugins: Any = None, slo_fields: dict[str, Any] | None = None, labels: Any = None) -> dict[str, Any]:
    one: dict[str, Any] = {"name": "avail", "objective": 99.9, "sli": EVENTS, "alerting": OFF, **(slo_fields or {})}
    document: dict[str, Any] = {"version": "prometheus/v1", "service": "svc", "slos": [one]}
    if slo_plugins is not None:
        document["slo_plugins"] = slo_plugins
    if labels is not None:
        document["labels"] = labels
    return document


@pytest.mark.parametrize(
    ("options", "labels", "message"),
    [
        pytest.param({"filter": 'a="b"'}, {"owner": "o", "tier": "1"}, "option job is required", id="no-job"),
        pytest.param({"job": "j"}, {"owner": "o"}, "label 'tier' is required", id="missing-label"),
        pytest.param({"job": "j", "filter": "not a filter"}, {"owner": "o", "tier": "1"}, "invalid prometheus filter",
                     id="bad-filter"),
    ],
)  # fmt: skip
def test_getting_started_plugin_reports_bad_input(
    options: dict[str, str], labels: dict[str, str], message: str
) -> None:
    document = spec(slo_fields={"sli": {"plugin": {"id": "getting_started_availability", "options": options}}})
    document["labels"] = labels
    with pytest.raises(InputError) as info:
        slo.parse_service_level(document)
    assert [p.path for p in info.value.problems] == ["slos[0].sli.plugin"]
    assert message in info.value.problems[0].message


def test_sli_plugins_can_be_supplied_by_the_caller() -> None:
    def fixed(labels: Any, options: Any) -> str:
        return f'my_ratio{{team="{options["team"]}"}}[{{{{.window}}}}]'

    document = spec(slo_fields={"sli": {"plugin": {"id": "team/ratio", "options": {"team": "a"}}}})
    level = slo.parse_service_level(document, sli_plugins={"team/ratio": fixed})
    assert rules.compute_rule_groups(level)[0].rules[0].expr == '(my_ratio{team="a"}[5m])'
    with pytest.raises(InputError, match="is invalid") as info:
        slo.parse_service_level(document)
    assert "SLI plugin 'team/ratio' is not supported" in info.value.problems[0].message


def test_plugin_chain_is_sorted_by_priority_and_slo_level_can_override() -> None:
    debug = plugins.SLO_PLUGIN_DEBUG
    chain = {"chain": [{"id": debug, "priority": 5, "config": {"msg": "spec"}}]}
    own = {"chain": [{"id": debug, "priority": -1, "config": {"msg": "slo"}}]}
    merged = slo.parse_service_level(spec(slo_plugins=chain, slo_fields={"plugins": own})).slos[0]
    assert [p.config["msg"] for p in merged.plugins] == ["slo", "spec"]
    replaced = slo.parse_service_level(
        spec(slo_plugins=chain, slo_fields={"plugins": {**own, "overridePrevious": True}})
    ).slos[0]
    assert [p.config["msg"] for p in replaced.plugins] == ["slo"]


def test_denominator_correction_needs_an_events_sli() -> None:
    raw = {"raw": {"error_ratio_query": "x[{{.window}}]"}}
    document = spec(slo_plugins={"chain": [{"id": plugins.SLO_PLUGIN_DENOMINATOR_CORRECTED}]}, slo_fields={"sli": raw})
    with pytest.raises(InputError) as info:
        slo.parse_service_level(document)
    assert [p.path for p in info.value.problems] == ["slos[0].sli"]


def test_denominator_correction_without_optimisation_computes_the_period_from_raw_data() -> None:
    chain = {"chain": [{"id": plugins.SLO_PLUGIN_DENOMINATOR_CORRECTED, "config": {"disableOptimized": True}}]}
    level = slo.parse_service_level(spec(slo_plugins=chain))
    sli_group = rules.compute_rule_groups(level)[0]
    period = sli_group.rules[-1]
    assert isinstance(period, rules.RecordingRule)
    assert period.record == "slo:sli_error:ratio_rate30d"
    assert period.expr == "(sum(rate(e[30d])))\n/\n(sum(rate(t[30d])))\n"
    meta = rules.compute_rule_groups(level)[1]
    corrections = [r.record for r in meta.rules if isinstance(r, rules.RecordingRule) and "numerator" in r.record]
    assert corrections == [f"slo:numerator_correction:ratio{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")]


def test_every_supported_slo_plugin_has_an_implementation() -> None:
    assert set(rules._SLO_PLUGINS) == plugins.SUPPORTED_SLO_PLUGINS
