"""Fixtures: an app with an in-memory span exporter and its own metrics registry, served by TestClient."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.logs import configure_logging
from app.main import create_app
from app.settings import Settings

SETTINGS = Settings(service_name="${{ values.serviceName }}", environment="test")


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider


@pytest.fixture
def client(provider: TracerProvider) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, tracer_provider=provider)) as test_client:
        yield test_client


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged during the test, as JSON lines."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(service=SETTINGS.service_name, stream=stream)
    yield stream
    root.handlers, root.level = saved
    logging.getLogger("uvicorn.access").disabled = False
