"""Self-service infrastructure over HTTP: ``plan`` a claim without applying it, ``explain`` a claim's tree.

``POST /api/v1/resources/plan`` takes the same body as apply (``{"documents": [{"source", "object"}]}``)
and returns, per claim or composite, the composed resources that would be created, changed or
deleted with their diffs. ``GET /api/v1/resources/explain/{kind}/{name}`` returns the tree
claim → composite → composed resources. Both answer with JSON and a ``text`` rendering the CLI
prints. The work is done by the resources feature's service (``extra["resources_infra"]``).
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Query, Request

from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import InputError, NotFoundError, Problem

from ..deps import CurrentContext, Services

router = APIRouter(tags=["resources"])


class InfrastructureService(Protocol):
    """What these routes call."""

    async def plan(self, ctx: RequestContext, documents: list[tuple[str, Any]]) -> dict[str, Any]:
        """Plan every claim or composite among ``documents``."""
        ...

    async def explain(self, ctx: RequestContext, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        """The tree of one claim or composite."""
        ...


def _service(svc: Any) -> InfrastructureService:
    found = svc.extra.get("resources_infra")
    if found is None:
        raise NotFoundError("self-service infrastructure is not enabled in this blacktop")
    service: InfrastructureService = found
    return service


@router.post("/api/v1/resources/plan", operation_id="resources-plan")
async def plan(request: Request, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """What applying these claims would do to their composed resources; nothing is written."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise InputError("the request body is not JSON", problems=[Problem("", "send an ApplyRequest")]) from exc
    items = body.get("documents") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise InputError("no documents to plan", problems=[Problem("documents", "send at least one claim")])
    documents = [
        (str(item.get("source") or f"document {i + 1}"), item.get("object"))
        for i, item in enumerate(items)
        if isinstance(item, dict)
    ]
    return await _service(svc).plan(ctx, documents)


@router.get("/api/v1/resources/explain/{kind}/{name}", operation_id="resources-explain")
async def explain(
    kind: str, name: str, svc: Services, ctx: CurrentContext, namespace: str | None = Query(default=None)
) -> dict[str, Any]:
    """The tree claim → composite → composed resources, with conditions, selection and field provenance."""
    return await _service(svc).explain(ctx, kind, namespace, name)
