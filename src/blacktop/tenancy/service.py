"""Authentication use case: turn a presented bearer token into a ``Caller`` or refuse it (401)."""

from __future__ import annotations

from datetime import datetime

from blacktop.kernel import identity
from blacktop.kernel.errors import UnauthenticatedError

from . import tokens
from .ports import TokenStore


async def authenticate(store: TokenStore, presented: str | None, *, now: datetime) -> identity.Caller:
    """The caller ``presented`` authenticates as; ``UnauthenticatedError`` if missing, unknown or expired."""
    if not presented:
        raise UnauthenticatedError(
            "no API token was presented; send 'Authorization: Bearer <token>' (create one with `blacktop token create`)"
        )
    digest = tokens.hash_token(presented)
    record = await store.get_by_hash(digest)
    # The lookup matched by hash already; the constant-time check guards adapters that match loosely.
    if record is None or not tokens.verify_token(presented, record.token_hash):
        raise UnauthenticatedError("the API token is not known; check it or create a new one")
    if record.is_expired(now):
        raise UnauthenticatedError(f"API token {record.id} expired at {record.expires_at}; create a new one")
    return tokens.caller_for(record)
