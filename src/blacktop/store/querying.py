"""Translating label and field selectors into SQL conditions on the ``resources`` table.

``kernel.selectors`` defines what each operator means; this module must agree with it exactly (a
hypothesis test compares the two on random label sets). Positive label requirements (``=``, ``in``,
exists) become joins with ``resource_labels``, so the database can start from the few matching
labels (selector index) instead of scanning every object of the kind, or the other way round when
statistics say so; negative ones (``!=``, ``notin``, does-not-exist) become ``NOT EXISTS`` probes
on the label primary key.
"""

from __future__ import annotations

from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, true, tuple_
from sqlalchemy.orm import aliased

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.selectors import LabelSelector, Operator, Requirement

from .paging import Cursor
from .tables import EventRow, ResourceLabelRow, ResourceRow

_POSITIVE = (Operator.EQUALS, Operator.IN)
_NEGATIVE = (Operator.NOT_EQUALS, Operator.NOT_IN)
_Ts = TypeVarTuple("_Ts")


def with_label_selector(stmt: Select[*_Ts], selector: LabelSelector, *, group: str, kind: str) -> Select[*_Ts]:
    """``stmt`` (a select from ``resources``) narrowed to objects of ``group``/``kind`` matching ``selector``.

    Positive requirements join one label row each (``(uid, key)`` is unique, so rows never repeat);
    the planner may start from the most selective label through the selector index, or from the
    objects and probe the label primary key. Negative requirements are ``NOT EXISTS`` probes.
    """
    for req in selector.requirements:
        if req.operator in _POSITIVE or req.operator is Operator.EXISTS:
            label = aliased(ResourceLabelRow)
            on = [label.uid == ResourceRow.uid, label.group == group, label.kind == kind, label.key == req.key]
            if req.operator is not Operator.EXISTS:
                on.append(label.value.in_(req.values))
            stmt = stmt.join(label, and_(*on))
            continue
        probe = select(ResourceLabelRow.uid).where(
            ResourceLabelRow.uid == ResourceRow.uid, ResourceLabelRow.key == req.key
        )
        if req.operator in _NEGATIVE:
            probe = probe.where(ResourceLabelRow.value.in_(req.values))
        stmt = stmt.where(not_(exists(probe)))
    return stmt


def field_condition(req: Requirement) -> ColumnElement[bool]:
    """The SQL condition for one field requirement on ``metadata.name`` or ``metadata.namespace``.

    A cluster-scoped object has no namespace field at all (stored as ''), so ``metadata.namespace=x``
    never matches it and ``metadata.namespace!=x`` always does, as ``FieldSelector.matches`` says.
    """
    present: ColumnElement[bool]
    if req.key == "metadata.name":
        column, present = ResourceRow.name, true()
    elif req.key == "metadata.namespace":
        column, present = ResourceRow.namespace, ResourceRow.namespace != ""
    else:
        return false()
    if req.operator in _POSITIVE:
        return and_(present, column.in_(req.values))
    if req.operator in _NEGATIVE:
        return or_(not_(present), column.not_in(req.values))
    return present if req.operator is Operator.EXISTS else not_(present)


def with_list_query(stmt: Select[*_Ts], query: ListQuery, *, after: Cursor | None) -> Select[*_Ts]:
    """``stmt`` (a select from ``resources``) narrowed to a list's kind, namespace, selectors and page start."""
    stmt = stmt.where(ResourceRow.group == query.group, ResourceRow.kind == query.kind)
    if query.namespace is not None:
        stmt = stmt.where(ResourceRow.namespace == query.namespace)
    stmt = with_label_selector(stmt, query.label_selector, group=query.group, kind=query.kind)
    stmt = stmt.where(*(field_condition(r) for r in query.field_selector.requirements))
    if after is not None:
        stmt = stmt.where(tuple_(ResourceRow.namespace, ResourceRow.name) > tuple_(after.namespace, after.name))
    return stmt


def list_statement(query: ListQuery, *, after: Cursor | None, limit: int | None) -> Select[str, str, Any, int]:
    """Rows of (namespace, name, document, newest revision) for one page of a list.

    Matching keys are sorted and cut to the page first, and documents fetched for those only, so a
    broad selector never drags thousands of documents through the sort. The newest revision rides
    along as a scalar subquery, so the page and its revision come from one statement's snapshot.
    """
    keys = with_list_query(select(ResourceRow.uid, ResourceRow.namespace, ResourceRow.name), query, after=after)
    page = keys.order_by(ResourceRow.namespace, ResourceRow.name).limit(limit).subquery("page")
    revision = select(func.coalesce(func.max(EventRow.revision), 0)).scalar_subquery()
    return (
        select(page.c.namespace, page.c.name, ResourceRow.document, revision)
        .join(ResourceRow, ResourceRow.uid == page.c.uid)
        .order_by(page.c.namespace, page.c.name)
    )
