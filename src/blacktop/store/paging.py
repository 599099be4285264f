"""Opaque continue tokens for paginated lists, shared by the SQL and in-memory stores.

A token carries the key of the last object returned (namespace, name), the revision the list
started at, and the kind it was issued for. Pages are keyset-paginated on (namespace, name), so a
token stays valid while objects are added or removed: no object present for the whole listing is
returned twice or skipped. Clients must treat tokens as opaque; the encoding may change.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final

from blacktop.kernel.errors import InputError, Problem

_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended, and the revision the listing started at."""

    namespace: str
    name: str
    revision: int


def encode_continue(cursor: Cursor, *, group: str, kind: str) -> str:
    """The opaque continue token for ``cursor`` in a list of ``group``/``kind``."""
    payload = {
        "v": _VERSION,
        "k": f"{group}/{kind}",
        "ns": cursor.namespace,
        "n": cursor.name,
        "rev": cursor.revision,
    }
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str, *, group: str, kind: str) -> Cursor:
    """The cursor inside ``token``; InputError when it is malformed or was issued for another kind."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise ValueError("unknown token version")
        cursor = Cursor(namespace=str(payload["ns"]), name=str(payload["n"]), revision=int(payload["rev"]))
        issued_for = str(payload["k"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"continue token {token[:40]!r} is not valid",
            problems=[Problem(path="continue", message="pass the continue token of the previous page unchanged")],
        ) from exc
    if issued_for != f"{group}/{kind}":
        raise InputError(
            f"continue token was issued for a list of {issued_for}, not {group}/{kind}",
            problems=[Problem(path="continue", message="use a token only with the list request that returned it")],
        )
    return cursor
