"""Zero-config observability: from an ObservabilityConfig (or a Sloth SLO spec) to everything a
service needs to be watched — Prometheus scraping, SLO recording and burn-rate alert rules,
Alertmanager routing, a Grafana dashboard and OpenTelemetry tracing config.

Everything here is pure: documents in, JSON-shaped dicts and text out. Writing the outputs to a
GitOps repository, creating configs from the catalog and running Prometheus locally live elsewhere.
"""

from . import (
    alert_windows,
    alerting,
    dashboards,
    formatting,
    model,
    objectives,
    plugins,
    prometheus,
    rendering,
    rules,
    slo,
    tracing,
)
from .alert_windows import GOOGLE_28D, GOOGLE_30D, AlertWindows, BurnWindow, parse_alert_windows
from .alerting import SecretFiles, compute_service_routing, render_alertmanager_config
from .dashboards import (
    BUILTIN_TEMPLATE,
    DashboardTemplate,
    TemplateRegistry,
    default_templates,
    parse_dashboard,
    render_dashboard,
)
from .model import (
    OBSERVABILITY_CONFIG_KIND,
    OBSERVABILITY_CONFIG_SCHEMA,
    ObservabilityConfig,
    ObservabilityConfigSpec,
    parse_observability_config,
)
from .objectives import compute_alert_windows, compute_service_level
from .prometheus import (
    dump_yaml,
    render_prometheus_rule,
    render_rules_file,
    render_scrape_config,
    render_service_monitor,
    render_slo_prometheus_rule,
)
from .rendering import ObservabilityOutputs, compute_config_rule_groups, render_files, render_outputs
from .rules import AlertingRule, GeneratorInfo, RecordingRule, RuleGroup, compute_rule_groups, groups_to_dict
from .slo import SLO, EventsSLI, PluginRef, RawSLI, ServiceLevel, load_service_levels, parse_service_level
from .tracing import render_collector_config, render_workload_env

__all__ = [
    "BUILTIN_TEMPLATE",
    "GOOGLE_28D",
    "GOOGLE_30D",
    "OBSERVABILITY_CONFIG_KIND",
    "OBSERVABILITY_CONFIG_SCHEMA",
    "SLO",
    "AlertWindows",
    "AlertingRule",
    "BurnWindow",
    "DashboardTemplate",
    "EventsSLI",
    "GeneratorInfo",
    "ObservabilityConfig",
    "ObservabilityConfigSpec",
    "ObservabilityOutputs",
    "PluginRef",
    "RawSLI",
    "RecordingRule",
    "RuleGroup",
    "SecretFiles",
    "ServiceLevel",
    "TemplateRegistry",
    "alert_windows",
    "alerting",
    "compute_alert_windows",
    "compute_config_rule_groups",
    "compute_rule_groups",
    "compute_service_level",
    "compute_service_routing",
    "dashboards",
    "default_templates",
    "dump_yaml",
    "formatting",
    "groups_to_dict",
    "load_service_levels",
    "model",
    "objectives",
    "parse_alert_windows",
    "parse_dashboard",
    "parse_observability_config",
    "parse_service_level",
    "plugins",
    "prometheus",
    "render_alertmanager_config",
    "render_collector_config",
    "render_dashboard",
    "render_files",
    "render_outputs",
    "render_prometheus_rule",
    "render_rules_file",
    "render_scrape_config",
    "render_service_monitor",
    "render_slo_prometheus_rule",
    "render_workload_env",
    "rendering",
    "rules",
    "slo",
    "tracing",
]
