"""The Prometheus endpoint counts requests by route template, not by raw path."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_requests_are_counted_by_route(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")
    found = samples(client)
    ok = ("http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    missing = ("http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))
    assert found[ok] == 2
    assert found[missing] == 1
    assert found[("http_request_duration_seconds_count", (("method", "GET"), ("route", "/healthz")))] == 2


def test_process_metrics_are_exposed(client: TestClient) -> None:
    names = {name for name, _ in samples(client)}
    assert "process_cpu_seconds_total" in names or "python_info" in names
