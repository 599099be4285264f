"""Zero-config observability: from an ObservabilityConfig (or a Sloth SLO spec) to everything a
service needs to be watched — Prometheus scraping, SLO recording and burn-rate alert rules,
Alertmanager routing, a Grafana dashboard and OpenTelemetry tracing config.

The generators are pure: documents in, JSON-shaped dicts and text out. Around them, still free of
IO: ``publishing`` plans what to commit to the GitOps repository, ``defaulting`` and ``syncing``
derive configs from the catalog (zero-config), ``local`` shapes local mode's Prometheus files,
``reporting`` folds SLO query results, ``service`` holds the use cases. Everything outside is
reached through ``ports``: adapters live in ``adapters`` (Prometheus over HTTP, the local
Prometheus process) and in the composition root (catalog, git, write pipeline); ``memory`` has
in-memory fakes.
"""

from . import (
    alert_windows,
    alerting,
    dashboards,
    defaulting,
    formatting,
    local,
    memory,
    model,
    objectives,
    plugins,
    ports,
    prometheus,
    publishing,
    rendering,
    reporting,
    rules,
    service,
    slo,
    syncing,
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
from .defaulting import CatalogDefaults, compute_catalog_configs, plan_catalog_sync
from .local import render_local_files
from .model import (
    OBSERVABILITY_CONFIG_KIND,
    OBSERVABILITY_CONFIG_SCHEMA,
    ObservabilityConfig,
    ObservabilityConfigSpec,
    parse_observability_config,
)
from .objectives import compute_alert_windows, compute_service_level
from .ports import CatalogReader, ConfigObjects, MetricsQuerier, OutputRepository, Sample
from .prometheus import (
    dump_yaml,
    render_prometheus_rule,
    render_rules_file,
    render_scrape_config,
    render_service_monitor,
    render_slo_prometheus_rule,
)
from .publishing import OutputPublisher, OutputsStatus, compute_files, output_folder
from .rendering import ObservabilityOutputs, compute_config_rule_groups, render_files, render_outputs
from .reporting import SloReport, compute_slo_report, fetch_slo_report
from .rules import AlertingRule, GeneratorInfo, RecordingRule, RuleGroup, compute_rule_groups, groups_to_dict
from .service import ObservabilityService
from .slo import SLO, EventsSLI, PluginRef, RawSLI, ServiceLevel, load_service_levels, parse_service_level
from .syncing import CatalogSync, SyncResult
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
    "CatalogDefaults",
    "CatalogReader",
    "CatalogSync",
    "ConfigObjects",
    "DashboardTemplate",
    "EventsSLI",
    "GeneratorInfo",
    "MetricsQuerier",
    "ObservabilityConfig",
    "ObservabilityConfigSpec",
    "ObservabilityOutputs",
    "ObservabilityService",
    "OutputPublisher",
    "OutputRepository",
    "OutputsStatus",
    "PluginRef",
    "RawSLI",
    "RecordingRule",
    "RuleGroup",
    "Sample",
    "SecretFiles",
    "ServiceLevel",
    "SloReport",
    "SyncResult",
    "TemplateRegistry",
    "alert_windows",
    "alerting",
    "compute_alert_windows",
    "compute_catalog_configs",
    "compute_config_rule_groups",
    "compute_files",
    "compute_rule_groups",
    "compute_service_level",
    "compute_service_routing",
    "compute_slo_report",
    "dashboards",
    "default_templates",
    "defaulting",
    "dump_yaml",
    "fetch_slo_report",
    "formatting",
    "groups_to_dict",
    "load_service_levels",
    "local",
    "memory",
    "model",
    "objectives",
    "output_folder",
    "parse_alert_windows",
    "parse_dashboard",
    "parse_observability_config",
    "parse_service_level",
    "plan_catalog_sync",
    "plugins",
    "ports",
    "prometheus",
    "publishing",
    "render_alertmanager_config",
    "render_collector_config",
    "render_dashboard",
    "render_files",
    "render_local_files",
    "render_outputs",
    "render_prometheus_rule",
    "render_rules_file",
    "render_scrape_config",
    "render_service_monitor",
    "render_slo_prometheus_rule",
    "render_workload_env",
    "rendering",
    "reporting",
    "rules",
    "service",
    "slo",
    "syncing",
    "tracing",
]
