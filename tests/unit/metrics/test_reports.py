"""DORA reports over the fixed data set: golden JSON per filter, hand-checked rows, CLI table, ingestion.

Test design notes: ``dataset.py`` describes the records; the service runs over in-memory fakes of
its ports with a frozen clock at ``conftest.END``. Golden files live in ``tests/golden/metrics``
(regenerate with ``BLACKTOP_UPDATE_GOLDEN=1`` and review the diff). The org row of the 30-day
report is also checked against values computed by hand below, so a wrong golden file cannot pass
unnoticed.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from blacktop.cli.commands import metrics as metrics_cli
from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import InputError
from blacktop.metrics import MetricsService, Target, render_report

from . import dataset
from .conftest import END, payload

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "metrics"


def service(writer: dataset.FakeWriter | None = None, slugs: dict[str, str] | None = None) -> MetricsService:
    return MetricsService(
        records=dataset.FakeRecords(dataset.DEPLOYMENTS, dataset.INCIDENTS),
        owners=dataset.FakeOwners(dataset.OWNERS, slugs),
        writer=writer or dataset.FakeWriter(),
        clock=FrozenClock(END),
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path} is missing; regenerate with BLACKTOP_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


REPORTS: dict[str, dict[str, Any]] = {
    "org-30d": {"window": "30d"},
    "org-7d": {"window": "7d"},
    "team-payments-30d": {"window": "30d", "team": "team-payments"},
    "service-orders-90d": {"window": "90d", "service": "orders"},
    "staging-30d": {"window": "30d", "environment": "staging"},
}


@pytest.mark.parametrize("params", REPORTS.values(), ids=REPORTS.keys())
async def test_report_json_matches_the_golden_file(params: dict[str, Any], request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.id
    report = render_report(await service().report(**params))
    check_golden(f"{name}.json", json.dumps(report, indent=2, sort_keys=True) + "\n")


async def test_the_30_day_organisation_row_matches_hand_computed_values() -> None:
    report = render_report(await service().report(window="30d"))
    org = report["organisation"]
    # In (Oct 31, Nov 30]: pay-1..6 (pay-3 failed), orders-2 (rolled back), legacy-1; orders-1 is older.
    assert org["deploymentFrequency"] == {
        "status": "ok", "deployments": 7, "perDay": round(7 / 30, 4), "perWeek": round(49 / 30, 4), "band": "high"
    }  # fmt: skip
    # Changes first shipped successfully: 2h, 24h, a000003 on pay-4 (8d 1h), 30m, 4h, 1h, b000001 7d.
    hours = sorted([2, 24, 193, 0.5, 4, 1, 168])
    assert org["leadTimeForChanges"] == {
        "status": "ok", "changes": 7, "medianSeconds": 4 * 3600.0, "p90Seconds": 193 * 3600.0, "band": "elite"
    }  # fmt: skip
    assert hours[3] == 4
    # Failures: pay-3 failed, pay-4 named by inc-1, orders-2 rolled back: 3 of 8.
    assert org["changeFailureRate"] == {"status": "ok", "deployments": 8, "failures": 3, "rate": 0.375, "band": "low"}
    # Resolved: 20 min and 100 min; median 60 min is not under an hour.
    assert org["timeToRestore"] == {"status": "ok", "incidents": 2, "medianSeconds": 3600.0, "band": "high"}
    assert org["openIncidents"] == 1
    assert [line.split(":")[0] for line in report["skippedRecords"]] == ["deployment record team/broken is invalid"]


async def test_a_team_report_lists_its_idle_component_as_no_data() -> None:
    report = render_report(await service().report(window="30d", team="group:default/team-payments"))
    assert report["organisation"] is None
    assert [t["team"] for t in report["teams"]] == ["group:default/team-payments"]
    ledger = next(s for s in report["services"] if s["service"] == "component:default/ledger")
    assert {k: v["status"] for k, v in ledger.items() if isinstance(v, dict)} == {
        "deploymentFrequency": "no data",
        "leadTimeForChanges": "no data",
        "changeFailureRate": "no data",
        "timeToRestore": "no data",
    }


async def test_an_unknown_service_has_no_data_not_zero() -> None:
    report = render_report(await service().report(window="7d", service="component:default/nothing"))
    row = report["services"][0]
    assert row["team"] == "unowned"
    assert row["deploymentFrequency"]["status"] == "no data"


@pytest.mark.parametrize(
    ("params", "paths"),
    [
        ({"window": "a month"}, ["window"]),
        ({"team": "group:", "service": "x/"}, ["service", "team"]),
    ],
    ids=["bad-window", "bad-refs"],
)
async def test_bad_filters_name_their_parameter(params: dict[str, Any], paths: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        await service().report(**params)
    assert sorted(p.path for p in caught.value.problems) == paths


async def test_the_cli_table_matches_the_golden_file() -> None:
    report = render_report(await service().report(window="30d"))
    buffer = io.StringIO()
    metrics_cli.print_report(Console(file=buffer, width=250, no_color=True), report)
    check_golden("table-30d.txt", "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n")


DURATIONS = {
    "seconds": (42, "42s"),
    "minutes": (17 * 60 + 5, "17m"),
    "hours": (3 * 3600 + 300, "3h 5m"),
    "whole-hours": (7200, "2h"),
    "days": (2 * 86400 + 4 * 3600, "2d 4h"),
    "whole-days": (86400, "1d"),
}


@pytest.mark.parametrize(("seconds", "text"), DURATIONS.values(), ids=DURATIONS.keys())
def test_cli_durations_read_like_people_write_them(seconds: float, text: str) -> None:
    assert metrics_cli.format_seconds(seconds) == text


async def test_a_delivery_is_recorded_once() -> None:
    writer = dataset.FakeWriter()
    svc = service(writer, slugs={"acme-corp/payment-service": "component:default/payment-service"})
    sample = payload("github-workflow-run-success.json")
    first = await svc.ingest(
        None, source="github", payload=sample, target=Target("team"), event="workflow_run", delivery_id="x1"
    )
    again = await svc.ingest(
        None, source="github", payload=sample, target=Target("team"), event="workflow_run", delivery_id="x1"
    )
    other = await svc.ingest(
        None, source="github", payload=sample, target=Target("team"), event="workflow_run", delivery_id="x2"
    )
    assert (first.result, again.result, other.result) == ("created", "duplicate", "created")
    assert first.to_json()["record"] == again.to_json()["record"]
    assert len(writer.objects) == 2


@pytest.mark.parametrize(
    ("event", "delivery", "path"),
    [("push", "x", "headers.X-GitHub-Event"), ("workflow_run", None, "headers.X-GitHub-Delivery")],
    ids=["not-a-deployment-event", "no-delivery-id"],
)
async def test_github_deliveries_need_their_headers(event: str, delivery: str | None, path: str) -> None:
    with pytest.raises(InputError) as caught:
        await service().ingest(
            None, source="github", payload={}, target=Target("team"), event=event, delivery_id=delivery
        )
    assert [p.path for p in caught.value.problems] == [path]


async def test_a_ping_is_acknowledged_and_ignored() -> None:
    got = await service().ingest(
        None, source="github", payload={"zen": "hi"}, target=Target("t"), event="ping", delivery_id="p"
    )
    assert (got.result, got.reason) == ("ignored", "ping: the webhook is connected")
