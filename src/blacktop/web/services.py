"""What the portal calls: the very services the HTTP API calls, found where the composition root put them.

The portal is a second delivery layer beside ``blacktop.api`` and may not import it, so it
describes what it needs as a Protocol that the API's ``ApiServices`` satisfies structurally. The
feature services (catalog, scaffolder, secrets, infrastructure) are looked up in ``extra`` under
the same keys the API routes use; a missing one is a ``NotFoundError`` ("not enabled"), as there.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import Request

from blacktop.apiserver import RequestContext, ResourceService
from blacktop.catalog.service import CatalogService
from blacktop.kernel.errors import NotFoundError
from blacktop.kernel.identity import Caller
from blacktop.kernel.kinds import KindRegistry
from blacktop.kernel.ports import AuditQuery, AuditRecord
from blacktop.observability.service import LocalMode
from blacktop.scaffolder.service import ScaffolderService
from blacktop.secrets import GuardedSecretStore


class Authenticator(Protocol):
    """Turns a token into a caller (the API's authenticator)."""

    async def authenticate(self, token: str | None) -> Caller:
        """The caller; ``UnauthenticatedError`` when the token is missing, unknown or expired."""
        ...


class AuditReader(Protocol):
    """Reads the audit trail."""

    async def list(self, query: AuditQuery) -> list[AuditRecord]:
        """Records matching the query, oldest first."""
        ...


class Infrastructure(Protocol):
    """The resources feature's explain use case (``blacktop explain``)."""

    async def explain(self, ctx: RequestContext, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        """The tree claim → composite → composed resources."""
        ...


class PortalServices(Protocol):
    """The part of the API's ``ApiServices`` the portal uses."""

    @property
    def resources(self) -> ResourceService:
        """The write pipeline (and its RBAC-checked reads)."""
        ...

    @property
    def kinds(self) -> KindRegistry:
        """Every served kind."""
        ...

    @property
    def authenticator(self) -> Authenticator:
        """Token to caller."""
        ...

    @property
    def audit(self) -> AuditReader:
        """The audit trail."""
        ...

    @property
    def extra(self) -> dict[str, Any]:
        """Feature services by key."""
        ...


class Portal:
    """Typed access to the services behind one request."""

    def __init__(self, services: PortalServices) -> None:
        self.services = services

    @property
    def resources(self) -> ResourceService:
        """The resource service (RBAC on every read and write)."""
        return self.services.resources

    @property
    def kinds(self) -> KindRegistry:
        """The kind registry."""
        return self.services.kinds

    @property
    def audit(self) -> AuditReader:
        """The audit reader."""
        return self.services.audit

    def catalog(self) -> CatalogService:
        """The catalog service, as ``/api/catalog`` uses it."""
        found = self.services.extra.get("catalog")
        if not isinstance(found, CatalogService):
            raise NotFoundError("the catalog is not enabled in this blacktop")
        return found

    def scaffolder(self) -> ScaffolderService:
        """The scaffolder service, as ``/api/scaffolder/v2`` uses it."""
        found = self.services.extra.get("scaffolder")
        if not isinstance(found, ScaffolderService):
            raise NotFoundError("the scaffolder is not enabled in this blacktop")
        return found

    def secrets(self) -> GuardedSecretStore:
        """The guarded secret store, as ``/api/v1/secrets`` uses it."""
        found = self.services.extra.get("secrets")
        if not isinstance(found, GuardedSecretStore):
            raise NotFoundError("secret management is not enabled in this blacktop")
        return found

    def local_prometheus(self) -> str | None:
        """The URL of the Prometheus that local mode runs beside this blacktop, or None."""
        found = self.services.extra.get("observability")
        local = getattr(found, "local", None)
        return local.url if isinstance(local, LocalMode) and local.enabled and local.url else None

    def infrastructure(self) -> Infrastructure:
        """The explain service, as ``/api/v1/resources/explain`` uses it."""
        found = self.services.extra.get("resources_infra")
        if found is None:
            raise NotFoundError("self-service infrastructure is not enabled in this blacktop")
        service: Infrastructure = found
        return service


def portal(request: Request) -> Portal:
    """The services of the app serving ``request`` (the composition root stored them on ``app.state``)."""
    return Portal(request.app.state.services)
