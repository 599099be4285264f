"""Reads what an ExternalSecret asks for from the embedded store (the ``blacktop`` provider).

This is the provider side of a sync: it turns a :class:`syncing.FetchPlan` into
:class:`syncing.Fetched` by calling :class:`service.SecretStoreService`. Access control (which
namespace may read which path prefix) belongs to the caller, which checks before fetching.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .. import errors, eso, syncing
from ..service import SecretStoreService


class EmbeddedStoreReader:
    """Fetches remote keys and find queries from the embedded KV store."""

    def __init__(self, service: SecretStoreService, *, mount: str = "secret") -> None:
        self._service = service
        self._mount = mount

    async def fetch(
        self, plan: syncing.FetchPlan, *, passwords: Mapping[str, eso.PasswordSpec] | None = None
    ) -> syncing.Fetched:
        """Read every key and query of ``plan``; missing secrets are left out, not raised."""
        secrets: dict[syncing.RemoteKey, Mapping[str, str]] = {}
        for key in plan.keys:
            version = int(key.version) if key.version.isascii() and key.version.isdigit() else None
            try:
                found = await self._service.get(self._path(key.key), version=version)
            except (errors.SecretNotFound, errors.SecretVersionUnavailable):
                continue
            secrets[key] = dict(found.data)
        matches: dict[syncing.FindQuery, Mapping[str, Mapping[str, str]]] = {}
        for query in plan.finds:
            pattern = re.compile(query.name_regexp) if query.name_regexp else None
            results: dict[str, Mapping[str, str]] = {}
            for path in await self._service.list_paths(query.path):
                if path.mount != self._mount or (pattern is not None and not pattern.search(path.path)):
                    continue
                if query.tags:
                    custom = (await self._service.read_metadata(path)).custom_metadata
                    if any(custom.get(k) != v for k, v in query.tags):
                        continue
                try:
                    results[path.path] = dict((await self._service.get(path)).data)
                except errors.SecretVersionUnavailable:
                    continue
            matches[query] = results
        return syncing.Fetched(secrets=secrets, found=matches, passwords=dict(passwords or {}))

    def _path(self, key: str) -> str:
        parts = key.strip("/").split("/")
        if parts[0] == self._mount or (len(parts) > 1 and parts[1] in ("data", "metadata")):
            return key
        return f"{self._mount}/{key.strip('/')}"
