"""API tokens: minting, hashing and verifying the bearer secrets that authenticate callers.

A token is ``bt_`` followed by 43 URL-safe characters (256 bits from ``secrets``). Only its SHA-256
hash is stored. A fast, unsalted hash is the right tool here: the token is a uniformly random
256-bit secret, so there is nothing to brute-force or look up in a rainbow table, and password
hashes (bcrypt, argon2) would only add latency to every request. Comparisons use
``hmac.compare_digest`` so that the time taken does not leak how much of a hash matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from blacktop.kernel import identity

TOKEN_PREFIX: Final = "bt_"
"""Every token blacktop mints starts with this, so secret scanners and humans recognise it."""

TOKEN_ENTROPY_BYTES: Final = 32
"""256 bits of randomness per token."""

MIN_TOKEN_LENGTH: Final = 20
"""Shorter presented or bootstrap tokens are refused: they are too easy to guess."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A stored token: its hash, never the token itself, and the identity it authenticates as."""

    id: str
    token_hash: str
    user: str
    groups: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        """Whether the token has passed its expiry at ``now``."""
        return self.expires_at is not None and now >= self.expires_at


def generate_token() -> str:
    """A fresh random token, ``bt_`` plus 43 URL-safe characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_ENTROPY_BYTES)


def hash_token(token: str) -> str:
    """The lowercase hex SHA-256 of ``token`` (see the module docstring for why a fast hash suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_id_for(token_hash: str) -> str:
    """A stable, non-secret id for a token (``tok-`` and 12 hex digits of its hash).

    The id is derived from the hash, which is itself a one-way function of a 256-bit secret, so it
    reveals nothing and needs no random id factory.
    """
    return f"tok-{token_hash[:12]}"


def verify_token(presented: str, token_hash: str) -> bool:
    """Whether ``presented`` hashes to ``token_hash``, compared in constant time."""
    return hmac.compare_digest(hash_token(presented).encode("ascii"), token_hash.encode("ascii"))


def is_well_formed(token: str) -> bool:
    """Whether ``token`` is long enough and printable ASCII without spaces (a bootstrap token may lack the prefix)."""
    return len(token) >= MIN_TOKEN_LENGTH and token.isascii() and token.isprintable() and " " not in token


def issue_token(
    *,
    user: str,
    groups: Iterable[str] = (),
    description: str = "",
    now: datetime,
    expires_at: datetime | None = None,
    token: str | None = None,
) -> tuple[str, ApiToken]:
    """Mint a token for ``user``: returns the plaintext (show it once) and the record to store.

    ``token`` supplies the plaintext instead of generating one (``BLACKTOP_BOOTSTRAP_TOKEN``); it
    must be well formed.
    """
    plaintext = token if token is not None else generate_token()
    if not is_well_formed(plaintext):
        raise ValueError(
            f"a token must be at least {MIN_TOKEN_LENGTH} printable ASCII characters without spaces; "
            "generate one with `python -c 'import secrets; print(\"bt_\" + secrets.token_urlsafe(32))'`"
        )
    digest = hash_token(plaintext)
    record = ApiToken(
        id=token_id_for(digest),
        token_hash=digest,
        user=user,
        groups=frozenset(groups),
        description=description,
        created_at=now,
        expires_at=expires_at,
    )
    return plaintext, record


BOOTSTRAP_USER: Final = "admin"
"""The user the bootstrap token authenticates as."""


def issue_bootstrap_token(*, now: datetime, token: str | None = None) -> tuple[str, ApiToken]:
    """The first platform-admin token ``blacktop up`` creates (or takes from ``BLACKTOP_BOOTSTRAP_TOKEN``)."""
    return issue_token(
        user=BOOTSTRAP_USER,
        groups=(identity.SYSTEM_GROUP_ADMINS,),
        description="bootstrap platform-admin token created by `blacktop up`",
        now=now,
        token=token,
    )


def caller_for(token: ApiToken) -> identity.Caller:
    """The caller a token authenticates as; every caller is in ``system:authenticated``."""
    return identity.Caller(
        name=token.user,
        groups=frozenset({*token.groups, identity.SYSTEM_GROUP_AUTHENTICATED}),
    )
