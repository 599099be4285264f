"""API tokens at rest: only a hash of each secret is stored, looked up by that hash.

Hashing, issuing and checking expiry are tenancy's business; this module only keeps the records.
``ApiTokenRecord`` is the value it reads and writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from blacktop.kernel.errors import ConflictError, NotFoundError

from . import errors
from .tables import ApiTokenRow


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """A stored API token: who it authenticates, and the hash of its secret (never the secret)."""

    id: str
    token_hash: str
    user: str
    groups: tuple[str, ...]
    description: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


_COLUMNS = (
    ApiTokenRow.id,
    ApiTokenRow.token_hash,
    ApiTokenRow.user_name,
    ApiTokenRow.groups,
    ApiTokenRow.description,
    ApiTokenRow.created_at,
    ApiTokenRow.expires_at,
    ApiTokenRow.last_used_at,
)


def _record(row: Any) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=row[0],
        token_hash=row[1],
        user=row[2],
        groups=tuple(row[3] or ()),
        description=row[4],
        created_at=row[5],
        expires_at=row[6],
        last_used_at=row[7],
    )


class SqlTokenStore:
    """API token records in the ``api_tokens`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that takes SQLite's write lock up front, so a read-then-write never deadlocks."""
        async with self._engine.connect() as conn:
            if self._engine.dialect.name == "sqlite":
                await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise

    async def add(self, record: ApiTokenRecord) -> ApiTokenRecord:
        """Store ``record``; ConflictError when its id or hash is already stored."""
        with self._guard(f"add API token {record.id}"):
            async with self._writing() as conn:
                clash = select(ApiTokenRow.id).where(
                    or_(ApiTokenRow.id == record.id, ApiTokenRow.token_hash == record.token_hash)
                )
                if (await conn.scalar(clash)) is not None:
                    raise ConflictError(
                        f"API token {record.id} cannot be added: a token with that id or secret already exists; "
                        "issue a new token"
                    )
                await conn.execute(
                    insert(ApiTokenRow).values(
                        id=record.id,
                        token_hash=record.token_hash,
                        user_name=record.user,
                        groups=list(record.groups),
                        description=record.description,
                        created_at=record.created_at,
                        expires_at=record.expires_at,
                        last_used_at=record.last_used_at,
                    )
                )
        return record

    async def get_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """The token whose secret hashes to ``token_hash``, or None."""
        with self._guard("look up an API token"):
            async with self._engine.connect() as conn:
                row = (await conn.execute(select(*_COLUMNS).where(ApiTokenRow.token_hash == token_hash))).first()
        return None if row is None else _record(row)

    async def list(self, *, user: str | None = None) -> Sequence[ApiTokenRecord]:
        """Every token (of ``user`` when given), oldest first."""
        stmt = select(*_COLUMNS).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if user is not None:
            stmt = stmt.where(ApiTokenRow.user_name == user)
        with self._guard("list API tokens"):
            async with self._engine.connect() as conn:
                rows = (await conn.execute(stmt)).all()
        return [_record(row) for row in rows]

    async def mark_used(self, token_id: str, *, at: datetime) -> None:
        """Record that token ``token_id`` authenticated a request at ``at`` (no-op if it was deleted)."""
        with self._guard(f"record use of API token {token_id}"):
            async with self._writing() as conn:
                await conn.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=at))

    async def delete(self, token_id: str) -> None:
        """Revoke token ``token_id``; NotFoundError when there is none."""
        with self._guard(f"delete API token {token_id}"):
            async with self._writing() as conn:
                result = await conn.execute(delete(ApiTokenRow).where(ApiTokenRow.id == token_id))
        if result.rowcount == 0:
            raise NotFoundError(f"API token {token_id} does not exist; list tokens to find its id")
