"""Shard leases and engine member heartbeats in SQL: ``engine.LeaseStore`` on SQLite and PostgreSQL.

Engine processes of one group share a fixed set of shards (see ``blacktop.engine.leasing``). Each
lease row says who holds a shard until when; taking one is a single conditional ``UPDATE`` (free,
expired, or already ours), so the database decides races: on PostgreSQL the row lock makes the
second updater re-check the condition after the first commits, on SQLite the write lock
serialises them. Times are integer milliseconds since the epoch, so comparisons behave the same on
both databases and no time zone handling is involved. The tables are created by the migration
``0002_engine_leases``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import BigInteger, Column, Integer, String, Table, and_, delete, insert, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import errors
from .tables import Base

LEASES: Final = Table(
    "leases",
    Base.metadata,
    Column("group", String(128), primary_key=True),
    Column("shard", Integer, primary_key=True, autoincrement=False),
    Column("holder", String(255), nullable=True),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("token", BigInteger, nullable=False),
)
"""One row per shard of an engine group: holder, expiry and a fencing token that grows on every take."""

MEMBERS: Final = Table(
    "members",
    Base.metadata,
    Column("group", String(128), primary_key=True),
    Column("member", String(255), primary_key=True),
    Column("expires_at_ms", BigInteger, nullable=False),
)
"""One row per engine process that heartbeats; a member is live until ``expires_at_ms``."""

_FORGET_AFTER: Final = timedelta(hours=1)
"""Members whose heartbeat expired this long ago are deleted, so crashed processes don't pile up."""


@dataclass(frozen=True, slots=True)
class StoredLease:
    """A lease row as read back (satisfies ``engine.ports.Lease``)."""

    shard: int
    holder: str | None
    expires_at: datetime
    token: int


def to_ms(instant: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return int(instant.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SqlLeaseStore:
    """``blacktop.engine.LeaseStore`` on an AsyncEngine migrated to head (it does not own the engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"

    async def heartbeat(self, *, group: str, member: str, now: datetime, ttl: timedelta) -> None:
        """Record that ``member`` is alive until ``now + ttl``, and forget long-dead members."""
        expires = to_ms(now + ttl)
        async with self._write(f"record the heartbeat of engine member {member!r}") as conn:
            updated = await conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.group == group, MEMBERS.c.member == member)
                .values(expires_at_ms=expires)
            )
            if updated.rowcount == 0:
                await conn.execute(insert(MEMBERS).values(group=group, member=member, expires_at_ms=expires))
            await conn.execute(
                delete(MEMBERS).where(MEMBERS.c.group == group, MEMBERS.c.expires_at_ms < to_ms(now - _FORGET_AFTER))
            )

    async def live_members(self, *, group: str, now: datetime) -> list[str]:
        """Members whose heartbeat has not expired at ``now``, sorted."""
        stmt = (
            select(MEMBERS.c.member)
            .where(MEMBERS.c.group == group, MEMBERS.c.expires_at_ms > to_ms(now))
            .order_by(MEMBERS.c.member)
        )
        async with self._read("list live engine members") as conn:
            return [str(row[0]) for row in await conn.execute(stmt)]

    async def leave(self, *, group: str, member: str) -> None:
        """Remove ``member``'s heartbeat."""
        async with self._write(f"remove engine member {member!r}") as conn:
            await conn.execute(delete(MEMBERS).where(MEMBERS.c.group == group, MEMBERS.c.member == member))

    async def ensure_shards(self, *, group: str, shards: int) -> None:
        """Create the missing lease rows ``0..shards-1`` (several processes may race; all end up agreeing)."""
        for _ in range(3):
            try:
                async with self._write(f"create the shard leases of engine group {group!r}") as conn:
                    existing = {
                        int(row[0]) for row in await conn.execute(select(LEASES.c.shard).where(LEASES.c.group == group))
                    }
                    missing = [s for s in range(shards) if s not in existing]
                    if missing:
                        rows = [
                            {"group": group, "shard": s, "holder": None, "expires_at_ms": 0, "token": 0}
                            for s in missing
                        ]
                        await conn.execute(insert(LEASES), rows)
                return
            except sa_exc.IntegrityError:
                continue  # another process inserted the same rows first; read again

    async def list_leases(self, *, group: str) -> list[StoredLease]:
        """Every shard lease of ``group``, by shard."""
        stmt = select(LEASES.c.shard, LEASES.c.holder, LEASES.c.expires_at_ms, LEASES.c.token).where(
            LEASES.c.group == group
        )
        async with self._read(f"list the shard leases of engine group {group!r}") as conn:
            rows = (await conn.execute(stmt.order_by(LEASES.c.shard))).all()
        return [_lease(row) for row in rows]

    async def acquire(
        self, *, group: str, shard: int, holder: str, now: datetime, ttl: timedelta
    ) -> StoredLease | None:
        """Take ``shard`` if free, expired or already ``holder``'s (compare-and-set); None otherwise."""
        where = and_(
            LEASES.c.group == group,
            LEASES.c.shard == shard,
            or_(LEASES.c.holder.is_(None), LEASES.c.holder == holder, LEASES.c.expires_at_ms <= to_ms(now)),
        )
        async with self._write(f"acquire shard {shard} of engine group {group!r}") as conn:
            taken = await conn.execute(
                update(LEASES)
                .where(where)
                .values(holder=holder, expires_at_ms=to_ms(now + ttl), token=LEASES.c.token + 1)
            )
            if taken.rowcount != 1:
                return None
            row = (
                await conn.execute(
                    select(LEASES.c.shard, LEASES.c.holder, LEASES.c.expires_at_ms, LEASES.c.token).where(
                        LEASES.c.group == group, LEASES.c.shard == shard
                    )
                )
            ).one()
        return _lease(row)

    async def renew(
        self, *, group: str, shards: Collection[int], holder: str, now: datetime, ttl: timedelta
    ) -> list[StoredLease]:
        """Extend ``holder``'s unexpired leases among ``shards``; returns those it still holds."""
        if not shards:
            return []
        expires = to_ms(now + ttl)
        mine = and_(LEASES.c.group == group, LEASES.c.holder == holder, LEASES.c.shard.in_(list(shards)))
        async with self._write(f"renew the shard leases of engine member {holder!r}") as conn:
            await conn.execute(
                update(LEASES).where(mine, LEASES.c.expires_at_ms > to_ms(now)).values(expires_at_ms=expires)
            )
            stmt = select(LEASES.c.shard, LEASES.c.holder, LEASES.c.expires_at_ms, LEASES.c.token).where(
                mine, LEASES.c.expires_at_ms == expires
            )
            rows = (await conn.execute(stmt.order_by(LEASES.c.shard))).all()
        return [_lease(row) for row in rows]

    async def release(self, *, group: str, shards: Collection[int], holder: str) -> None:
        """Give up ``shards`` where ``holder`` still holds them."""
        if not shards:
            return
        async with self._write(f"release the shard leases of engine member {holder!r}") as conn:
            await conn.execute(
                update(LEASES)
                .where(LEASES.c.group == group, LEASES.c.holder == holder, LEASES.c.shard.in_(list(shards)))
                .values(holder=None, expires_at_ms=0)
            )

    @asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._guard(action):
            async with self._engine.connect() as conn:
                if self._is_sqlite:
                    await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        with self._guard(action):
            async with self._engine.connect() as conn:
                yield conn

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except sa_exc.IntegrityError:
            raise  # ensure_shards handles the race it can cause
        except Exception as exc:
            if errors.is_translatable(exc):
                raise errors.translate(exc, url=self._engine.url, action=action) from exc
            raise


def _lease(row: Sequence[Any]) -> StoredLease:
    shard, holder, expires_ms, token = row
    return StoredLease(
        shard=int(shard),
        holder=None if holder is None else str(holder),
        expires_at=from_ms(int(expires_ms)),
        token=int(token),
    )
