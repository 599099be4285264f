"""AuditQuery semantics for in-memory stores: filters by actor, resource and time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blacktop import audit
from blacktop.kernel.ports import AuditQuery, AuditRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def records() -> list[AuditRecord]:
    rows = [
        ("user:alice", "Database", "orders", "db1"),
        ("user:bob", "Database", "orders", "db2"),
        ("user:alice", "Queue", "payments", "q1"),
        ("service:catalog", "Component", None, None),
    ]
    out: list[AuditRecord] = []
    for i, (actor, kind, ns, name) in enumerate(rows):
        event = audit.AuditEvent(
            time=T0 + timedelta(minutes=i),
            actor=actor,
            verb="create",
            group="g",
            kind=kind,
            namespace=ns,
            name=name,
            outcome="allowed",
            code=201,
            request_id=str(i),
        )
        out.append(audit.build_record(out[-1] if out else None, event))
    return out


CASES = {
    "all": (AuditQuery(), [1, 2, 3, 4]),
    "actor": (AuditQuery(actor="user:alice"), [1, 3]),
    "resource": (AuditQuery(kind="Database", namespace="orders", name="db2"), [2]),
    "since-inclusive": (AuditQuery(since=T0 + timedelta(minutes=2)), [3, 4]),
    "until-exclusive": (AuditQuery(until=T0 + timedelta(minutes=2)), [1, 2]),
    "after-seq-and-limit": (AuditQuery(after_seq=1, limit=2), [2, 3]),
}


@pytest.mark.parametrize(("query", "want"), CASES.values(), ids=CASES.keys())
def test_select(query: AuditQuery, want: list[int]) -> None:
    assert [r.seq for r in audit.select(records(), query)] == want
