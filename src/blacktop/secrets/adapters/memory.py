"""An in-memory :class:`ports.SecretVersionRepository` for tests and single-process demos.

It keeps exactly what a SQL adapter would (sealed bytes and metadata), so the contract tests that
run on it also prove the service never relies on anything a database could not store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .. import crypto, errors, model, ports


class InMemorySecretVersionRepository:
    """Dictionaries keyed by path; ``commit`` is atomic because nothing awaits inside it."""

    def __init__(self) -> None:
        self._secrets: dict[model.SecretPath, ports.StoredSecret] = {}
        self._versions: dict[model.SecretPath, dict[int, ports.StoredVersion]] = {}

    async def get(self, path: model.SecretPath) -> ports.StoredSecret | None:
        """The secret row, or None."""
        return self._secrets.get(path)

    async def get_version(self, path: model.SecretPath, version: int) -> ports.StoredVersion | None:
        """One version row, or None."""
        return self._versions.get(path, {}).get(version)

    async def read(
        self, path: model.SecretPath, version: int | None
    ) -> tuple[ports.StoredSecret, ports.StoredVersion | None] | None:
        """The secret row and one version row (current when ``version`` is None), or None."""
        secret = self._secrets.get(path)
        if secret is None:
            return None
        number = secret.current_version if version is None else version
        return secret, self._versions.get(path, {}).get(number)

    async def list_versions(self, path: model.SecretPath) -> Sequence[ports.StoredVersion]:
        """Kept versions, oldest first."""
        rows = self._versions.get(path, {})
        return [rows[v] for v in sorted(rows)]

    async def list_paths(self, prefix: str) -> Sequence[model.SecretPath]:
        """Paths under ``prefix``, sorted."""
        return sorted(p for p in self._secrets if p.is_under(prefix))

    async def commit(
        self,
        secret: ports.StoredSecret,
        *,
        expected_current_version: int | None,
        versions: Sequence[ports.StoredVersion] = (),
        purge_versions: Sequence[int] = (),
    ) -> None:
        """Check the expected current version, then save everything at once."""
        existing = self._secrets.get(secret.path)
        actual = None if existing is None else existing.current_version
        if actual != expected_current_version:
            raise errors.CheckAndSetConflict(
                f"secret {secret.path} changed concurrently: expected version {expected_current_version}, "
                f"found {actual}; read it again and retry"
            )
        self._secrets[secret.path] = secret
        rows = self._versions.setdefault(secret.path, {})
        for row in versions:
            rows[row.metadata.version] = row
        for number in purge_versions:
            rows.pop(number, None)

    async def delete(self, path: model.SecretPath) -> None:
        """Forget the secret and its versions."""
        self._secrets.pop(path, None)
        self._versions.pop(path, None)

    async def replace_sealed(self, path: model.SecretPath, version: int, sealed: crypto.SealedValue) -> None:
        """Swap the sealed value of one version."""
        row = self._versions[path][version]
        self._versions[path][version] = replace(row, sealed=sealed)

    def raw_bytes(self) -> bytes:
        """Everything stored, concatenated: lets tests assert no plaintext is kept."""
        chunks: list[bytes] = []
        for rows in self._versions.values():
            for row in rows.values():
                if row.sealed is not None:
                    s = row.sealed
                    chunks += [s.kek_id.encode(), s.wrapped_dek, s.dek_nonce, s.nonce, s.ciphertext]
        chunks += [repr(s).encode() for s in self._secrets.values()]
        return b"\x00".join(chunks)
