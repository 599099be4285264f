"""An in-memory ``TokenStore`` for unit tests and the store contract suite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from blacktop.kernel.errors import ConflictError, NotFoundError

from ..tokens import ApiToken

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InMemoryTokenStore:
    """Token records in a dict keyed by id."""

    def __init__(self) -> None:
        self._tokens: dict[str, ApiToken] = {}

    async def add(self, token: ApiToken) -> None:
        """Store a new token; ConflictError if its id or hash already exists."""
        if token.id in self._tokens or any(t.token_hash == token.token_hash for t in self._tokens.values()):
            raise ConflictError(f"API token {token.id} already exists")
        self._tokens[token.id] = token

    async def get_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this hash, or None."""
        for token in self._tokens.values():
            if token.token_hash == token_hash:
                return token
        return None

    async def list(self, *, user: str | None = None) -> Sequence[ApiToken]:
        """Every token (optionally only ``user``'s), ordered by creation time then id."""
        found = [t for t in self._tokens.values() if user is None or t.user == user]
        return sorted(found, key=lambda t: (t.created_at or _EPOCH, t.id))

    async def delete(self, token_id: str) -> None:
        """Remove a token by id; NotFoundError if absent."""
        if self._tokens.pop(token_id, None) is None:
            raise NotFoundError(f"API token {token_id} does not exist; list tokens to see their ids")
