"""What the secret store needs from the outside world: a repository of sealed versions.

The repository sees only ciphertext, wrapped data keys and metadata; it never holds a KEK or a
plaintext value, so a SQL adapter can store rows as they come. Writes that must be atomic with a
check (check-and-set, undelete after a concurrent write) go through ``commit`` with the version the
service read, so a SQL adapter can implement it as ``UPDATE ... WHERE current_version = :expected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from . import crypto, model


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version row: sealed bytes (``None`` once destroyed) plus its metadata."""

    path: model.SecretPath
    metadata: model.VersionMetadata
    sealed: crypto.SealedValue | None


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """One secret row: everything in :class:`model.SecretMetadata` except the per-version map."""

    path: model.SecretPath
    current_version: int
    oldest_version: int
    max_versions: int
    cas_required: bool
    created_time: datetime
    updated_time: datetime
    updated_by: str
    custom_metadata: tuple[tuple[str, str], ...] = field(default=())


class SecretVersionRepository(Protocol):
    """Persistence for sealed secret versions (async: the API and engine run on asyncio)."""

    async def get(self, path: model.SecretPath) -> StoredSecret | None:
        """The secret row, or None when no secret exists at the path."""
        ...

    async def get_version(self, path: model.SecretPath, version: int) -> StoredVersion | None:
        """One version row, or None when it was never written or has been purged."""
        ...

    async def read(
        self, path: model.SecretPath, version: int | None
    ) -> tuple[StoredSecret, StoredVersion | None] | None:
        """The secret row and one version row (the current one when ``version`` is None) in one read.

        None when no secret exists at the path; the version part is None when that version is absent.
        """
        ...

    async def list_versions(self, path: model.SecretPath) -> Sequence[StoredVersion]:
        """Every kept version of the secret, oldest first."""
        ...

    async def list_paths(self, prefix: str) -> Sequence[model.SecretPath]:
        """Every secret path whose path lies under ``prefix`` (all mounts), sorted."""
        ...

    async def commit(
        self,
        secret: StoredSecret,
        *,
        expected_current_version: int | None,
        versions: Sequence[StoredVersion] = (),
        purge_versions: Sequence[int] = (),
    ) -> None:
        """Save the secret row and version rows atomically.

        ``expected_current_version`` is the current version the caller read (None: the secret must
        not exist yet). If the stored row differs, raise :class:`errors.CheckAndSetConflict` and
        change nothing. ``purge_versions`` removes those version rows entirely.
        """
        ...

    async def delete(self, path: model.SecretPath) -> None:
        """Remove the secret and every version row (Vault's metadata delete)."""
        ...

    async def replace_sealed(self, path: model.SecretPath, version: int, sealed: crypto.SealedValue) -> None:
        """Swap one version's sealed value (KEK rotation re-wrap) without touching its metadata."""
        ...
