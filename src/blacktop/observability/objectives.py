"""From an ObservabilityConfig to SLOs: the metric conventions blacktop assumes of every service.

Zero-config SLOs only work if every service exposes the same metrics, so blacktop fixes them here:

* **One histogram**, ``http_request_duration_seconds`` (the name Prometheus client libraries and
  most HTTP middleware use), with a ``code`` label holding the HTTP status code. Its ``_count``
  series counts requests, its ``_bucket`` series answers the latency SLO.
* **Availability**: a request is an error when ``code`` is 5xx. Error ratio =
  ``rate(_count{code=~"5.."})`` / ``rate(_count)``; the objective is ``alerts.slo.availability``.
* **Latency** (only when ``alerts.slo.latencyP99Ms`` is set): a request is an error when it takes
  longer than the threshold. Error ratio = (``rate(_count)`` − ``rate(_bucket{le=threshold})``) /
  ``rate(_count)``; the objective is 99%, which is exactly "p99 under the threshold". The histogram
  must have a bucket boundary at the threshold (500 ms → ``le="0.5"``); whole seconds match both
  spellings client libraries use (``le="1"`` from Go, ``le="1.0"`` from Python and Prometheus 3).
* Series are selected by ``job="<service>"``: the ServiceMonitor targets the Kubernetes Service of
  that name (whose job label the operator sets to the Service name) and the plain scrape config
  uses ``job_name: <service>``.

Alerting follows the SRE workbook windows (Sloth's 30-day defaults) with the page conditions
replaced by ``alerts.burnRate`` (long window as given, short window = long / 12).
"""

from __future__ import annotations

from typing import Final

from . import alert_windows, formatting, model, slo

REQUEST_HISTOGRAM: Final = "http_request_duration_seconds"
"""The histogram every service exposes, with a ``code`` label for the HTTP status."""
LATENCY_OBJECTIVE: Final = 99.0
"""A p99 latency target means 99% of requests finish under the threshold."""
SEVERITY_BY_ALERT: Final = {"page": "critical", "ticket": "warning"}
"""The conventional ``severity`` label the page and ticket alerts carry, for routing."""


def _alert_name(service: str, what: str) -> str:
    camel = "".join(part.capitalize() for part in service.replace("_", "-").split("-"))
    return f"{camel}{what}BurnRate"


def _selector(service: str, *extra: str) -> str:
    return "{" + ",".join([f'job="{service}"', *extra]) + "}"


def _le_matcher(threshold_ms: int) -> str:
    seconds = threshold_ms / 1000
    text = formatting.format_go_float(seconds)
    if seconds.is_integer():
        return f'le=~"{text}|{text}.0"'
    return f'le="{text}"'


def compute_alert_windows(spec: model.ObservabilityConfigSpec) -> alert_windows.AlertWindows:
    """The 30-day default windows with the page conditions taken from ``alerts.burnRate``."""

    def page(window: model.BurnRateWindow) -> alert_windows.BurnWindow:
        long_ms = formatting.parse_duration_ms(window.window)
        return alert_windows.BurnWindow(short_ms=long_ms // 12, long_ms=long_ms, factor=window.threshold)

    base = alert_windows.GOOGLE_30D
    burn = spec.alerts.burn_rate
    return alert_windows.AlertWindows(
        period_ms=base.period_ms,
        page_quick=page(burn.fast),
        page_slow=page(burn.slow),
        ticket_quick=base.ticket_quick,
        ticket_slow=base.ticket_slow,
    )


def _alerts(service: str, kind: str, summary: str) -> tuple[slo.AlertMeta, slo.AlertMeta]:
    def meta(severity: str) -> slo.AlertMeta:
        return slo.AlertMeta(
            labels={"service": service, "slo": kind, "severity": SEVERITY_BY_ALERT[severity]},
            annotations={"summary": summary},
        )

    return meta("page"), meta("ticket")


def compute_service_level(spec: model.ObservabilityConfigSpec) -> slo.ServiceLevel:
    """The availability SLO, and the latency SLO when a p99 threshold is set, of one service."""
    service = spec.service
    labels = dict(spec.metrics.additional_labels)
    count = f"{REQUEST_HISTOGRAM}_count"
    total = f"sum(rate({count}{_selector(service)}[{{{{.window}}}}]))"
    errors = _selector(service, 'code=~"5.."')
    objective = round(spec.alerts.slo.availability * 100, 10)
    page, ticket = _alerts(
        service,
        "availability",
        f"{service}: more than {formatting.format_go_float_fixed(round(100 - objective, 10))}% of "
        "requests fail with 5xx; the availability error budget is burning too fast.",
    )
    slos = [
        slo.SLO(
            service=service,
            name="availability",
            objective=objective,
            sli=slo.EventsSLI(
                error_query=f"sum(rate({count}{errors}[{{{{.window}}}}]))",
                total_query=total,
            ),
            description=f"{objective}% of requests to {service} succeed (no 5xx).",
            labels=labels,
            alert_name=_alert_name(service, "Availability"),
            page_alert=page,
            ticket_alert=ticket,
        )
    ]
    threshold = spec.alerts.slo.latency_p99_ms
    if threshold is not None:
        bucket = f"{REQUEST_HISTOGRAM}_bucket{_selector(service, _le_matcher(threshold))}"
        page, ticket = _alerts(
            service,
            "latency",
            f"{service}: more than 1% of requests take longer than {threshold}ms (p99 over target); "
            "the latency error budget is burning too fast.",
        )
        slos.append(
            slo.SLO(
                service=service,
                name="latency",
                objective=LATENCY_OBJECTIVE,
                sli=slo.EventsSLI(
                    error_query=f"(\n  {total}\n  -\n  sum(rate({bucket}[{{{{.window}}}}]))\n)",
                    total_query=total,
                ),
                description=f"99% of requests to {service} finish within {threshold}ms (p99).",
                labels=labels,
                alert_name=_alert_name(service, "Latency"),
                page_alert=page,
                ticket_alert=ticket,
            )
        )
    return slo.ServiceLevel(service=service, slos=tuple(slos), spec=model.API_VERSION)
