"""OpenTelemetry tracing over OTLP/HTTP, configured by the standard ``OTEL_*`` variables.

Tracing is off unless an endpoint is set (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``). The exporter reads its endpoint, headers and timeout, and the
SDK its sampler (``OTEL_TRACES_SAMPLER``/``_ARG``) and resource attributes
(``OTEL_RESOURCE_ATTRIBUTES``), from the environment themselves.
"""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from app import __version__
from app.settings import Settings


def build_tracer_provider(settings: Settings) -> TracerProvider | None:
    """A provider exporting spans over OTLP, or None when tracing is off."""
    if not settings.tracing_enabled:
        return None
    # Imported here so a service without an endpoint never loads the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    resource = Resource.create(
        {
            "service.name": settings.service_name,
            "service.version": __version__,
            "deployment.environment": settings.environment,
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
