"""What the metrics context needs from the rest of the platform: stored records, catalog owners, a writer,
and the teams' webhook secrets.

Adapters live in ``wiring/metrics.py``: records are read from the resource store, owners from the
catalog, and writes go through the write pipeline as the webhook's caller (so RBAC, admission and
audit apply). ``Ctx`` is that caller's request context, passed through untouched. Webhook secrets
are read from the secret store with the platform's own service identity, audited as any read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol


class RecordSource(Protocol):
    """Reads every stored Deployment and Incident object (all namespaces)."""

    async def list_deployments(self) -> list[Mapping[str, Any]]:
        """Every Deployment object."""
        ...

    async def list_incidents(self) -> list[Mapping[str, Any]]:
        """Every Incident object."""
        ...


class OwnerDirectory(Protocol):
    """The catalog's ownership: which group owns which component."""

    async def owners(self, services: Collection[str], *, team: str | None = None) -> Mapping[str, str]:
        """Canonical component ref → canonical owner ref (``group:default/payments``) for ``services``,
        and for every component ``team`` owns when a team is given (its idle components are reported too).

        Only those components are read: a catalog holds far more components than have deployment
        records, and the gauges ask every minute.
        """
        ...

    async def component_for_repository(self, repository: str) -> str | None:
        """The component annotated ``github.com/project-slug: <repository>``, or None."""
        ...


class RecordWriter(Protocol):
    """Creates records through the write pipeline as the caller of ``ctx``."""

    async def create(self, ctx: Any, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Create ``obj``; ``ConflictError`` when an object of that name exists."""
        ...

    async def get(self, ctx: Any, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The Deployment record ``namespace/name``, or None."""
        ...


class WebhookSecrets(Protocol):
    """The webhook secret a team configured for a source, read from the secret store."""

    async def fetch_secret(self, namespace: str, source: str, *, request_id: str) -> Mapping[str, str] | None:
        """The key/values stored at the namespace's webhook path for ``source``, or None when none is configured.

        The read is audited under ``request_id``; the values never leave the metrics context.
        """
        ...
