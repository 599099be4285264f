"""OpenTelemetry wiring: the collector configuration and the environment variables of a workload.

Besides the standard ``OTEL_*`` variables, the workload gets ``LOG_FORMAT``, ``LOG_LEVEL`` and
``LOG_FIELDS`` (comma-separated ``logging.structuredFields``): the logging conventions of the
design, under the names most logging setups already read.

Sampling happens once, in the collector's ``probabilistic_sampler`` at ``tracing.samplingRate``:
it hashes the trace id, so every service keeps or drops the same traces and sampled traces stay
complete. The workload's SDK therefore samples everything it is handed
(``parentbased_always_on``); sampling in both places would multiply the rates. Propagators are a
workload concern and go into ``OTEL_PROPAGATORS``.
"""

from __future__ import annotations

from typing import Any, Final

from . import formatting, model

PROPAGATORS: Final[dict[str, tuple[str, ...]]] = {
    "w3c": ("tracecontext", "baggage"),
    "b3": ("b3",),
    "b3multi": ("b3multi",),
    "jaeger": ("jaeger",),
    "xray": ("xray",),
    "ottrace": ("ottrace",),
}
"""Design propagation names to OpenTelemetry ``OTEL_PROPAGATORS`` values."""
DEFAULT_COLLECTOR_ENDPOINT: Final = "http://otel-collector.observability.svc:4317"
OTLP_GRPC_PORT: Final = 4317
OTLP_HTTP_PORT: Final = 4318


def compute_propagators(tracing: model.TracingSpec) -> list[str]:
    """The ``OTEL_PROPAGATORS`` entries, in the configured order, without repeats."""
    out: list[str] = []
    for name in tracing.propagation:
        out.extend(p for p in PROPAGATORS[name] if p not in out)
    return out


def render_workload_env(
    config: model.ObservabilityConfig, *, collector_endpoint: str = DEFAULT_COLLECTOR_ENDPOINT
) -> dict[str, str]:
    """The environment variables the service's containers need, sorted by name."""
    spec = config.spec
    attributes = {
        "service.namespace": config.metadata.namespace,
        **{f"blacktop.{k}": v for k, v in sorted(spec.metrics.additional_labels.items())},
    }
    env = {
        "OTEL_SERVICE_NAME": spec.service,
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{k}={v}" for k, v in attributes.items()),
        # Metrics are scraped by Prometheus and logs go to stdout, so only traces are exported.
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "LOG_FORMAT": spec.logging.format,
        "LOG_LEVEL": spec.logging.level,
        "LOG_FIELDS": ",".join(spec.logging.structured_fields),
    }
    if not spec.tracing.enabled or spec.tracing.exporter == "none":
        env["OTEL_SDK_DISABLED"] = "true"
        env["OTEL_TRACES_EXPORTER"] = "none"
        return dict(sorted(env.items()))
    env.update(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_PROPAGATORS": ",".join(compute_propagators(spec.tracing)),
        }
    )
    return dict(sorted(env.items()))


def render_collector_config(
    config: model.ObservabilityConfig, *, exporter_endpoint: str = "tempo.observability.svc:4317"
) -> dict[str, Any]:
    """An OpenTelemetry Collector config: OTLP in, probabilistic sampling, batching, OTLP out."""
    percentage = formatting.format_go_float_fixed(round(config.spec.tracing.sampling_rate * 100, 10))
    attributes = [
        {"key": "service.namespace", "value": config.metadata.namespace, "action": "upsert"},
        *(
            {"key": f"blacktop.{k}", "value": v, "action": "upsert"}
            for k, v in sorted(config.spec.metrics.additional_labels.items())
        ),
    ]
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"},
                }
            }
        },
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            # Trace-id hashing (the default mode) keeps whole traces across services.
            "probabilistic_sampler": {"sampling_percentage": float(percentage)},
            "resource": {"attributes": attributes},
            "batch": {},
        },
        "exporters": {"otlp": {"endpoint": exporter_endpoint, "tls": {"insecure": True}}},
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "probabilistic_sampler", "resource", "batch"],
                    "exporters": ["otlp"],
                }
            }
        },
    }
