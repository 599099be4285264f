"""Secrets: the paths a caller may see and each one's metadata and key names, never a value.

Every call goes through ``GuardedSecretStore`` with the caller, as ``/api/v1/secrets`` does, so
path-prefix access and auditing are the secret store's. The portal has no reveal: values stay
behind the CLI and API's audited ``reveal``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import NotFoundError

from .. import sessions
from ..rendering import PortalRoute, renderer
from ..services import portal

router = APIRouter(route_class=PortalRoute)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]


@router.get("/secrets", name="portal-secrets")
async def secrets_page(request: Request, ctx: SignedIn, prefix: Annotated[str, Query(max_length=500)] = "") -> Response:
    """Secret paths under ``prefix`` the caller may list."""
    found = await portal(request).secrets().list(ctx.caller, ctx.request_id, prefix.strip())
    return renderer(request).page(request, "secrets/list.html", paths=sorted(found, key=str), path_prefix=prefix)


@router.get("/secrets/{path:path}", name="portal-secret")
async def secret_page(request: Request, ctx: SignedIn, path: str) -> Response:
    """Versions, timestamps, custom metadata and the current version's key names."""
    store = portal(request).secrets()
    metadata = await store.metadata(ctx.caller, ctx.request_id, path)
    keys: tuple[str, ...] = ()
    unavailable = ""
    try:
        keys = (await store.describe(ctx.caller, ctx.request_id, path)).keys
    except NotFoundError as exc:
        unavailable = str(exc)
    return renderer(request).page(
        request, "secrets/secret.html", meta=metadata, keys=keys, unavailable=unavailable,
        versions=[v for _, v in sorted(metadata.versions.items(), reverse=True)],
    )  # fmt: skip
