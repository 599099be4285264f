"""Kubernetes-style resource routes: ``/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]``.

The handlers only translate HTTP to ``ResourceService`` calls; the pipeline does the rest.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.kinds import KindInfo, describe_kinds
from blacktop.kernel.ports import ListPage
from blacktop.kernel.selectors import parse_field_selector, parse_label_selector

from ..deps import ApiServices, CurrentContext, Services, kind_for_path, read_object

router = APIRouter(tags=["resources"])

_OBJECT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}
_PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/merge-patch+json": {"schema": {"type": "object", "additionalProperties": True}},
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
        },
    }
}


def _list_body(kind: KindInfo, version: str, page: ListPage) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        metadata["continue"] = page.continue_token
    if page.remaining is not None:
        metadata["remainingItemCount"] = page.remaining
    return {
        "apiVersion": kind.api_version(version),
        "kind": f"{kind.kind}List",
        "metadata": metadata,
        "items": page.items,
    }


async def _list_or_watch(
    svc: ApiServices,
    ctx: RequestContext,
    kind: KindInfo,
    version: str,
    namespace: str | None,
    *,
    label_selector: str | None,
    field_selector: str | None,
    limit: int | None,
    continue_token: str | None,
    watch: bool,
    resource_version: str | None,
    timeout_seconds: int | None,
) -> Any:
    labels = parse_label_selector(label_selector)
    if watch:
        since = _parse_revision(resource_version)
        events = await svc.resources.watch(ctx, kind, namespace, since=since, label_selector=labels)
        return StreamingResponse(
            _sse(events, timeout_seconds), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
    if limit is not None and limit > svc.extra.get("max_list_limit", 5000):
        raise InputError("limit is too large", problems=[Problem("limit", "ask for at most 5000 per page")])
    page = await svc.resources.list(
        ctx,
        kind,
        namespace,
        label_selector=labels,
        field_selector=parse_field_selector(field_selector),
        limit=limit,
        continue_token=continue_token,
    )
    return _list_body(kind, version, page)


def _parse_revision(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    assert text is not None
    if not (text.isascii() and text.isdigit()):
        raise InputError(
            "resourceVersion must be a revision number",
            problems=[Problem("resourceVersion", f"{text!r} is not a number; take it from a list or an object")],
        )
    return int(text)


async def _sse(events: AsyncIterator[Any], timeout_seconds: int | None) -> AsyncIterator[bytes]:
    import asyncio

    deadline = asyncio.get_running_loop().time() + (timeout_seconds or 3600)
    iterator = events.__aiter__()
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return
        try:
            event = await asyncio.wait_for(iterator.__anext__(), timeout=min(remaining, 15))
        except StopAsyncIteration:
            return
        except TimeoutError:
            yield b": keep-alive\n\n"
            continue
        payload = json.dumps({"type": event.type.value, "object": event.object}, separators=(",", ":"))
        yield f"id: {event.revision}\nevent: {event.type.value}\ndata: {payload}\n\n".encode()


# ---------------------------------------------------------------- namespaced


@router.get("/apis/{group}/{version}/namespaces/{namespace}/{plural}", operation_id="resources-list-namespaced")
async def list_namespaced(
    group: str,
    version: str,
    namespace: str,
    plural: str,
    svc: Services,
    ctx: CurrentContext,
    labelSelector: str | None = Query(None),  # noqa: N803 - Kubernetes parameter name
    fieldSelector: str | None = Query(None),  # noqa: N803
    limit: int | None = Query(None, ge=1),
    continue_: str | None = Query(None, alias="continue"),
    watch: bool = Query(False),
    resourceVersion: str | None = Query(None),  # noqa: N803
    timeoutSeconds: int | None = Query(None, ge=1, le=86400),  # noqa: N803
) -> Any:
    """List (or watch, with ``watch=true``) objects in one namespace."""
    kind = kind_for_path(svc, group, version, plural)
    return await _list_or_watch(
        svc, ctx, kind, version, namespace if kind.namespaced else None,
        label_selector=labelSelector, field_selector=fieldSelector, limit=limit, continue_token=continue_,
        watch=watch, resource_version=resourceVersion, timeout_seconds=timeoutSeconds,
    )  # fmt: skip


@router.post(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}",
    status_code=201,
    operation_id="resources-create-namespaced",
    openapi_extra=_OBJECT_BODY,
)
async def create_namespaced(
    group: str, version: str, namespace: str, plural: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Create an object in a namespace."""
    kind = kind_for_path(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.create(ctx, kind, body, namespace=namespace)


@router.get("/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}", operation_id="resources-get-namespaced")
async def get_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Read one object."""
    kind = kind_for_path(svc, group, version, plural)
    return await svc.resources.get(ctx, kind, namespace, name)


@router.put(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
    operation_id="resources-replace-namespaced",
    openapi_extra=_OBJECT_BODY,
)
async def replace_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str,
    request: Request, svc: Services, ctx: CurrentContext,
) -> dict[str, Any]:  # fmt: skip
    """Replace one object (its status is kept); 409 when resourceVersion is stale."""
    kind = kind_for_path(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.replace(ctx, kind, body, namespace=namespace, name=name)


@router.patch(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
    operation_id="resources-patch-namespaced",
    openapi_extra=_PATCH_BODY,
)
async def patch_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str,
    request: Request, svc: Services, ctx: CurrentContext,
) -> dict[str, Any]:  # fmt: skip
    """Apply a JSON merge patch (RFC 7386) to one object."""
    kind = kind_for_path(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.patch(ctx, kind, namespace=namespace, name=name, patch=body)


@router.delete(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}", operation_id="resources-delete-namespaced"
)
async def delete_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str, svc: Services, ctx: CurrentContext,
    resourceVersion: str | None = Query(None),  # noqa: N803
) -> dict[str, Any]:  # fmt: skip
    """Delete one object; with finalizers it is marked and removed once they clear."""
    kind = kind_for_path(svc, group, version, plural)
    return await svc.resources.delete(ctx, kind, namespace=namespace, name=name, expected_version=resourceVersion)


@router.get(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status",
    operation_id="resources-get-status-namespaced",
)
async def get_status_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Read one object (the status subresource returns the whole object, as Kubernetes does)."""
    kind = kind_for_path(svc, group, version, plural)
    return await svc.resources.get(ctx, kind, namespace, name)


@router.put(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status",
    operation_id="resources-replace-status-namespaced",
    openapi_extra=_OBJECT_BODY,
)
async def replace_status_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str,
    request: Request, svc: Services, ctx: CurrentContext,
) -> dict[str, Any]:  # fmt: skip
    """Replace only the status of one object."""
    kind = kind_for_path(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.replace(ctx, kind, body, namespace=namespace, name=name, status=True)


@router.patch(
    "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status",
    operation_id="resources-patch-status-namespaced",
    openapi_extra=_PATCH_BODY,
)
async def patch_status_namespaced(
    group: str, version: str, namespace: str, plural: str, name: str,
    request: Request, svc: Services, ctx: CurrentContext,
) -> dict[str, Any]:  # fmt: skip
    """Merge-patch only the status of one object."""
    kind = kind_for_path(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.patch(ctx, kind, namespace=namespace, name=name, patch=body, status=True)


# ---------------------------------------------------------------- cluster-scoped (and all namespaces)


@router.get("/apis", operation_id="resources-discovery")
async def discovery(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Every served kind, like Kubernetes API discovery."""
    return {"kind": "APIResourceList", "resources": describe_kinds(svc.kinds.all())}


@router.get("/apis/{group}/{version}/{plural}", operation_id="resources-list")
async def list_cluster(
    group: str,
    version: str,
    plural: str,
    svc: Services,
    ctx: CurrentContext,
    labelSelector: str | None = Query(None),  # noqa: N803
    fieldSelector: str | None = Query(None),  # noqa: N803
    limit: int | None = Query(None, ge=1),
    continue_: str | None = Query(None, alias="continue"),
    watch: bool = Query(False),
    resourceVersion: str | None = Query(None),  # noqa: N803
    timeoutSeconds: int | None = Query(None, ge=1, le=86400),  # noqa: N803
) -> Any:
    """List (or watch) cluster-scoped objects, or namespaced objects across all namespaces."""
    kind = kind_for_path(svc, group, version, plural)
    return await _list_or_watch(
        svc, ctx, kind, version, None,
        label_selector=labelSelector, field_selector=fieldSelector, limit=limit, continue_token=continue_,
        watch=watch, resource_version=resourceVersion, timeout_seconds=timeoutSeconds,
    )  # fmt: skip


def _cluster_kind(svc: ApiServices, group: str, version: str, plural: str) -> KindInfo:
    kind = kind_for_path(svc, group, version, plural)
    if kind.namespaced:
        raise InputError(
            f"{kind.kind} is namespaced",
            problems=[Problem("path", f"use /apis/{group}/{version}/namespaces/<namespace>/{plural}")],
        )
    return kind


@router.post(
    "/apis/{group}/{version}/{plural}", status_code=201, operation_id="resources-create", openapi_extra=_OBJECT_BODY
)
async def create_cluster(
    group: str, version: str, plural: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Create a cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.create(ctx, kind, body)


@router.get("/apis/{group}/{version}/{plural}/{name}", operation_id="resources-get")
async def get_cluster(
    group: str, version: str, plural: str, name: str, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Read one cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    return await svc.resources.get(ctx, kind, None, name)


@router.put("/apis/{group}/{version}/{plural}/{name}", operation_id="resources-replace", openapi_extra=_OBJECT_BODY)
async def replace_cluster(
    group: str, version: str, plural: str, name: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Replace one cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.replace(ctx, kind, body, namespace=None, name=name)


@router.patch("/apis/{group}/{version}/{plural}/{name}", operation_id="resources-patch", openapi_extra=_PATCH_BODY)
async def patch_cluster(
    group: str, version: str, plural: str, name: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Merge-patch one cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.patch(ctx, kind, namespace=None, name=name, patch=body)


@router.delete("/apis/{group}/{version}/{plural}/{name}", operation_id="resources-delete")
async def delete_cluster(
    group: str, version: str, plural: str, name: str, svc: Services, ctx: CurrentContext,
    resourceVersion: str | None = Query(None),  # noqa: N803
) -> dict[str, Any]:  # fmt: skip
    """Delete one cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    return await svc.resources.delete(ctx, kind, namespace=None, name=name, expected_version=resourceVersion)


@router.put(
    "/apis/{group}/{version}/{plural}/{name}/status",
    operation_id="resources-replace-status",
    openapi_extra=_OBJECT_BODY,
)
async def replace_status_cluster(
    group: str, version: str, plural: str, name: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Replace only the status of a cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.replace(ctx, kind, body, namespace=None, name=name, status=True)


@router.patch(
    "/apis/{group}/{version}/{plural}/{name}/status",
    operation_id="resources-patch-status",
    openapi_extra=_PATCH_BODY,
)
async def patch_status_cluster(
    group: str, version: str, plural: str, name: str, request: Request, svc: Services, ctx: CurrentContext
) -> dict[str, Any]:
    """Merge-patch only the status of a cluster-scoped object."""
    kind = _cluster_kind(svc, group, version, plural)
    body = await read_object(request, svc)
    return await svc.resources.patch(ctx, kind, namespace=None, name=name, patch=body, status=True)


# ---------------------------------------------------------------- the core group ("", as in Kubernetes' /api/v1)


def _core_group_routes() -> None:
    """Serve the namespaced routes of the core group under ``/api/{version}/namespaces/...`` as well.

    Kubernetes addresses its core group (ConfigMap, ...) as ``/api/v1``, not ``/apis/<group>/v1``; the
    same handlers serve them with the group fixed to "". Only namespaced paths: blacktop's own
    ``/api/v1/<feature>`` routes take the cluster-scoped shape.
    """
    namespaced = [
        route
        for route in list(router.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/apis/{group}/{version}/namespaces/")
    ]
    for route in namespaced:
        router.add_api_route(
            route.path.replace("/apis/{group}/", "/api/", 1),
            functools.partial(route.endpoint, group=""),
            methods=sorted(route.methods or ()),
            status_code=route.status_code,
            operation_id=f"core-{route.operation_id}",
            openapi_extra=route.openapi_extra,
            summary=route.summary,
            description=route.description,
        )


_core_group_routes()
