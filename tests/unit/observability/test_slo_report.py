"""SLO reports: folding Prometheus answers into objective/attainment/budget lines, over a fake Prometheus."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from blacktop.kernel.errors import InputError, UnavailableError
from blacktop.observability import ports, reporting
from blacktop.observability.adapters import HttpPrometheus


def sample(slo: str, value: float) -> ports.Sample:
    return ports.Sample(labels={"sloth_service": "pay", "sloth_slo": slo}, value=value)


def test_report_lines_per_slo() -> None:
    results = {
        "objective": [sample("availability", 0.999), sample("latency", 0.99)],
        "error_ratio": [sample("availability", 0.0004), sample("latency", math.nan)],
        "budget_remaining": [sample("availability", 0.6)],
        "burn_rate": [sample("availability", 0.4)],
    }
    report = reporting.compute_slo_report("pay", results, source="http://prom")
    assert [line.slo for line in report.slos] == ["availability", "latency"]
    availability, latency = report.slos
    assert availability.attainment == pytest.approx(0.9996)
    assert availability.budget_remaining == 0.6
    assert latency.objective == 0.99
    assert latency.attainment is None  # NaN: no traffic yet
    assert json.dumps(report.to_json())  # JSON without NaN


def test_no_series_gives_an_empty_report() -> None:
    assert reporting.compute_slo_report("pay", {}).slos == ()


def prometheus_answering(values: dict[str, float]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        query = request.url.params["query"]
        if query == "bad(":
            return httpx.Response(400, json={"status": "error", "error": "parse error"})
        name = query.split("{")[0]
        result = (
            [{"metric": {"sloth_service": "pay", "sloth_slo": "availability"}, "value": [1, str(values[name])]}]
            if name in values
            else []
        )
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": result}})

    return httpx.MockTransport(handler)


async def test_report_over_http() -> None:
    transport = prometheus_answering({
        "slo:objective:ratio": 0.999, "slo:sli_error:ratio_rate30d": 0.002,
        "slo:period_error_budget_remaining:ratio": -1.0, "slo:current_burn_rate:ratio": 20.0,
    })  # fmt: skip
    report = await reporting.fetch_slo_report(HttpPrometheus("http://prom:9090/", transport=transport), "pay")
    (line,) = report.slos
    assert (line.objective, line.attainment, line.budget_remaining, line.burn_rate) == (0.999, 0.998, -1.0, 20.0)
    assert report.source == "http://prom:9090"


async def test_bad_query_is_an_input_error() -> None:
    with pytest.raises(InputError, match="refused the query"):
        await HttpPrometheus("http://prom", transport=prometheus_answering({})).fetch_instant("bad(")


async def test_unreachable_prometheus_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(UnavailableError, match="cannot be reached"):
        await HttpPrometheus("http://prom", transport=httpx.MockTransport(refuse)).fetch_instant("up")
