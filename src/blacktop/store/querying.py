"""Translating list queries (kind, namespace, label and field selectors, page) into SQL.

``kernel.selectors`` defines what each operator means; this module must agree with it exactly (a
hypothesis test compares the two on random label sets).

A list is answered in two steps. First the *keys* of the page (uid, namespace, name) are found,
sorted and cut to the page size; then only those objects' documents are read. When the selector
has a positive requirement (``=``, ``in`` or exists), the keys come straight from the label rows,
which carry namespace and name: the selector index ``(group, kind, key, value, namespace, name)``
hands them out already in page order, so even a selector matching half of a million objects returns
its first page after reading one page of index entries. Further positive requirements join one
label row each (``(uid, key)`` is unique, so rows never repeat); negative ones (``!=``, ``notin``,
does-not-exist) are ``NOT EXISTS`` probes on the label primary key. Without a positive requirement
the keys come from the ``resources`` table and its ``(group, kind, namespace, name)`` unique index.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.selectors import Operator, Requirement

from .paging import Cursor
from .tables import EventRow, ResourceLabelRow, ResourceRow

_POSITIVE = (Operator.EQUALS, Operator.IN, Operator.EXISTS)
_NEGATIVE = (Operator.NOT_EQUALS, Operator.NOT_IN)


@dataclass(frozen=True, slots=True)
class _KeyColumns:
    """Where a keys statement reads uid, namespace and name from (a label row or the object row)."""

    uid: InstrumentedAttribute[str]
    namespace: InstrumentedAttribute[str]
    name: InstrumentedAttribute[str]


def _label_match(label: Any, req: Requirement, *, group: str, kind: str) -> list[ColumnElement[bool]]:
    conditions = [label.group == group, label.kind == kind, label.key == req.key]
    if req.operator is not Operator.EXISTS:
        conditions.append(label.value.in_(req.values))
    return conditions


def field_condition(req: Requirement, *, namespace: Any, name: Any) -> ColumnElement[bool]:
    """The SQL condition for one field requirement on ``metadata.name`` or ``metadata.namespace``.

    A cluster-scoped object has no namespace field at all (stored as ''), so ``metadata.namespace=x``
    never matches it and ``metadata.namespace!=x`` always does, as ``FieldSelector.matches`` says.
    """
    present: ColumnElement[bool]
    if req.key == "metadata.name":
        column, present = name, true()
    elif req.key == "metadata.namespace":
        column, present = namespace, namespace != ""
    else:
        return false()
    if req.operator in (Operator.EQUALS, Operator.IN):
        return and_(present, column.in_(req.values))
    if req.operator in _NEGATIVE:
        return or_(not_(present), column.not_in(req.values))
    return present if req.operator is Operator.EXISTS else not_(present)


def keys_statement(query: ListQuery, *, paged: bool) -> tuple[Select[str, str, str], _KeyColumns]:
    """(uid, namespace, name) of every object the list matches, unsorted.

    When ``paged``, only keys after the bind parameters ``after_namespace``/``after_name``.
    """
    group, kind = query.group, query.kind
    requirements = list(query.label_selector.requirements)
    driver = next((r for r in requirements if r.operator in _POSITIVE), None)
    if driver is not None:
        requirements.remove(driver)
        label = aliased(ResourceLabelRow, name="driver")
        cols = _KeyColumns(uid=label.uid, namespace=label.namespace, name=label.name)
        stmt = select(cols.uid, cols.namespace, cols.name).where(*_label_match(label, driver, group=group, kind=kind))
    else:
        cols = _KeyColumns(uid=ResourceRow.uid, namespace=ResourceRow.namespace, name=ResourceRow.name)
        stmt = select(cols.uid, cols.namespace, cols.name).where(ResourceRow.group == group, ResourceRow.kind == kind)
    if query.namespace is not None:
        stmt = stmt.where(cols.namespace == query.namespace)
    for req in requirements:
        if req.operator in _POSITIVE:
            other = aliased(ResourceLabelRow)
            stmt = stmt.join(other, and_(other.uid == cols.uid, *_label_match(other, req, group=group, kind=kind)))
            continue
        probe = select(ResourceLabelRow.uid).where(ResourceLabelRow.uid == cols.uid, ResourceLabelRow.key == req.key)
        if req.operator in _NEGATIVE:
            probe = probe.where(ResourceLabelRow.value.in_(req.values))
        stmt = stmt.where(not_(exists(probe)))
    stmt = stmt.where(
        *(field_condition(r, namespace=cols.namespace, name=cols.name) for r in query.field_selector.requirements)
    )
    if paged:
        after = tuple_(bindparam("after_namespace", type_=String()), bindparam("after_name", type_=String()))
        stmt = stmt.where(tuple_(cols.namespace, cols.name) > after)
    return stmt, cols


def cursor_params(cursor: Cursor | None) -> dict[str, str]:
    """The bind parameters of a paged statement for the page after ``cursor``."""
    return {} if cursor is None else {"after_namespace": cursor.namespace, "after_name": cursor.name}


def statement_key(query: ListQuery) -> ListQuery:
    """``query`` without the parts that are bind parameters or page sizes, for caching statements."""
    return dataclasses.replace(query, continue_token=None, limit=None)


@functools.lru_cache(maxsize=512)
def count_statement(query: ListQuery) -> Select[int]:
    """How many objects the list matches after the cursor in ``cursor_params``; cached per query shape."""
    keys, _ = keys_statement(query, paged=True)
    return select(func.count()).select_from(keys.subquery("matching"))


@functools.lru_cache(maxsize=512)
def list_statement(query: ListQuery, *, paged: bool, limit: int | None) -> Select[str, str, Any, int, int]:
    """Rows of (namespace, name, document, resource_version, newest revision) for one page of a list.

    Keys are sorted and cut to the page first, and documents read for those only, so a broad
    selector never drags thousands of documents through a sort. The newest revision rides along
    as a scalar subquery, so the page and its revision come from one statement's snapshot.
    Built statements are cached per query (keys of ``statement_key``): lists repeat, and building a
    statement costs more CPU than running it.
    """
    keys, cols = keys_statement(query, paged=paged)
    page = keys.order_by(cols.namespace, cols.name).limit(limit).subquery("page")
    revision = select(func.coalesce(func.max(EventRow.revision), 0)).scalar_subquery()
    return (
        select(page.c.namespace, page.c.name, ResourceRow.document, ResourceRow.resource_version, revision)
        .join(ResourceRow, ResourceRow.uid == page.c.uid)
        .order_by(page.c.namespace, page.c.name)
    )
