"""Catalog pages: ranked search and filtered, paginated browsing; an entity's page; refreshing it.

Reads go through ``CatalogService`` exactly as ``/api/catalog`` and ``/api/v1/catalog`` do
(query, search, facets, impact, scores); the refresh action is for platform admins, the same rule
(``catalog.require_catalog_writer``) the API applies to every catalog write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from blacktop import catalog
from blacktop.apiserver import RequestContext
from blacktop.catalog import querying, records
from blacktop.kernel.errors import NotFoundError

from .. import sessions
from ..rendering import PortalRoute, entity_url, renderer
from ..services import portal

router = APIRouter(route_class=PortalRoute)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]

PAGE_SIZE: Final = 25
MAX_SEARCH_HITS: Final = 500
FACETS: Final = ("kind", "spec.owner", "spec.lifecycle")


def _filter(kind: str, owner: str, lifecycle: str) -> querying.EntityFilter:
    conditions = tuple(
        querying.Condition(key, (value.strip().lower(),))
        for key, value in (("kind", kind), ("spec.owner", owner), ("spec.lifecycle", lifecycle))
        if value.strip()
    )
    return querying.EntityFilter((conditions,)) if conditions else querying.EntityFilter()


def entity_row(entity: records.StoredEntity, *, rank: float | None = None) -> dict[str, Any]:
    """What a catalog table row shows of an entity."""
    metadata: Mapping[str, Any] = entity.document.get("metadata") or {}
    spec: Mapping[str, Any] = entity.document.get("spec") or {}
    owner = str(spec.get("owner") or "")
    return {
        "ref": entity.ref.key,
        "kind": entity.document.get("kind") or entity.ref.kind,
        "namespace": entity.ref.namespace,
        "name": metadata.get("name") or entity.ref.name,
        "title": metadata.get("title") or "",
        "description": metadata.get("description") or "",
        "owner": owner,
        "owner_ref": catalog.parse_ref(owner, default_kind="Group").key if _is_ref(owner) else "",
        "lifecycle": spec.get("lifecycle") or "",
        "type": spec.get("type") or "",
        "rank": rank,
    }


def _is_ref(text: str) -> bool:
    if not text:
        return False
    try:
        catalog.parse_ref(text, default_kind="Group")
    except catalog.InvalidEntityRef:
        return False
    return True


@router.get("/catalog", name="portal-catalog")
async def catalog_page(
    request: Request,
    ctx: SignedIn,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(max_length=100)] = "",
    owner: Annotated[str, Query(max_length=300)] = "",
    lifecycle: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Search (ranked full text) or browse (by name), filtered by kind, owner and lifecycle, one page at a time."""
    service = portal(request).catalog()
    entity_filter = _filter(kind, owner, lifecycle)
    offset = (page - 1) * PAGE_SIZE
    if q.strip():
        hits = await service.search(q, entity_filter=entity_filter, limit=min(MAX_SEARCH_HITS, offset + PAGE_SIZE + 1))
        rows = [entity_row(h.entity, rank=h.rank) for h in hits[offset : offset + PAGE_SIZE]]
        total: int | None = None
        has_next = len(hits) > offset + PAGE_SIZE
    else:
        found = await service.query(
            records.EntityQuery(
                filter=entity_filter, order=querying.parse_order(["metadata.name,asc"], style="suffix"),
                offset=offset, limit=PAGE_SIZE, count_total=True,
            )
        )  # fmt: skip
        rows = [entity_row(e) for e in found.items]
        total = found.total or 0
        has_next = offset + len(rows) < total
    facets = await service.repository.facets(list(FACETS), querying.EntityFilter())
    params = {k: v for k, v in (("q", q), ("kind", kind), ("owner", owner), ("lifecycle", lifecycle)) if v}
    return renderer(request).page(
        request, "catalog/list.html", rows=rows, total=total, q=q, kind=kind, owner=owner, lifecycle=lifecycle,
        page=page, has_next=has_next, params=params,
        facets={name: sorted(values, key=lambda v: v[0].lower()) for name, values in facets.items()},
    )  # fmt: skip


@router.get("/catalog/{kind}/{namespace}/{name}", name="portal-entity")
async def entity_page(request: Request, ctx: SignedIn, kind: str, namespace: str, name: str) -> Response:
    """One entity: metadata, relations, impact, scorecard, processing errors, links and annotations."""
    service = portal(request).catalog()
    entity = await service.get_by_name(kind, namespace, name)
    key = entity.ref.key
    dependents = await service.impact(key, direction=catalog.Direction.DEPENDENTS, max_depth=None, kinds=None)
    dependencies = await service.impact(key, direction=catalog.Direction.DEPENDENCIES, max_depth=None, kinds=None)
    scores, _ = await service.scores()
    score = next((s for s in scores if s.ref.key == key), None)
    try:
        location: records.LocationRecord | None = await service.location_of(key)
    except NotFoundError:
        location = None
    relations: dict[str, list[str]] = {}
    for relation in entity.relations:
        relations.setdefault(relation.type, []).append(relation.target.key)
    document = entity.served()
    metadata: Mapping[str, Any] = document.get("metadata") or {}
    return renderer(request).page(
        request, "catalog/entity.html", entity=document, row=entity_row(entity), ref=key,
        relations={t: sorted(refs) for t, refs in sorted(relations.items())},
        dependents=dependents.nodes, dependencies=dependencies.nodes, score=score, errors=entity.errors,
        links=[link for link in metadata.get("links") or [] if isinstance(link, Mapping)],
        annotations=sorted((metadata.get("annotations") or {}).items()),
        labels=sorted((metadata.get("labels") or {}).items()),
        tags=list(metadata.get("tags") or []), location=location, orphan=entity.orphan,
        refreshed=request.query_params.get("refreshed") == "1",
    )  # fmt: skip


@router.post("/catalog/{kind}/{namespace}/{name}/refresh", name="portal-entity-refresh")
async def refresh_entity(request: Request, ctx: SignedIn, kind: str, namespace: str, name: str) -> Response:
    """Refresh the location that holds the entity now (platform admins)."""
    await sessions.read_form(request)
    catalog.require_catalog_writer(ctx.caller)
    service = portal(request).catalog()
    entity = await service.get_by_name(kind, namespace, name)
    await service.refresh_entity(entity.ref.key)
    return RedirectResponse(entity_url(entity.ref.key) + "?refreshed=1", status_code=303)
