"""Settings read once from the environment at start and passed down (nothing reads os.environ later)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SERVICE_NAME = "${{ values.serviceName }}"


@dataclass(frozen=True, slots=True)
class Settings:
    """What the service needs to know about its environment."""

    service_name: str = DEFAULT_SERVICE_NAME
    environment: str = "dev"
    log_level: str = "INFO"
    host: str = "0.0.0.0"
    port: int = 8000
    otlp_endpoint: str | None = None
    """OTLP endpoint for traces; tracing is off when it is None."""

    @property
    def tracing_enabled(self) -> bool:
        """Whether spans are exported (an OTLP endpoint is set)."""
        return bool(self.otlp_endpoint)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from environment variables; OpenTelemetry's own ``OTEL_*`` names are honoured."""
        disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
        return cls(
            service_name=env.get("OTEL_SERVICE_NAME") or env.get("SERVICE_NAME") or DEFAULT_SERVICE_NAME,
            environment=env.get("ENVIRONMENT", "dev"),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            host=env.get("HOST", "0.0.0.0"),
            port=int(env.get("PORT", "8000")),
            otlp_endpoint=None if disabled else endpoint,
        )
