"""SQL storage for the secret store: sealed versions and their metadata, on SQLite and PostgreSQL.

Implements ``blacktop.secrets.SecretVersionRepository``. Rows hold exactly what the port hands
over: ciphertext, nonces, the wrapped data key and the id of the key-encryption key that wrapped
it, plus Vault-style metadata. No plaintext and no KEK ever reaches this module, so the database
file (or a dump of it) is safe to copy without the KEK.

``commit`` is the one atomic write: the secret row is inserted (expected version None, a primary
key collision meaning another writer won) or updated with ``WHERE current_version = :expected``,
and the version rows are written in the same transaction, so check-and-set holds across
processes. SQLite write transactions start with ``BEGIN IMMEDIATE`` to serialise writers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    RowMapping,
    Select,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop import secrets
from blacktop.secrets import crypto, model, ports

from . import errors, onloop
from .tables import UtcDateTime

metadata = MetaData()

paths_table: Final = Table(
    "secret_paths", metadata,
    Column("mount", String(64), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("current_version", Integer, nullable=False),
    Column("oldest_version", Integer, nullable=False),
    Column("max_versions", Integer, nullable=False),
    Column("cas_required", Boolean, nullable=False),
    Column("created_time", UtcDateTime(), nullable=False),
    Column("updated_time", UtcDateTime(), nullable=False),
    Column("updated_by", String(512), nullable=False),
    Column("custom_metadata", JSON, nullable=False),
)  # fmt: skip

versions_table: Final = Table(
    "secret_versions", metadata,
    Column("mount", String(64), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_time", UtcDateTime(), nullable=False),
    Column("created_by", String(512), nullable=False),
    Column("deletion_time", UtcDateTime(), nullable=True),
    Column("destroyed", Boolean, nullable=False),
    Column("algorithm", String(64), nullable=True),
    Column("kek_id", String(64), nullable=True),
    Column("wrapped_dek", LargeBinary, nullable=True),
    Column("dek_nonce", LargeBinary, nullable=True),
    Column("nonce", LargeBinary, nullable=True),
    Column("ciphertext", LargeBinary, nullable=True),
    ForeignKeyConstraint(["mount", "path"], ["secret_paths.mount", "secret_paths.path"], ondelete="CASCADE"),
)  # fmt: skip


def _secret_values(secret: ports.StoredSecret) -> dict[str, Any]:
    return {
        "current_version": secret.current_version,
        "oldest_version": secret.oldest_version,
        "max_versions": secret.max_versions,
        "cas_required": secret.cas_required,
        "created_time": secret.created_time,
        "updated_time": secret.updated_time,
        "updated_by": secret.updated_by,
        "custom_metadata": dict(secret.custom_metadata),
    }


def _sealed_values(sealed: crypto.SealedValue | None) -> dict[str, Any]:
    if sealed is None:
        return dict.fromkeys(("algorithm", "kek_id", "wrapped_dek", "dek_nonce", "nonce", "ciphertext"))
    return {
        "algorithm": sealed.algorithm,
        "kek_id": sealed.kek_id,
        "wrapped_dek": sealed.wrapped_dek,
        "dek_nonce": sealed.dek_nonce,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }


def _version_values(row: ports.StoredVersion) -> dict[str, Any]:
    meta = row.metadata
    return {
        "mount": row.path.mount,
        "path": row.path.path,
        "version": meta.version,
        "created_time": meta.created_time,
        "created_by": meta.created_by,
        "deletion_time": meta.deletion_time,
        "destroyed": meta.destroyed,
        **_sealed_values(row.sealed),
    }


def _secret_from(row: RowMapping | Mapping[str, Any]) -> ports.StoredSecret:
    return ports.StoredSecret(
        path=model.SecretPath(mount=row["mount"], path=row["path"]),
        current_version=row["current_version"],
        oldest_version=row["oldest_version"],
        max_versions=row["max_versions"],
        cas_required=bool(row["cas_required"]),
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        updated_by=row["updated_by"],
        custom_metadata=tuple(sorted((str(k), str(v)) for k, v in (row["custom_metadata"] or {}).items())),
    )


def _version_from(row: RowMapping | Mapping[str, Any]) -> ports.StoredVersion:
    sealed = None
    if row["ciphertext"] is not None:
        sealed = crypto.SealedValue(
            kek_id=row["kek_id"],
            wrapped_dek=bytes(row["wrapped_dek"]),
            dek_nonce=bytes(row["dek_nonce"]),
            nonce=bytes(row["nonce"]),
            ciphertext=bytes(row["ciphertext"]),
            algorithm=row["algorithm"],
        )
    return ports.StoredVersion(
        path=model.SecretPath(mount=row["mount"], path=row["path"]),
        metadata=model.VersionMetadata(
            version=row["version"],
            created_time=row["created_time"],
            created_by=row["created_by"],
            deletion_time=row["deletion_time"],
            destroyed=bool(row["destroyed"]),
        ),
        sealed=sealed,
    )


def _where_path(table: Table, path: model.SecretPath) -> Any:
    return and_(table.c.mount == path.mount, table.c.path == path.path)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlSecretVersionRepository:
    """``SecretVersionRepository`` over the ``secret_paths`` and ``secret_versions`` tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pg = engine.dialect.name == "postgresql"
        # Point reads on the loop thread (see ``onloop``); writes keep their own transactions here.
        self._on_loop = onloop.SqliteOnLoop(engine.url) if onloop.applies_to(engine) else None

    @asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                if not self._pg:
                    await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn
        except Exception as exc:
            if isinstance(exc, sa_exc.IntegrityError):
                raise secrets.CheckAndSetConflict(
                    f"cannot {action}: another writer changed it at the same time; read it again and retry"
                ) from exc
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn, conn.begin():
                yield conn
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise

    async def _first(self, query: Select[Any], action: str) -> Mapping[str, Any] | None:
        """The first row of ``query`` as a mapping, or None."""
        if self._on_loop is not None:
            try:
                found, row = self._on_loop.read_first(query)
            except Exception as exc:
                if errors.is_translatable(exc):
                    raise errors.translate(exc, url=self._engine.url, action=action) from exc
                raise
            if found:
                return None if row is None else row._mapping
        async with self._read(action) as conn:
            mapped: Mapping[str, Any] | None = (await conn.execute(query)).mappings().first()
        return mapped

    async def get(self, path: model.SecretPath) -> ports.StoredSecret | None:
        """The secret row, or None."""
        row = await self._first(select(paths_table).where(_where_path(paths_table, path)), f"read secret {path}")
        return None if row is None else _secret_from(row)

    async def get_version(self, path: model.SecretPath, version: int) -> ports.StoredVersion | None:
        """One version row, or None."""
        query = select(versions_table).where(_where_path(versions_table, path), versions_table.c.version == version)
        async with self._read(f"read secret {path} version {version}") as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _version_from(row)

    async def read(
        self, path: model.SecretPath, version: int | None
    ) -> tuple[ports.StoredSecret, ports.StoredVersion | None] | None:
        """The secret row and one version row in one statement (an outer join on the version)."""
        wanted = paths_table.c.current_version if version is None else version
        joined = paths_table.outerjoin(
            versions_table,
            and_(
                versions_table.c.mount == paths_table.c.mount,
                versions_table.c.path == paths_table.c.path,
                versions_table.c.version == wanted,
            ),
        )
        columns = [*paths_table.c, *(c.label(f"v_{c.name}") for c in versions_table.c)]
        query = select(*columns).select_from(joined).where(_where_path(paths_table, path))
        row = await self._first(query, f"read secret {path}")
        if row is None:
            return None
        secret = _secret_from(row)
        if row["v_version"] is None:
            return secret, None
        version_row = {c.name: row[f"v_{c.name}"] for c in versions_table.c}
        return secret, _version_from(version_row)

    async def list_versions(self, path: model.SecretPath) -> Sequence[ports.StoredVersion]:
        """Kept versions, oldest first."""
        query = select(versions_table).where(_where_path(versions_table, path)).order_by(versions_table.c.version)
        async with self._read(f"list versions of secret {path}") as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_version_from(r) for r in rows]

    async def list_paths(self, prefix: str) -> Sequence[model.SecretPath]:
        """Paths (all mounts) equal to or below ``prefix``, sorted."""
        wanted = prefix.strip("/")
        query = select(paths_table.c.mount, paths_table.c.path)
        if wanted:
            query = query.where(
                or_(paths_table.c.path == wanted, paths_table.c.path.like(_like_escape(wanted) + "/%", escape="\\"))
            )
        async with self._read(f"list secrets under {prefix!r}") as conn:
            rows = (await conn.execute(query)).all()
        return sorted(model.SecretPath(mount=r.mount, path=r.path) for r in rows)

    async def commit(
        self,
        secret: ports.StoredSecret,
        *,
        expected_current_version: int | None,
        versions: Sequence[ports.StoredVersion] = (),
        purge_versions: Sequence[int] = (),
    ) -> None:
        """Check the expected current version and write the secret and version rows in one transaction."""
        where = _where_path(paths_table, secret.path)
        async with self._write(f"write secret {secret.path}") as conn:
            if expected_current_version is None:
                exists = (await conn.execute(select(paths_table.c.current_version).where(where))).first()
                if exists is not None:
                    raise _conflict(secret.path, expected_current_version, exists.current_version)
                values = {"mount": secret.path.mount, "path": secret.path.path, **_secret_values(secret)}
                await conn.execute(insert(paths_table).values(**values))
            else:
                result = await conn.execute(
                    update(paths_table)
                    .where(where, paths_table.c.current_version == expected_current_version)
                    .values(**_secret_values(secret))
                )
                if result.rowcount != 1:
                    found = (await conn.execute(select(paths_table.c.current_version).where(where))).first()
                    raise _conflict(secret.path, expected_current_version, None if found is None else found[0])
            newest = expected_current_version or 0
            for row in versions:
                values = _version_values(row)
                if row.metadata.version > newest:
                    await conn.execute(insert(versions_table).values(**values))
                    continue
                key = and_(_where_path(versions_table, row.path), versions_table.c.version == row.metadata.version)
                changed = await conn.execute(update(versions_table).where(key).values(**values))
                if changed.rowcount == 0:
                    await conn.execute(insert(versions_table).values(**values))
            if purge_versions:
                await conn.execute(
                    delete(versions_table).where(
                        _where_path(versions_table, secret.path), versions_table.c.version.in_(list(purge_versions))
                    )
                )

    async def delete(self, path: model.SecretPath) -> None:
        """Remove the secret and every version row."""
        async with self._write(f"delete secret {path}") as conn:
            await conn.execute(delete(versions_table).where(_where_path(versions_table, path)))
            await conn.execute(delete(paths_table).where(_where_path(paths_table, path)))

    async def replace_sealed(self, path: model.SecretPath, version: int, sealed: crypto.SealedValue) -> None:
        """Swap one version's sealed value (KEK re-wrap)."""
        key = and_(_where_path(versions_table, path), versions_table.c.version == version)
        async with self._write(f"re-wrap secret {path} version {version}") as conn:
            await conn.execute(update(versions_table).where(key).values(**_sealed_values(sealed)))


def _conflict(path: model.SecretPath, expected: int | None, actual: int | None) -> secrets.CheckAndSetConflict:
    return secrets.CheckAndSetConflict(
        f"secret {path} changed concurrently: expected version {expected}, found {actual}; read it again and retry"
    )
