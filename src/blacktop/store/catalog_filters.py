"""How Backstage filters become SQL over the catalog tables: conditions, counts and page walks.

Filters run on the flattened ``catalog_search`` rows (Backstage's design); ``relations.<type>``
conditions run on the relation rows. Everything here builds statements and does no IO: the
repository (``catalog``) runs them, decides between a page walk and materialising the matches, and
keeps results per write generation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, false, func, intersect, not_, select, true, union

from blacktop.catalog import querying, records

from .catalog_tables import entities, relations, search

ENTITY_COLUMNS: Final[Mapping[str, ColumnElement[Any]]] = {
    "metadata.name": entities.c.name, "kind": entities.c.kind, "metadata.namespace": entities.c.namespace,
}  # fmt: skip
"""Search keys every entity has exactly once, lower-cased on the entity row: ordered by the row's column."""
WALK_ROWS: Final = 2000
"""How many entities (in served order) a page walk probes before it gives up and materialises."""

BROAD_KEYS: Final = {
    "kind": 3, "apiversion": 3, "metadata.namespace": 3, "spec.lifecycle": 2, "spec.type": 2, "metadata.tags": 1,
}  # fmt: skip
"""Keys whose values match a large share of the catalog (higher: broader); any other key drives a query."""


def term_condition(term: str, fields: Sequence[str]) -> ColumnElement[bool]:
    """Entities whose name, title or description (or ``fields``) contain ``term``, case-insensitively."""
    lowered = term.strip().lower()
    keys = [f.lower() for f in fields] or ["metadata.name", "metadata.title", "metadata.description"]
    return entities.c.id.in_(
        select(search.c.entity_id).where(search.c.key.in_(keys), search.c.value.contains(lowered, autoescape=True))
    )


def filter_condition(entity_filter: querying.EntityFilter) -> ColumnElement[bool]:
    """The SQL condition on ``catalog_entities`` of a Backstage filter."""
    if entity_filter.nothing:
        return false()
    if entity_filter.is_everything:
        return true()
    if len(entity_filter.alternatives) == 1:
        return alternative(entity_filter.alternatives[0])
    # A UNION of each alternative's ids: PostgreSQL plans an OR of subqueries as a scan of every
    # entity (40-70 ms at 100,000 for two names), the union as one index lookup per alternative.
    return entities.c.id.in_(
        union(*(select(entities.c.id).where(alternative(alt)) for alt in entity_filter.alternatives))
    )


def count_statement(query: records.EntityQuery, condition: ColumnElement[bool]) -> Select[Any]:
    """How many entities match; broad conditions only are counted on their index ranges alone.

    ``count(*) FROM entities WHERE id IN (intersection)`` would look up every matching entity row.
    """
    if len(query.filter.alternatives) == 1 and not query.fulltext and not query.filter.nothing:
        ranges = broad_ranges(query.filter.alternatives[0])
        extra = [o for o in query.order if o.field not in ENTITY_COLUMNS]
        if ranges is not None and not extra:
            return select(func.count()).select_from(intersect(*ranges).subquery())
    return select(func.count()).select_from(entities).where(condition)


def broad_ranges(conditions: Sequence[querying.Condition]) -> list[Select[Any]] | None:
    """The index ranges to intersect when every condition is a plain, broad ``key=value``; else None."""
    driver = pick_driver(conditions)
    plain = [c for c in conditions if c.values is not None and not c.negate and not c.key.startswith("relations.")]
    if driver is None or not BROAD_KEYS.get(driver.key, 0) or len(plain) < 2 or len(plain) != len(conditions):
        return None
    return [select(search.c.entity_id).where(search.c.key == c.key, search.c.value.in_(c.values or ())) for c in plain]


def alternative(conditions: Sequence[querying.Condition]) -> ColumnElement[bool]:
    """AND of conditions: the most selective one as ``IN (index range)``, the rest as indexed ``EXISTS`` probes.

    Materialising every condition's matches (``id IN (...) AND id IN (...)``) reads e.g. all 70,000
    components to find the 30 a team owns; probing per candidate reads 30 index entries instead.
    """
    driver = pick_driver(conditions)
    plain = [c for c in conditions if c.values is not None and not c.negate and not c.key.startswith("relations.")]
    if driver is not None and BROAD_KEYS.get(driver.key, 0) and len(plain) > 1:
        # Only broad conditions: intersecting their index ranges beats probing every match of one of them.
        ranges = [
            select(search.c.entity_id).where(search.c.key == c.key, search.c.value.in_(c.values or ())) for c in plain
        ]
        rest = [matches(c, drive=False) for c in conditions if c not in plain]
        return and_(entities.c.id.in_(intersect(*ranges)), *rest)
    if driver is not None and driver.key == "kind":
        # Only a kind narrows: the entity index answers it without reading search rows.
        parts = [entities.c.kind.in_(driver.values or ()) if c is driver else matches(c, drive=False)
                 for c in conditions]  # fmt: skip
        return and_(*parts)
    parts = [matches(c, drive=c is driver) for c in conditions]
    return and_(*parts)


def is_walkable(query: records.EntityQuery) -> bool:
    """One AND of conditions, no term, ordered by id or entity columns, a page that fits the walk."""
    if query.limit is None or query.fulltext or len(query.filter.alternatives) != 1 or query.filter.nothing:
        return False
    if not query.filter.alternatives[0]:
        return False
    return query.offset + query.limit <= WALK_ROWS and all(o.field in ENTITY_COLUMNS for o in query.order)


def ordered(stmt: Select[Any], orders: Sequence[querying.Order]) -> Select[Any]:
    """``stmt`` ordered by entity columns (``ENTITY_COLUMNS`` fields only), then by id."""
    for order in orders:
        column = ENTITY_COLUMNS[order.field]
        stmt = stmt.order_by(column.desc() if order.descending else column.asc())
    return stmt.order_by(entities.c.id)


def pick_driver(conditions: Sequence[querying.Condition]) -> querying.Condition | None:
    """The condition likely to match fewest entities (least broad key, fewest values), or None."""
    candidates = [c for c in conditions if c.values is not None and not c.negate]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (BROAD_KEYS.get(c.key, 0), len(c.values or ())))


def matches(cond: querying.Condition, *, drive: bool) -> ColumnElement[bool]:
    """One condition: ``id IN (index range)`` when it drives the query, else a per-entity ``EXISTS`` probe."""
    matched: ColumnElement[bool]
    if cond.key.startswith("relations."):
        type_key = cond.key.removeprefix("relations.")
        if drive:
            rel = select(relations.c.source_ref).where(relations.c.type_key == type_key)
            if cond.values is not None:
                rel = rel.where(relations.c.target_ref.in_(cond.values))
            matched = entities.c.ref.in_(rel)
        else:
            probe = select(relations.c.id).where(
                relations.c.source_ref == entities.c.ref, relations.c.type_key == type_key
            )
            if cond.values is not None:
                probe = probe.where(relations.c.target_ref.in_(cond.values))
            matched = probe.exists()
    elif drive:
        rows = select(search.c.entity_id).where(search.c.key == cond.key)
        if cond.values is not None:
            rows = rows.where(search.c.value.in_(cond.values))
        matched = entities.c.id.in_(rows)
    else:
        probe = select(search.c.entity_id).where(search.c.entity_id == entities.c.id, search.c.key == cond.key)
        if cond.values is not None:
            probe = probe.where(search.c.value.in_(cond.values))
        matched = probe.exists()
    return not_(matched) if cond.negate else matched


def has_key(key: str) -> ColumnElement[bool]:
    """The entity has a search row for ``key``."""
    return select(search.c.entity_id).where(search.c.entity_id == entities.c.id, search.c.key == key).exists()
