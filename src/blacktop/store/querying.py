"""Translating label and field selectors into SQL conditions on the ``resources`` table.

``kernel.selectors`` defines what each operator means; this module must agree with it exactly (a
hypothesis test compares the two on random label sets). Positive label requirements (``=``, ``in``,
exists) become ``uid IN (…)`` over the selector index of ``resource_labels``, so the database can
start from the few matching labels instead of scanning every object of the kind; negative ones
(``!=``, ``notin``, does-not-exist) become ``NOT EXISTS`` probes on the label primary key.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true, tuple_

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.selectors import FieldSelector, LabelSelector, Operator, Requirement

from .paging import Cursor
from .tables import ResourceLabelRow, ResourceRow

_POSITIVE = (Operator.EQUALS, Operator.IN)
_NEGATIVE = (Operator.NOT_EQUALS, Operator.NOT_IN)


def label_condition(req: Requirement, *, group: str, kind: str) -> ColumnElement[bool]:
    """The SQL condition for one label requirement on objects of ``group``/``kind``."""
    labels = ResourceLabelRow
    if req.operator in _POSITIVE or req.operator is Operator.EXISTS:
        matching = select(labels.uid).where(labels.group == group, labels.kind == kind, labels.key == req.key)
        if req.operator is not Operator.EXISTS:
            matching = matching.where(labels.value.in_(req.values))
        return ResourceRow.uid.in_(matching)
    probe = select(labels.uid).where(labels.uid == ResourceRow.uid, labels.key == req.key)
    if req.operator in _NEGATIVE:
        probe = probe.where(labels.value.in_(req.values))
    return not_(exists(probe))


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


def selector_conditions(
    label_selector: LabelSelector, field_selector: FieldSelector, *, group: str, kind: str
) -> list[ColumnElement[bool]]:
    """Every condition a list with these selectors adds to the kind's rows."""
    conditions = [label_condition(r, group=group, kind=kind) for r in label_selector.requirements]
    conditions.extend(field_condition(r) for r in field_selector.requirements)
    return conditions


def list_conditions(query: ListQuery, *, after: Cursor | None) -> Sequence[ColumnElement[bool]]:
    """All WHERE conditions of a list: kind, namespace, selectors and the page's start key."""
    conditions: list[ColumnElement[bool]] = [ResourceRow.group == query.group, ResourceRow.kind == query.kind]
    if query.namespace is not None:
        conditions.append(ResourceRow.namespace == query.namespace)
    conditions.extend(
        selector_conditions(query.label_selector, query.field_selector, group=query.group, kind=query.kind)
    )
    if after is not None:
        conditions.append(tuple_(ResourceRow.namespace, ResourceRow.name) > tuple_(after.namespace, after.name))
    return conditions
