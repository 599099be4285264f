"""Observability over HTTP (``/api/v1/observability``): render a config's outputs, SLO reports, local mode,
and the catalog sync.

Configs themselves are platform resources under ``/apis/platform.company.io/v1alpha1``; these
routes add what is not a resource. Reading a named config goes through the resource service as the
caller, so RBAC decides who may render what. Route bodies are the service's JSON shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from blacktop import observability
from blacktop.kernel.errors import NotAllowedError, NotFoundError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS
from blacktop.observability.service import ObservabilityService

from ..deps import CurrentContext, Services, read_object

router = APIRouter(prefix="/api/v1/observability", tags=["observability"])


def _service(svc: Any) -> ObservabilityService:
    found = svc.extra.get("observability")
    if not isinstance(found, ObservabilityService):
        raise NotFoundError("observability is not enabled in this blacktop")
    return found


@router.post("/render", operation_id="observability-render")
async def render(request: Request, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Every output of the ObservabilityConfig in the body, by repository path (nothing is stored)."""
    document = await read_object(request, svc)
    return {"files": _service(svc).render(document)}


@router.get("/namespaces/{namespace}/configs/{name}/outputs", operation_id="observability-outputs")
async def outputs(namespace: str, name: str, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """The outputs of a stored config, rendered now, and what its controller last published."""
    obj = await svc.resources.get(ctx, observability.OBSERVABILITY_CONFIG_KIND, namespace, name)
    return {"files": _service(svc).render(obj), "published": (obj.get("status") or {}).get("outputs")}


@router.get("/slo-report/{service}", operation_id="observability-slo-report")
async def slo_report(service: str, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Objective, attainment over the period, error budget remaining and burn rate per SLO of a service."""
    report = await _service(svc).slo_report(service)
    return report.to_json()


@router.get("/local", operation_id="observability-local")
async def local_mode(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Whether a local Prometheus runs beside this blacktop, and its URL."""
    return _service(svc).local.to_json()


@router.get("/catalog-sync", operation_id="observability-catalog-sync-status")
async def catalog_sync_status(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """What the last catalog sync did (null before the first)."""
    found = _service(svc).sync
    last = found.last if found is not None else None
    return {"enabled": found is not None, "last": last.to_json() if last is not None else None}


@router.post("/catalog-sync", operation_id="observability-catalog-sync")
async def catalog_sync(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Run the catalog sync now (platform admins)."""
    if SYSTEM_GROUP_ADMINS not in ctx.caller.groups:
        raise NotAllowedError(f"{ctx.caller.ref} may not run the observability catalog sync; ask a platform admin")
    result = await _service(svc).sync_catalog()
    return result.to_json()
