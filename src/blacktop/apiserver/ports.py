"""What the write pipeline needs from the base domains, as small Protocols.

The composition root adapts ``blacktop.tenancy`` (authorization), ``blacktop.policy`` (admission)
and ``blacktop.audit`` (hash-chained records) to these, so the pipeline can be tested with fakes and
the domains stay unaware of the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from blacktop.kernel.identity import Caller
from blacktop.kernel.kinds import KindInfo
from blacktop.kernel.ports import AuditRecord


class Verb(StrEnum):
    """The verbs RBAC rules and audit records speak of."""

    GET = "get"
    LIST = "list"
    WATCH = "watch"
    CREATE = "create"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"


WRITE_VERBS = frozenset({Verb.CREATE, Verb.UPDATE, Verb.PATCH, Verb.DELETE})


class Authorizer(Protocol):
    """Decides whether a caller may perform a verb on a kind in a namespace."""

    async def authorize(self, caller: Caller, verb: Verb, kind: KindInfo, namespace: str | None) -> None:
        """Return when allowed; raise ``NotAllowedError`` naming verb, kind and namespace when not."""
        ...


class Operation(StrEnum):
    """Admission operations, as Kubernetes admission names them."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class Admission(Protocol):
    """Admission policies run after schema validation and before the store."""

    async def admit(
        self,
        *,
        operation: Operation,
        kind: KindInfo,
        obj: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
        caller: Caller,
    ) -> None:
        """Return when every matching policy passes; raise ``InputError`` naming the policy otherwise."""
        ...


class AuditTrail(Protocol):
    """Builds the next hash-chained audit record; pure, so it runs inside the write transaction."""

    def build(
        self,
        previous: AuditRecord | None,
        *,
        time: datetime,
        caller: Caller,
        verb: str,
        kind: KindInfo | None,
        group: str,
        kind_name: str,
        namespace: str | None,
        name: str | None,
        outcome: str,
        code: int,
        request_id: str,
        message: str,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
    ) -> AuditRecord:
        """The record that follows ``previous``."""
        ...


class WriteListener(Protocol):
    """Told after each committed write, so local watchers and controllers react at once."""

    def __call__(self, obj: Mapping[str, Any]) -> None:
        """Called with each object as committed (its ``metadata.resourceVersion`` is the new revision)."""
        ...
