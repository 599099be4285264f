"""The audit trail: hash-chained, append-only records of every write and every denied request.

Pure: the write pipeline reads the newest record inside its transaction, calls ``build_record``
with an ``AuditEvent`` and appends the result; ``blacktop audit verify`` reads the records oldest
first and calls ``verify``. Records hold digests of redacted objects, never objects. ``access``
says who may read the trail (platform admins), for the API and the portal alike.
"""

from . import access, chaining, digests, querying
from .access import may_read_trail, require_trail_reader
from .chaining import (
    GENESIS_HASH,
    AuditEvent,
    Outcome,
    VerifyReport,
    build_record,
    compute_hash,
    outcome_for,
    verify,
)
from .digests import REDACTED, canonical_json, digest, redact
from .querying import matches, select

__all__ = [
    "GENESIS_HASH",
    "REDACTED",
    "AuditEvent",
    "Outcome",
    "VerifyReport",
    "access",
    "build_record",
    "canonical_json",
    "chaining",
    "compute_hash",
    "digest",
    "digests",
    "matches",
    "may_read_trail",
    "outcome_for",
    "querying",
    "redact",
    "require_trail_reader",
    "select",
    "verify",
]
