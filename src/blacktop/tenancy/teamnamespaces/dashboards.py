"""The team dashboard of a TeamNamespace (``monitoring.teamDashboard``): a Grafana dashboard in a ConfigMap.

blacktop's observability feature builds dashboards per service; a namespace needs a different view:
how much of its quota the team uses. The dashboard is delivered the way kube-prometheus-stack loads
dashboards, as a ConfigMap labelled ``grafana_dashboard: "1"`` that Grafana's dashboard sidecar
picks up (the sidecar must watch this namespace: ``sidecar.dashboards.searchNamespace: ALL``).
Its queries read cAdvisor and kube-state-metrics series, which that stack scrapes by default.
"""

from __future__ import annotations

import json
from typing import Any, Final

from . import model

SIDECAR_LABEL: Final = {"grafana_dashboard": "1"}
CONFIG_MAP: Final = "team-dashboard"

_QUOTA: Final = 'sum(kube_resourcequota{{namespace="{ns}",type="hard",resource=~"{resources}"}})'


def _panels(namespace: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, unit, [(legend, query)]) of each panel."""
    ns = namespace
    selector = f'namespace="{ns}",container!=""'
    return [
        ("CPU used vs quota", "short", [
            ("used (cores)", f"sum(rate(container_cpu_usage_seconds_total{{{selector}}}[5m]))"),
            ("quota", _QUOTA.format(ns=ns, resources="cpu|requests.cpu")),
        ]),
        ("Memory used vs quota", "bytes", [
            ("working set", f"sum(container_memory_working_set_bytes{{{selector}}})"),
            ("quota", _QUOTA.format(ns=ns, resources="memory|requests.memory")),
        ]),
        ("Pods running vs quota", "short", [
            ("running", f'count(kube_pod_status_phase{{namespace="{ns}",phase="Running"}} == 1)'),
            ("quota", _QUOTA.format(ns=ns, resources="pods|count/pods")),
        ]),
        ("Container restarts (1h)", "short", [
            ("restarts", f'sum(increase(kube_pod_container_status_restarts_total{{namespace="{ns}"}}[1h]))'),
        ]),
    ]  # fmt: skip


def render_dashboard(team_ns: model.TeamNamespace) -> dict[str, Any]:
    """The Grafana dashboard model (schemaVersion 39) for the namespace."""
    panels = []
    for index, (title, unit, targets) in enumerate(_panels(team_ns.namespace)):
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
                    for n, (legend, expr) in enumerate(targets)
                ],
            }
        )
    return {
        "uid": f"tns-{team_ns.name}"[:40],
        "title": f"Team {team_ns.team}: namespace {team_ns.namespace}",
        "tags": ["blacktop", "team-namespace", f"team:{team_ns.team}", f"environment:{team_ns.environment}"],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}]
        },
        "panels": panels,
    }


def render_config_map(team_ns: model.TeamNamespace, labels: dict[str, str]) -> dict[str, Any]:
    """The ConfigMap carrying the dashboard, labelled for Grafana's dashboard sidecar."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP, "namespace": team_ns.namespace, "labels": {**labels, **SIDECAR_LABEL}},
        "data": {f"{team_ns.name}.json": json.dumps(render_dashboard(team_ns), indent=2, sort_keys=True) + "\n"},
    }
