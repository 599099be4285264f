"""The observability use cases the HTTP API and the CLI call: render, SLO reports, local mode, catalog sync.

One object holding the feature's adapters, so the delivery layers need neither the composition
root nor any IO library: the API hands it a config document it read (as the caller, so RBAC
applies) and gets files back; it asks for a service's SLO report and gets values, a
``NotFoundError`` when no Prometheus is configured or an ``UnavailableError`` when it is unreachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blacktop.kernel.errors import NotFoundError

from . import model, ports, publishing, reporting, syncing


@dataclass(frozen=True, slots=True)
class LocalMode:
    """Local mode as configured and observed: whether Prometheus runs here, and where."""

    enabled: bool = False
    url: str | None = None
    binary: str | None = None
    reason: str = "local mode is off; set local_prometheus.enabled in observability.yaml"

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the API serves."""
        return {"enabled": self.enabled, "url": self.url, "binary": self.binary, "reason": self.reason}


@dataclass
class ObservabilityService:
    """The feature's use cases over its adapters."""

    publisher: publishing.OutputPublisher
    querier: ports.MetricsQuerier | None = None
    sync: syncing.CatalogSync | None = None
    local: LocalMode = field(default_factory=LocalMode)

    def render(self, document: Mapping[str, Any]) -> dict[str, str]:
        """Every output file of a config document (validated first), by repository path."""
        return self.publisher.render(model.parse_observability_config(_without_server_fields(document)))

    async def slo_report(self, service: str) -> reporting.SloReport:
        """Objective, attainment and budget per SLO of ``service`` from the configured Prometheus."""
        if self.querier is None:
            # Not a 503: nothing is down, and retrying will not help until someone configures one.
            raise NotFoundError(
                "no Prometheus is configured for SLO reports; set prometheus_url in observability.yaml "
                "or enable local mode"
            )
        return await reporting.fetch_slo_report(self.querier, service)

    async def sync_catalog(self) -> syncing.SyncResult:
        """Run the catalog sync now."""
        if self.sync is None:
            raise NotFoundError("the catalog sync is off in this blacktop (no catalog, or zero_config is false)")
        return await self.sync.sync()


def _without_server_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """A stored object reduced to what the model reads (server metadata is kept, status dropped)."""
    return {k: v for k, v in document.items() if k != "status"}
