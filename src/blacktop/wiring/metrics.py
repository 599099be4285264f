"""Wiring DORA metrics: the Deployment and Incident kinds, the report and webhook routes, and the gauges.

The adapters here are the IO around the pure ``blacktop.metrics`` context: records are read from the
resource store (every namespace, paged), ownership from the catalog (``w.services["catalog"]``,
looked up on use so the order of ``FEATURES`` does not matter), and webhook records are created
through the write pipeline as the webhook's caller, so RBAC decides who may record deployments in a
namespace (the team's recorder and developer roles may; viewers may not) and every record is audited.

Webhook secrets are read from the guarded secret store (``w.services["secrets"]``, looked up on use)
as the service identity ``dora-webhooks``, so each read is authorized and audited like the other
controllers' reads (``secret-reveal`` on the path, with the delivery's request id), and only the path
of the namespace the delivery is addressed to is ever read. Values are never logged or returned.

Prometheus gauges (``blacktop_dora_*``) are served from a snapshot of the 30-day report, refreshed
every ``REFRESH_SECONDS`` and soon after recorded deliveries; a scrape only reads the snapshot.
Label cardinality is bounded: at most ``MAX_TEAMS`` team series and ``MAX_SERVICES`` service series
per metric (the most deployed first); ``blacktop_dora_series_dropped`` counts what was left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from blacktop import catalog, metrics, secrets
from blacktop.api.routes import metrics as metrics_routes
from blacktop.apiserver import ResourceService
from blacktop.catalog import querying, records
from blacktop.kernel.errors import BlacktopError, NotFoundError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.ports import ListQuery
from blacktop.store import SqlResourceStore

from . import Wiring

log = logging.getLogger("blacktop.metrics")

GAUGE_WINDOW: Final = "30d"
REFRESH_SECONDS: Final = 60.0
MAX_TEAMS: Final = 50
MAX_SERVICES: Final = 200
PROJECT_SLUG: Final = "github.com/project-slug"
PAGE: Final = 500
WEBHOOK_CALLER: Final = service_caller("dora-webhooks")
"""The identity webhook secrets are read with (audited as the actor of each read)."""


class StoreRecords:
    """``RecordSource`` over the resource store: every Deployment and Incident, all namespaces."""

    def __init__(self, store: SqlResourceStore) -> None:
        self._store = store

    async def _all(self, kind: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            page = await self._store.list(ListQuery(group=metrics.GROUP, kind=kind, limit=PAGE, continue_token=token))
            found.extend(page.items)
            token = page.continue_token
            if not token:
                return found

    async def list_deployments(self) -> list[Mapping[str, Any]]:
        """Every Deployment object."""
        return await self._all(metrics.kinds.DEPLOYMENT_KIND)

    async def list_incidents(self) -> list[Mapping[str, Any]]:
        """Every Incident object."""
        return await self._all(metrics.kinds.INCIDENT_KIND)


class CatalogOwners:
    """``OwnerDirectory`` over the catalog: component owners and GitHub project slugs."""

    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services

    def _catalog(self) -> Any:
        return self._services.get("catalog")

    async def owners(self, services: Collection[str], *, team: str | None = None) -> Mapping[str, str]:
        """Canonical component ref → canonical owner ref for ``services`` and ``team``'s components.

        Components without a valid owner are left out.
        """
        found = self._catalog()
        if found is None:
            return {}
        stored_entities = list((await found.repository.get_by_refs(sorted(services))).values()) if services else []
        if team is not None:
            owned_by_team = querying.EntityFilter(
                ((querying.Condition("kind", ("component",)), querying.Condition("relations.ownedby", (team,))),)
            )
            stored_entities += (await found.query(records.EntityQuery(filter=owned_by_team))).items
        owned: dict[str, str] = {}
        for stored in stored_entities:
            key = stored.ref.key
            owner = (stored.document.get("spec") or {}).get("owner")
            if not isinstance(owner, str):
                continue
            try:
                owned[key] = catalog.parse_ref(owner, default_kind="group", default_namespace=stored.ref.namespace).key
            except catalog.InvalidEntityRef:
                continue
        return owned

    async def component_for_repository(self, repository: str) -> str | None:
        """The component whose ``github.com/project-slug`` annotation is ``repository``, or None."""
        found = self._catalog()
        if found is None:
            return None
        annotated = querying.EntityFilter(
            (
                (
                    querying.Condition("kind", ("component",)),
                    querying.Condition(f"metadata.annotations.{PROJECT_SLUG}", (repository,)),
                ),
            )
        )
        page = await found.query(records.EntityQuery(filter=annotated, limit=1))
        return page.items[0].ref.key if page.items else None


class PipelineRecords:
    """``RecordWriter`` over the write pipeline, as the caller of the request context."""

    def __init__(self, resources: ResourceService) -> None:
        self._resources = resources

    async def create(self, ctx: Any, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Create the record (authorised, validated, admitted and audited)."""
        namespace = str(obj["metadata"]["namespace"])
        return await self._resources.create(ctx, metrics.DEPLOYMENT, obj, namespace=namespace)

    async def get(self, ctx: Any, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The Deployment record, or None."""
        try:
            return await self._resources.get(ctx, metrics.DEPLOYMENT, namespace, name)
        except NotFoundError:
            return None


class StoreWebhookSecrets:
    """``WebhookSecrets`` over the guarded secret store, read as ``WEBHOOK_CALLER``."""

    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services

    async def fetch_secret(self, namespace: str, source: str, *, request_id: str) -> Mapping[str, str] | None:
        """The values at ``secret/<namespace>/webhooks/<source>``, None when no secret is stored there.

        A path whose current version is deleted or destroyed is still configured: the caller
        refuses deliveries (fail closed) until a new version is written.
        """
        guarded = self._services.get("secrets")
        if not isinstance(guarded, secrets.GuardedSecretStore):
            return None
        path = metrics.signatures.secret_path(namespace, source)
        try:
            found = await guarded.reveal(WEBHOOK_CALLER, request_id, path)
        except secrets.SecretVersionUnavailable:
            return {}
        except secrets.SecretNotFound:
            return None
        return dict(found.data)


def _labels(scope: str, team: str, service: str) -> list[str]:
    return [scope, team, service, GAUGE_WINDOW]


class DoraGauges(Collector):
    """The ``blacktop_dora_*`` gauges, from the last computed report."""

    LABELS: Final = ["scope", "team", "service", "window"]

    def __init__(self) -> None:
        self._rows: list[tuple[str, str, str, metrics.Metrics]] = []
        self._dropped = 0

    def update(self, report: metrics.Report) -> None:
        """Keep the rows of ``report`` within the cardinality bounds."""
        rows: list[tuple[str, str, str, metrics.Metrics]] = []
        if report.organisation is not None:
            rows.append(("organisation", "", "", report.organisation.metrics))

        def deployed(row: metrics.reporting.Row) -> int:
            found = row.metrics.change_failure_rate
            return 0 if found is None else found.deployments

        teams = sorted(report.teams, key=lambda r: (-deployed(r), r.name))
        services = sorted(report.services, key=lambda r: (-deployed(r), r.name))
        rows.extend(("team", r.name, "", r.metrics) for r in teams[:MAX_TEAMS])
        rows.extend(("service", r.team or "", r.name, r.metrics) for r in services[:MAX_SERVICES])
        self._rows = rows
        self._dropped = max(0, len(teams) - MAX_TEAMS) + max(0, len(services) - MAX_SERVICES)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges; a metric without data in the window has no series."""
        frequency = GaugeMetricFamily(
            "blacktop_dora_deployments_per_day", "Successful deployments per day over the window", labels=self.LABELS
        )
        lead = GaugeMetricFamily(
            "blacktop_dora_lead_time_seconds",
            "Lead time for changes (commit to successful deployment)",
            labels=[*self.LABELS, "quantile"],
        )
        failure = GaugeMetricFamily(
            "blacktop_dora_change_failure_ratio", "Failed or incident-causing deployments / all", labels=self.LABELS
        )
        restore = GaugeMetricFamily(
            "blacktop_dora_time_to_restore_seconds", "Median incident opened-to-resolved time", labels=self.LABELS
        )
        opened = GaugeMetricFamily(
            "blacktop_dora_open_incidents", "Incidents open at the window's end", labels=self.LABELS
        )
        for scope, team, service, values in self._rows:
            labels = _labels(scope, team, service)
            if values.deployment_frequency is not None:
                frequency.add_metric(labels, values.deployment_frequency.per_day)
            if values.lead_time is not None:
                lead.add_metric([*labels, "0.5"], values.lead_time.median.total_seconds())
                lead.add_metric([*labels, "0.9"], values.lead_time.p90.total_seconds())
            if values.change_failure_rate is not None:
                failure.add_metric(labels, values.change_failure_rate.rate)
            if values.time_to_restore is not None:
                restore.add_metric(labels, values.time_to_restore.median.total_seconds())
            opened.add_metric(labels, values.open_incidents)
        dropped = GaugeMetricFamily(
            "blacktop_dora_series_dropped", "Teams and services left out of the DORA gauges (cardinality bound)"
        )
        dropped.add_metric([], self._dropped)
        yield from (frequency, lead, failure, restore, opened, dropped)


class GaugeRefresher:
    """Recomputes the gauges' report every ``REFRESH_SECONDS``, and soon after a delivery is recorded.

    Deliveries only ask for a refresh (``refresh_soon``); the background task coalesces a burst of
    them into one computation, so a webhook storm does not recompute the report per delivery.
    """

    def __init__(self, service: metrics.MetricsService, gauges: DoraGauges) -> None:
        self._service = service
        self._gauges = gauges
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Compute the 30-day report now and publish it to the gauges."""
        try:
            self._gauges.update(await self._service.report(window=GAUGE_WINDOW))
        except BlacktopError as exc:
            log.warning("the DORA gauges were not refreshed: %s", exc)

    def refresh_soon(self) -> None:
        """Ask the background task to refresh now rather than at the next period."""
        self._wanted.set()

    async def _loop(self) -> None:
        while True:
            self._wanted.clear()
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout=REFRESH_SECONDS)

    async def start(self) -> None:
        """Start refreshing in the background."""
        self._task = asyncio.create_task(self._loop(), name="dora-gauges")

    async def stop(self) -> None:
        """Stop refreshing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def wire(w: Wiring) -> None:
    """Register the kinds, the metrics service and routes, and the gauges on the platform's registry."""
    w.add_kinds(list(metrics.KINDS))
    service = metrics.MetricsService(
        records=StoreRecords(w.store),
        owners=CatalogOwners(w.services),
        writer=PipelineRecords(w.resources),
        clock=w.clock,
        secrets=StoreWebhookSecrets(w.services),
    )
    gauges = DoraGauges()
    w.metrics.registry.register(gauges)
    refresher = GaugeRefresher(service, gauges)
    w.services["metrics"] = service
    w.services["metrics.gauges"] = refresher
    w.routers.append(metrics_routes.router)
    w.startup.append(refresher.start)
    w.shutdown.append(refresher.stop)
