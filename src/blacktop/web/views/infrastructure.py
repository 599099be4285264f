"""Self-service infrastructure: claims per namespace with Ready/Synced, and a claim's explain tree.

Claims are listed with ``ResourceService.list`` for every kind an installed
CompositeResourceDefinition serves as a claim (category ``claim``), so RBAC decides what a caller
sees: a kind the caller may not list across namespaces is named, with the reason, instead of
being silently left out. The claim page is ``blacktop explain`` (the resources feature's
``explain``) drawn as a tree, plus its plain-text rendering.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.kinds import KindInfo

from .. import sessions
from ..rendering import PortalRoute, condition, renderer
from ..services import Portal, portal

router = APIRouter(route_class=PortalRoute)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]


def claim_kinds(kinds: list[KindInfo]) -> list[KindInfo]:
    """Kinds served as claims by an installed CompositeResourceDefinition."""
    return [k for k in kinds if "claim" in k.categories and k.namespaced]


async def list_claims(
    services: Portal, ctx: RequestContext, namespace: str | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every claim the caller may list (in ``namespace`` or everywhere), and what they may not list."""
    rows: list[dict[str, Any]] = []
    refused: list[str] = []
    for kind in claim_kinds(services.kinds.all()):
        try:
            page = await services.resources.list(ctx, kind, namespace)
        except NotAllowedError as exc:
            refused.append(str(exc))
            continue
        for obj in page.items:
            rows.append(claim_row(kind, obj))
    rows.sort(key=lambda r: (r["namespace"], r["kind"], r["name"]))
    return rows, refused


def claim_row(kind: KindInfo, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the claims table shows of one claim."""
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    return {
        "kind": kind.kind, "plural": kind.plural, "group": kind.group,
        "namespace": str(meta.get("namespace") or ""), "name": str(meta.get("name") or ""),
        "ready": condition(obj, "Ready"), "synced": condition(obj, "Synced"),
        "created": meta.get("creationTimestamp") or "",
    }  # fmt: skip


@router.get("/infrastructure", name="portal-infrastructure")
async def claims_page(
    request: Request, ctx: SignedIn, namespace: Annotated[str, Query(max_length=253)] = ""
) -> Response:
    """Claims grouped by namespace."""
    rows, refused = await list_claims(portal(request), ctx, namespace.strip() or None)
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_namespace.setdefault(row["namespace"], []).append(row)
    return renderer(request).page(
        request, "infrastructure/list.html", by_namespace=by_namespace, refused=refused, namespace=namespace,
        total=len(rows),
    )  # fmt: skip


@router.get("/infrastructure/{plural}/{namespace}/{name}", name="portal-claim")
async def claim_page(request: Request, ctx: SignedIn, plural: str, namespace: str, name: str) -> Response:
    """A claim's explain tree: claim → composite → composed resources, conditions, composition and field sources."""
    services = portal(request)
    kind = services.kinds.resolve(plural)
    tree = await services.infrastructure().explain(ctx, f"{kind.plural}.{kind.group}", namespace, name)
    return renderer(request).page(
        request, "infrastructure/claim.html", tree=tree, kind=kind, namespace=namespace, name=name
    )
