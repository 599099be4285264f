"""The metrics use cases: compute a DORA report, and record a deployment from a webhook delivery.

Reports read every record, skip (and name) records that fail ``model``'s checks, and compute over
the window ending at the clock's now. Ingestion maps a payload (``ingesting``), resolves the service
from the catalog when the URL does not name it, and creates the record through the writer; a
delivery already recorded returns the stored record instead (idempotent on the delivery id).

Before a delivery's body is parsed, ``verify_delivery`` checks its signature (GitHub) or shared
secret (Argo CD) when the namespace configured a webhook secret (``signatures``); without one the
delivery is accepted on its token alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from blacktop import catalog
from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import ConflictError, InputError, Problem

from . import ingesting, model, ports, reporting, signatures

SOURCES: Final = ("github", "argocd")


@dataclass(frozen=True, slots=True)
class Ingestion:
    """What a webhook delivery did: ``created``, ``duplicate`` (already recorded) or ``ignored``."""

    result: str
    delivery_id: str
    record: Mapping[str, Any] | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The webhook response body."""
        meta = (self.record or {}).get("metadata") or {}
        return {
            "result": self.result,
            "deliveryId": self.delivery_id,
            "record": None if self.record is None else {"namespace": meta.get("namespace"), "name": meta.get("name")},
            "reason": self.reason,
        }


class MetricsService:
    """DORA reports and webhook ingestion."""

    def __init__(
        self,
        *,
        records: ports.RecordSource,
        owners: ports.OwnerDirectory,
        writer: ports.RecordWriter,
        clock: Clock,
        secrets: ports.WebhookSecrets | None = None,
    ) -> None:
        self._records = records
        self._owners = owners
        self._writer = writer
        self._clock = clock
        self._secrets = secrets

    async def report(
        self,
        *,
        window: str = "30d",
        team: str | None = None,
        service: str | None = None,
        environment: str = "production",
    ) -> reporting.Report:
        """The DORA report over ``window`` up to now, optionally for one team or service."""
        parsed = model.parse_window(window, end=self._clock.now())
        problems: list[Problem] = []
        for path, value, parse in (
            ("team", team, reporting.canonical_team),
            ("service", service, reporting.canonical_service),
        ):
            if value is not None:
                try:
                    parse(value)
                except catalog.InvalidEntityRef as exc:
                    problems.append(Problem(path, str(exc)))
        if problems:
            raise InputError("the DORA report filters are not entity refs", problems=problems)
        deployments, incidents, skipped = await self.load()
        report = reporting.compute_report(
            deployments,
            incidents,
            window=parsed,
            owners=await self._owners.owners(
                {d.service for d in deployments} | {i.service for i in incidents},
                team=reporting.canonical_team(team) if team is not None else None,
            ),
            environment=environment,
            team=team,
            service=service,
        )
        return replace(report, skipped=tuple(skipped))

    async def load(self) -> tuple[list[model.Deployment], list[model.Incident], list[str]]:
        """Every valid record, and a line per record skipped as invalid."""
        deployments: list[model.Deployment] = []
        incidents: list[model.Incident] = []
        skipped: list[str] = []
        for obj in await self._records.list_deployments():
            try:
                deployments.append(model.parse_deployment(obj))
            except InputError as exc:
                skipped.append(_skip_line(exc))
        for obj in await self._records.list_incidents():
            try:
                incidents.append(model.parse_incident(obj))
            except InputError as exc:
                skipped.append(_skip_line(exc))
        return deployments, incidents, skipped

    async def verify_delivery(
        self, *, namespace: str, source: str, body: bytes, proof: str | None, request_id: str
    ) -> bool:
        """Check a delivery's proof against the namespace's webhook secret for ``source``, if one is configured.

        ``body`` is the raw request body and ``proof`` the value of ``signatures.HEADERS[source]``.
        Returns whether a secret was configured (and the proof was valid); raises
        ``signatures.SignatureError`` when a secret is configured and the proof is missing or wrong.
        """
        check_source(source)
        if self._secrets is None:
            return False
        data = await self._secrets.fetch_secret(namespace, source, request_id=request_id)
        if data is None:
            return False
        secret = signatures.secret_from(data, namespace=namespace, source=source)
        signatures.verify_delivery(source, body, proof, secret=secret, namespace=namespace)
        return True

    async def ingest(
        self,
        ctx: Any,
        *,
        source: str,
        payload: Any,
        target: ingesting.Target,
        event: str | None = None,
        delivery_id: str | None = None,
    ) -> Ingestion:
        """Record the deployment a webhook delivery describes, once per delivery id."""
        if not isinstance(payload, Mapping):
            raise InputError("the webhook body must be a JSON object", problems=[Problem("", "send the event's JSON")])
        outcome = await self._map(source, payload, target=target, event=event, delivery_id=delivery_id)
        if outcome.record is None:
            return Ingestion("ignored", outcome.delivery_id, reason=outcome.ignored)
        meta = outcome.record["metadata"]
        try:
            stored = await self._writer.create(ctx, outcome.record)
        except ConflictError:
            existing = await self._writer.get(ctx, meta["namespace"], meta["name"])
            if existing is None:
                raise
            return Ingestion("duplicate", outcome.delivery_id, existing, reason="this delivery is already recorded")
        return Ingestion("created", outcome.delivery_id, stored)

    async def _map(
        self,
        source: str,
        payload: Mapping[str, Any],
        *,
        target: ingesting.Target,
        event: str | None,
        delivery_id: str | None,
    ) -> ingesting.Outcome:
        check_source(source)
        if source == "argocd":
            return ingesting.from_argocd(payload, target=target)
        if not delivery_id:
            raise InputError(
                "the GitHub delivery has no X-GitHub-Delivery header",
                problems=[Problem("headers.X-GitHub-Delivery", "is required: GitHub sends it with every delivery")],
            )
        if target.service is None:
            repository = (payload.get("repository") or {}).get("full_name")
            found = await self._owners.component_for_repository(repository) if isinstance(repository, str) else None
            if found is not None:
                target = replace(target, service=found)
        if event == "workflow_run":
            return ingesting.from_workflow_run(payload, delivery_id=delivery_id, target=target)
        if event == "deployment_status":
            return ingesting.from_deployment_status(payload, delivery_id=delivery_id, target=target)
        if event == "ping":
            return ingesting.Outcome(delivery_id, ignored="ping: the webhook is connected")
        raise InputError(
            f"GitHub event {event!r} is not a deployment event",
            problems=[Problem("headers.X-GitHub-Event", "subscribe the webhook to workflow_run or deployment_status")],
        )


def check_source(source: str) -> None:
    """Raise ``InputError`` unless ``source`` is a webhook source blacktop reads."""
    if source not in SOURCES:
        raise InputError(
            f"webhook source {source!r} is not known", problems=[Problem("source", "use github or argocd")]
        )


def _skip_line(exc: InputError) -> str:
    return f"{exc}: " + "; ".join(p.describe() for p in exc.problems)
