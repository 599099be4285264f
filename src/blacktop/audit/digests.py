"""Redaction and digests: how an object is reduced to a fingerprint an audit record can hold.

Audit records never hold objects, only the SHA-256 of their canonical JSON after secret fields
are masked. Masking keeps the shape (map keys, list lengths) and hides every leaf value, so the
digest tells "this object changed" without letting anyone confirm a guessed secret by hashing
candidates. Secret paths come from the kind (``KindInfo.secret_paths``); a kind named ``Secret``
always has ``data`` and ``stringData`` masked.

Paths are dotted with optional wildcards: ``spec.password``, ``spec.users[*].password``,
``spec.connections.*.password``, ``spec.replicas[0]``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

REDACTED: Final = "**redacted**"
"""What every masked leaf value becomes."""

SECRET_KIND_PATHS: Final = ("data", "stringData")
"""Always masked on objects of a kind named Secret."""

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")

Segment = str | int
"""A map key (``*`` for every key) or a list index (``-1`` for every item)."""

_EVERY_ITEM: Final = -1


def parse_path(path: str) -> tuple[Segment, ...]:
    """Split ``spec.users[*].password`` into ``("spec", "users", -1, "password")``; ``ValueError`` if malformed."""
    segments: list[Segment] = []
    position = 0
    for match in _SEGMENT.finditer(path):
        between = path[position : match.start()]
        key, index = match.groups()
        # Keys after the first are separated by a dot; indexes follow their key directly.
        wanted = "." if key is not None and segments else ""
        if between != wanted:
            raise ValueError(f"secret path {path!r} is malformed at character {position}")
        if key is not None:
            segments.append(key)
        else:
            segments.append(_EVERY_ITEM if index == "*" else int(index))
        position = match.end()
    if position != len(path) or not segments:
        raise ValueError(f"secret path {path!r} is malformed; use e.g. spec.users[*].password")
    return tuple(segments)


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return REDACTED


def _redact_at(value: Any, segments: tuple[Segment, ...]) -> Any:
    if not segments:
        return _mask(value)
    head, rest = segments[0], segments[1:]
    if isinstance(head, str) and isinstance(value, Mapping):
        if head == "*":
            return {k: _redact_at(v, rest) for k, v in value.items()}
        if head in value:
            return {**value, head: _redact_at(value[head], rest)}
        return value
    if isinstance(head, int) and isinstance(value, list):
        if head == _EVERY_ITEM:
            return [_redact_at(v, rest) for v in value]
        if 0 <= head < len(value):
            return [*value[:head], _redact_at(value[head], rest), *value[head + 1 :]]
    return value


def redact(obj: Mapping[str, Any], secret_paths: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of ``obj`` with the values at ``secret_paths`` masked (and ``data``/``stringData`` of a Secret)."""
    paths = list(secret_paths)
    if obj.get("kind") == "Secret":
        paths.extend(SECRET_KIND_PATHS)
    result: Any = dict(obj)
    for path in paths:
        result = _redact_at(result, parse_path(path))
    return dict(result)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"audit digests accept JSON values only, not {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace: equal values always give equal bytes."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    )
    return text.encode("utf-8")


def digest(obj: Mapping[str, Any], secret_paths: Iterable[str] = ()) -> str:
    """The lowercase hex SHA-256 of ``obj``'s canonical JSON after redaction."""
    return hashlib.sha256(canonical_json(redact(obj, secret_paths))).hexdigest()


def format_time(instant: datetime) -> str:
    """UTC, microsecond precision, ``Z`` suffix; a naive datetime is taken to be UTC (SQLite drops offsets)."""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
