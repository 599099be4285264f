"""The observability package's public names are pinned, and each is importable."""

from __future__ import annotations

import blacktop.observability as observability

EXPECTED = {
    "BUILTIN_TEMPLATE", "GOOGLE_28D", "GOOGLE_30D", "OBSERVABILITY_CONFIG_KIND", "OBSERVABILITY_CONFIG_SCHEMA",
    "SLO", "AlertWindows", "AlertingRule", "BurnWindow", "CatalogDefaults", "CatalogReader", "CatalogSync",
    "ConfigObjects", "DashboardTemplate", "EventsSLI", "GeneratorInfo", "MetricsQuerier", "ObservabilityConfig",
    "ObservabilityConfigSpec", "ObservabilityOutputs", "ObservabilityService", "OutputPublisher", "OutputRepository",
    "OutputsStatus", "PluginRef", "RawSLI", "RecordingRule", "RuleGroup", "Sample", "SecretFiles", "ServiceLevel",
    "SloReport", "SyncResult", "TemplateRegistry", "alert_windows", "alerting", "compute_alert_windows",
    "compute_catalog_configs", "compute_config_rule_groups", "compute_files", "compute_rule_groups",
    "compute_service_level", "compute_service_routing", "compute_slo_report", "dashboards", "default_templates",
    "defaulting", "dump_yaml", "fetch_slo_report", "formatting", "groups_to_dict", "load_service_levels", "local",
    "memory", "model", "objectives", "output_folder", "parse_alert_windows", "parse_dashboard",
    "parse_observability_config", "parse_service_level", "plan_catalog_sync", "plugins", "ports", "prometheus",
    "publishing", "render_alertmanager_config", "render_collector_config", "render_dashboard", "render_files",
    "render_local_files", "render_outputs", "render_prometheus_rule", "render_rules_file", "render_scrape_config",
    "render_service_monitor", "render_slo_prometheus_rule", "render_workload_env", "rendering", "reporting", "rules",
    "service", "slo", "syncing", "tracing",
}  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert set(observability.__all__) == EXPECTED
    assert list(observability.__all__) == sorted(observability.__all__, key=lambda n: (not n.isupper(), n))


def test_every_public_name_exists() -> None:
    missing = [name for name in observability.__all__ if not hasattr(observability, name)]
    assert missing == []
