"""The non-rule outputs: scrape configs, alert routing, tracing config and dashboards.

Test design notes: each output is checked for the behaviour the design asks of it (what is
scraped, who is paged, what is sampled, which panels exist), on the design's payment-service and
on small variants; exact layouts are pinned by the golden files instead.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.observability import (
    alert_windows,
    alerting,
    dashboards,
    model,
    objectives,
    prometheus,
    rendering,
    slo,
    tracing,
)

from .sloth_corpus import SHARED

DESIGN: dict[str, Any] = json.loads((SHARED / "examples" / "observability-payment-service.json").read_text())


def config(**spec: Any) -> model.ObservabilityConfig:
    document = copy.deepcopy(DESIGN)
    document["spec"].update(spec)
    return model.parse_observability_config(document)


PAYMENT = config()


def test_service_monitor_and_scrape_config_scrape_the_same_thing() -> None:
    monitor = prometheus.render_service_monitor(PAYMENT)
    scrape = prometheus.render_scrape_config(PAYMENT)
    endpoint = monitor["spec"]["endpoints"][0]
    assert (endpoint["interval"], endpoint["path"], endpoint["targetPort"]) == ("15s", "/metrics", 9090)
    assert (scrape["scrape_interval"], scrape["metrics_path"]) == ("15s", "/metrics")
    keep = {tuple(r["source_labels"]): r["regex"] for r in scrape["relabel_configs"] if r.get("action") == "keep"}
    assert keep == {
        ("__meta_kubernetes_service_label_app_kubernetes_io_name",): "payment-service",
        ("__meta_kubernetes_pod_container_port_number",): "9090",
    }
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "payment-service"}}
    # Both set the job to the service name, which the SLO queries select on.
    assert scrape["job_name"] == "payment-service"
    assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    added = {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]}
    added_plain = {r["target_label"]: r["replacement"] for r in scrape["relabel_configs"] if "replacement" in r}
    assert added == added_plain == {"team": "payments", "tier": "critical"}


def test_scrape_config_with_static_targets_for_local_mode() -> None:
    scrape = prometheus.render_scrape_config(PAYMENT, targets=["127.0.0.1:9090"])
    assert scrape["static_configs"] == [
        {"targets": ["127.0.0.1:9090"], "labels": {"team": "payments", "tier": "critical"}}
    ]
    assert "kubernetes_sd_configs" not in scrape


ROUTING = {
    "slack-and-pagerduty": (
        ["#payments-alerts", "pagerduty:payments-oncall"],
        {"critical": ({"payments-oncall"}, {"#payments-alerts"}), "warning": (set(), {"#payments-alerts"})},
    ),
    "slack-only": (["#a", "#b"], {"critical": (set(), {"#a", "#b"}), "warning": (set(), {"#a", "#b"})}),
    "pagerduty-only-tickets-fall-back": (
        ["pagerduty:svc"],
        {"critical": ({"svc"}, set()), "warning": ({"svc"}, set())},
    ),
    "no-channels": ([], {"critical": (set(), set()), "warning": (set(), set())}),
}


@pytest.mark.parametrize(("channels", "want"), ROUTING.values(), ids=ROUTING.keys())
def test_alert_routing_by_severity(channels: list[str], want: dict[str, tuple[set[str], set[str]]]) -> None:
    route, receivers = alerting.compute_service_routing(
        config(alerts={**DESIGN["spec"]["alerts"], "channels": channels}).spec
    )
    assert route["matchers"] == ['service="payment-service"']
    assert route["group_by"] == ["service", "severity"]
    by_name = {r["name"]: r for r in receivers}
    for child in route["routes"]:
        severity = child["matchers"][0].split('"')[1]
        receiver = by_name[child["receiver"]]
        pagerduty = {c["routing_key_file"].rsplit("/", 1)[1] for c in receiver.get("pagerduty_configs", [])}
        slack = {c["channel"] for c in receiver.get("slack_configs", [])}
        assert (pagerduty, slack) == want[severity], severity


def test_generated_alerts_carry_the_labels_routing_matches_on() -> None:
    groups = rendering.compute_config_rule_groups(PAYMENT)
    alerts = [r for g in groups for r in g.rules if hasattr(r, "alert")]
    severities = {(r.labels["service"], r.labels["sloth_severity"], r.labels["severity"]) for r in alerts}
    assert severities == {("payment-service", "page", "critical"), ("payment-service", "ticket", "warning")}


def test_alertmanager_config_routes_each_service_once_and_secrets_stay_out() -> None:
    other = config(service="orders")
    whole = alerting.render_alertmanager_config([PAYMENT.spec, other.spec])
    assert [r["matchers"] for r in whole["route"]["routes"]] == [['service="orders"'], ['service="payment-service"']]
    text = json.dumps(whole)
    assert 'routing_key"' not in text
    assert 'api_url"' not in text
    assert whole["route"]["receiver"] == "blackhole"


@pytest.mark.parametrize(
    ("propagation", "want"),
    [
        pytest.param(["w3c", "b3"], "tracecontext,baggage,b3", id="design"),
        pytest.param(["b3multi", "w3c", "b3multi"], "b3multi,tracecontext,baggage", id="order-kept-no-repeats"),
        pytest.param(["jaeger"], "jaeger", id="jaeger"),
    ],
)
def test_propagators(propagation: list[str], want: str) -> None:
    env = tracing.render_workload_env(config(tracing={**DESIGN["spec"]["tracing"], "propagation": propagation}))
    assert env["OTEL_PROPAGATORS"] == want


def test_sampling_happens_once_in_the_collector() -> None:
    collector = tracing.render_collector_config(PAYMENT)
    env = tracing.render_workload_env(PAYMENT)
    assert collector["processors"]["probabilistic_sampler"]["sampling_percentage"] == 10.0
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_always_on"
    pipeline = collector["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert "probabilistic_sampler" in pipeline["processors"]
    assert set(collector["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    assert env["OTEL_SERVICE_NAME"] == "payment-service"
    assert env["LOG_FIELDS"] == "request_id,user_id,trace_id"


def test_disabled_tracing_turns_the_sdk_off() -> None:
    env = tracing.render_workload_env(config(tracing={"enabled": False}))
    assert env["OTEL_SDK_DISABLED"] == "true"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


@pytest.mark.parametrize(
    ("threshold_ms", "matcher"),
    [
        pytest.param(500, 'le="0.5"', id="fraction"),
        pytest.param(250, 'le="0.25"', id="quarter"),
        pytest.param(2000, 'le=~"2|2.0"', id="whole-seconds-both-spellings"),
    ],
)
def test_latency_slo_reads_the_bucket_at_the_threshold(threshold_ms: int, matcher: str) -> None:
    level = objectives.compute_service_level(
        config(alerts={**DESIGN["spec"]["alerts"], "slo": {"availability": 0.999, "latencyP99Ms": threshold_ms}}).spec
    )
    latency = level.slos[1]
    assert latency.objective == 99.0
    assert isinstance(latency.sli, slo.EventsSLI)
    assert matcher in latency.sli.error_query


def test_no_latency_threshold_means_no_latency_slo() -> None:
    level = objectives.compute_service_level(config(alerts={"slo": {"availability": 0.99}}).spec)
    assert [s.name for s in level.slos] == ["availability"]
    assert level.slos[0].objective == 99.0


def test_burn_rate_overrides_replace_only_the_page_windows() -> None:
    spec = config(
        alerts={
            **DESIGN["spec"]["alerts"],
            "burnRate": {"fast": {"window": "2h", "threshold": 10}, "slow": {"window": "12h", "threshold": 4}},
        }
    ).spec
    windows = objectives.compute_alert_windows(spec)
    assert (windows.page_quick.short_ms, windows.page_quick.long_ms, windows.page_quick.factor) == (
        600_000,
        7_200_000,
        10,
    )
    assert (windows.page_slow.short_ms, windows.page_slow.long_ms, windows.page_slow.factor) == (
        3_600_000,
        43_200_000,
        4,
    )
    assert windows.ticket_quick == alert_windows.GOOGLE_30D.ticket_quick
    assert windows.ticket_slow == alert_windows.GOOGLE_30D.ticket_slow


def test_design_burn_rate_equals_sloths_defaults() -> None:
    assert objectives.compute_alert_windows(PAYMENT.spec) == alert_windows.GOOGLE_30D


def _panel_titles(board: dict[str, Any]) -> list[str]:
    return [p["title"] for p in board["panels"]]


def test_standard_dashboard_has_every_required_panel() -> None:
    rendered = dashboards.render_dashboard(PAYMENT)
    board = rendered["dashboard"]
    titles = _panel_titles(board)
    for want in ("Request rate", "Error rate", "Latency", "CPU", "Memory"):
        assert want in titles
    for name in ("availability", "latency"):
        for what in ("SLO attainment (30d)", "error budget remaining", "burn rate"):
            assert f"{name}: {what}" in titles
    latency = next(p for p in board["panels"] if p["title"] == "Latency")
    assert [t["legendFormat"] for t in latency["targets"]] == ["p50", "p90", "p99"]
    assert rendered["folder"] == {"uid": "payments-team", "title": "payments-team"}
    assert board["schemaVersion"] == 41
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_dashboard_round_trips_through_the_sdk_model() -> None:
    board = dashboards.render_dashboard(PAYMENT)["dashboard"]
    parsed = dashboards.parse_dashboard(board)
    again = json.loads(json.dumps(parsed, cls=dashboards.JSONEncoder, sort_keys=True))
    assert again == board


def test_platform_teams_add_their_own_templates() -> None:
    registry = dashboards.default_templates()

    def minimal(cfg: model.ObservabilityConfig) -> dashboards.gdash.Dashboard:
        return dashboards.gdash.Dashboard(f"{cfg.spec.service} minimal").uid("minimal")

    registry.register("team-minimal", minimal)
    custom = config(dashboard={"template": "team-minimal"})
    assert dashboards.render_dashboard(custom, templates=registry)["dashboard"]["title"] == "payment-service minimal"
    assert registry.names() == ("microservice-standard", "team-minimal")
    with pytest.raises(ConflictError, match="'team-minimal' is already registered"):
        registry.register("team-minimal", minimal)


def test_unknown_template_is_not_found_and_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="'nope' is not registered; registered templates: microservice-standard"):
        dashboards.render_dashboard(config(dashboard={"template": "nope"}))


def test_no_dashboard_when_auto_generate_is_off() -> None:
    outputs = rendering.render_outputs(config(dashboard={"autoGenerate": False}))
    assert outputs.dashboard is None
    assert "dashboard.json" not in rendering.render_files(outputs)
