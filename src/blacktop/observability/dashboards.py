"""Grafana dashboards from an ObservabilityConfig, through a registry of named templates.

A template is a function from the config to a ``grafana-foundation-sdk`` dashboard builder; the
built-in ``microservice-standard`` shows traffic (request rate, error rate, latency p50/p90/p99),
resources (CPU, memory) and, per SLO, attainment, error budget remaining and burn rate. Platform
teams register their own templates under new names; ``dashboard.template`` picks one. Building
through the SDK's typed model (Grafana 11.6, schemaVersion 41) rather than hand-written JSON
keeps the output loadable by the Grafana version the SDK pins.

Queries use the metric conventions of ``objectives`` (``http_request_duration_seconds`` with a
``code`` label, ``job="<service>"``), the client libraries' standard ``process_cpu_seconds_total``
and ``process_resident_memory_bytes`` (present both in Kubernetes and in local mode), and the
Sloth-compatible SLO series of ``rules``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import gauge, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as gmodel

from blacktop.kernel.errors import ConflictError, NotFoundError

from . import model, objectives

BUILTIN_TEMPLATE: Final = "microservice-standard"
DATASOURCE_VARIABLE: Final = "datasource"
SELECTOR_ANNOTATION: Final = "grafana/dashboard-selector"
"""A config annotation (from the catalog entity) whose ``tags @> 'x'`` terms become dashboard tags."""

DashboardTemplate = Callable[[model.ObservabilityConfig], gdash.Dashboard]
"""Builds a dashboard (an SDK builder, not yet built) for one service."""


class TemplateRegistry:
    """Dashboard templates by name; duplicate names are refused, unknown names are NotFound."""

    def __init__(self) -> None:
        self._templates: dict[str, DashboardTemplate] = {}
        self._lock = threading.Lock()

    def register(self, name: str, template: DashboardTemplate) -> None:
        """Add a template under ``name``."""
        with self._lock:
            if name in self._templates:
                raise ConflictError(f"dashboard template {name!r} is already registered")
            self._templates[name] = template

    def require(self, name: str) -> DashboardTemplate:
        """The template called ``name``."""
        try:
            return self._templates[name]
        except KeyError:
            known = ", ".join(sorted(self._templates)) or "none"
            raise NotFoundError(
                f"dashboard template {name!r} is not registered; registered templates: {known}"
            ) from None

    def names(self) -> tuple[str, ...]:
        """The registered template names, sorted."""
        return tuple(sorted(self._templates))


def default_templates() -> TemplateRegistry:
    """A registry holding the built-in templates (a new one each call, so tests stay isolated)."""
    registry = TemplateRegistry()
    registry.register(BUILTIN_TEMPLATE, microservice_standard)
    return registry


def _datasource() -> gmodel.DataSourceRef:
    return gmodel.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")


def _query(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(_datasource())


def _thresholds(*steps: tuple[float | None, str]) -> gdash.ThresholdsConfig:
    return (
        gdash.ThresholdsConfig()
        .mode(gmodel.ThresholdsMode.ABSOLUTE)
        .steps([gmodel.Threshold(value=value, color=color) for value, color in steps])
    )


def _traffic_panels(service: str) -> list[Any]:
    sel = f'job="{service}"'
    count = f"{objectives.REQUEST_HISTOGRAM}_count"
    bucket = f"{objectives.REQUEST_HISTOGRAM}_bucket"
    rate_total = f"sum(rate({count}{{{sel}}}[$__rate_interval]))"
    latency = timeseries.Panel().title("Latency").unit("s").span(8).height(8).datasource(_datasource())
    for ref, quantile in (("A", "0.5"), ("B", "0.9"), ("C", "0.99")):
        expr = f"histogram_quantile({quantile}, sum by (le) (rate({bucket}{{{sel}}}[$__rate_interval])))"
        latency = latency.with_target(_query(expr, f"p{quantile[2:].ljust(2, '0')}", ref))
    return [
        timeseries.Panel()
        .title("Request rate")
        .unit("reqps")
        .span(8)
        .height(8)
        .datasource(_datasource())
        .with_target(_query(f"sum by (code) (rate({count}{{{sel}}}[$__rate_interval]))", "{{code}}", "A")),
        timeseries.Panel()
        .title("Error rate")
        .unit("percentunit")
        .span(8)
        .height(8)
        .datasource(_datasource())
        .with_target(
            _query(f'sum(rate({count}{{{sel},code=~"5.."}}[$__rate_interval])) / {rate_total}', "5xx ratio", "A")
        ),
        latency,
    ]


def _resource_panels(service: str) -> list[Any]:
    sel = f'job="{service}"'
    return [
        timeseries.Panel()
        .title("CPU")
        .unit("short")
        .span(12)
        .height(8)
        .datasource(_datasource())
        .with_target(
            _query(
                f"sum by (instance) (rate(process_cpu_seconds_total{{{sel}}}[$__rate_interval]))",
                "{{instance}} cores",
                "A",
            )
        ),
        timeseries.Panel()
        .title("Memory")
        .unit("bytes")
        .span(12)
        .height(8)
        .datasource(_datasource())
        .with_target(_query(f"sum by (instance) (process_resident_memory_bytes{{{sel}}})", "{{instance}} RSS", "A")),
    ]


def _slo_panels(service: str, name: str, objective: float) -> list[Any]:
    sel = f'sloth_id="{service}-{name}"'
    ratio = objective / 100
    return [
        stat.Panel()
        .title(f"{name}: SLO attainment (30d)")
        .unit("percentunit")
        .decimals(3)
        .span(8)
        .height(6)
        .datasource(_datasource())
        .thresholds(_thresholds((None, "red"), (ratio, "green")))
        .with_target(_query(f"1 - slo:sli_error:ratio_rate30d{{{sel}}}", "attainment", "A")),
        gauge.Panel()
        .title(f"{name}: error budget remaining")
        .unit("percentunit")
        .min(0)
        .max(1)
        .span(8)
        .height(6)
        .datasource(_datasource())
        .thresholds(_thresholds((None, "red"), (0.25, "orange"), (0.5, "green")))
        .with_target(_query(f"slo:period_error_budget_remaining:ratio{{{sel}}}", "remaining", "A")),
        timeseries.Panel()
        .title(f"{name}: burn rate")
        .unit("short")
        .span(8)
        .height(6)
        .datasource(_datasource())
        .thresholds(_thresholds((None, "green"), (1, "orange"), (6, "red")))
        .with_target(_query(f"slo:current_burn_rate:ratio{{{sel}}}", "current", "A"))
        .with_target(_query(f"slo:period_burn_rate:ratio{{{sel}}}", "period", "B")),
    ]


def dashboard_uid(service: str) -> str:
    """A stable dashboard uid for a service (Grafana allows at most 40 characters)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", f"blacktop-{service}")[:40]


def microservice_standard(config: model.ObservabilityConfig) -> gdash.Dashboard:
    """The built-in template: traffic, resources and SLO panels for one HTTP service."""
    spec = config.spec
    service = spec.service
    board = (
        gdash.Dashboard(f"{service} (service)")
        .uid(dashboard_uid(service))
        .tags(["blacktop", "microservice-standard", service])
        .time("now-6h", "now")
        .refresh("1m")
        .readonly()
        .with_variable(gdash.DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("prometheus"))
        .with_row(gdash.Row("Traffic"))
    )
    for panel in _traffic_panels(service):
        board = board.with_panel(panel)
    board = board.with_row(gdash.Row("Resources"))
    for panel in _resource_panels(service):
        board = board.with_panel(panel)
    board = board.with_row(gdash.Row("SLOs"))
    for one in objectives.compute_service_level(spec).slos:
        for panel in _slo_panels(service, one.name, one.objective):
            board = board.with_panel(panel)
    return board


def folder_uid(title: str) -> str:
    """A stable folder uid derived from its title."""
    return re.sub(r"[^a-z0-9_-]+", "-", title.lower()).strip("-")[:40] or "general"


def render_dashboard(config: model.ObservabilityConfig, *, templates: TemplateRegistry | None = None) -> dict[str, Any]:
    """The dashboard and its folder, shaped as Grafana's ``POST /api/dashboards/db`` body.

    ``folder`` (uid and title) says which folder to create first when it does not exist.
    """
    registry = templates or default_templates()
    template = registry.require(config.spec.dashboard.template)
    built = template(config).build()
    for number, panel in enumerate(built.panels or [], start=1):
        # Grafana needs unique panel ids to link to and edit panels; the SDK leaves them unset.
        panel.id_val = number
    dashboard_json: dict[str, Any] = _to_plain(built)
    annotations = (config.metadata.model_extra or {}).get("annotations") or {}
    wanted = selector_tags(str(annotations.get(SELECTOR_ANNOTATION) or ""))
    if wanted:
        tags = list(dashboard_json.get("tags") or [])
        dashboard_json["tags"] = tags + [tag for tag in wanted if tag not in tags]
    title = config.spec.dashboard.folder or config.spec.service
    return {
        "dashboard": dashboard_json,
        "folder": {"uid": folder_uid(title), "title": title},
        "folderUid": folder_uid(title),
        "overwrite": True,
        "message": f"generated by blacktop from ObservabilityConfig {config.metadata.namespace}/{config.metadata.name}",
    }


def selector_tags(selector: str) -> tuple[str, ...]:
    """The tags a Backstage ``grafana/dashboard-selector`` requires (its ``tags @> 'x'`` terms), in order.

    Backstage's Grafana card lists the dashboards matching the entity's selector; giving the
    generated dashboard those tags makes it one of them. Other terms (``title == ...``) need nothing.
    """
    return tuple(dict.fromkeys(re.findall(r"tags\s*@>\s*['\"]([^'\"]+)['\"]", selector)))


def _to_plain(built: gmodel.Dashboard) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(built, cls=JSONEncoder, sort_keys=True))
    return plain


def parse_dashboard(document: dict[str, Any]) -> gmodel.Dashboard:
    """Load dashboard JSON into the SDK's model (the round-trip the acceptance asks for)."""
    return gmodel.Dashboard.from_json(document)
