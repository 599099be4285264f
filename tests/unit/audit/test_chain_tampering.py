"""The audit hash chain detects edited, inserted, deleted and reordered records and names the first broken one.

Test design notes: every case starts from the same intact five-record chain (seq 1..5), applies one
tampering to the list, and states which record ``verify`` must name (by seq and position in the
list) and a fragment of the reason. Tampering that recomputes hashes models an attacker who knows
the algorithm; the chain still breaks at the following record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from blacktop import audit
from blacktop.kernel.ports import AuditRecord

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def chain(n: int = 5) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for i in range(n):
        event = audit.AuditEvent(
            time=T0 + timedelta(seconds=i),
            actor="user:alice",
            verb="update" if i else "create",
            group="platform.blacktop.dev",
            kind="Database",
            namespace="orders",
            name="db1",
            outcome=audit.Outcome.ALLOWED,
            code=200,
            request_id=f"req-{i}",
            old={"spec": {"replicas": i}} if i else None,
            new={"spec": {"replicas": i + 1}},
        )
        records.append(audit.build_record(records[-1] if records else None, event))
    return records


def edit(index: int, rehash: bool = False, **changes: object) -> Callable[[list[AuditRecord]], list[AuditRecord]]:
    def apply(records: list[AuditRecord]) -> list[AuditRecord]:
        changed = dataclasses.replace(records[index], **changes)  # type: ignore[arg-type]
        if rehash:
            changed = dataclasses.replace(changed, hash=audit.compute_hash(changed))
        return [*records[:index], changed, *records[index + 1 :]]

    return apply


def delete(*indexes: int) -> Callable[[list[AuditRecord]], list[AuditRecord]]:
    return lambda records: [r for i, r in enumerate(records) if i not in indexes]


def insert_forged(records: list[AuditRecord]) -> list[AuditRecord]:
    """A well-formed record slipped in after seq 2, chained and hashed correctly."""
    forged = audit.build_record(
        records[1],
        audit.AuditEvent(
            time=T0,
            actor="user:mallory",
            verb="delete",
            group="platform.blacktop.dev",
            kind="Database",
            namespace="orders",
            name="db1",
            outcome="allowed",
            code=200,
            request_id="forged",
        ),
    )
    return [*records[:2], forged, *records[2:]]


def insert_copy(records: list[AuditRecord]) -> list[AuditRecord]:
    return [*records[:3], records[2], *records[3:]]


def swap(i: int, j: int) -> Callable[[list[AuditRecord]], list[AuditRecord]]:
    def apply(records: list[AuditRecord]) -> list[AuditRecord]:
        out = list(records)
        out[i], out[j] = out[j], out[i]
        return out

    return apply


@dataclass(frozen=True)
class Case:
    tamper: Callable[[list[AuditRecord]], list[AuditRecord]]
    broken_seq: int | None
    position: int | None
    reason: str


CASES = {
    "intact": Case(lambda r: r, None, None, ""),
    "edit-actor": Case(edit(2, actor="user:mallory"), 3, 2, "the record was edited"),
    "edit-outcome": Case(edit(1, outcome="denied"), 2, 1, "the record was edited"),
    "edit-code": Case(edit(1, code=403), 2, 1, "the record was edited"),
    "edit-new-digest": Case(edit(3, new_digest="0" * 64), 4, 3, "the record was edited"),
    "edit-time-by-a-microsecond": Case(edit(2, time=T0 + timedelta(seconds=2, microseconds=1)), 3, 2, "edited"),
    "edit-namespace-to-none": Case(edit(2, namespace=None), 3, 2, "the record was edited"),
    "edit-prev-hash": Case(edit(2, prev_hash="f" * 64), 3, 2, "the record was edited"),
    "edit-and-rehash": Case(edit(2, rehash=True, actor="user:mallory"), 4, 3, "prev_hash does not match"),
    "edit-the-last-record": Case(edit(4, message="nothing to see"), 5, 4, "the record was edited"),
    "edit-the-first-record": Case(edit(0, request_id="req-x"), 1, 0, "the record was edited"),
    "delete-middle": Case(delete(2), 4, 2, "record 3 is missing"),
    "delete-two-middle": Case(delete(1, 2), 4, 1, "records 2..3 are missing"),
    "delete-first": Case(delete(0), 2, 0, "record 1 is missing"),
    "delete-and-renumber": Case(
        lambda r: [*r[:2], *[dataclasses.replace(x, seq=x.seq - 1) for x in r[3:]]], 3, 2, "edited"
    ),
    "insert-forged-record": Case(insert_forged, 3, 3, "inserted"),
    "insert-duplicate": Case(insert_copy, 3, 3, "inserted"),
    "reorder-neighbours": Case(swap(2, 3), 4, 2, "record 3 is missing"),
    "reorder-first-last": Case(swap(0, 4), 5, 0, "records 1..4 are missing"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_verify_names_first_broken_record(case: Case) -> None:
    report = audit.verify(case.tamper(chain()))
    assert report.ok is (case.broken_seq is None), report.describe()
    assert report.broken_seq == case.broken_seq
    assert report.broken_position == case.position
    assert case.reason in report.problem
    if not report.ok:
        assert report.describe().startswith(f"audit trail broken at record seq {case.broken_seq}: ")
        assert report.checked == case.position


def test_intact_chain_reports_head() -> None:
    records = chain()
    report = audit.verify(records)
    assert report.describe() == f"audit trail intact: 5 record(s) verified; head is seq 5, hash {records[-1].hash}"
    assert audit.verify([]).ok


def test_records_chain_from_genesis() -> None:
    records = chain(2)
    assert records[0].seq == 1
    assert records[0].prev_hash == audit.GENESIS_HASH
    assert records[1].prev_hash == records[0].hash
    assert records[0].old_digest is None
    assert records[1].old_digest == audit.digest({"spec": {"replicas": 1}})


def test_truncated_tail_is_detected_with_an_expected_head() -> None:
    records = chain()
    head = (records[-1].seq, records[-1].hash)
    assert audit.verify(records, expected_head=head).ok
    report = audit.verify(records[:3], expected_head=head)
    assert not report.ok
    assert report.broken_seq == 5
    assert "deleted from the end" in report.problem


def test_rewritten_chain_is_detected_with_an_expected_head() -> None:
    records = chain()
    head = (records[2].seq, records[2].hash)
    rewritten = [records[0], records[1]]
    for original in records[2:]:
        forged = dataclasses.replace(original, actor="user:mallory", prev_hash=rewritten[-1].hash)
        rewritten.append(dataclasses.replace(forged, hash=audit.compute_hash(forged)))
    assert audit.verify(rewritten).ok  # consistent on its own: only an external anchor reveals it
    report = audit.verify(rewritten, expected_head=head)
    assert report.broken_seq == 3
    assert "rewritten" in report.problem


def test_verify_from_a_checkpoint() -> None:
    records = chain()
    assert audit.verify(records[2:], after=records[1]).ok
    report = audit.verify(records[3:], after=records[1])
    assert report.broken_seq == 4
    assert "record 3 is missing" in report.problem


def test_naive_times_hash_as_utc_so_a_database_round_trip_keeps_the_chain() -> None:
    records = chain(3)
    naive = [dataclasses.replace(r, time=r.time.replace(tzinfo=None)) for r in records]
    assert audit.verify(naive).ok


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(200, "allowed"), (201, "allowed"), (401, "denied"), (403, "denied"), (409, "rejected"), (422, "rejected")],
    ids=["ok", "created", "unauthenticated", "forbidden", "conflict", "invalid"],
)
def test_outcome_for_status(code: int, outcome: str) -> None:
    assert audit.outcome_for(code) == outcome
