"""Crossplane field paths: parsing, reading, writing, wildcard expansion and merging.

Patches, connection details and readiness checks all address fields of plain JSON-like objects
with crossplane-runtime's ``fieldpath`` syntax (``spec.forProvider.tags[foo]``, ``a.b[0].c``,
``metadata.labels[crossplane.io/claim-name]``). This module reimplements that syntax and the
semantics of ``Paved.GetValue``/``SetValue``/``MergeValue`` exactly, so a Composition written for
Crossplane behaves the same in blacktop:

* a missing key, an out-of-range index or a ``null`` parent is *not found*
  (:class:`FieldNotFoundError`), which patch policies may ignore; walking into a scalar is a hard
  :class:`FieldPathError`;
* writing creates missing maps and lists (lists grow with ``None``) and stores a JSON round-trip of
  the value, so an integral float becomes an int as it does in the Kubernetes JSON decoder;
* ``[*]`` is expanded against the target object (only for ``toFieldPath``);
* merges follow mergo, as configured by Crossplane's merge options (``MergeObjects`` and friends).

Everything is pure: functions never mutate their inputs except :func:`set_value` and
:func:`merge_value`, whose whole purpose is to write into the object they are given.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .errors import FieldNotFoundError, FieldPathError, PatchError

__all__ = [
    "MergePolicy",
    "Segment",
    "expand_wildcards",
    "format_path",
    "get_value",
    "has_value",
    "json_roundtrip",
    "merge_value",
    "merge_values",
    "parse_path",
    "set_value",
]

Segment = str | int
"""A parsed path segment: a field name (``str``) or an array index (``int``)."""

_MAX_INDEX: Final = 2**32 - 1
_WILDCARD: Final = "*"


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        return name[1:-1]
    return name


def _bracket_segment(content: str, path: str) -> Segment:
    if content == "":
        raise FieldPathError(f"field path {path!r} is invalid: empty brackets '[]'")
    if content.isdigit() and content.isascii():
        index = int(content)
        if index <= _MAX_INDEX:
            return index
    return _unquote(content)


def parse_path(path: str) -> list[Segment]:
    """Parse a Crossplane field path into field names and indexes.

    Inside brackets dots are literal (``data[.config.yml]`` is one key) and surrounding quotes are
    stripped. Raises :class:`FieldPathError` naming the path and what is wrong with it.
    """
    segments: list[Segment] = []
    i, n = 0, len(path)
    if n == 0:
        raise FieldPathError("field path is empty")
    if path[0] == ".":
        raise FieldPathError(f"field path {path!r} is invalid: it starts with a dot")
    expect_field = True  # at the start or right after a dot, a field name must follow
    after_dot = False
    while i < n:
        ch = path[i]
        if ch == "[":
            if after_dot:
                raise FieldPathError(f"field path {path!r} is invalid: a dot directly before '['")
            close = path.find("]", i + 1)
            opening = path.find("[", i + 1)
            if close == -1:
                raise FieldPathError(f"field path {path!r} is invalid: unterminated '['")
            if opening != -1 and opening < close:
                raise FieldPathError(f"field path {path!r} is invalid: '[' inside brackets")
            segments.append(_bracket_segment(path[i + 1 : close], path))
            i = close + 1
            if i < n and path[i] not in ".[":
                raise FieldPathError(f"field path {path!r} is invalid: unexpected {path[i]!r} after ']'")
            expect_field = False
            after_dot = False
        elif ch == ".":
            if i + 1 >= n:
                raise FieldPathError(f"field path {path!r} is invalid: it ends with a dot")
            if path[i + 1] == ".":
                raise FieldPathError(f"field path {path!r} is invalid: it contains '..'")
            after_dot = True
            expect_field = True
            i += 1
        else:
            j = i
            while j < n and path[j] not in ".[":
                if path[j] == "]":
                    raise FieldPathError(f"field path {path!r} is invalid: ']' inside a field name")
                j += 1
            if not expect_field:
                raise FieldPathError(f"field path {path!r} is invalid: unexpected {ch!r}")
            segments.append(_unquote(path[i:j]))
            i = j
            after_dot = False
            expect_field = False
    return segments


def format_path(segments: Sequence[Segment]) -> str:
    """Print segments back as a path; fields with a dot (or ``*``) are bracketed."""
    out = ""
    for segment in segments:
        if isinstance(segment, int) or "." in segment or segment == _WILDCARD or "[" in segment:
            out += f"[{segment}]"
        else:
            out += ("." if out else "") + segment
    return out


def _segments(path: str | Sequence[Segment]) -> list[Segment]:
    return parse_path(path) if isinstance(path, str) else list(path)


def get_value(obj: Any, path: str | Sequence[Segment]) -> Any:
    """Read the value at ``path``; raise :class:`FieldNotFoundError` when it is absent."""
    segments = _segments(path)
    current = obj
    for depth, segment in enumerate(segments):
        where = format_path(segments[: depth + 1])
        if current is None:
            raise FieldNotFoundError(f"{where}: no such field")
        if isinstance(segment, int):
            if not isinstance(current, list):
                raise FieldPathError(f"{where}: {format_path(segments[:depth]) or 'value'} is not an array")
            if segment >= len(current):
                raise FieldNotFoundError(f"{where}: no such field")
            current = current[segment]
        else:
            if not isinstance(current, dict):
                raise FieldPathError(f"{where}: {format_path(segments[:depth]) or 'value'} is not an object")
            if segment not in current:
                raise FieldNotFoundError(f"{where}: no such field")
            current = current[segment]
    return current


def has_value(obj: Any, path: str | Sequence[Segment]) -> bool:
    """Whether ``path`` exists in ``obj`` (a hard path error also counts as absent)."""
    try:
        get_value(obj, path)
    except (FieldNotFoundError, FieldPathError):
        return False
    return True


def json_roundtrip(value: Any) -> Any:
    """Copy ``value`` the way a Go JSON encode/decode would: integral floats become ints."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        if not math.isfinite(value):
            raise PatchError(f"cannot encode {value!r} as JSON")
        return value
    if isinstance(value, dict):
        return {str(k): json_roundtrip(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_roundtrip(v) for v in value]
    # Anything else (bytes, dataclasses) goes through json to fail the same way Go would.
    return json_roundtrip(json.loads(json.dumps(value)))


def set_value(obj: dict[str, Any], path: str | Sequence[Segment], value: Any) -> None:
    """Write ``value`` at ``path`` in ``obj``, creating missing objects and arrays."""
    segments = _segments(path)
    if not segments:
        raise FieldPathError("field path is empty")
    current: Any = obj
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        nxt: Any = None if last else ([] if isinstance(segments[depth + 1], int) else {})
        where = format_path(segments[: depth + 1])
        if isinstance(segment, int):
            if not isinstance(current, list):
                raise FieldPathError(f"cannot set {where}: {format_path(segments[:depth])} is not an array")
            while len(current) <= segment:
                current.append(None)
            if last:
                current[segment] = json_roundtrip(value)
            elif current[segment] is None:
                current[segment] = nxt
        else:
            if not isinstance(current, dict):
                parent = format_path(segments[:depth]) or "value"
                raise FieldPathError(f"cannot set {where}: {parent} is not an object")
            if last:
                current[segment] = json_roundtrip(value)
            elif current.get(segment) is None:
                current[segment] = nxt
        if not last:
            current = current[segment]


def expand_wildcards(obj: Any, path: str | Sequence[Segment]) -> list[list[Segment]]:
    """Expand every ``[*]`` of ``path`` against the arrays and objects that exist in ``obj``.

    A path without wildcards expands to itself. A wildcard over a missing field expands to nothing.
    """
    segments = _segments(path)
    results: list[list[Segment]] = []

    def walk(prefix: list[Segment], rest: list[Segment], value: Any) -> None:
        if not rest:
            results.append(prefix)
            return
        head, tail = rest[0], rest[1:]
        if head == _WILDCARD:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    walk([*prefix, index], tail, item)
            elif isinstance(value, dict):
                for key in value:
                    walk([*prefix, key], tail, value[key])
            return
        if _WILDCARD not in tail:
            results.append([*prefix, head, *tail])
            return
        child: Any = None
        if isinstance(head, int) and isinstance(value, list) and head < len(value):
            child = value[head]
        elif isinstance(head, str) and isinstance(value, dict):
            child = value.get(head)
        walk([*prefix, head], tail, child)

    if _WILDCARD not in segments:
        return [segments]
    walk([], segments, obj)
    return results


@dataclass(frozen=True, slots=True)
class MergePolicy:
    """How a patch writes into an existing value (mergo's options, as Crossplane configures them).

    ``keep_existing`` keeps non-empty destination values (``MergeObjects``); otherwise incoming
    values win (``ForceMergeObjects``). ``append_slices`` appends arrays, dropping incoming items
    already present in the destination.
    """

    keep_existing: bool
    append_slices: bool


def _is_empty(value: Any) -> bool:
    return value is None or value is False or (value == 0 and not isinstance(value, bool)) or value in ("", [], {})


def _merge_lists(dst: list[Any], src: list[Any], policy: MergePolicy) -> list[Any]:
    if policy.append_slices:
        return dst + [item for item in src if item not in dst]
    if not policy.keep_existing and src:
        return src
    return dst if dst else src


def _merge_maps(dst: dict[str, Any], src: dict[str, Any], policy: MergePolicy) -> dict[str, Any]:
    out = dict(dst)
    for key, incoming in src.items():
        existing = out.get(key)
        if key not in out:
            out[key] = incoming
        elif isinstance(existing, dict) and isinstance(incoming, dict):
            out[key] = _merge_maps(existing, incoming, policy)
        elif isinstance(existing, list) and isinstance(incoming, list):
            out[key] = _merge_lists(existing, incoming, policy)
        elif _is_empty(existing) or (not policy.keep_existing and incoming is not None):
            out[key] = incoming
    return out


def merge_values(dst: Any, src: Any, policy: MergePolicy) -> Any:
    """Merge ``src`` into ``dst`` (neither is mutated) and return the result."""
    if dst is None:
        return src
    dst_map, src_map = isinstance(dst, dict), isinstance(src, dict)
    if dst_map and src_map:
        return _merge_maps(dst, src, policy)
    if dst_map or src_map:
        raise PatchError("cannot merge an object with a value that is not an object")
    if isinstance(dst, list) and isinstance(src, list):
        return _merge_lists(dst, src, policy)
    if _is_empty(dst) or not policy.keep_existing:
        return src
    return dst


def merge_value(obj: dict[str, Any], path: str | Sequence[Segment], value: Any, policy: MergePolicy) -> None:
    """Merge ``value`` into whatever is at ``path`` (a plain set when nothing is there)."""
    segments = _segments(path)
    try:
        current = get_value(obj, segments)
    except FieldNotFoundError:
        current = None
    set_value(obj, segments, merge_values(current, json_roundtrip(value), policy))


def iter_leaf_paths(value: Any, prefix: Sequence[Segment] = ()) -> Iterator[list[Segment]]:
    """Yield the path of every scalar (and empty container) in ``value``, depth first."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from iter_leaf_paths(item, [*prefix, key])
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from iter_leaf_paths(item, [*prefix, index])
    else:
        yield list(prefix)
