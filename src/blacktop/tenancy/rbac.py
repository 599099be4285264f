"""Role-based access control: who may perform which verb on which kind, in which namespace.

The authorizer is pure. The write pipeline builds a ``Bindings`` snapshot from the stored
RoleBinding, ClusterRoleBinding and Group objects (``compile_bindings``) and asks ``authorize``.
What each role may do is data, in ``RULES``: a table from (grant scope, role) to the verbs allowed
on each resource class. A kind's class follows from its scope and from an ``AccessConfig``:

* ``workload``: a namespaced kind such as a Database or Component;
* ``governance``: a namespaced kind that controls access or admission (RoleBinding, policies),
  which developers may read but not write;
* ``record``: a namespaced kind that records what happened (the DORA ``Deployment`` and
  ``Incident``); teams treat it like a workload, and the ``recorder`` role, meant for machine
  identities such as a CI or webhook token, may create records (and read one back by name, which
  idempotent redelivery needs) and nothing else;
* ``cluster``: a cluster-scoped kind only platform admins and cluster viewers see;
* ``cluster-readable``: a cluster-scoped kind every authenticated caller may read (users, groups,
  policies), so people can see who is who and why a write was refused.

Namespace grants apply only to requests in their namespace; requests across all namespaces and on
cluster-scoped kinds need a cluster grant. Members of ``system:platform-admins`` hold
platform-admin, and every caller holds the implicit ``authenticated`` role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from blacktop.kernel import identity
from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.kinds import KindInfo, Scope

from . import kinds
from .teamnamespaces import kind as teamnamespace_kind


class Verb(StrEnum):
    """What a request does; ``update-status`` writes only the status subresource."""

    GET = "get"
    LIST = "list"
    WATCH = "watch"
    CREATE = "create"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    UPDATE_STATUS = "update-status"


class ResourceClass(StrEnum):
    """How a kind is protected; see the module docstring."""

    WORKLOAD = "workload"
    GOVERNANCE = "governance"
    RECORD = "record"
    CLUSTER = "cluster"
    CLUSTER_READABLE = "cluster-readable"


class GrantScope(StrEnum):
    """Whether a role was granted in one namespace or across the platform."""

    NAMESPACE = "namespace"
    CLUSTER = "cluster"


READ: Final = frozenset({Verb.GET, Verb.LIST, Verb.WATCH})
WRITE: Final = frozenset({Verb.CREATE, Verb.UPDATE, Verb.PATCH, Verb.DELETE})
ALL_VERBS: Final = frozenset(Verb)

PLATFORM_ADMIN: Final = "platform-admin"
AUTHENTICATED: Final = "authenticated"
"""The implicit role of every authenticated caller."""
RECORDER: Final = "recorder"
"""The namespace role of machine identities that only record deployments and incidents."""

RULES: Final[Mapping[tuple[GrantScope, str], Mapping[ResourceClass, frozenset[Verb]]]] = {
    (GrantScope.CLUSTER, PLATFORM_ADMIN): dict.fromkeys(ResourceClass, ALL_VERBS),
    (GrantScope.CLUSTER, "viewer"): dict.fromkeys(ResourceClass, READ),
    (GrantScope.CLUSTER, AUTHENTICATED): {ResourceClass.CLUSTER_READABLE: READ},
    (GrantScope.NAMESPACE, "admin"): {
        ResourceClass.WORKLOAD: ALL_VERBS,
        ResourceClass.RECORD: ALL_VERBS,
        ResourceClass.GOVERNANCE: ALL_VERBS,
    },
    (GrantScope.NAMESPACE, "developer"): {
        ResourceClass.WORKLOAD: READ | WRITE,
        ResourceClass.RECORD: READ | WRITE,
        ResourceClass.GOVERNANCE: READ,
    },
    (GrantScope.NAMESPACE, "viewer"): {
        ResourceClass.WORKLOAD: READ,
        ResourceClass.RECORD: READ,
        ResourceClass.GOVERNANCE: READ,
    },
    (GrantScope.NAMESPACE, RECORDER): {ResourceClass.RECORD: frozenset({Verb.CREATE, Verb.GET})},
}
"""What each role may do: (grant scope, role) → resource class → allowed verbs. Absent means nothing."""

POLICY_GROUP: Final = "policy.blacktop.dev"
METRICS_GROUP: Final = "metrics.blacktop.dev"
"""The DORA records' group (``blacktop.metrics.GROUP``; named here because tenancy is a lower tier)."""


@dataclass(frozen=True, slots=True)
class AccessConfig:
    """Which kinds are governance or record kinds, and which cluster-scoped kinds everyone may read."""

    governance_groups: frozenset[str] = frozenset({kinds.GROUP, POLICY_GROUP})
    governance_kinds: frozenset[tuple[str, str]] = frozenset()
    readable_by_all: frozenset[tuple[str, str]] = frozenset(
        {
            (kinds.GROUP, "User"),
            (kinds.GROUP, "Group"),
            (POLICY_GROUP, "ValidatingPolicy"),
            # A team reads its own namespace's quotas and bindings; they are not secret to other teams.
            (teamnamespace_kind.GROUP, teamnamespace_kind.KIND),
        }
    )
    record_kinds: frozenset[tuple[str, str]] = frozenset({(METRICS_GROUP, "Deployment"), (METRICS_GROUP, "Incident")})

    def with_readable(self, *group_kinds: tuple[str, str]) -> AccessConfig:
        """A copy that also lets every authenticated caller read these cluster-scoped (group, kind)s."""
        return replace(self, readable_by_all=self.readable_by_all | set(group_kinds))


DEFAULT_ACCESS: Final = AccessConfig()


@dataclass(frozen=True, slots=True)
class KindTarget:
    """The kind a request addresses, reduced to what authorization needs."""

    group: str
    kind: str
    scope: Scope
    plural: str = ""
    readable_by_all: bool = False
    governance: bool = False
    record: bool = False

    @property
    def namespaced(self) -> bool:
        """Whether objects of the kind live in a namespace."""
        return self.scope is Scope.NAMESPACED

    @property
    def resource_class(self) -> ResourceClass:
        """The row of ``RULES`` this kind falls under."""
        if self.namespaced:
            if self.governance:
                return ResourceClass.GOVERNANCE
            return ResourceClass.RECORD if self.record else ResourceClass.WORKLOAD
        return ResourceClass.CLUSTER_READABLE if self.readable_by_all else ResourceClass.CLUSTER

    @property
    def display_plural(self) -> str:
        """How messages name the kind: its plural (``databases``)."""
        return self.plural or f"{self.kind.lower()}s"


def target_for(
    kind: KindInfo | KindTarget | tuple[str, str, Scope], *, access: AccessConfig = DEFAULT_ACCESS
) -> KindTarget:
    """Reduce a ``KindInfo`` or a ``(group, kind, scope)`` triple to a ``KindTarget`` using ``access``."""
    if isinstance(kind, KindTarget):
        return kind
    if isinstance(kind, KindInfo):
        group, name, scope, plural = kind.group, kind.kind, kind.scope, kind.plural
    else:
        group, name, scope = kind
        plural = ""
    return KindTarget(
        group=group,
        kind=name,
        scope=scope,
        plural=plural,
        readable_by_all=(group, name) in access.readable_by_all,
        governance=group in access.governance_groups or (group, name) in access.governance_kinds,
        record=(group, name) in access.record_kinds,
    )


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held by a caller: in ``namespace``, or cluster-wide when it is None."""

    role: str
    namespace: str | None
    source: str

    @property
    def scope(self) -> GrantScope:
        """Namespace or cluster."""
        return GrantScope.CLUSTER if self.namespace is None else GrantScope.NAMESPACE


@dataclass(frozen=True, slots=True)
class Bindings:
    """A snapshot of every role grant and group membership, indexed by subject."""

    user_grants: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)
    group_grants: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)
    groups_of_user: Mapping[str, frozenset[str]] = field(default_factory=dict)


def compile_bindings(
    *,
    role_bindings: Iterable[Mapping[str, Any]] = (),
    cluster_role_bindings: Iterable[Mapping[str, Any]] = (),
    groups: Iterable[Mapping[str, Any]] = (),
) -> Bindings:
    """Index stored RoleBinding, ClusterRoleBinding and Group objects (already schema-valid) for ``authorize``."""
    user_grants: dict[str, list[Grant]] = {}
    group_grants: dict[str, list[Grant]] = {}
    sources = [(obj, True) for obj in role_bindings] + [(obj, False) for obj in cluster_role_bindings]
    for obj, namespaced in sources:
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        namespace = meta.get("namespace") if namespaced else None
        if namespaced and not namespace:
            continue
        kind = "RoleBinding" if namespaced else "ClusterRoleBinding"
        where = f"{namespace}/" if namespace else ""
        grant = Grant(role=str(spec.get("role")), namespace=namespace, source=f"{kind} {where}{meta.get('name')}")
        for subject in spec.get("subjects") or []:
            index = user_grants if subject.get("kind") == "User" else group_grants
            index.setdefault(str(subject.get("name")), []).append(grant)
    members: dict[str, set[str]] = {}
    for obj in groups:
        group_name = str((obj.get("metadata") or {}).get("name"))
        for user in (obj.get("spec") or {}).get("members") or []:
            members.setdefault(str(user), set()).add(group_name)
    return Bindings(
        user_grants={k: tuple(v) for k, v in user_grants.items()},
        group_grants={k: tuple(v) for k, v in group_grants.items()},
        groups_of_user={k: frozenset(v) for k, v in members.items()},
    )


def effective_groups(caller: identity.Caller, bindings: Bindings) -> frozenset[str]:
    """The caller's token groups, the Group objects listing it as a member, and ``system:authenticated``."""
    from_objects = (
        bindings.groups_of_user.get(caller.name, frozenset())
        if caller.kind is identity.CallerKind.USER
        else frozenset()
    )
    return caller.groups | from_objects | {identity.SYSTEM_GROUP_AUTHENTICATED}


def grants_of(caller: identity.Caller, bindings: Bindings) -> list[Grant]:
    """Every role the caller holds, directly, through groups, or implicitly."""
    groups = effective_groups(caller, bindings)
    grants: list[Grant] = [Grant(AUTHENTICATED, None, f"group {identity.SYSTEM_GROUP_AUTHENTICATED}")]
    if identity.SYSTEM_GROUP_ADMINS in groups:
        grants.append(Grant(PLATFORM_ADMIN, None, f"group {identity.SYSTEM_GROUP_ADMINS}"))
    if caller.kind is identity.CallerKind.USER:
        grants.extend(bindings.user_grants.get(caller.name, ()))
    for group in sorted(groups):
        grants.extend(bindings.group_grants.get(group, ()))
    return grants


@dataclass(frozen=True, slots=True)
class Decision:
    """The authorizer's answer; ``message`` explains a denial, ``grant`` names what allowed it."""

    allowed: bool
    message: str
    grant: Grant | None = None

    def enforce(self) -> None:
        """Raise ``NotAllowedError`` with the denial message unless allowed."""
        if not self.allowed:
            raise NotAllowedError(self.message)


def _applies(grant: Grant, target: KindTarget, namespace: str | None) -> bool:
    if grant.namespace is None:
        return True
    return target.namespaced and namespace == grant.namespace


def authorize(
    caller: identity.Caller,
    verb: Verb | str,
    kind: KindInfo | KindTarget | tuple[str, str, Scope],
    namespace: str | None,
    bindings: Bindings,
    *,
    access: AccessConfig = DEFAULT_ACCESS,
) -> Decision:
    """Whether ``caller`` may perform ``verb`` on ``kind`` in ``namespace`` (None: cluster-scoped or all namespaces).

    ``namespace`` is ignored for cluster-scoped kinds. Raises ``ValueError`` for an unknown verb.
    """
    wanted = Verb(verb)
    target = target_for(kind, access=access)
    where = namespace if target.namespaced else None
    grants = grants_of(caller, bindings)
    for grant in grants:
        allowed = RULES.get((grant.scope, grant.role), {}).get(target.resource_class, frozenset())
        if wanted in allowed and _applies(grant, target, where):
            return Decision(
                True,
                f"{caller.ref} may {wanted} {target.display_plural} (role {grant.role} from {grant.source})",
                grant,
            )
    return Decision(False, _denial(caller, wanted, target, where, grants))


def _denial(caller: identity.Caller, verb: Verb, target: KindTarget, namespace: str | None, grants: list[Grant]) -> str:
    if not target.namespaced:
        place = "(a cluster-scoped kind)"
    elif namespace is None:
        place = "across all namespaces"
    else:
        place = f"in namespace {namespace}"
    relevant = sorted(
        {
            g.role if g.namespace is not None else f"{g.role} cluster-wide"
            for g in grants
            if g.role != AUTHENTICATED and (g.namespace is None or g.namespace == namespace)
        }
    )
    if not relevant:
        roles = "no role there" if target.namespaced and namespace is not None else "no cluster role"
    else:
        roles = ("role " if len(relevant) == 1 else "roles ") + ", ".join(relevant)
    return f"{caller.ref} may not {verb} {target.display_plural} {place} ({roles})"
