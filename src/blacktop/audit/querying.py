"""The meaning of an ``AuditQuery``, for in-memory stores and tests; the SQL store translates it to SQL."""

from __future__ import annotations

from collections.abc import Iterable

from blacktop.kernel.ports import AuditQuery, AuditRecord

from . import digests


def matches(query: AuditQuery, record: AuditRecord) -> bool:
    """Whether ``record`` passes every filter of ``query`` (``since`` inclusive, ``until`` exclusive)."""
    if record.seq <= query.after_seq:
        return False
    for wanted, actual in (
        (query.actor, record.actor),
        (query.kind, record.kind),
        (query.namespace, record.namespace),
        (query.name, record.name),
    ):
        if wanted is not None and wanted != actual:
            return False
    when = digests.format_time(record.time)
    if query.since is not None and when < digests.format_time(query.since):
        return False
    return query.until is None or when < digests.format_time(query.until)


def select(records: Iterable[AuditRecord], query: AuditQuery) -> list[AuditRecord]:
    """The records matching ``query``, oldest first, at most ``query.limit``."""
    found = sorted((r for r in records if matches(query, r)), key=lambda r: r.seq)
    return found[: query.limit]
