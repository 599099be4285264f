"""The secret store over HTTP: ``/api/v1/secrets/…`` with Vault KV v2's vocabulary.

Every route authenticates, then calls :class:`secrets.guarding.GuardedSecretStore`, which checks the
caller's path-prefix access and audits the call. Values leave the server only from
``GET /api/v1/secrets/data/{path}?reveal=true`` (audited as ``secret-reveal``); without ``reveal``
the same route answers key names and metadata. Paths take the forms ``payments/db``,
``secret/data/payments/db`` or ``platform/data/<namespace>/<secret>`` (synced targets).
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from fastapi import APIRouter, Body, Query

from blacktop.kernel.errors import NotFoundError
from blacktop.kernel.identity import Caller
from blacktop.secrets import GuardedSecretStore, SecretMetadata, VersionMetadata
from blacktop.secrets.guarding import password_spec

from ..deps import CurrentContext, Services

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"])


@runtime_checkable
class KekRotator(Protocol):
    """Generates a new KEK and re-wraps every data key under it."""

    async def rotate(self, caller: Caller, request_id: str) -> dict[str, object]:
        """Rotate and report what was re-wrapped."""
        ...


def _store(svc: Services) -> GuardedSecretStore:
    found = svc.extra.get("secrets")
    if not isinstance(found, GuardedSecretStore):
        raise NotFoundError("secret management is not enabled in this blacktop")
    return found


def _version_json(meta: VersionMetadata) -> dict[str, Any]:
    return {
        "version": meta.version,
        "createdTime": meta.created_time.isoformat(),
        "createdBy": meta.created_by,
        "deletionTime": meta.deletion_time.isoformat() if meta.deletion_time else None,
        "destroyed": meta.destroyed,
    }


def _metadata_json(meta: SecretMetadata) -> dict[str, Any]:
    return {
        "path": meta.path.api_path,
        "currentVersion": meta.current_version,
        "oldestVersion": meta.oldest_version,
        "maxVersions": meta.max_versions,
        "casRequired": meta.cas_required,
        "createdTime": meta.created_time.isoformat(),
        "updatedTime": meta.updated_time.isoformat(),
        "updatedBy": meta.updated_by,
        "customMetadata": dict(meta.custom_metadata),
        "versions": [_version_json(v) for _, v in sorted(meta.versions.items())],
    }


@router.get("/paths", operation_id="secrets-list")
async def list_paths(svc: Services, ctx: CurrentContext, prefix: str = Query("")) -> dict[str, Any]:
    """Secret paths under ``prefix`` that the caller may see; never values."""
    found = await _store(svc).list(ctx.caller, ctx.request_id, prefix)
    return {"items": [{"path": p.api_path, "mount": p.mount, "name": p.path} for p in found]}


@router.post("/data/{path:path}", operation_id="secrets-put", status_code=201)
async def put(svc: Services, ctx: CurrentContext, path: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Write a new version: ``{"data": {key: value}, "options": {"cas": n}}`` (Vault's body)."""
    raw_data = body.get("data")
    data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    raw_options = body.get("options")
    options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
    cas = options.get("cas")
    meta = await _store(svc).put(ctx.caller, ctx.request_id, path, data, cas=int(cas) if cas is not None else None)
    return _version_json(meta)


@router.get("/data/{path:path}", operation_id="secrets-get")
async def get(
    svc: Services,
    ctx: CurrentContext,
    path: str,
    version: int | None = Query(None, ge=0),
    reveal: bool = Query(False, description="return the values (audited as secret-reveal)"),
) -> dict[str, Any]:
    """Key names and metadata of a version; the values only with ``reveal=true``."""
    store = _store(svc)
    if reveal:
        found = await store.reveal(ctx.caller, ctx.request_id, path, version=version)
        return {
            "path": found.path.api_path,
            "metadata": _version_json(found.metadata),
            "keys": sorted(found.data),
            "data": dict(found.data),
            "revealed": True,
        }
    described = await store.describe(ctx.caller, ctx.request_id, path, version=version)
    return {
        "path": described.path.api_path,
        "metadata": _version_json(described.version),
        "keys": list(described.keys),
        "revealed": False,
    }


@router.get("/metadata/{path:path}", operation_id="secrets-metadata")
async def metadata(svc: Services, ctx: CurrentContext, path: str) -> dict[str, Any]:
    """Versions, limits and timestamps of a secret."""
    return _metadata_json(await _store(svc).metadata(ctx.caller, ctx.request_id, path))


def _versions(body: dict[str, Any] | None) -> list[int]:
    raw = (body or {}).get("versions") or []
    return [int(v) for v in raw] if isinstance(raw, list) else []


@router.post("/delete/{path:path}", operation_id="secrets-delete")
async def delete(
    svc: Services, ctx: CurrentContext, path: str, body: dict[str, Any] | None = Body(None)
) -> dict[str, Any]:
    """Soft-delete versions (the latest when ``versions`` is empty); undelete restores them."""
    store = _store(svc)
    await store.delete(ctx.caller, ctx.request_id, path, versions=_versions(body))
    return _metadata_json(await store.metadata(ctx.caller, ctx.request_id, path))


@router.post("/undelete/{path:path}", operation_id="secrets-undelete")
async def undelete(svc: Services, ctx: CurrentContext, path: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Restore soft-deleted versions."""
    store = _store(svc)
    await store.undelete(ctx.caller, ctx.request_id, path, versions=_versions(body))
    return _metadata_json(await store.metadata(ctx.caller, ctx.request_id, path))


@router.post("/destroy/{path:path}", operation_id="secrets-destroy")
async def destroy(svc: Services, ctx: CurrentContext, path: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Permanently remove the values of versions; their metadata stays."""
    store = _store(svc)
    await store.destroy(ctx.caller, ctx.request_id, path, versions=_versions(body))
    return _metadata_json(await store.metadata(ctx.caller, ctx.request_id, path))


@router.post("/rotate/{path:path}", operation_id="secrets-rotate")
async def rotate(
    svc: Services, ctx: CurrentContext, path: str, body: dict[str, Any] | None = Body(None)
) -> dict[str, Any]:
    """Regenerate one key (``key``, default ``password``) with a Password generator spec (``password``)."""
    payload = body or {}
    spec = password_spec(payload.get("password"))
    key = str(payload.get("key") or "password")
    meta = await _store(svc).rotate(ctx.caller, ctx.request_id, path, key=key, spec=spec, entropy=os.urandom)
    return _version_json(meta)


@router.post("/kek/rotate", operation_id="secrets-rotate-kek")
async def rotate_kek(svc: Services, ctx: CurrentContext) -> dict[str, object]:
    """Generate a new key-encryption key and re-wrap every data key under it, online (platform admins)."""
    rotator = svc.extra.get("secrets.kek")
    if not isinstance(rotator, KekRotator):
        raise NotFoundError("secret management is not enabled in this blacktop")
    return await rotator.rotate(ctx.caller, ctx.request_id)
