"""Reading and verifying the audit trail (platform admins only: ``audit.require_trail_reader``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from blacktop import audit
from blacktop.kernel.ports import AuditQuery

from ..deps import CurrentContext, Services

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/records", operation_id="audit-records")
async def records(
    svc: Services,
    ctx: CurrentContext,
    actor: str | None = Query(None),
    kind: str | None = Query(None),
    namespace: str | None = Query(None),
    name: str | None = Query(None),
    since: datetime | None = Query(None),
    until: datetime | None = Query(None),
    after: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10000),
) -> dict[str, Any]:
    """Audit records filtered by actor, resource and time, oldest first."""
    audit.require_trail_reader(ctx.caller)
    # A time without an offset means UTC, as everywhere in the audit trail.
    since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    until = until.replace(tzinfo=UTC) if until is not None and until.tzinfo is None else until
    query = AuditQuery(
        actor=actor, kind=kind, namespace=namespace, name=name, since=since, until=until, after_seq=after, limit=limit
    )
    found = await svc.audit.list(query)
    return {
        "items": [
            {
                "seq": r.seq,
                "time": r.time.isoformat(),
                "actor": r.actor,
                "verb": r.verb,
                "group": r.group,
                "kind": r.kind,
                "namespace": r.namespace,
                "name": r.name,
                "outcome": r.outcome,
                "code": r.code,
                "requestId": r.request_id,
                "message": r.message,
                "oldDigest": r.old_digest,
                "newDigest": r.new_digest,
                "hash": r.hash,
            }
            for r in found
        ]
    }


@router.post("/verify", operation_id="audit-verify")
async def verify(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Recompute the hash chain and name the first broken record, if any."""
    audit.require_trail_reader(ctx.caller)
    return await svc.audit.verify()
