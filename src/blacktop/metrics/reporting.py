"""DORA reports: the metrics per service, per team (catalog ownership) and for the organisation, as JSON.

A report covers one window and one environment (``production`` unless asked otherwise). Services
are catalog component refs; a service's team is its catalog owner (``spec.owner``), and services the
catalog does not know are reported under ``UNOWNED``. Filters narrow the report: ``team`` keeps the
team and its services (including owned components with no records, which show "no data"),
``service`` keeps one service and its team. Without filters the organisation row is included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Final

from blacktop import catalog

from . import dora, model

UNOWNED: Final = "unowned"
NO_DATA: Final = "no data"
ALL_ENVIRONMENTS: Final = "all"


@dataclass(frozen=True, slots=True)
class Row:
    """One scope of a report: the organisation, a team or a service."""

    scope: str
    name: str
    metrics: dora.Metrics
    team: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """A DORA report over one window."""

    window: model.Window
    environment: str
    organisation: Row | None
    teams: tuple[Row, ...]
    services: tuple[Row, ...]
    skipped: tuple[str, ...] = field(default=())


def canonical_team(value: str) -> str:
    """A team filter as a canonical group ref (``payments`` means ``group:default/payments``)."""
    if value == UNOWNED:
        return UNOWNED
    return catalog.parse_ref(value, default_kind="group").key


def canonical_service(value: str) -> str:
    """A service filter as a canonical component ref (``payments`` means ``component:default/payments``)."""
    return catalog.parse_ref(value, default_kind="component").key


def mark_blamed(deployments: Sequence[model.Deployment], incidents: Sequence[model.Incident]) -> list[model.Deployment]:
    """Deployments with ``caused_incident`` set where an incident names them."""
    blamed = {i.deployment_key for i in incidents if i.deployment_key is not None}
    return [replace(d, caused_incident=True) if d.key in blamed else d for d in deployments]


def compute_report(
    deployments: Sequence[model.Deployment],
    incidents: Sequence[model.Incident],
    *,
    window: model.Window,
    owners: Mapping[str, str],
    environment: str = "production",
    team: str | None = None,
    service: str | None = None,
) -> Report:
    """The report over ``window``; ``owners`` maps canonical component refs to canonical owner refs."""
    wanted_env = None if environment == ALL_ENVIRONMENTS else environment
    marked = mark_blamed(deployments, incidents)
    deps = [d for d in marked if wanted_env is None or d.environment == wanted_env]
    incs = [i for i in incidents if wanted_env is None or i.environment == wanted_env]
    team_key = canonical_team(team) if team else None
    service_key = canonical_service(service) if service else None

    def team_of(ref: str) -> str:
        return owners.get(ref, UNOWNED)

    services = {d.service for d in deps} | {i.service for i in incs}
    if team_key is not None:
        services |= {ref for ref, owner in owners.items() if owner == team_key and ref.startswith("component:")}
        services = {s for s in services if team_of(s) == team_key}
    if service_key is not None:
        services = {service_key}
    service_rows = tuple(
        Row("service", ref, _metrics(deps, incs, window, {ref}), team=team_of(ref)) for ref in sorted(services)
    )
    if team_key is not None:
        team_names = [team_key]
    elif service_key is not None:
        team_names = [team_of(service_key)]
    else:
        team_names = sorted({team_of(s) for s in services})
    team_rows = []
    for name in team_names:
        members = {s for s in {d.service for d in deps} | {i.service for i in incs} | set(owners) if team_of(s) == name}
        team_rows.append(Row("team", name, _metrics(deps, incs, window, members)))
    organisation = None
    if team_key is None and service_key is None:
        organisation = Row("organisation", "organisation", dora.compute_metrics(deps, incs, window))
    return Report(window, environment, organisation, tuple(team_rows), service_rows)


def _metrics(
    deployments: Sequence[model.Deployment], incidents: Sequence[model.Incident], window: model.Window, refs: set[str]
) -> dora.Metrics:
    return dora.compute_metrics(
        [d for d in deployments if d.service in refs], [i for i in incidents if i.service in refs], window
    )


def _seconds(value: timedelta) -> float:
    return round(value.total_seconds(), 3)


def _no_data(reason: str) -> dict[str, Any]:
    return {"status": NO_DATA, "reason": reason}


def render_metrics(metrics: dora.Metrics) -> dict[str, Any]:
    """The JSON of one scope's metrics; a metric without data is ``{"status": "no data", "reason"}``."""
    out: dict[str, Any] = {}
    frequency = metrics.deployment_frequency
    out["deploymentFrequency"] = (
        _no_data("no deployments finished in the window")
        if frequency is None
        else {
            "status": "ok",
            "deployments": frequency.deployments,
            "perDay": round(frequency.per_day, 4),
            "perWeek": round(frequency.per_week, 4),
            "band": frequency.band.value,
        }
    )
    lead = metrics.lead_time
    out["leadTimeForChanges"] = (
        _no_data("no change with a commit time shipped successfully in the window")
        if lead is None
        else {
            "status": "ok",
            "changes": lead.changes,
            "medianSeconds": _seconds(lead.median),
            "p90Seconds": _seconds(lead.p90),
            "band": lead.band.value,
        }
    )
    failure = metrics.change_failure_rate
    out["changeFailureRate"] = (
        _no_data("no deployments finished in the window")
        if failure is None
        else {
            "status": "ok",
            "deployments": failure.deployments,
            "failures": failure.failures,
            "rate": round(failure.rate, 4),
            "band": failure.band.value,
        }
    )
    restore = metrics.time_to_restore
    out["timeToRestore"] = (
        _no_data("no incident was resolved in the window")
        if restore is None
        else {
            "status": "ok",
            "incidents": restore.incidents,
            "medianSeconds": _seconds(restore.median),
            "band": restore.band.value,
        }
    )
    out["openIncidents"] = metrics.open_incidents
    return out


def render_report(report: Report) -> dict[str, Any]:
    """The report as the API serves it (``GET /api/v1/metrics/dora``)."""
    window = report.window
    return {
        "window": {"label": window.label, "days": window.days, "start": _iso(window.start), "end": _iso(window.end)},
        "environment": report.environment,
        "organisation": None if report.organisation is None else render_metrics(report.organisation.metrics),
        "teams": [{"team": row.name, **render_metrics(row.metrics)} for row in report.teams],
        "services": [{"service": row.name, "team": row.team, **render_metrics(row.metrics)} for row in report.services],
        "skippedRecords": list(report.skipped),
    }


def _iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))
