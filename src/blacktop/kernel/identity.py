"""Who is asking: the authenticated caller every request and controller write carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CallerKind(StrEnum):
    """People and automation authenticate alike but are told apart in audit records."""

    USER = "user"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated identity: a user or a controller's service identity, with its groups."""

    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    kind: CallerKind = CallerKind.USER

    @property
    def ref(self) -> str:
        """How audit records and policies name the caller: ``user:alice`` or ``service:catalog``."""
        return f"{self.kind.value}:{self.name}"


SYSTEM_GROUP_ADMINS = "system:platform-admins"
"""Members of this group hold the platform-admin role everywhere."""

SYSTEM_GROUP_AUTHENTICATED = "system:authenticated"
"""Every authenticated caller is a member of this group."""


def service_caller(name: str) -> Caller:
    """The service identity a controller writes with; it is a platform admin."""
    return Caller(
        name=name,
        groups=frozenset({SYSTEM_GROUP_ADMINS, SYSTEM_GROUP_AUTHENTICATED}),
        kind=CallerKind.SERVICE,
    )
