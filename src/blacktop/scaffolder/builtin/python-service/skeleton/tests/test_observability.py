"""Traces (spans per request, incoming trace context continued) and JSON logs carrying request and trace ids."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.main import create_app
from app.settings import Settings
from app.tracing import build_tracer_provider
from tests.conftest import SETTINGS

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_request_is_a_server_span_named_by_route(client: TestClient, spans: InMemorySpanExporter) -> None:
    client.get("/", headers={"traceparent": TRACEPARENT})
    (span,) = [s for s in spans.get_finished_spans() if s.attributes.get("http.route") == "/"]
    assert span.name == "GET /"
    assert format(span.context.trace_id, "032x") == TRACE_ID, "the caller's trace is continued"
    assert span.attributes["http.response.status_code"] == 200


def test_request_log_is_json_with_request_and_trace_ids(client: TestClient, logs: io.StringIO) -> None:
    client.get("/", headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-42"})
    (record,) = [r for r in json_lines(logs) if r["message"] == "request"]
    assert record["request_id"] == "req-42"
    assert record["trace_id"] == TRACE_ID
    assert (record["level"], record["route"], record["status"]) == ("INFO", "/", 200)
    assert record["service"] == "${{ values.serviceName }}"


def test_trace_id_is_logged_even_without_a_tracer_provider(logs: io.StringIO) -> None:
    with TestClient(create_app(SETTINGS)) as client:
        client.get("/", headers={"traceparent": TRACEPARENT})
    (record,) = [r for r in json_lines(logs) if r["message"] == "request"]
    assert record["trace_id"] == TRACE_ID


def test_logs_outside_a_request_have_no_ids(logs: io.StringIO) -> None:
    logging.getLogger("app.test").warning("hello", extra={"answer": 42})
    (record,) = json_lines(logs)
    assert (record["message"], record["answer"], record["request_id"], record["trace_id"]) == ("hello", 42, None, None)


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        pytest.param({}, False, id="no-endpoint-no-tracing"),
        pytest.param({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True, id="endpoint-enables"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True, id="traces-endpoint"
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"},
            False,
            id="sdk-disabled",
        ),
    ],
)
def test_tracing_is_off_unless_an_otlp_endpoint_is_set(env: dict[str, str], enabled: bool) -> None:
    settings = Settings.from_env(env)
    provider = build_tracer_provider(settings)
    assert (provider is not None) is enabled
    if provider is not None:
        assert provider.resource.attributes["service.name"] == "${{ values.serviceName }}"
        provider.shutdown()


def test_settings_read_the_service_name_and_port() -> None:
    settings = Settings.from_env({"OTEL_SERVICE_NAME": "renamed", "PORT": "9000", "LOG_LEVEL": "debug"})
    assert (settings.service_name, settings.port, settings.log_level) == ("renamed", 9000, "DEBUG")
