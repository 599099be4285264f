"""Connection details between the local provider, the secret store and the claim lifecycle.

``SecretStoreConnectionSink`` keeps each managed resource's connection details (with the
generated password) in the platform secret store at ``<namespace>/managed/<name>``: encrypted,
versioned, audited, and readable by the team owning the namespace (the store's access rules take
a path's first segment as its team). Every
rotation is a new version, so the previous password stays recoverable for the secret store's
version history. ``SinkDetailsReader`` is the claim lifecycle's ``ConnectionDetailsReader``: it
finds the details a local managed resource published, for the composite's ``connectionDetails``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from blacktop import secrets

from . import model, ports

MANAGED_SEGMENT: Final = "managed"


def secret_path(ref: model.SecretRef) -> str:
    """The secret-store path of a managed resource's connection details: ``<namespace>/managed/<name>``."""
    return f"{ref.namespace}/{MANAGED_SEGMENT}/{ref.name}"


class SecretStoreConnectionSink:
    """``ports.ConnectionSecretSink`` over the secret store's service (as the provider's own identity)."""

    def __init__(
        self, store: secrets.SecretStoreService, *, actor: str = "system:serviceaccount:local-provider"
    ) -> None:
        self._store = store
        self._actor = actor

    async def get(self, ref: model.SecretRef) -> Mapping[str, str] | None:
        """The current version's data, or None when there is no readable version."""
        try:
            found = await self._store.get(secret_path(ref))
        except (secrets.SecretNotFound, secrets.SecretVersionUnavailable):
            return None
        return {str(k): str(v) for k, v in found.data.items()}

    async def put(self, ref: model.SecretRef, data: Mapping[str, str], *, owner: str) -> None:
        """Write a new version."""
        await self._store.put(secret_path(ref), dict(data), actor=f"{self._actor} ({owner})")

    async def delete(self, ref: model.SecretRef) -> None:
        """Remove the secret with all its versions."""
        try:
            await self._store.delete_metadata(secret_path(ref))
        except secrets.SecretNotFound:
            return


def secret_ref_of(resource: Mapping[str, Any]) -> model.SecretRef | None:
    """Where a local managed resource writes its connection details, or None for other kinds."""
    if not str(resource.get("apiVersion") or "").startswith(model.GROUP + "/"):
        return None
    metadata = resource.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    ref = (resource.get("spec") or {}).get("writeConnectionSecretToRef") or {}
    return model.SecretRef(namespace, str(ref.get("name") or metadata.get("name") or ""))


class SinkDetailsReader:
    """``resources.ports.ConnectionDetailsReader`` over a ``ConnectionSecretSink``."""

    def __init__(self, sink: ports.ConnectionSecretSink) -> None:
        self._sink = sink

    async def fetch(self, resource: Mapping[str, Any]) -> Mapping[str, bytes] | None:
        """The details ``resource`` published (as bytes), or None when it has none yet or is not local."""
        ref = secret_ref_of(resource)
        if ref is None or not ref.name:
            return None
        data = await self._sink.get(ref)
        return None if data is None else {k: v.encode() for k, v in data.items()}
