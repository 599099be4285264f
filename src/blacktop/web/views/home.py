"""The dashboard: catalog size and completeness, claims not Ready, recent tasks and recent audit events.

Every number comes from the same services the API serves them from; a section the caller may not
see (the audit trail for non-admins, claim kinds they may not list) says so instead of counting
zero.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from blacktop import audit, catalog
from blacktop.apiserver import RequestContext
from blacktop.catalog import records

from .. import sessions
from ..rendering import PREFIX, PortalRoute, renderer
from ..services import portal
from .audit import recent_records
from .infrastructure import list_claims

router = APIRouter(route_class=PortalRoute)
root_router = APIRouter(route_class=PortalRoute, include_in_schema=False)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]


@root_router.get("/", name="portal-root")
async def root() -> Response:
    """``/`` is the portal."""
    return RedirectResponse(f"{PREFIX}/", status_code=307)


@router.get("/", name="portal-home")
async def home(request: Request, ctx: SignedIn) -> Response:
    """Counts and recent activity."""
    services = portal(request)
    service = services.catalog()
    counted = await service.query(records.EntityQuery(limit=0, count_total=True))
    scores, _ = await service.scores()
    completeness = catalog.completeness(scores)
    claims, refused = await list_claims(services, ctx, None)
    not_ready = [c for c in claims if c["ready"].get("status") != "True"]
    tasks = await services.scaffolder().list_tasks(limit=5)
    may_read_trail = audit.may_read_trail(ctx.caller)
    recent = await recent_records(services, now=datetime.now(UTC), count=10) if may_read_trail else None
    return renderer(request).page(
        request, "home.html", entities=counted.total or 0, completeness=completeness, claims=len(claims),
        not_ready=not_ready, refused=refused, tasks=tasks.tasks, task_total=tasks.total, audit=recent,
        prometheus=services.local_prometheus(),
    )  # fmt: skip
