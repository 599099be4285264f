"""The audit trail: records filtered by actor, kind and namespace, a page at a time (platform admins).

Records come from the same ``AuditReader`` as ``/api/v1/audit/records``, oldest first, and the
same rule applies (``audit.require_trail_reader``): only platform admins read the trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request, Response

from blacktop import audit
from blacktop.apiserver import RequestContext
from blacktop.kernel.ports import AuditQuery, AuditRecord

from .. import sessions
from ..rendering import PortalRoute, renderer
from ..services import Portal, portal

router = APIRouter(route_class=PortalRoute)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]

PAGE_SIZE: Final = 50


async def recent_records(services: Portal, *, now: datetime, count: int) -> list[AuditRecord]:
    """The newest ``count`` records of the last day, newest first (the reader lists oldest first)."""
    found = await services.audit.list(AuditQuery(since=now - timedelta(days=1), limit=10_000))
    return list(reversed(found[-count:]))


@router.get("/audit", name="portal-audit")
async def audit_page(
    request: Request,
    ctx: SignedIn,
    actor: Annotated[str, Query(max_length=300)] = "",
    kind: Annotated[str, Query(max_length=100)] = "",
    namespace: Annotated[str, Query(max_length=253)] = "",
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> Response:
    """Records matching the filters, oldest first, ``PAGE_SIZE`` at a time (``after`` is the last seq seen)."""
    audit.require_trail_reader(ctx.caller)
    query = AuditQuery(
        actor=actor.strip() or None, kind=kind.strip() or None, namespace=namespace.strip() or None,
        after_seq=after, limit=PAGE_SIZE + 1,
    )  # fmt: skip
    found = await portal(request).audit.list(query)
    params = {k: v for k, v in (("actor", actor), ("kind", kind), ("namespace", namespace)) if v}
    return renderer(request).page(
        request, "audit/list.html", records=found[:PAGE_SIZE], has_next=len(found) > PAGE_SIZE,
        next_after=found[PAGE_SIZE - 1].seq if len(found) > PAGE_SIZE else None, actor=actor, kind=kind,
        namespace=namespace, params=params,
    )  # fmt: skip
