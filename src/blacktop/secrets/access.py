"""Who may do what with which secret path: path-prefix policies derived from role bindings.

Secrets are partitioned by team: the first segment of a path below its mount is the team
(``secret/data/payments/database`` belongs to ``payments``), and a team is a platform namespace.
The policy is data (``TEAM_RULES``) over the roles tenancy already grants, so no second set of
bindings has to be kept in step:

* ``admin`` and ``developer`` in namespace ``N`` read and write ``<mount>/N/…``; ``viewer`` lists
  paths and reads metadata but never values;
* the ``shared/`` prefix is readable by every team member and writable by platform admins only;
* platform admins (cluster ``platform-admin``) manage every path and rotate the KEK;
* an ExternalSecret in namespace ``N`` may read only ``N/…`` and ``shared/…``
  (:func:`namespace_may_read`), whatever identity the controller runs as.

Pure: callers pass the caller's grants (``tenancy.rbac.grants_of``) and get a :class:`Decision`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from blacktop import tenancy
from blacktop.kernel.identity import Caller

from .model import SecretPath

SHARED_TEAM: Final = "shared"
"""Paths below ``shared/`` are readable by every team and by ExternalSecrets in any namespace."""


class SecretOperation(StrEnum):
    """What a request does to a path."""

    LIST = "list"
    """List paths, read metadata and key names; never values."""
    READ = "read"
    """Read values."""
    WRITE = "write"
    """Put, soft-delete, undelete, configure, rotate."""
    DESTROY = "destroy"
    """Destroy versions or delete the whole secret with its history."""


_READ_WRITE: Final = frozenset(SecretOperation)
TEAM_RULES: Final[Mapping[str, frozenset[SecretOperation]]] = {
    "admin": _READ_WRITE,
    "developer": frozenset({SecretOperation.LIST, SecretOperation.READ, SecretOperation.WRITE}),
    "viewer": frozenset({SecretOperation.LIST}),
}
"""What a namespace role allows on its team's prefix."""

SHARED_RULES: Final[Mapping[str, frozenset[SecretOperation]]] = {
    "admin": frozenset({SecretOperation.LIST, SecretOperation.READ}),
    "developer": frozenset({SecretOperation.LIST, SecretOperation.READ}),
    "viewer": frozenset({SecretOperation.LIST}),
}
"""What any namespace role allows on ``shared/``."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer; ``message`` explains it (and names the fix on a denial)."""

    allowed: bool
    message: str


def team_of(path: SecretPath) -> str:
    """The team (namespace) a path belongs to: its first segment below the mount."""
    return path.path.split("/", 1)[0]


def decide(caller: Caller, operation: SecretOperation, path: SecretPath, grants: Sequence[tenancy.Grant]) -> Decision:
    """Whether ``caller`` holding ``grants`` may perform ``operation`` on ``path``."""
    team = team_of(path)
    for grant in grants:
        if grant.namespace is None and grant.role == tenancy.rbac.PLATFORM_ADMIN:
            return Decision(True, f"{caller.ref} may {operation} {path} (platform-admin from {grant.source})")
        if grant.namespace is None and grant.role == "viewer" and operation is SecretOperation.LIST:
            return Decision(True, f"{caller.ref} may list {path} (cluster viewer from {grant.source})")
    rules = SHARED_RULES if team == SHARED_TEAM else TEAM_RULES
    for grant in grants:
        if grant.namespace is None:
            continue
        if (team == SHARED_TEAM or grant.namespace == team) and operation in rules.get(grant.role, frozenset()):
            return Decision(True, f"{caller.ref} may {operation} {path} (role {grant.role} from {grant.source})")
    held = sorted({f"{g.role} in {g.namespace}" for g in grants if g.namespace is not None})
    roles = ", ".join(held) if held else "no namespace role"
    if team == SHARED_TEAM:
        fix = "shared/ secrets are written by platform admins and read by team members"
    else:
        fix = f"ask an admin of namespace {team!r} for the developer role (viewers list but do not read values)"
    return Decision(False, f"{caller.ref} may not {operation} {path}: it belongs to team {team!r} and the caller "
                    f"holds {roles}; {fix}")  # fmt: skip


def namespace_may_read(namespace: str, path: SecretPath) -> bool:
    """Whether an ExternalSecret in ``namespace`` may read ``path`` (its team's prefix or ``shared/``)."""
    return team_of(path) in (namespace, SHARED_TEAM)


def namespace_denial(kind: str, namespace: str, name: str, path: SecretPath) -> str:
    """The message for an ExternalSecret that points at another team's path."""
    return (
        f"{kind} {namespace}/{name} may not read {path.api_path}: it belongs to team {team_of(path)!r}; "
        f"an ExternalSecret in namespace {namespace!r} reads only {path.mount}/data/{namespace}/… and "
        f"{path.mount}/data/{SHARED_TEAM}/…"
    )
