"""``blacktop dora``: the four DORA metrics per service, per team and for the organisation, as a table.

The server computes the report (``GET /api/v1/metrics/dora``); this module only prints it. A metric
without data in the window prints "no data" rather than a zero, so an idle service is not mistaken
for a failing one. ``-o json``/``-o yaml`` print the API's JSON unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from .. import output
from ..state import client_from, console_from

NO_DATA = "no data"


def register(app: typer.Typer) -> None:
    """Add ``blacktop dora`` to ``app``."""
    app.command("dora")(dora)


def format_seconds(seconds: float) -> str:
    """A duration the way people read it: ``42s``, ``17m``, ``3h 5m``, ``2d 4h``."""
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def _cells(row: dict[str, Any]) -> list[str]:
    frequency = row["deploymentFrequency"]
    lead = row["leadTimeForChanges"]
    failure = row["changeFailureRate"]
    restore = row["timeToRestore"]
    return [
        NO_DATA
        if frequency["status"] != "ok"
        else f"{frequency['perDay']:.2f}/day {frequency['perWeek']:.1f}/wk ({frequency['band']})",
        NO_DATA
        if lead["status"] != "ok"
        else f"{format_seconds(lead['medianSeconds'])} / {format_seconds(lead['p90Seconds'])} ({lead['band']})",
        NO_DATA
        if failure["status"] != "ok"
        else f"{failure['rate'] * 100:.1f}% {failure['failures']}/{failure['deployments']} ({failure['band']})",
        NO_DATA if restore["status"] != "ok" else f"{format_seconds(restore['medianSeconds'])} ({restore['band']})",
        str(row.get("openIncidents", 0)),
    ]


def report_table(report: dict[str, Any]) -> Table:
    """The report as one Rich table: organisation first, then teams, then services."""
    table = Table(
        "SCOPE",
        "NAME",
        "DEPLOYMENT FREQUENCY",
        "LEAD TIME p50 / p90",
        "CHANGE FAILURE RATE",
        "TIME TO RESTORE",
        "OPEN",
        box=None,
        header_style="bold",
    )
    if report.get("organisation") is not None:
        table.add_row("organisation", "-", *_cells(report["organisation"]))
    for row in report["teams"]:
        table.add_row("team", row["team"], *_cells(row))
    for row in report["services"]:
        table.add_row("service", row["service"], *_cells(row))
    return table


def print_report(console: Any, report: dict[str, Any]) -> None:
    """A heading naming the window and environment, the table, and any skipped records."""
    window = report["window"]
    console.print(
        f"DORA metrics over {window['label']} ({window['start']} to {window['end']}), "
        f"environment {report['environment']}",
        markup=False,
        highlight=False,
    )
    console.print(report_table(report))
    for line in report.get("skippedRecords") or []:
        console.print(f"skipped: {line}", markup=False, highlight=False)


def dora(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", "-t", help="owner group, e.g. payments-team")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="catalog component, e.g. payments")] = None,
    window: Annotated[str, typer.Option("--window", "-w", help="7d, 30d, 90d")] = "30d",
    environment: Annotated[str, typer.Option("--environment", "-e", help="environment, or 'all'")] = "production",
    output_format: Annotated[str | None, typer.Option("--output", "-o", help="yaml or json")] = None,
) -> None:
    """DORA metrics (deployment frequency, lead time, change failure rate, time to restore)."""
    params = {"window": window, "environment": environment}
    if team:
        params["team"] = team
    if service:
        params["service"] = service
    report = client_from(ctx).request("GET", "/api/v1/metrics/dora", params=params)
    console = console_from(ctx)
    if output_format in ("yaml", "json"):
        console.print(output.render(report, output_format), end="", markup=False, highlight=False)
        return
    print_report(console, report)
