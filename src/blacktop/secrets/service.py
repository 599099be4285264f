"""Use cases of the embedded secret store, with Vault KV v2 semantics and envelope encryption.

The service seals every version before it reaches the repository and opens it on the way out, so
the repository (and any database behind it) only ever holds ciphertext and wrapped data keys.
Time comes from an injected clock and randomness from an injected entropy source.

Vault behaviours kept on purpose: ``cas=0`` means "only if the secret does not exist", ``cas=N``
means "only if the current version is N", and ``cas_required`` makes ``cas`` mandatory; reading a
soft-deleted or destroyed version fails while its metadata stays visible; ``max_versions`` purges
the oldest versions on write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import InputError, Problem

from . import crypto, errors, model, ports


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """How a KEK rotation went: versions re-wrapped, already current, and destroyed (nothing to do)."""

    rewrapped: int
    already_current: int
    skipped_destroyed: int


def _encode(data: Mapping[str, str]) -> bytes:
    return json.dumps(dict(data), sort_keys=True, separators=(",", ":")).encode()


def _validate_data(path: model.SecretPath, data: Mapping[str, object]) -> dict[str, str]:
    problems = [
        Problem(path=f"data.{key}", message="value must be a string")
        for key, value in data.items()
        if not isinstance(value, str)
    ]
    problems += [Problem(path="data", message="keys must be non-empty strings") for key in data if not key]
    if problems:
        raise InputError(f"secret {path}: data is invalid", problems=problems)
    return {str(k): str(v) for k, v in data.items()}


class SecretStoreService:
    """Put, get, version, delete, undelete, destroy and re-key secrets."""

    def __init__(
        self,
        repository: ports.SecretVersionRepository,
        *,
        keyring: crypto.KeyRing,
        clock: Clock,
        entropy: crypto.Entropy,
    ) -> None:
        self._repo = repository
        self._keyring = keyring
        self._clock = clock
        self._entropy = entropy

    @property
    def keyring(self) -> crypto.KeyRing:
        """The key ring in use (its KEKs never leave the process)."""
        return self._keyring

    async def put(
        self, path: str | model.SecretPath, data: Mapping[str, str], *, actor: str, cas: int | None = None
    ) -> model.VersionMetadata:
        """Write a new version and return its metadata (Vault ``POST <mount>/data/<path>``)."""
        where = self._path(path)
        values = _validate_data(where, data)
        current = await self._repo.get(where)
        self._check_cas(where, current, cas)
        now = self._clock.now()
        number = 1 if current is None else current.current_version + 1
        meta = model.VersionMetadata(version=number, created_time=now, created_by=actor)
        sealed = crypto.seal(
            _encode(values),
            aad=crypto.associated_data(str(where), number),
            keyring=self._keyring,
            entropy=self._entropy,
        )
        if current is None:
            row = ports.StoredSecret(
                path=where,
                current_version=number,
                oldest_version=1,
                max_versions=model.DEFAULT_MAX_VERSIONS,
                cas_required=False,
                created_time=now,
                updated_time=now,
                updated_by=actor,
            )
        else:
            row = replace(current, current_version=number, updated_time=now, updated_by=actor)
        purge = await self._purge_list(where, row, number)
        if purge:
            row = replace(row, oldest_version=max(purge) + 1)
        await self._repo.commit(
            row,
            expected_current_version=None if current is None else current.current_version,
            versions=[ports.StoredVersion(path=where, metadata=meta, sealed=sealed)],
            purge_versions=purge,
        )
        return meta

    async def get(self, path: str | model.SecretPath, *, version: int | None = None) -> model.SecretVersion:
        """Read the latest version, or version ``version`` (Vault ``GET ...?version=N``)."""
        where = self._path(path)
        found = await self._repo.read(where, None if version in (None, 0) else version)
        if found is None:
            raise errors.SecretNotFound(f"secret {where} does not exist")
        secret, row = found
        number = secret.current_version if version in (None, 0) else version
        if row is None:
            raise errors.SecretVersionUnavailable(
                f"secret {where} has no version {number} (kept: {secret.oldest_version}..{secret.current_version})"
            )
        if row.metadata.destroyed or row.sealed is None:
            raise errors.SecretVersionUnavailable(f"secret {where} version {number} is destroyed")
        if row.metadata.deletion_time is not None:
            raise errors.SecretVersionUnavailable(
                f"secret {where} version {number} is deleted; undelete it to read it again"
            )
        plaintext = crypto.open_sealed(
            row.sealed,
            aad=crypto.associated_data(str(where), number),
            keyring=self._keyring,
            what=f"secret {where} version {number}",
        )
        data = json.loads(plaintext)
        return model.SecretVersion(path=where, data=data, metadata=row.metadata)

    async def read_metadata(self, path: str | model.SecretPath) -> model.SecretMetadata:
        """Versions, limits and timestamps (Vault ``GET <mount>/metadata/<path>``); no values."""
        where = self._path(path)
        secret = await self._require(where)
        rows = await self._repo.list_versions(where)
        return model.SecretMetadata(
            path=where,
            current_version=secret.current_version,
            oldest_version=secret.oldest_version,
            max_versions=secret.max_versions,
            cas_required=secret.cas_required,
            created_time=secret.created_time,
            updated_time=secret.updated_time,
            updated_by=secret.updated_by,
            versions={r.metadata.version: r.metadata for r in rows},
            custom_metadata=dict(secret.custom_metadata),
        )

    async def list_paths(self, prefix: str = "") -> Sequence[model.SecretPath]:
        """Secret paths under a path prefix (``payments/``), sorted."""
        return await self._repo.list_paths(prefix)

    async def configure(
        self,
        path: str | model.SecretPath,
        *,
        actor: str,
        max_versions: int | None = None,
        cas_required: bool | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> model.SecretMetadata:
        """Change ``max_versions``, ``cas_required`` or custom metadata (Vault metadata write)."""
        where = self._path(path)
        secret = await self._require(where)
        if max_versions is not None and max_versions < 0:
            raise InputError(
                f"secret {where}: max_versions must be >= 0",
                problems=[Problem(path="max_versions", message="must be >= 0 (0 means the default, 10)")],
            )
        row = replace(secret, updated_time=self._clock.now(), updated_by=actor)
        if max_versions is not None:
            row = replace(row, max_versions=max_versions or model.DEFAULT_MAX_VERSIONS)
        if cas_required is not None:
            row = replace(row, cas_required=cas_required)
        if custom_metadata is not None:
            row = replace(row, custom_metadata=tuple(sorted(custom_metadata.items())))
        purge = await self._purge_list(where, row, row.current_version)
        if purge:
            row = replace(row, oldest_version=max(purge) + 1)
        await self._repo.commit(row, expected_current_version=secret.current_version, purge_versions=purge)
        return await self.read_metadata(where)

    async def delete(self, path: str | model.SecretPath, *, actor: str, versions: Iterable[int] = ()) -> None:
        """Soft-delete ``versions`` (or the latest when empty); undelete restores them."""
        where = self._path(path)
        secret = await self._require(where)
        numbers = list(versions) or [secret.current_version]
        now = self._clock.now()
        await self._mark(
            secret, numbers, actor=actor, change=lambda m: replace(m, deletion_time=m.deletion_time or now)
        )

    async def undelete(self, path: str | model.SecretPath, *, actor: str, versions: Iterable[int]) -> None:
        """Restore soft-deleted versions; destroyed ones stay destroyed."""
        where = self._path(path)
        secret = await self._require(where)
        await self._mark(
            secret,
            list(versions),
            actor=actor,
            change=lambda m: m if m.destroyed else replace(m, deletion_time=None),
        )

    async def destroy(self, path: str | model.SecretPath, *, actor: str, versions: Iterable[int]) -> None:
        """Permanently remove the ciphertext of ``versions``; their metadata stays, marked destroyed."""
        where = self._path(path)
        secret = await self._require(where)
        rows: list[ports.StoredVersion] = []
        for number in sorted(set(versions)):
            row = await self._repo.get_version(where, number)
            if row is not None:
                rows.append(replace(row, sealed=None, metadata=replace(row.metadata, destroyed=True)))
        updated = replace(secret, updated_time=self._clock.now(), updated_by=actor)
        await self._repo.commit(updated, expected_current_version=secret.current_version, versions=rows)

    async def delete_metadata(self, path: str | model.SecretPath) -> None:
        """Remove the secret with every version and its metadata (Vault ``DELETE .../metadata/...``)."""
        where = self._path(path)
        await self._require(where)
        await self._repo.delete(where)

    async def rotate_kek(self, new: crypto.Kek) -> RewrapReport:
        """Make ``new`` the current KEK and re-wrap every stored data key under it.

        Each version is re-wrapped individually, so readers keep working throughout: a version is
        readable under the old ring (its KEK is retained) and under the new one after its swap.
        With several processes, give every process the new KEK as current (old one retired)
        before running this; it is idempotent, so running it again re-wraps any stragglers.
        """
        self._keyring = self._keyring.rotated_to(new)
        rewrapped = current = destroyed = 0
        for where in await self._repo.list_paths(""):
            for row in await self._repo.list_versions(where):
                if row.sealed is None:
                    destroyed += 1
                    continue
                if row.sealed.kek_id == new.kek_id:
                    current += 1
                    continue
                fresh = crypto.rewrap(
                    row.sealed,
                    aad=crypto.associated_data(str(where), row.metadata.version),
                    keyring=self._keyring,
                    entropy=self._entropy,
                    what=f"secret {where} version {row.metadata.version}",
                )
                await self._repo.replace_sealed(where, row.metadata.version, fresh)
                rewrapped += 1
        return RewrapReport(rewrapped=rewrapped, already_current=current, skipped_destroyed=destroyed)

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _path(path: str | model.SecretPath) -> model.SecretPath:
        return path if isinstance(path, model.SecretPath) else model.parse_secret_path(path)

    async def _require(self, where: model.SecretPath) -> ports.StoredSecret:
        secret = await self._repo.get(where)
        if secret is None:
            raise errors.SecretNotFound(f"secret {where} does not exist")
        return secret

    @staticmethod
    def _check_cas(where: model.SecretPath, current: ports.StoredSecret | None, cas: int | None) -> None:
        if cas is None:
            if current is not None and current.cas_required:
                raise errors.CheckAndSetConflict(
                    f"secret {where} requires check-and-set; pass cas={current.current_version}"
                )
            return
        actual = 0 if current is None else current.current_version
        if cas != actual:
            wanted = "not to exist" if cas == 0 else f"to be at version {cas}"
            raise errors.CheckAndSetConflict(
                f"secret {where}: check-and-set expected the secret {wanted}, but it is at version {actual}; "
                "read it again and retry"
            )

    async def _purge_list(self, where: model.SecretPath, row: ports.StoredSecret, newest: int) -> list[int]:
        keep_from = newest - row.max_versions + 1
        return [r.metadata.version for r in await self._repo.list_versions(where) if r.metadata.version < keep_from]

    async def _mark(
        self,
        secret: ports.StoredSecret,
        numbers: Sequence[int],
        *,
        actor: str,
        change: Callable[[model.VersionMetadata], model.VersionMetadata],
    ) -> None:
        rows: list[ports.StoredVersion] = []
        for number in sorted(set(numbers)):
            row = await self._repo.get_version(secret.path, number)
            if row is not None:
                rows.append(replace(row, metadata=change(row.metadata)))
        updated = replace(secret, updated_time=self._clock.now(), updated_by=actor)
        await self._repo.commit(updated, expected_current_version=secret.current_version, versions=rows)


def version_superseded_at(metadata: model.SecretMetadata, version: int) -> datetime | None:
    """When ``version`` stopped being current: the creation time of the next kept version."""
    later = sorted(v for v in metadata.versions if v > version)
    return metadata.versions[later[0]].created_time if later else None
