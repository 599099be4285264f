"""The catalog over HTTP: Backstage's ``/api/catalog`` API (same paths and shapes) and blacktop's own
``/api/v1/catalog`` endpoints (impact, ranked search, scorecards, dark matter, location status).

Every route needs a valid token; reads are open to every authenticated caller, writes (locations,
refresh, entity deletion) to platform admins, since the catalog is written through locations
(``catalog.require_catalog_writer``, the rule the portal applies too).
Bodies are rendered with ``json.dumps`` directly: the entities are already plain JSON, and
re-validating them through response models would cost more than the query.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from blacktop import catalog
from blacktop.catalog import locations, querying, records
from blacktop.catalog.service import CatalogService
from blacktop.kernel.errors import InputError, NotFoundError, Problem

from ..deps import CurrentContext, Services

router = APIRouter(tags=["catalog"])

DEFAULT_QUERY_LIMIT = 200
MAX_LIMIT = 10_000
MAX_OFFSET = 2**31
"""Past any real catalog, and within what every database's integers hold (a larger one was a 500)."""


def _catalog(svc: Any) -> CatalogService:
    found = svc.extra.get("catalog")
    if not isinstance(found, CatalogService):
        raise NotFoundError("the catalog is not enabled in this blacktop")
    return found


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


def _limit(value: int | None, default: int | None) -> int | None:
    if value is None:
        return default
    if value < 0 or value > MAX_LIMIT:
        raise InputError("limit is out of range", problems=[Problem(path="limit", message=f"use 0..{MAX_LIMIT}")])
    return value


def _offset(value: Any, path: str = "offset") -> int:
    """A page offset from a parameter or a cursor: an integer in 0..MAX_OFFSET, else a 400 naming ``path``."""
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= MAX_OFFSET:
        raise InputError("offset is out of range", problems=[Problem(path=path, message=f"use 0..{MAX_OFFSET}")])
    return number


def _render(entity: records.StoredEntity, fields: list[str]) -> dict[str, Any]:
    served = entity.served()
    return querying.select_fields(served, fields) if fields else served


def _location_json(location: records.LocationRecord) -> dict[str, Any]:
    return {"id": location.id, "type": location.type, "target": location.target}


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InputError(
            "cursor is malformed", problems=[Problem(path="cursor", message="pass it back unchanged")]
        ) from exc
    if not isinstance(data, dict):
        raise InputError("cursor is malformed", problems=[Problem(path="cursor", message="pass it back unchanged")])
    return data


# -- Backstage: entities ---------------------------------------------------------------------------


@router.get("/api/catalog/entities", operation_id="catalog-get-entities")
async def get_entities(
    request: Request,
    svc: Services,
    ctx: CurrentContext,
    filter: list[str] = Query(default=[]),
    fields: list[str] = Query(default=[]),
    order: list[str] = Query(default=[]),
    limit: int | None = None,
    offset: int | None = None,
    after: str | None = None,
) -> Response:
    """Backstage's legacy list: a plain array; pages with ``Link: rel="next"`` when limit/offset/after are given."""
    service = _catalog(svc)
    start = _offset(_decode_cursor(after).get("offset"), "after") if after else _offset(offset)
    size = _limit(limit, None)
    query = records.EntityQuery(
        filter=querying.parse_filters(filter), order=querying.parse_order(order, style="prefix"),
        offset=start, limit=size,
    )  # fmt: skip
    page = await service.query(query)
    selected = querying.parse_fields(fields)
    items = [_render(e, selected) for e in page.items]
    headers = None
    if size is not None and len(items) == size:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "offset")]
        params.append(("after", _encode_cursor({"offset": start + size})))
        link = str(request.url.include_query_params()).split("?")[0]
        from urllib.parse import urlencode

        headers = {"Link": f'<{link}?{urlencode(params)}>; rel="next"'}
    return _json(items, headers=headers)


@router.get("/api/catalog/entities/by-query", operation_id="catalog-query-entities")
async def query_entities(
    svc: Services,
    ctx: CurrentContext,
    filter: list[str] = Query(default=[]),
    fields: list[str] = Query(default=[]),
    orderField: list[str] = Query(default=[]),  # noqa: N803 - Backstage's parameter name
    fullTextFilterTerm: str | None = None,  # noqa: N803
    fullTextFilterFields: list[str] = Query(default=[]),  # noqa: N803
    limit: int | None = None,
    offset: int | None = None,
    cursor: str | None = None,
    totalItems: str | None = None,  # noqa: N803
) -> Response:
    """Backstage's paginated query: ``{items, totalItems, pageInfo: {nextCursor?, prevCursor?}}``."""
    if cursor:
        state = _decode_cursor(cursor)
    else:
        state = {
            "filter": filter, "orderField": orderField[:1], "term": fullTextFilterTerm,
            "termFields": [f for p in fullTextFilterFields for f in p.split(",") if f], "offset": offset or 0,
            "totalItems": totalItems or "include",
        }  # fmt: skip
    return await _run_query(
        _catalog(svc), state, entity_filter=querying.parse_filters(list(state.get("filter") or [])),
        limit=_limit(limit, DEFAULT_QUERY_LIMIT) or 0, fields=querying.parse_fields(fields),
    )  # fmt: skip


@router.post("/api/catalog/entities/by-query", operation_id="catalog-query-entities-by-predicate")
async def query_entities_by_predicate(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """The predicate form: JSON ``{query, fields, limit, offset, orderBy, fullTextFilter, cursor, totalItems}``."""
    body = await _body(request)
    if body.get("cursor"):
        state = _decode_cursor(str(body["cursor"]))
    else:
        order_by = body.get("orderBy") or []
        order_by = order_by if isinstance(order_by, list) else [order_by]
        text = body.get("fullTextFilter") or {}
        state = {
            "query": body.get("query") or {},
            "orderField": [f"{o.get('field')},{o.get('order', 'asc')}" for o in order_by[:1] if isinstance(o, dict)],
            "term": text.get("term"), "termFields": text.get("fields") or [],
            "offset": _offset(body.get("offset")), "totalItems": body.get("totalItems") or "include",
        }  # fmt: skip
    return await _run_query(
        _catalog(svc), state, entity_filter=querying.parse_predicate(state.get("query")),
        limit=_limit(body.get("limit"), DEFAULT_QUERY_LIMIT) or 0,
        fields=querying.parse_fields(body.get("fields") or []),
    )  # fmt: skip


async def _run_query(
    service: CatalogService, state: dict[str, Any], *, entity_filter: querying.EntityFilter, limit: int,
    fields: list[str],
) -> Response:  # fmt: skip
    start = _offset(state.get("offset"))
    term = (state.get("term") or "").strip() or None
    query = records.EntityQuery(
        filter=entity_filter, fulltext=term, fulltext_fields=list(state.get("termFields") or []),
        order=querying.parse_order(list(state.get("orderField") or []), style="suffix"),
        offset=start, limit=limit, count_total=True,
    )  # fmt: skip
    page = await service.query(query)
    total = page.total or 0
    page_info: dict[str, str] = {}
    if start + len(page.items) < total and page.items:
        page_info["nextCursor"] = _encode_cursor({**state, "offset": start + len(page.items)})
    if start > 0:
        page_info["prevCursor"] = _encode_cursor({**state, "offset": max(0, start - limit)})
    body: dict[str, Any] = {"items": [_render(e, fields) for e in page.items], "pageInfo": page_info}
    body["totalItems"] = total
    return _json(body)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise InputError("the request body must be JSON", problems=[Problem(path="", message=str(exc))]) from exc
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object", problems=[Problem(path="", message="not an object")])
    return body


@router.post("/api/catalog/entities/by-refs", operation_id="catalog-get-entities-by-refs")
async def get_entities_by_refs(
    request: Request,
    svc: Services,
    ctx: CurrentContext,
    filter: list[str] = Query(default=[]),
) -> Response:
    """``{items}`` in request order, ``null`` where an entity is missing (or filtered out)."""
    body = await _body(request)
    wanted = body.get("entityRefs")
    if not isinstance(wanted, list) or not all(isinstance(r, str) for r in wanted):
        raise InputError("entityRefs must be a list of strings", problems=[Problem(path="entityRefs", message="bad")])
    keys = []
    for ref in wanted:
        try:
            keys.append(catalog.parse_ref(ref).key)
        except catalog.InvalidEntityRef:
            keys.append("")
    service = _catalog(svc)
    found = await service.repository.get_by_refs([k for k in keys if k])
    entity_filter = querying.parse_predicate(body["query"]) if body.get("query") else querying.parse_filters(filter)
    if not entity_filter.is_everything and found:
        allowed = await service.query(records.EntityQuery(filter=entity_filter))
        uids = {e.uid for e in allowed.items}
        found = {k: v for k, v in found.items() if v.uid in uids}
    fields = querying.parse_fields(body.get("fields") or [])
    return _json({"items": [_render(found[k], fields) if k in found else None for k in keys]})


@router.get("/api/catalog/entities/by-uid/{uid}", operation_id="catalog-get-entity-by-uid")
async def get_entity_by_uid(uid: str, svc: Services, ctx: CurrentContext) -> Response:
    """One entity by uid."""
    found = await _catalog(svc).repository.get_by_uid(uid)
    if found is None:
        raise NotFoundError(f"No entity with uid {uid}")
    return _json(found.served())


@router.delete("/api/catalog/entities/by-uid/{uid}", status_code=204, operation_id="catalog-delete-entity-by-uid")
async def delete_entity_by_uid(uid: str, svc: Services, ctx: CurrentContext) -> Response:
    """Remove an entity; it comes back on the next refresh if its location still emits it."""
    catalog.require_catalog_writer(ctx.caller)
    await _catalog(svc).delete_entity(uid)
    return Response(status_code=204)


@router.get("/api/catalog/entities/by-name/{kind}/{namespace}/{name}", operation_id="catalog-get-entity-by-name")
async def get_entity_by_name(kind: str, namespace: str, name: str, svc: Services, ctx: CurrentContext) -> Response:
    """One entity by kind, namespace and name (case-insensitive)."""
    return _json((await _catalog(svc).get_by_name(kind, namespace, name)).served())


@router.get(
    "/api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry", operation_id="catalog-get-entity-ancestry"
)
async def get_entity_ancestry(kind: str, namespace: str, name: str, svc: Services, ctx: CurrentContext) -> Response:
    """``{rootEntityRef, items: [{entity, parentEntityRefs}]}``: the entity and the chain that emitted it."""
    return _json(await _catalog(svc).ancestry(kind, namespace, name))


@router.get("/api/catalog/entity-facets", operation_id="catalog-get-entity-facets")
async def get_entity_facets(
    svc: Services,
    ctx: CurrentContext,
    facet: list[str] = Query(default=[]),
    filter: list[str] = Query(default=[]),
) -> Response:
    """``{facets: {<facet>: [{value, count}]}}``."""
    return await _facets(_catalog(svc), facet, querying.parse_filters(filter))


@router.post("/api/catalog/entity-facets", operation_id="catalog-query-entity-facets")
async def query_entity_facets(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """Facets with a predicate ``query``."""
    body = await _body(request)
    return await _facets(_catalog(svc), list(body.get("facets") or []), querying.parse_predicate(body.get("query")))


async def _facets(service: CatalogService, facets: list[str], entity_filter: querying.EntityFilter) -> Response:
    if not facets:
        raise InputError("name at least one facet", problems=[Problem(path="facet", message="e.g. facet=kind")])
    found = await service.repository.facets(facets, entity_filter)
    return _json({"facets": {f: [{"value": v, "count": n} for v, n in found[f]] for f in facets}})


# -- Backstage: locations, refresh, validation -----------------------------------------------------


@router.post("/api/catalog/locations", status_code=201, operation_id="catalog-create-location")
async def create_location(
    request: Request,
    svc: Services,
    ctx: CurrentContext,
    dry_run: str | None = Query(default=None, alias="dryRun"),
    on_conflict: str | None = Query(default=None, alias="onConflict"),
) -> Response:
    """Register a location (201 ``{location, entities, exists?}``); ``dryRun=true`` only processes it."""
    body = await _body(request)
    type_, target = str(body.get("type") or "url"), str(body.get("target") or "")
    service = _catalog(svc)
    if dry_run == "true":
        exists, entities, problems = await service.dry_run(type_, target)
        if problems:
            raise InputError(f"location {type_}:{target} has {len(problems)} problem(s)", problems=problems)
        document = {"id": "", "type": type_, "target": target}
        return _json({"exists": exists, "location": document, "entities": [e.to_dict() for e in entities]}, status=201)
    catalog.require_catalog_writer(ctx.caller)
    location = await service.register(type_, target, on_conflict=on_conflict or "reject")
    held = sorted(await service.repository.hashes_of_location(location.id))[:1000]
    found = await service.repository.get_by_refs(held)
    served = [found[r].served() for r in held if r in found]
    return _json({"location": _location_json(location), "entities": served}, status=201)


@router.get("/api/catalog/locations", operation_id="catalog-list-locations")
async def list_locations(svc: Services, ctx: CurrentContext) -> Response:
    """``[{data: {id, type, target}}]``."""
    return _json([{"data": _location_json(loc)} for loc in await _catalog(svc).list_locations()])


@router.get("/api/catalog/locations/by-entity/{kind}/{namespace}/{name}", operation_id="catalog-location-by-entity")
async def location_by_entity(kind: str, namespace: str, name: str, svc: Services, ctx: CurrentContext) -> Response:
    """The location that holds an entity."""
    service = _catalog(svc)
    location = await service.location_of(catalog.EntityRef(kind, namespace, name).key)
    return _json(_location_json(location))


@router.get("/api/catalog/locations/{location_id}", operation_id="catalog-get-location")
async def get_location(location_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """One location."""
    return _json(_location_json(await _catalog(svc).require_location(location_id)))


@router.put("/api/catalog/locations/{location_id}", operation_id="catalog-update-location")
async def update_location(location_id: str, request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """Point a location at another ``{type, target}`` and refresh it."""
    catalog.require_catalog_writer(ctx.caller)
    body = await _body(request)
    location = await _catalog(svc).update_location(
        location_id, str(body.get("type") or "url"), str(body.get("target") or "")
    )
    return _json(_location_json(location))


@router.post("/api/catalog/locations/by-query", operation_id="catalog-query-locations")
async def query_locations(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """``{items, totalItems, pageInfo}`` of locations, ``limit`` (default 1000) and ``cursor`` paged."""
    body = await _body(request)
    limit = _limit(body.get("limit"), 1000) or 1000
    start = _offset(_decode_cursor(str(body["cursor"])).get("offset"), "cursor") if body.get("cursor") else 0
    every = await _catalog(svc).list_locations()
    page = every[start : start + limit]
    info = {"nextCursor": _encode_cursor({"offset": start + limit})} if start + limit < len(every) else {}
    return _json({"items": [_location_json(loc) for loc in page], "totalItems": len(every), "pageInfo": info})


@router.delete("/api/catalog/locations/{location_id}", status_code=204, operation_id="catalog-delete-location")
async def delete_location(location_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """Unregister a location; its entities are deleted or kept as orphans per configuration."""
    catalog.require_catalog_writer(ctx.caller)
    await _catalog(svc).delete_location(location_id)
    return Response(status_code=204)


@router.post("/api/catalog/refresh", operation_id="catalog-refresh")
async def refresh(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """Refresh the location holding ``entityRef`` now; answers once the change is visible."""
    catalog.require_catalog_writer(ctx.caller)
    body = await _body(request)
    ref = body.get("entityRef")
    if not isinstance(ref, str):
        raise InputError("entityRef is required", problems=[Problem(path="entityRef", message="e.g. component:x")])
    summary = await _catalog(svc).refresh_entity(ref)
    return _json(summary.to_dict())


@router.post("/api/catalog/validate-entity", operation_id="catalog-validate-entity")
async def validate_entity(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """200 when the entity would be accepted, else 400 ``{errors: [{name, message}]}``."""
    body = await _body(request)
    location = body.get("location")
    if not isinstance(location, str):
        raise InputError("location is required", problems=[Problem(path="location", message="e.g. url:https://…")])
    problems = await _catalog(svc).validate_entity(body.get("entity"), location)
    if not problems:
        return Response(status_code=200)
    return _json(
        {"errors": [{"name": "InputError", "message": p.describe(), "path": p.path} for p in problems]}, status=400
    )


@router.post("/api/catalog/analyze-location", operation_id="catalog-analyze-location")
async def analyze_location(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """``{existingEntityFiles, generateEntities}``: what registering the location would bring in."""
    body = await _body(request)
    location = body.get("location") or {}
    type_, target = str(location.get("type") or "url"), str(location.get("target") or "")
    service = _catalog(svc)
    try:
        exists, entities, _ = await service.dry_run(type_, target)
    except NotFoundError:
        exists, entities = False, []  # nothing to read there yet: propose a descriptor instead
    files = [
        {"location": {"type": type_, "target": target}, "isRegistered": exists, "entity": e.to_dict()} for e in entities
    ]
    suggestion = None if files else locations.suggested_component(target)
    generated = [] if suggestion is None else [{"entity": suggestion, "fields": []}]
    return _json({"existingEntityFiles": files, "generateEntities": generated})


# -- blacktop's own catalog endpoints --------------------------------------------------------------


@router.get("/api/v1/catalog/locations", operation_id="catalog-location-status")
async def location_status(svc: Services, ctx: CurrentContext) -> Response:
    """Every location with its last refresh summary and processing errors."""
    return _json({"items": [_location_status(loc) for loc in await _catalog(svc).list_locations()]})


@router.get("/api/v1/catalog/locations/{location_id}", operation_id="catalog-location-detail")
async def location_detail(location_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """One location with its last refresh summary and processing errors."""
    return _json(_location_status(await _catalog(svc).require_location(location_id)))


@router.post("/api/v1/catalog/locations/{location_id}/refresh", operation_id="catalog-refresh-location")
async def refresh_location(location_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """Refresh one location now and return what changed."""
    catalog.require_catalog_writer(ctx.caller)
    summary = await _catalog(svc).refresh_location(location_id)
    return _json(summary.to_dict())


def _location_status(location: records.LocationRecord) -> dict[str, Any]:
    return {
        **_location_json(location),
        "refreshedAt": location.refreshed_at.isoformat() if location.refreshed_at else None,
        "summary": dict(location.summary),
        "errors": [
            {k: v for k, v in (("path", p.path), ("message", p.message), ("document", p.document), ("line", p.line))
             if v is not None}
            for p in location.problems
        ],
    }  # fmt: skip


@router.get("/api/v1/catalog/impact", operation_id="catalog-impact")
async def impact(
    svc: Services,
    ctx: CurrentContext,
    ref: str,
    direction: str = "dependents",
    depth: int | None = None,
    kind: list[str] = Query(default=[]),
) -> Response:
    """Transitive dependents (what breaks if ``ref`` fails) or dependencies of an entity."""
    try:
        walk = catalog.Direction(direction)
    except ValueError as exc:
        raise InputError("direction is invalid", problems=[Problem("direction", "dependents or dependencies")]) from exc
    result = await _catalog(svc).impact(ref, direction=walk, max_depth=depth, kinds=kind or None)
    nodes = [{"ref": n.ref.key, "depth": n.depth, "via": n.via.key} for n in result.nodes]
    return _json({"root": result.root.key, "direction": result.direction.value, "items": nodes})


@router.get("/api/v1/catalog/search", operation_id="catalog-search")
async def search(
    svc: Services,
    ctx: CurrentContext,
    q: str,
    filter: list[str] = Query(default=[]),
    limit: int = Query(default=20, ge=1, le=500),
) -> Response:
    """Ranked full-text search with prefix matching; ``filter`` narrows it like ``/api/catalog/entities``."""
    hits = await _catalog(svc).search(q, entity_filter=querying.parse_filters(filter), limit=limit)
    items = []
    for hit in hits:
        metadata = hit.entity.document.get("metadata") or {}
        items.append({
            "ref": hit.entity.ref.key, "kind": hit.entity.ref.kind, "name": hit.entity.ref.name,
            "title": metadata.get("title"), "description": metadata.get("description"), "rank": round(hit.rank, 6),
        })  # fmt: skip
    return _json({"items": items})


@router.get("/api/v1/catalog/scores", operation_id="catalog-scores")
async def scores(svc: Services, ctx: CurrentContext, ref: str | None = None, team: str | None = None) -> Response:
    """Scorecards: one entity's (``ref``), one team's (``team``) or all, plus completeness per team."""
    all_scores, _ = await _catalog(svc).scores()
    selected = all_scores
    if ref:
        key = catalog.parse_ref(ref).key
        selected = [s for s in all_scores if s.ref.key == key]
        if not selected:
            raise NotFoundError(f"no scored entity {key} (scored kinds: component, api, resource, system, domain)")
    if team:
        owner = catalog.parse_ref(team, default_kind="Group").key
        selected = [s for s in all_scores if s.owner is not None and s.owner.key == owner]
    overall = catalog.completeness(selected)
    return _json({
        "completeness": _completeness(overall),
        "teams": {t or "<no owner>": _completeness(c) for t, c in catalog.completeness_by_team(selected).items()},
        "items": [
            {"ref": s.ref.key, "owner": s.owner.key if s.owner else None, "percent": s.percent,
             "passed": list(s.passed), "failed": [{"id": f.id, "message": f.message} for f in s.failed]}
            for s in selected
        ],
    })  # fmt: skip


def _completeness(c: catalog.Completeness) -> dict[str, Any]:
    return {
        "percent": c.percent, "entities": c.entities, "completeEntities": c.complete_entities,
        "checksPassed": c.checks_passed, "checksApplicable": c.checks_applicable,
    }  # fmt: skip


@router.get("/api/v1/catalog/dark-matter", operation_id="catalog-dark-matter")
async def dark_matter(svc: Services, ctx: CurrentContext) -> Response:
    """Entities without a valid owner, owners missing from the catalog, dangling relations, orphans."""
    report = await _catalog(svc).dark_matter()
    return _json({
        "withoutValidOwner": [r.key for r in report.without_valid_owner],
        "missingOwners": {o.key: [r.key for r in refs] for o, refs in report.missing_owners.items()},
        "danglingRelations": [
            {"source": d.source.key, "type": d.type, "target": d.target.key} for d in report.dangling_relations
        ],
        "orphans": [r.key for r in report.orphans],
    })  # fmt: skip
