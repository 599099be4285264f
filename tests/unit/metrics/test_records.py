"""Stored Deployment and Incident objects become trusted values, or every problem with its field path.

Test design notes: the kinds' schemas are exercised through ``KindRegistry.validate`` (what the
write pipeline runs), and ``model`` through its parsers (what reports run); windows are parsed
from what users type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import InputError
from blacktop.kernel.kinds import KindRegistry
from blacktop.metrics import kinds, model

from .conftest import END


def deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": "payment-service",
        "environment": "production",
        "finishedAt": "2026-11-20T10:00:00Z",
        "status": "succeeded",
    }
    body.update(spec)
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": "Deployment",
        "metadata": {"name": "d1", "namespace": "payments"},
        "spec": {k: v for k, v in body.items() if v is not None},
    }


def incident(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": "payment-service",
        "environment": "production",
        "openedAt": "2026-11-20T10:00:00Z",
    }
    body.update(spec)
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": "Incident",
        "metadata": {"name": "i1", "namespace": "payments"},
        "spec": {k: v for k, v in body.items() if v is not None},
    }


@pytest.fixture(scope="module")
def registry() -> KindRegistry:
    found = KindRegistry()
    for kind in kinds.KINDS:
        found.register(kind)
    return found


@dataclass(frozen=True)
class SchemaCase:
    document: dict[str, Any]
    want_paths: list[str] = field(default_factory=list)


SCHEMA = {
    "minimal-deployment": SchemaCase(deployment()),
    "full-deployment": SchemaCase(
        deployment(
            version="v1.4.2",
            commitSha="9f2c4e1",
            commits=[
                {"sha": "9f2c4e1", "authoredAt": "2026-11-20T08:00:00+01:00", "committedAt": "2026-11-20T09:00:00Z"}
            ],
            startedAt="2026-11-20T09:50:00Z",
            causedIncident=True,
            rolledBack=False,
        )
    ),
    "deployment-missing-everything": SchemaCase(
        {
            "apiVersion": kinds.API_VERSION,
            "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "p"},
            "spec": {},
        },
        ["spec.environment", "spec.finishedAt", "spec.service", "spec.status"],
    ),
    "deployment-bad-values": SchemaCase(
        deployment(status="ok", finishedAt="yesterday", commitSha="xyz", commits=[{"sha": "nothex!"}]),
        ["spec.commitSha", "spec.commits[0].sha", "spec.finishedAt", "spec.status"],
    ),
    "deployment-unknown-field": SchemaCase(deployment(colour="blue"), ["spec"]),
    "minimal-incident": SchemaCase(incident()),
    "incident-bad-values": SchemaCase(
        incident(severity="critical", resolvedAt="2026-13-01", deployment="Not A Name"),
        ["spec.deployment", "spec.resolvedAt", "spec.severity"],
    ),
}


@pytest.mark.parametrize("case", SCHEMA.values(), ids=SCHEMA.keys())
def test_schema_reports_every_problem_path(case: SchemaCase, registry: KindRegistry) -> None:
    if not case.want_paths:
        registry.validate(case.document)
        return
    with pytest.raises(InputError) as caught:
        registry.validate(case.document)
    assert sorted({p.path for p in caught.value.problems}) == case.want_paths


def test_a_valid_deployment_parses_to_utc_values() -> None:
    got = model.parse_deployment(
        deployment(
            startedAt="2026-11-20T10:50:00+01:00",
            commits=[{"sha": "abc1234", "authoredAt": "2026-11-20T08:00:00Z"}, {"sha": "def5678"}],
        )
    )
    assert got.service == "component:default/payment-service"
    assert got.started_at == datetime(2026, 11, 20, 9, 50, tzinfo=UTC)
    assert got.finished_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert got.succeeded and got.key == ("payments", "d1")
    assert [(c.sha, c.at) for c in got.commits] == [
        ("abc1234", datetime(2026, 11, 20, 8, tzinfo=UTC)),
        ("def5678", None),
    ]


def test_committed_time_wins_over_authored() -> None:
    got = model.parse_deployment(
        deployment(
            commits=[{"sha": "abc1234", "authoredAt": "2026-11-19T08:00:00Z", "committedAt": "2026-11-20T08:00:00Z"}]
        )
    )
    assert got.commits[0].at == datetime(2026, 11, 20, 8, tzinfo=UTC)


PARSE = {
    "finished-before-started": (deployment(startedAt="2026-11-20T11:00:00Z"), ["spec.finishedAt"]),
    "no-zone": (deployment(finishedAt="2026-11-20T10:00:00"), ["spec.finishedAt"]),
    "bad-service-ref": (deployment(service="component:"), ["spec.service"]),
    "bad-commit-time": (
        deployment(commits=[{"sha": "abc1234", "committedAt": "soon"}]),
        ["spec.commits[0].committedAt"],
    ),
    "resolved-before-opened": (incident(resolvedAt="2026-11-20T09:00:00Z"), ["spec.resolvedAt"]),
    "incident-without-opened": (incident(openedAt=None), ["spec.openedAt"]),
}


@pytest.mark.parametrize(("document", "want_paths"), PARSE.values(), ids=PARSE.keys())
def test_parsing_reports_rules_across_fields(document: dict[str, Any], want_paths: list[str]) -> None:
    parse = model.parse_deployment if document["kind"] == "Deployment" else model.parse_incident
    with pytest.raises(InputError) as caught:
        parse(document)
    assert [p.path for p in caught.value.problems] == want_paths


def test_an_incident_names_its_deployment_in_its_namespace() -> None:
    got = model.parse_incident(incident(deployment="d1", resolvedAt="2026-11-20T10:45:00Z", severity="sev1"))
    assert got.deployment_key == ("payments", "d1")
    assert got.resolved_at is not None and got.resolved_at - got.opened_at == timedelta(minutes=45)


WINDOWS = {"7d": 7, "30d": 30, "90d": 90, "4w": 28, " 1d ": 1, "365d": 365}


@pytest.mark.parametrize(("text", "days"), WINDOWS.items(), ids=WINDOWS.keys())
def test_windows_parse(text: str, days: int) -> None:
    got = model.parse_window(text, end=END)
    assert (got.days, got.start, got.label) == (days, END - timedelta(days=days), f"{days}d")


@pytest.mark.parametrize("text", ["", "30", "0d", "366d", "1y", "-7d", "7 d", "30days"])
def test_bad_windows_name_the_parameter(text: str) -> None:
    with pytest.raises(InputError) as caught:
        model.parse_window(text, end=END)
    assert [p.path for p in caught.value.problems] == ["window"]


@given(st.integers(min_value=1, max_value=365))
def test_any_day_count_round_trips(days: int) -> None:
    window = model.parse_window(f"{days}d", end=END)
    assert model.parse_window(window.label, end=END) == window
    assert window.contains(END) and not window.contains(window.start)
