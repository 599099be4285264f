"""Backstage's catalog query language, as pure values: filters, search rows, ``fields`` and ordering.

Filters arrive as query strings (``filter=kind=component,spec.type=service``): different ``filter``
parameters are OR-ed, comma-separated conditions inside one are AND-ed, a repeated key inside one
filter means "any of", a bare key means "exists", all case-insensitive. They match *search rows*:
every served entity is flattened into lower-cased ``(key, value)`` pairs (``flatten_entity``) that the
store indexes. ``relations.<type>=<ref>`` conditions match the entity's relation rows. Predicate
queries (the JSON ``query`` of the POST endpoints) translate into the same ``EntityFilter``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

MAX_KEY: Final = 200
MAX_VALUE: Final = 200
SKIPPED_ROOTS: Final = frozenset({"relations", "status", "attachments"})


@dataclass(frozen=True, slots=True)
class Condition:
    """One filter condition: ``key`` has one of ``values``, or exists when ``values`` is None."""

    key: str
    values: tuple[str, ...] | None = None
    negate: bool = False


@dataclass(frozen=True, slots=True)
class EntityFilter:
    """OR over alternatives, each an AND of conditions. No alternatives means "everything"."""

    alternatives: tuple[tuple[Condition, ...], ...] = ()
    nothing: bool = False

    @property
    def is_everything(self) -> bool:
        """Whether the filter restricts nothing."""
        return not self.nothing and (not self.alternatives or any(not a for a in self.alternatives))

    def and_(self, other: EntityFilter) -> EntityFilter:
        """Both filters must hold (distributes the alternatives)."""
        if self.nothing or other.nothing:
            return EntityFilter(nothing=True)
        if self.is_everything:
            return other
        if other.is_everything:
            return self
        return EntityFilter(tuple(a + b for a in self.alternatives for b in other.alternatives))


def parse_filters(params: Sequence[str]) -> EntityFilter:
    """Parse repeated ``filter`` query parameters into an ``EntityFilter`` (raises ``InputError``)."""
    alternatives: list[tuple[Condition, ...]] = []
    for param in params:
        by_key: dict[str, list[str] | None] = {}
        for part in param.split(","):
            if not part.strip():
                continue
            key, eq, value = part.partition("=")
            key = key.strip().lower()
            if not key:
                raise InputError(
                    f"filter {param!r} has a condition without a key",
                    problems=[Problem(path="filter", message="write key=value or key, separated by commas")],
                )
            if not eq:
                by_key.setdefault(key, None)
                continue
            existing = by_key.get(key)
            values = existing if existing is not None else []
            values.append(value.strip().lower())
            by_key[key] = values
        if by_key:
            alternatives.append(tuple(Condition(k, tuple(v) if v is not None else None) for k, v in by_key.items()))
    return EntityFilter(tuple(alternatives))


def parse_predicate(query: Any) -> EntityFilter:
    """Translate a JSON predicate (``$all``/``$any``/``$not``, ``$exists``/``$in``/``$contains``) to a filter."""
    if query is None:
        return EntityFilter()
    if not isinstance(query, Mapping):
        raise InputError("query must be an object", problems=[Problem(path="query", message="must be an object")])
    result = EntityFilter()
    for key, value in query.items():
        result = result.and_(_predicate_term(str(key), value))
    return result


def _predicate_term(key: str, value: Any) -> EntityFilter:
    if key == "$all":
        result = EntityFilter()
        for item in _list(value, key):
            result = result.and_(parse_predicate(item))
        return result
    if key == "$any":
        items = [parse_predicate(item) for item in _list(value, key)]
        if not items:
            return EntityFilter(nothing=True)
        if any(i.is_everything for i in items):
            return EntityFilter()
        return EntityFilter(tuple(a for i in items if not i.nothing for a in i.alternatives))
    if key == "$not":
        inner = parse_predicate(value)
        if len(inner.alternatives) != 1 or len(inner.alternatives[0]) != 1:
            raise InputError("$not supports exactly one field condition", problems=[Problem("query.$not", "simplify")])
        cond = inner.alternatives[0][0]
        return EntityFilter(((Condition(cond.key, cond.values, negate=not cond.negate),),))
    field = key.lower()
    if isinstance(value, Mapping) and len(value) == 1:
        ((op, arg),) = value.items()
        if op == "$exists":
            cond = Condition(field, None, negate=not bool(arg))
            return EntityFilter(((cond,),))
        if op == "$in":
            return EntityFilter(((Condition(field, tuple(str(v).lower() for v in _list(arg, op))),),))
        if op == "$contains" and field == "relations" and isinstance(arg, Mapping):
            targets = arg.get("targetRef")
            refs = targets.get("$in") if isinstance(targets, Mapping) else [targets]
            rel = f"relations.{str(arg.get('type', '')).lower()}"
            return EntityFilter(((Condition(rel, tuple(str(r).lower() for r in refs or [])),),))
        if op == "$contains":
            return EntityFilter(((Condition(field, (str(arg).lower(),)),),))
        raise InputError(f"predicate operator {op!r} is not supported", problems=[Problem(f"query.{key}", "unknown")])
    return EntityFilter(((Condition(field, (_scalar(value),)),),))


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{key} takes a list", problems=[Problem(path=f"query.{key}", message="must be a list")])
    return value


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower()


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One flattened key/value of an entity; ``value`` lower-cased (None: too long), ``original`` kept."""

    key: str
    value: str | None
    original: str | None


def flatten_entity(document: Mapping[str, Any]) -> list[SearchRow]:
    """The search rows of a served entity (Backstage ``buildEntitySearch``), without relation rows."""
    raw: list[tuple[str, Any]] = []
    _walk(document, "", raw)
    metadata = document.get("metadata") or {}
    raw += [("metadata.namespace", metadata.get("namespace") or "default")]
    rows: dict[tuple[str, str | None], SearchRow] = {}
    for key, value in raw:
        if len(key) > MAX_KEY or key == "metadata.etag":
            continue
        text = _text(value)
        lowered_key = key.lower()
        lowered = text.lower() if text is not None and len(text) <= MAX_VALUE else None
        rows.setdefault((lowered_key, lowered), SearchRow(lowered_key, lowered, text if lowered is not None else None))
    return list(rows.values())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _walk(node: Any, path: str, out: list[tuple[str, Any]]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if not path and key in SKIPPED_ROOTS:
                continue
            _walk(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str):
                out.append((f"{path}.{item}", True))
            _walk(item, path, out)
    elif path:
        out.append((path, node))


FULLTEXT_FIELDS: Final = (
    "metadata.name", "metadata.title", "metadata.description", "metadata.tags", "spec.owner", "spec.system",
    "spec.type", "spec.lifecycle", "kind",
)  # fmt: skip
"""Fields whose text feeds ranked full-text search (plus every annotation value)."""


def fulltext_of(document: Mapping[str, Any]) -> str:
    """The text full-text search indexes for an entity: names split on separators so prefixes match."""
    metadata = document.get("metadata") or {}
    spec = document.get("spec") or {}
    parts: list[str] = [str(document.get("kind", ""))]
    for key in ("name", "title", "description"):
        if isinstance(metadata.get(key), str):
            parts.append(metadata[key])
    parts += [t for t in metadata.get("tags") or [] if isinstance(t, str)]
    for key in ("owner", "system", "type", "lifecycle"):
        if isinstance(spec.get(key), str):
            parts.append(spec[key])
    annotations = metadata.get("annotations") or {}
    if isinstance(annotations, Mapping):
        parts += [str(v) for v in annotations.values() if isinstance(v, str) and len(v) <= 300]
    text = " ".join(parts)
    return " ".join(_tokens(text))


_WORD = re.compile(r"[^\W_]+")


def _tokens(text: str) -> Iterable[str]:
    """Words, with ``payment-service`` also indexed as ``payment`` and ``service``."""
    return _WORD.findall(text.lower())


def search_terms(term: str) -> list[str]:
    """The words of a search term (lower case, alphanumeric); each is matched as a prefix."""
    return [t for t in _tokens(term) if t][:16]


def select_fields(document: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Keep only the subtrees named by ``fields`` (dotted paths; keys containing dots resolve greedily)."""
    if not fields:
        return dict(document)
    out: dict[str, Any] = {}
    for field in fields:
        _copy_path(document, out, field.split("."))
    return out


def _copy_path(source: Any, target: dict[str, Any], parts: list[str]) -> None:
    if not isinstance(source, Mapping) or not parts:
        return
    for end in range(len(parts), 0, -1):
        key = ".".join(parts[:end])
        if key not in source:
            continue
        rest = parts[end:]
        if not rest:
            target[key] = source[key]
            return
        child = target.setdefault(key, {})
        if isinstance(child, dict):
            _copy_path(source[key], child, rest)
        return


def parse_fields(params: Sequence[str]) -> list[str]:
    """Split repeated, comma-separated ``fields`` parameters; array indexing is refused."""
    fields = [f.strip() for p in params for f in p.split(",") if f.strip()]
    bad = [f for f in fields if "[" in f]
    if bad:
        raise InputError(
            "fields may not index into arrays",
            problems=[Problem(path="fields", message=f"{f!r} uses array indexing") for f in bad],
        )
    return fields


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by the search row ``field`` (lower case), ascending or descending."""

    field: str
    descending: bool = False


def parse_order(params: Sequence[str], *, style: str) -> list[Order]:
    """``order=asc:metadata.name`` (style ``prefix``) or ``orderField=metadata.name,desc`` (``suffix``)."""
    orders: list[Order] = []
    for param in params:
        if style == "prefix":
            direction, colon, field = param.partition(":")
            if not colon:
                direction, field = "asc", param
        else:
            field, _, direction = param.partition(",")
            direction = direction or "asc"
        if direction.lower() not in ("asc", "desc") or not field.strip():
            raise InputError(
                f"order {param!r} is not understood",
                problems=[Problem(path="order", message="write asc:<field> / desc:<field> or <field>,asc|desc")],
            )
        orders.append(Order(field.strip().lower(), descending=direction.lower() == "desc"))
    return orders
