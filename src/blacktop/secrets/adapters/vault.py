"""Reads what an ExternalSecret asks for from HashiCorp Vault's KV engine, through ``hvac``.

UNTESTED AGAINST A REAL VAULT: no Vault server can run where blacktop is developed, so this
adapter is exercised only against a fake at the HTTP edge (a ``requests`` transport adapter that
answers like Vault's documented API). Token and AppRole auth are implemented; other ESO auth
methods (kubernetes, jwt, cert, …) are refused with a message naming them.

Key handling follows ESO's Vault provider: ``remoteRef.key`` may carry the mount and the KV v2
``data`` infix (``secret/data/payments/db``) or be relative to the store's ``path``; the version is
a KV v2 version number. ``hvac`` is synchronous, so calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import hvac
import requests
from hvac import exceptions as hvac_errors

from blacktop.kernel.errors import InputError, Problem, UnavailableError

from .. import errors, eso, syncing


@dataclass(frozen=True, slots=True)
class VaultCredentials:
    """Resolved credentials: a token, or an AppRole role id and secret id."""

    token: str | None = field(default=None, repr=False)
    role_id: str | None = None
    secret_id: str | None = field(default=None, repr=False)
    approle_mount: str = "approle"


def auth_method(provider: eso.VaultProvider) -> str:
    """``token`` or ``appRole``; any other configured method is refused by name."""
    method = provider.auth_method
    if method in ("tokenSecretRef",):
        return "token"
    if method == "appRole":
        return "appRole"
    raise errors.UnsupportedProviderError(
        f"Vault auth method {method!r} is not supported; blacktop supports tokenSecretRef and appRole",
        problems=[Problem(path=f"spec.provider.vault.auth.{method}", message="unsupported auth method")],
    )


def relative_key(provider: eso.VaultProvider, key: str) -> str:
    """The secret path relative to the KV mount, with any ``<mount>/`` and ``data/`` prefix removed."""
    mount = (provider.path or "secret").strip("/")
    text = key.strip("/")
    if text.startswith(mount + "/"):
        text = text[len(mount) + 1 :]
    if provider.version == "v2" and text.startswith(("data/", "metadata/")):
        text = text.split("/", 1)[1]
    return text


class VaultStoreReader:
    """Fetches remote keys (and name-regexp finds) from one Vault KV mount."""

    def __init__(
        self,
        provider: eso.VaultProvider,
        credentials: VaultCredentials,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._provider = provider
        self._credentials = credentials
        self._session = session
        self._timeout = timeout
        self._client: hvac.Client | None = None

    def _login(self) -> hvac.Client:
        if self._client is not None:
            return self._client
        client = hvac.Client(
            url=self._provider.server, namespace=self._provider.namespace, session=self._session, timeout=self._timeout
        )
        creds = self._credentials
        if creds.token:
            client.token = creds.token
        elif creds.role_id and creds.secret_id:
            client.auth.approle.login(role_id=creds.role_id, secret_id=creds.secret_id, mount_point=creds.approle_mount)
        else:
            raise InputError(
                "Vault credentials are incomplete",
                problems=[Problem(path="spec.provider.vault.auth", message="give a token or an AppRole secret id")],
            )
        self._client = client
        return client

    def _read(self, key: str, version: str) -> Mapping[str, Any] | None:
        client = self._login()
        mount = (self._provider.path or "secret").strip("/")
        path = relative_key(self._provider, key)
        try:
            if self._provider.version == "v1":
                response = client.secrets.kv.v1.read_secret(path=path, mount_point=mount)
                return dict(response["data"])
            response = client.secrets.kv.v2.read_secret_version(
                path=path,
                mount_point=mount,
                version=int(version) if version.isascii() and version.isdigit() else None,
                raise_on_deleted_version=True,
            )
            return dict(response["data"]["data"] or {})
        except hvac_errors.InvalidPath:
            return None

    def _list(self, prefix: str) -> list[str]:
        client = self._login()
        mount = (self._provider.path or "secret").strip("/")
        start = relative_key(self._provider, prefix) if prefix else ""
        found: list[str] = []
        pending = [start]
        while pending and len(found) < 10_000:
            folder = pending.pop()
            try:
                if self._provider.version == "v1":
                    keys = client.secrets.kv.v1.list_secrets(path=folder, mount_point=mount)["data"]["keys"]
                else:
                    keys = client.secrets.kv.v2.list_secrets(path=folder, mount_point=mount)["data"]["keys"]
            except hvac_errors.InvalidPath:
                continue
            for name in keys:
                full = f"{folder.rstrip('/')}/{name}".lstrip("/") if folder else str(name)
                (pending if str(name).endswith("/") else found).append(full)
        return sorted(found)

    def _fetch(self, plan: syncing.FetchPlan) -> syncing.Fetched:
        secrets: dict[syncing.RemoteKey, Mapping[str, Any]] = {}
        for key in plan.keys:
            value = self._read(key.key, key.version)
            if value is not None:
                secrets[key] = value
        matches: dict[syncing.FindQuery, Mapping[str, Mapping[str, Any]]] = {}
        for query in plan.finds:
            if query.tags:
                raise errors.SyncError("dataFrom[].find.tags is not supported for the Vault provider in blacktop")
            pattern = re.compile(query.name_regexp) if query.name_regexp else None
            results: dict[str, Mapping[str, Any]] = {}
            for path in self._list(query.path):
                if pattern is not None and not pattern.search(path):
                    continue
                value = self._read(path, "")
                if value is not None:
                    results[path] = value
            matches[query] = results
        return syncing.Fetched(secrets=secrets, found=matches)

    async def fetch(self, plan: syncing.FetchPlan) -> syncing.Fetched:
        """Read every key and query of ``plan``; secrets Vault does not have are left out."""
        try:
            return await asyncio.to_thread(self._fetch, plan)
        except hvac_errors.Forbidden as exc:
            raise errors.SyncError(f"Vault at {self._provider.server} refused the read: permission denied") from exc
        except hvac_errors.VaultError as exc:
            raise UnavailableError(f"Vault at {self._provider.server} failed: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            raise UnavailableError(f"cannot reach Vault at {self._provider.server} ({type(exc).__name__})") from exc
