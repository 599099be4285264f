"""The ``ObservabilityConfig`` kind: what a service wants observed, exactly as the design spells it.

One document per service says how to scrape it, how to trace and log it, which SLOs it keeps and
where alerts go. Every generated output (scrape configs, SLO rules, alert routing, dashboards,
collector config) is a pure function of this document, so the model is strict (unknown fields are
rejected, so typos surface) and every field has a default except ``spec.service``.

``OBSERVABILITY_CONFIG_SCHEMA`` is the same model as a structural OpenAPI v3 schema, with defaults,
for registration as a platform kind (``OBSERVABILITY_CONFIG_KIND``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from blacktop.kernel import kinds
from blacktop.kernel.errors import InputError, Problem

from . import formatting

GROUP: Final = "platform.company.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final[Literal["platform.company.io/v1alpha1"]] = "platform.company.io/v1alpha1"
KIND: Final[Literal["ObservabilityConfig"]] = "ObservabilityConfig"

DURATION_PATTERN: Final = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
CHANNEL_PATTERN: Final = r"^(#[a-z0-9][a-z0-9._-]{0,79}|pagerduty:[A-Za-z0-9][A-Za-z0-9._-]*)$"
SERVICE_PATTERN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _check_duration(value: str) -> str:
    formatting.parse_duration_ms(value)
    return value


Duration = Annotated[str, Field(pattern=DURATION_PATTERN), AfterValidator(_check_duration)]


class _Spec(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class MetricsSpec(_Spec):
    """How Prometheus scrapes the service."""

    scrape_interval: Duration = "30s"
    """How often to scrape, a Prometheus duration."""
    path: str = Field(default="/metrics", pattern=r"^/")
    """The HTTP path serving metrics in the Prometheus exposition format."""
    port: int = Field(default=9090, ge=1, le=65535)
    """The container port serving metrics."""
    additional_labels: dict[str, str] = Field(default_factory=dict)
    """Labels added to every scraped series and to the SLO rules (e.g. team, tier)."""


Propagator = Literal["w3c", "b3", "b3multi", "jaeger", "xray", "ottrace"]


class TracingSpec(_Spec):
    """Distributed tracing through OpenTelemetry."""

    enabled: bool = True
    """Whether the workload exports traces at all."""
    sampling_rate: float = Field(default=0.1, ge=0, le=1)
    """Fraction of traces kept, applied once, in the collector's probabilistic sampler."""
    propagation: list[Propagator] = Field(default_factory=lambda: list[Propagator](["w3c"]))
    """Context propagation formats, in order (w3c = W3C trace context plus baggage)."""
    exporter: Literal["otlp", "none"] = "otlp"
    """Where the workload sends spans: the OTLP collector, or nowhere."""


class LoggingSpec(_Spec):
    """Structured logging conventions the workload is told about."""

    format: Literal["json", "logfmt", "text"] = "json"
    level: Literal["debug", "info", "warn", "error"] = "info"
    structured_fields: list[str] = Field(default_factory=lambda: ["request_id", "trace_id"])
    """Fields every log line carries, so logs join with traces and requests."""


class SLOTargets(_Spec):
    """Service level objectives: availability as a ratio, and optionally p99 latency."""

    availability: float = Field(default=0.999, gt=0, lt=1)
    """Target ratio of non-5xx requests over the SLO period (0.999 = 99.9%)."""
    latency_p99_ms: int | None = Field(default=None, gt=0)
    """99% of requests finish under this many milliseconds; None means no latency SLO."""


class BurnRateWindow(_Spec):
    """A page condition: burn rate over ``window`` (and over window/12) above ``threshold``."""

    window: Duration
    threshold: float = Field(gt=0)


class BurnRate(_Spec):
    """Overrides of the two page conditions (defaults: the SRE workbook's 1h@14.4 and 6h@6)."""

    fast: BurnRateWindow = Field(default_factory=lambda: BurnRateWindow(window="1h", threshold=14.4))
    slow: BurnRateWindow = Field(default_factory=lambda: BurnRateWindow(window="6h", threshold=6.0))

    @model_validator(mode="after")
    def _fast_is_shorter(self) -> BurnRate:
        fast = formatting.parse_duration_ms(self.fast.window)
        slow = formatting.parse_duration_ms(self.slow.window)
        if fast >= slow:
            raise ValueError("fast.window must be shorter than slow.window")
        if fast % 12 or slow % 12:
            raise ValueError("windows must divide into twelve whole milliseconds (short window = window/12)")
        return self


class AlertsSpec(_Spec):
    """SLO targets, alert channels and burn-rate tuning."""

    slo: SLOTargets = Field(default_factory=SLOTargets)
    channels: list[Annotated[str, Field(pattern=CHANNEL_PATTERN)]] = Field(default_factory=list)
    """Slack channels (``#name``) and PagerDuty services (``pagerduty:<service>``)."""
    burn_rate: BurnRate = Field(default_factory=BurnRate)


class DashboardSpec(_Spec):
    """The generated Grafana dashboard."""

    auto_generate: bool = True
    template: str = "microservice-standard"
    """A dashboard template registered with the platform."""
    folder: str | None = None
    """The Grafana folder; None means the service name."""


class ObservabilityConfigSpec(_Spec):
    """The ``spec`` of an ObservabilityConfig."""

    service: str = Field(pattern=SERVICE_PATTERN, max_length=63)
    """The service name: Prometheus job, Kubernetes Service name and OpenTelemetry service.name."""
    metrics: MetricsSpec = Field(default_factory=MetricsSpec)
    tracing: TracingSpec = Field(default_factory=TracingSpec)
    logging: LoggingSpec = Field(default_factory=LoggingSpec)
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    dashboard: DashboardSpec = Field(default_factory=DashboardSpec)


class ObjectMeta(BaseModel):
    """The part of ``metadata`` the generators read; other metadata fields are kept but unused."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    namespace: str = "default"
    labels: dict[str, str] = Field(default_factory=dict)


class ObservabilityConfig(BaseModel):
    """A whole ObservabilityConfig document."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    api_version: Literal["platform.company.io/v1alpha1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["ObservabilityConfig"] = KIND
    metadata: ObjectMeta
    spec: ObservabilityConfigSpec
    status: dict[str, Any] | None = None


def parse_observability_config(document: Mapping[str, Any]) -> ObservabilityConfig:
    """Validate a document into an ObservabilityConfig, reporting every problem with its path."""
    try:
        return ObservabilityConfig.model_validate(document)
    except ValidationError as exc:
        problems = [Problem(path=_path(error["loc"]), message=error["msg"]) for error in exc.errors(include_url=False)]
        metadata = document.get("metadata") if isinstance(document, Mapping) else None
        name = metadata.get("name", "<unnamed>") if isinstance(metadata, Mapping) else "<unnamed>"
        raise InputError(f"ObservabilityConfig {name!r} is invalid", problems=problems) from exc


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _structural(node: Any, defs: Mapping[str, Any]) -> Any:
    """Turn pydantic's JSON Schema into a structural OpenAPI v3 schema: refs inlined, no titles."""
    if isinstance(node, list):
        return [_structural(item, defs) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _structural(merged, defs)
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of and len(any_of) == 2:
        (other,) = [branch for branch in any_of if branch != {"type": "null"}]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        return _structural({**other, **rest, "nullable": True}, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "$defs"):
            continue
        if key == "properties":
            out[key] = {name: _structural(sub, defs) for name, sub in value.items()}
        elif key == "const":
            out["enum"] = [value]
        else:
            out[key] = _structural(value, defs)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def _add_defaults(schema: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    """Give every optional property a ``default``, as the API server needs to fill nested objects.

    Objects whose properties all have defaults default to ``{}`` (their properties then default
    recursively, as in Kubernetes); other values default to what the model would fill in.
    """
    required = set(schema.get("required", ()))
    for name, sub in (schema.get("properties") or {}).items():
        if name in required:
            continue
        if "default" not in sub:
            fills_itself = sub.get("type") == "object" and "properties" in sub and not sub.get("required")
            sub["default"] = {} if fills_itself else defaults[name]
        if sub.get("type") == "object" and isinstance(defaults.get(name), Mapping):
            _add_defaults(sub, defaults[name])


def _spec_schema() -> dict[str, Any]:
    raw = ObservabilityConfigSpec.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = _structural(raw, raw.get("$defs", {}))
    _add_defaults(schema, ObservabilityConfigSpec(service="x").model_dump(by_alias=True, mode="json"))
    schema["description"] = "What a service wants observed: scraping, tracing, logging, SLOs and alerts."
    return schema


OBSERVABILITY_CONFIG_SCHEMA: Final[dict[str, Any]] = _spec_schema()
"""Structural OpenAPI v3 schema of ``spec``, with defaults, as a CRD's ``spec`` property."""

OBSERVABILITY_CONFIG_KIND: Final = kinds.KindInfo(
    group=GROUP,
    kind=KIND,
    plural="observabilityconfigs",
    singular="observabilityconfig",
    versions=(VERSION,),
    schema=kinds.object_schema(copy.deepcopy(OBSERVABILITY_CONFIG_SCHEMA)),
    short_names=("obsconfig",),
    categories=("observability",),
    printer_columns=(kinds.PrinterColumn(name="Service", path="spec.service"),),
    description="Zero-config observability of one service: scraping, SLO alerts, dashboards, tracing.",
)
"""The kind definition to register with the platform's kind registry."""


def is_slack_channel(channel: str) -> bool:
    """Whether an alert channel names a Slack channel (``#payments-alerts``)."""
    return channel.startswith("#")


def pagerduty_service(channel: str) -> str | None:
    """The PagerDuty service of a ``pagerduty:<service>`` channel, else None."""
    match = re.fullmatch(r"pagerduty:(.+)", channel)
    return match.group(1) if match else None
