"""API token records: the SQL token store and its in-memory twin keep the same contract."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import text

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.store import ApiTokenRecord, InMemoryTokenStore, SqlTokenStore, build_engine

T0 = datetime(2026, 5, 1, 9, 30, 0, 250000, tzinfo=UTC)


class TokenStore(Protocol):
    async def add(self, record: ApiTokenRecord) -> ApiTokenRecord: ...
    async def get_by_hash(self, token_hash: str) -> ApiTokenRecord | None: ...
    async def list(self, *, user: str | None = None) -> Sequence[ApiTokenRecord]: ...
    async def mark_used(self, token_id: str, *, at: datetime) -> None: ...
    async def delete(self, token_id: str) -> None: ...


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def tokens(request: pytest.FixtureRequest) -> AsyncIterator[TokenStore]:
    if request.param == "memory":
        yield InMemoryTokenStore()
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "migrated_postgres_url")
    engine = build_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM api_tokens"))
    yield SqlTokenStore(engine)
    await engine.dispose()


def token(id: str, *, user: str = "alice", minutes: int = 0, hash: str | None = None) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=id,
        token_hash=hash or f"sha256:{id}",
        user=user,
        groups=("team-a", "system:authenticated"),
        description=f"token {id}",
        created_at=T0 + timedelta(minutes=minutes),
        expires_at=T0 + timedelta(days=30),
    )


async def test_tokens_are_found_by_hash_and_listed_oldest_first(tokens: TokenStore) -> None:
    await tokens.add(token("t2", user="bob", minutes=2))
    await tokens.add(token("t1", minutes=1))
    await tokens.add(token("t3", minutes=3))

    assert await tokens.get_by_hash("sha256:t2") == token("t2", user="bob", minutes=2)
    assert await tokens.get_by_hash("sha256:nope") is None
    assert [t.id for t in await tokens.list()] == ["t1", "t2", "t3"]
    assert [t.id for t in await tokens.list(user="alice")] == ["t1", "t3"]


DUPLICATES = {
    "same-id": token("t1", hash="sha256:other"),
    "same-hash": token("t9", hash="sha256:t1"),
}


@pytest.mark.parametrize("duplicate", DUPLICATES.values(), ids=DUPLICATES.keys())
async def test_a_token_id_or_hash_is_stored_once(tokens: TokenStore, duplicate: ApiTokenRecord) -> None:
    await tokens.add(token("t1"))
    with pytest.raises(ConflictError, match="already exists"):
        await tokens.add(duplicate)
    assert [t.id for t in await tokens.list()] == ["t1"]


async def test_use_is_recorded_and_deleted_tokens_stop_authenticating(tokens: TokenStore) -> None:
    await tokens.add(token("t1"))
    used = T0 + timedelta(hours=1, microseconds=7)
    await tokens.mark_used("t1", at=used)
    found = await tokens.get_by_hash("sha256:t1")
    assert found is not None
    assert found.last_used_at == used

    await tokens.delete("t1")
    assert await tokens.get_by_hash("sha256:t1") is None
    with pytest.raises(NotFoundError, match="API token t1 does not exist"):
        await tokens.delete("t1")
