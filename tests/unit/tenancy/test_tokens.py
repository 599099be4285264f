"""API tokens: minting, hashing, constant-time verification and authentication against a store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blacktop.kernel import identity
from blacktop.kernel.errors import ConflictError, NotFoundError, UnauthenticatedError
from blacktop.tenancy import InMemoryTokenStore, authenticate, tokens

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_generated_tokens_are_prefixed_random_and_long() -> None:
    a, b = tokens.generate_token(), tokens.generate_token()
    assert a.startswith("bt_")
    assert b.startswith("bt_")
    assert a != b
    assert len(a) == 3 + 43
    assert tokens.is_well_formed(a)


def test_hash_is_sha256_hex_and_verify_accepts_only_the_token() -> None:
    token = tokens.generate_token()
    digest = tokens.hash_token(token)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert tokens.verify_token(token, digest)
    assert not tokens.verify_token(token + "x", digest)
    assert token not in digest


def test_issue_token_stores_only_the_hash() -> None:
    plaintext, record = tokens.issue_token(user="alice", groups=["dba"], now=NOW, description="laptop")
    assert record.token_hash == tokens.hash_token(plaintext)
    assert plaintext not in repr(record)
    assert record.id == f"tok-{record.token_hash[:12]}"
    assert record.groups == {"dba"}


@pytest.mark.parametrize(
    "bad", ["short", "has a space in it and is long", "ünïcödé-token-long-enough"], ids=["short", "space", "non-ascii"]
)
def test_ill_formed_supplied_tokens_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="at least 20"):
        tokens.issue_token(user="alice", now=NOW, token=bad)


async def test_authenticate_returns_caller_with_token_groups() -> None:
    store = InMemoryTokenStore()
    plaintext, record = tokens.issue_bootstrap_token(now=NOW, token="supplied-bootstrap-token-123")
    await store.add(record)
    caller = await authenticate(store, plaintext, now=NOW)
    assert caller.name == "admin"
    assert caller.groups == {identity.SYSTEM_GROUP_ADMINS, identity.SYSTEM_GROUP_AUTHENTICATED}


async def test_authenticate_refuses_missing_unknown_and_expired_tokens() -> None:
    store = InMemoryTokenStore()
    plaintext, record = tokens.issue_token(user="bob", now=NOW, expires_at=NOW + timedelta(hours=1))
    await store.add(record)
    with pytest.raises(UnauthenticatedError, match="no API token"):
        await authenticate(store, None, now=NOW)
    with pytest.raises(UnauthenticatedError, match="not known"):
        await authenticate(store, tokens.generate_token(), now=NOW)
    assert (await authenticate(store, plaintext, now=NOW)).name == "bob"
    with pytest.raises(UnauthenticatedError, match="expired"):
        await authenticate(store, plaintext, now=NOW + timedelta(hours=1))


async def test_memory_store_contract() -> None:
    store = InMemoryTokenStore()
    _, first = tokens.issue_token(user="bob", now=NOW)
    _, second = tokens.issue_token(user="alice", now=NOW + timedelta(seconds=1))
    await store.add(first)
    await store.add(second)
    with pytest.raises(ConflictError):
        await store.add(first)
    assert [t.id for t in await store.list()] == [first.id, second.id]
    assert [t.id for t in await store.list(user="alice")] == [second.id]
    assert await store.get_by_hash(first.token_hash) == first
    await store.delete(first.id)
    assert await store.get_by_hash(first.token_hash) is None
    with pytest.raises(NotFoundError):
        await store.delete(first.id)
