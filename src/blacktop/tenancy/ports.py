"""What tenancy needs from storage: a place to keep API token records.

Only hashes are stored (see ``tokens``); the SQL adapter lives in ``blacktop.store`` and the
in-memory one in ``tenancy.adapters.memory``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .tokens import ApiToken


class TokenStore(Protocol):
    """Keeps API token records, looked up by the hash of the presented token."""

    async def add(self, token: ApiToken) -> None:
        """Store a new token; ConflictError if its id or hash already exists."""
        ...

    async def get_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this hash, or None."""
        ...

    async def list(self, *, user: str | None = None) -> Sequence[ApiToken]:
        """Every token (optionally only ``user``'s), ordered by creation time then id."""
        ...

    async def delete(self, token_id: str) -> None:
        """Remove a token by id; NotFoundError if absent."""
        ...
