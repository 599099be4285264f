"""Alertmanager routing from ``alerts.channels``: who hears about a service's SLO alerts.

Each service gets one route, matched on its ``service`` label and grouped by service and
severity, with two receivers: ``<service>-page`` (PagerDuty services and Slack channels) for
``severity="critical"`` (the page burn-rate alert) and ``<service>-ticket`` (Slack channels only,
falling back to PagerDuty at warning severity when there is no Slack channel) for
``severity="warning"``. Secrets are never inlined: PagerDuty routing keys and the Slack webhook
are read from files the platform mounts (``*_file`` settings), so the generated config can be
committed to the GitOps repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from . import model, objectives

GROUP_BY: Final = ("service", "severity")


@dataclass(frozen=True, slots=True)
class SecretFiles:
    """Where Alertmanager finds the credentials blacktop must not write into its config."""

    slack_api_url_file: str = "/etc/alertmanager/secrets/slack/api-url"
    pagerduty_dir: str = "/etc/alertmanager/secrets/pagerduty"
    """One file per PagerDuty service, named after it, holding its Events v2 routing key."""


def _slack(channel: str, secrets: SecretFiles) -> dict[str, Any]:
    return {
        "channel": channel,
        "api_url_file": secrets.slack_api_url_file,
        "send_resolved": True,
        "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
    }


def _pagerduty(service_id: str, severity: str, secrets: SecretFiles) -> dict[str, Any]:
    return {
        "routing_key_file": f"{secrets.pagerduty_dir}/{service_id}",
        "severity": severity,
        "send_resolved": True,
        "description": "{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}",
    }


def _receiver(name: str, *, slack: list[dict[str, Any]], pagerduty: list[dict[str, Any]]) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": name}
    if pagerduty:
        receiver["pagerduty_configs"] = pagerduty
    if slack:
        receiver["slack_configs"] = slack
    return receiver


def compute_service_routing(
    spec: model.ObservabilityConfigSpec, *, secrets: SecretFiles | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One service's route (to nest under the root route) and its receivers."""
    secrets = secrets or SecretFiles()
    service = spec.service
    slack_channels = [c for c in spec.alerts.channels if model.is_slack_channel(c)]
    pagerduty_ids = [p for c in spec.alerts.channels if (p := model.pagerduty_service(c)) is not None]
    page_severity = objectives.SEVERITY_BY_ALERT["page"]
    ticket_severity = objectives.SEVERITY_BY_ALERT["ticket"]
    page = _receiver(
        f"{service}-page",
        slack=[_slack(c, secrets) for c in slack_channels],
        pagerduty=[_pagerduty(p, page_severity, secrets) for p in pagerduty_ids],
    )
    ticket = _receiver(
        f"{service}-ticket",
        slack=[_slack(c, secrets) for c in slack_channels],
        pagerduty=[] if slack_channels else [_pagerduty(p, ticket_severity, secrets) for p in pagerduty_ids],
    )
    route = {
        "receiver": ticket["name"],
        "matchers": [f'service="{service}"'],
        "group_by": list(GROUP_BY),
        "routes": [
            {"receiver": page["name"], "matchers": [f'severity="{page_severity}"']},
            {"receiver": ticket["name"], "matchers": [f'severity="{ticket_severity}"']},
        ],
    }
    return route, [page, ticket]


def render_alertmanager_config(
    specs: Sequence[model.ObservabilityConfigSpec],
    *,
    secrets: SecretFiles | None = None,
    default_receiver: str = "blackhole",
) -> dict[str, Any]:
    """A whole ``alertmanager.yml`` routing every service's alerts; unmatched alerts go nowhere."""
    routes: list[dict[str, Any]] = []
    receivers: list[dict[str, Any]] = [{"name": default_receiver}]
    for spec in sorted(specs, key=lambda s: s.service):
        route, service_receivers = compute_service_routing(spec, secrets=secrets)
        routes.append(route)
        receivers.extend(service_receivers)
    return {
        "route": {
            "receiver": default_receiver,
            "group_by": list(GROUP_BY),
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": receivers,
    }
