"""The audit hash chain: building records that commit to their predecessor, and verifying a chain.

Each record's ``hash`` is the SHA-256 of a canonical serialisation of every other field,
including ``prev_hash``, the previous record's hash (``GENESIS_HASH`` for the first). Changing,
inserting, deleting or reordering any record therefore breaks either that record's own hash or
the link from its successor, and ``verify`` names the first record where that happens.

A chain cannot protect its own end: someone who deletes the newest records, or rewrites a record
and recomputes every later hash, leaves a consistent chain. Guard against that by keeping the
head (``VerifyReport.head_seq``/``head_hash``) somewhere else and comparing (``expected_head``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from blacktop.kernel.ports import AuditRecord

from . import digests

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of the first record."""

FORMAT_VERSION: Final = 1
"""Mixed into every hash so a future serialisation change cannot be confused with this one."""


class Outcome(StrEnum):
    """How a request ended: done, refused for who asked (401/403), or refused for what was asked."""

    ALLOWED = "allowed"
    DENIED = "denied"
    REJECTED = "rejected"


def outcome_for(code: int) -> Outcome:
    """The outcome of an HTTP status: 2xx allowed, 401/403 denied, anything else rejected."""
    if 200 <= code < 300:
        return Outcome.ALLOWED
    if code in (401, 403):
        return Outcome.DENIED
    return Outcome.REJECTED


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before it is chained: the input to ``build_record``.

    ``old`` and ``new`` are the objects before and after the write (None when absent); only their
    digests, with ``secret_paths`` redacted, reach the record.
    """

    time: datetime
    actor: str
    verb: str
    group: str
    kind: str
    namespace: str | None
    name: str | None
    outcome: str
    code: int
    request_id: str
    message: str = ""
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    secret_paths: tuple[str, ...] = ()


def _payload(record: AuditRecord) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "seq": record.seq,
        "time": digests.format_time(record.time),
        "actor": record.actor,
        "verb": record.verb,
        "group": record.group,
        "kind": record.kind,
        "namespace": record.namespace,
        "name": record.name,
        "outcome": record.outcome,
        "code": record.code,
        "request_id": record.request_id,
        "message": record.message,
        "old_digest": record.old_digest,
        "new_digest": record.new_digest,
        "prev_hash": record.prev_hash,
    }


def compute_hash(record: AuditRecord) -> str:
    """The hash ``record`` should carry: SHA-256 over every field but ``hash`` itself."""
    return hashlib.sha256(digests.canonical_json(_payload(record))).hexdigest()


def build_record(prev: AuditRecord | None, event: AuditEvent) -> AuditRecord:
    """The record for ``event`` chained after ``prev`` (None for the first record)."""
    draft = AuditRecord(
        seq=prev.seq + 1 if prev is not None else 1,
        time=event.time,
        actor=event.actor,
        verb=event.verb,
        group=event.group,
        kind=event.kind,
        namespace=event.namespace,
        name=event.name,
        outcome=event.outcome,
        code=event.code,
        request_id=event.request_id,
        message=event.message,
        old_digest=digests.digest(event.old, event.secret_paths) if event.old is not None else None,
        new_digest=digests.digest(event.new, event.secret_paths) if event.new is not None else None,
        prev_hash=prev.hash if prev is not None else GENESIS_HASH,
        hash="",
    )
    return dataclasses.replace(draft, hash=compute_hash(draft))


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of ``verify``: either intact, or the first broken record and why."""

    ok: bool
    checked: int
    head_seq: int | None = None
    head_hash: str | None = None
    broken_seq: int | None = None
    broken_position: int | None = None
    problem: str = ""

    def describe(self) -> str:
        """One sentence for ``blacktop audit verify``."""
        if self.ok:
            head = f"; head is seq {self.head_seq}, hash {self.head_hash}" if self.head_seq is not None else ""
            return f"audit trail intact: {self.checked} record(s) verified{head}"
        return f"audit trail broken at record seq {self.broken_seq}: {self.problem}"


def _seq_problem(seq: int, expected: int) -> str:
    if seq > expected:
        missing = f"record {expected} is" if seq == expected + 1 else f"records {expected}..{seq - 1} are"
        return f"expected seq {expected} but found {seq}: {missing} missing (deleted or moved)"
    return f"expected seq {expected} but found {seq}: a record was inserted before it or the records were reordered"


def verify(
    records: Iterable[AuditRecord],
    *,
    after: AuditRecord | None = None,
    expected_head: tuple[int, str] | None = None,
) -> VerifyReport:
    """Check a chain, oldest first; stop at the first broken record.

    ``after`` is a trusted record preceding the first one (to verify from a checkpoint); without
    it the chain must start at seq 1 from ``GENESIS_HASH``. ``expected_head`` is a (seq, hash)
    recorded elsewhere; the chain must contain it, which detects records deleted from the end.
    """
    expected_seq = after.seq + 1 if after is not None else 1
    expected_prev = after.hash if after is not None else GENESIS_HASH
    last: AuditRecord | None = after
    head_seen = False
    checked = 0
    for position, record in enumerate(records):
        problem = _check(record, expected_seq, expected_prev)
        if not problem and expected_head is not None and record.seq == expected_head[0]:
            if record.hash != expected_head[1]:
                problem = f"its hash differs from the expected head hash {expected_head[1]}: the chain was rewritten"
            head_seen = True
        if problem:
            return VerifyReport(
                ok=False, checked=checked, broken_seq=record.seq, broken_position=position, problem=problem
            )
        checked += 1
        expected_seq, expected_prev, last = record.seq + 1, record.hash, record
    if expected_head is not None and not head_seen:
        return VerifyReport(
            ok=False,
            checked=checked,
            broken_seq=expected_head[0],
            problem=f"the chain ends at seq {last.seq if last else 0}, before the expected head: "
            "records were deleted from the end",
        )
    return VerifyReport(
        ok=True,
        checked=checked,
        head_seq=last.seq if last is not None else None,
        head_hash=last.hash if last is not None else None,
    )


def _check(record: AuditRecord, expected_seq: int, expected_prev: str) -> str:
    if compute_hash(record) != record.hash:
        return "its hash does not match its content: the record was edited"
    if record.seq != expected_seq:
        return _seq_problem(record.seq, expected_seq)
    if record.prev_hash != expected_prev:
        return (
            f"its prev_hash does not match the hash of record {record.seq - 1}: "
            "the previous record was edited or replaced, or this record was inserted"
        )
    return ""
