"""RBAC behaviour beyond the matrix: denial messages, group resolution, access configuration."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blacktop.kernel import identity
from blacktop.kernel.errors import NotAllowedError
from blacktop.kernel.kinds import KindInfo, Scope
from blacktop.tenancy import kinds, rbac

DATABASE = KindInfo(group="platform.blacktop.dev", kind="Database", plural="databases", versions=("v1alpha1",))
ENVIRONMENT = KindInfo(
    group="platform.blacktop.dev", kind="Environment", plural="environments", versions=("v1",), scope=Scope.CLUSTER
)
ALICE = identity.Caller("alice")


def _rb(ns: str, role: str, *subjects: tuple[str, str]) -> dict[str, object]:
    return {
        "metadata": {"name": f"{role}-binding", "namespace": ns},
        "spec": {"role": role, "subjects": [{"kind": k, "name": n} for k, n in subjects]},
    }


@dataclass(frozen=True)
class MessageCase:
    caller: identity.Caller
    verb: str
    kind: KindInfo
    namespace: str | None
    bindings: rbac.Bindings
    want: str


MESSAGES = {
    "viewer-delete": MessageCase(
        ALICE,
        "delete",
        DATABASE,
        "orders-team",
        rbac.compile_bindings(role_bindings=[_rb("orders-team", "viewer", ("User", "alice"))]),
        "user:alice may not delete databases in namespace orders-team (role viewer)",
    ),
    "no-role-there": MessageCase(
        ALICE,
        "get",
        DATABASE,
        "payments",
        rbac.compile_bindings(role_bindings=[_rb("orders-team", "admin", ("User", "alice"))]),
        "user:alice may not get databases in namespace payments (no role there)",
    ),
    "across-namespaces": MessageCase(
        ALICE,
        "list",
        DATABASE,
        None,
        rbac.compile_bindings(role_bindings=[_rb("orders-team", "admin", ("User", "alice"))]),
        "user:alice may not list databases across all namespaces (no cluster role)",
    ),
    "cluster-kind-write": MessageCase(
        ALICE,
        "create",
        ENVIRONMENT,
        None,
        rbac.compile_bindings(),
        "user:alice may not create environments (a cluster-scoped kind) (no cluster role)",
    ),
    "developer-rolebinding": MessageCase(
        ALICE,
        "create",
        kinds.ROLE_BINDING,
        "orders-team",
        rbac.compile_bindings(role_bindings=[_rb("orders-team", "developer", ("User", "alice"))]),
        "user:alice may not create rolebindings in namespace orders-team (role developer)",
    ),
}


@pytest.mark.parametrize("case", MESSAGES.values(), ids=MESSAGES.keys())
def test_denial_names_caller_verb_kind_namespace_and_roles(case: MessageCase) -> None:
    decision = rbac.authorize(case.caller, case.verb, case.kind, case.namespace, case.bindings)
    assert not decision.allowed
    assert decision.message == case.want
    with pytest.raises(NotAllowedError, match="may not"):
        decision.enforce()


def test_allowed_decision_names_the_grant() -> None:
    bindings = rbac.compile_bindings(role_bindings=[_rb("orders-team", "developer", ("User", "alice"))])
    decision = rbac.authorize(ALICE, "create", DATABASE, "orders-team", bindings)
    assert decision.allowed
    assert decision.grant == rbac.Grant("developer", "orders-team", "RoleBinding orders-team/developer-binding")
    decision.enforce()


def test_effective_groups_merge_token_groups_group_objects_and_authenticated() -> None:
    bindings = rbac.compile_bindings(groups=[{"metadata": {"name": "dba"}, "spec": {"members": ["alice", "bob"]}}])
    caller = identity.Caller("alice", groups=frozenset({"oncall"}))
    assert rbac.effective_groups(caller, bindings) == {"oncall", "dba", identity.SYSTEM_GROUP_AUTHENTICATED}


def test_group_objects_do_not_grant_to_service_callers_of_the_same_name() -> None:
    bindings = rbac.compile_bindings(
        groups=[{"metadata": {"name": "dba"}, "spec": {"members": ["alice"]}}],
        role_bindings=[_rb("orders-team", "admin", ("Group", "dba"), ("User", "alice"))],
    )
    service = identity.Caller("alice", kind=identity.CallerKind.SERVICE)
    assert not rbac.authorize(service, "get", DATABASE, "orders-team", bindings).allowed


def test_readable_by_all_is_a_per_kind_flag() -> None:
    empty = rbac.compile_bindings()
    assert not rbac.authorize(ALICE, "get", ENVIRONMENT, None, empty).allowed
    access = rbac.DEFAULT_ACCESS.with_readable(("platform.blacktop.dev", "Environment"))
    assert rbac.authorize(ALICE, "get", ENVIRONMENT, None, empty, access=access).allowed
    assert not rbac.authorize(ALICE, "delete", ENVIRONMENT, None, empty, access=access).allowed


def test_namespaced_policy_kinds_are_governance() -> None:
    policy_kind = KindInfo(
        group="policy.blacktop.dev", kind="NamespacePolicy", plural="namespacepolicies", versions=("v1",)
    )
    bindings = rbac.compile_bindings(role_bindings=[_rb("orders-team", "developer", ("User", "alice"))])
    assert rbac.authorize(ALICE, "get", policy_kind, "orders-team", bindings).allowed
    assert not rbac.authorize(ALICE, "create", policy_kind, "orders-team", bindings).allowed


def test_unknown_verb_is_refused() -> None:
    with pytest.raises(ValueError, match="escalate"):
        rbac.authorize(ALICE, "escalate", DATABASE, "orders-team", rbac.compile_bindings())


def test_tenancy_kinds_register_and_validate() -> None:
    from blacktop.kernel.kinds import KindRegistry

    registry = KindRegistry()
    for kind_info in kinds.KINDS:
        registry.register(kind_info)
    good = {
        "apiVersion": kinds.API_VERSION,
        "kind": "RoleBinding",
        "metadata": {"name": "devs", "namespace": "team-a"},
        "spec": {"role": "developer", "subjects": [{"kind": "Group", "name": "devs"}]},
    }
    assert registry.validate(good)["spec"]["role"] == "developer"
    bad = {**good, "spec": {"role": "platform-admin", "subjects": []}}
    from blacktop.kernel.errors import InputError

    with pytest.raises(InputError) as info:
        registry.validate(bad)
    assert [p.path for p in info.value.problems] == ["spec.role", "spec.subjects"]
    group = registry.validate(
        {"apiVersion": kinds.API_VERSION, "kind": "Group", "metadata": {"name": "devs"}, "spec": {}}
    )
    assert group["spec"]["members"] == []


def _closed_objects(node: object, path: str = "") -> list[str]:
    if isinstance(node, dict):
        here = [path] if "properties" in node and "additionalProperties" in node else []
        return here + [p for k, v in node.items() for p in _closed_objects(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _closed_objects(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("info", kinds.KINDS, ids=[k.kind for k in kinds.KINDS])
def test_tenancy_kinds_export_as_structural_crds(info: KindInfo) -> None:
    from blacktop.kernel.kinds import to_crd

    crd = to_crd(info)
    assert crd["spec"]["group"] == "tenancy.blacktop.dev"
    assert _closed_objects(crd) == []
