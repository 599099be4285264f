"""Path-prefix access derived from role grants: who may list, read, write and destroy which path.

Test design: one table of (caller grants, operation, path) → allowed, each row named for its reason,
plus the ExternalSecret namespace rule and the denial message a person acts on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blacktop.kernel.identity import Caller
from blacktop.secrets import access, model
from blacktop.tenancy import Grant

ALICE = Caller(name="alice")


def ns(role: str, namespace: str) -> Grant:
    return Grant(role=role, namespace=namespace, source=f"RoleBinding {namespace}/x")


ADMIN = Grant(role="platform-admin", namespace=None, source="group system:platform-admins")
VIEWER_CLUSTER = Grant(role="viewer", namespace=None, source="ClusterRoleBinding v")
Op = access.SecretOperation


@dataclass(frozen=True)
class Case:
    grants: tuple[Grant, ...]
    operation: access.SecretOperation
    path: str
    allowed: bool


CASES = {
    "developer-reads-own-team": Case((ns("developer", "payments"),), Op.READ, "secret/data/payments/db", True),
    "developer-writes-own-team": Case((ns("developer", "payments"),), Op.WRITE, "payments/db", True),
    "developer-may-not-destroy": Case((ns("developer", "payments"),), Op.DESTROY, "payments/db", False),
    "admin-destroys-own-team": Case((ns("admin", "payments"),), Op.DESTROY, "payments/db", True),
    "developer-not-other-team": Case((ns("developer", "payments"),), Op.READ, "orders/db", False),
    "prefix-is-a-whole-segment": Case((ns("developer", "pay"),), Op.READ, "payments/db", False),
    "viewer-lists": Case((ns("viewer", "payments"),), Op.LIST, "payments/db", True),
    "viewer-never-reads-values": Case((ns("viewer", "payments"),), Op.READ, "payments/db", False),
    "shared-readable-by-any-team": Case((ns("developer", "orders"),), Op.READ, "shared/registry", True),
    "shared-not-writable-by-teams": Case((ns("admin", "orders"),), Op.WRITE, "shared/registry", False),
    "no-grants-nothing": Case((), Op.LIST, "payments/db", False),
    "platform-admin-everything": Case((ADMIN,), Op.DESTROY, "orders/db", True),
    "cluster-viewer-lists-only": Case((VIEWER_CLUSTER,), Op.LIST, "orders/db", True),
    "cluster-viewer-no-values": Case((VIEWER_CLUSTER,), Op.READ, "orders/db", False),
    "synced-targets-by-namespace": Case((ns("developer", "payments"),), Op.READ, "platform/data/payments/app", True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_path_prefix_decisions(case: Case) -> None:
    path = model.parse_secret_path(case.path)
    if case.path.startswith("platform/"):
        path = model.SecretPath(mount="platform", path=case.path.split("/", 2)[2])
    assert access.decide(ALICE, case.operation, path, case.grants).allowed is case.allowed


def test_denial_names_caller_path_team_roles_and_fix() -> None:
    decision = access.decide(ALICE, Op.READ, model.parse_secret_path("orders/db"), (ns("developer", "payments"),))
    assert not decision.allowed
    assert decision.message == (
        "user:alice may not read secret/orders/db: it belongs to team 'orders' and the caller holds developer in "
        "payments; ask an admin of namespace 'orders' for the developer role (viewers list but do not read values)"
    )


NAMESPACE_CASES = {
    "own-team": ("payments", "payments/db", True),
    "shared": ("payments", "shared/registry", True),
    "other-team": ("payments", "orders/db", False),
    "similar-prefix": ("pay", "payments/db", False),
}


@pytest.mark.parametrize(("namespace", "path", "allowed"), NAMESPACE_CASES.values(), ids=NAMESPACE_CASES.keys())
def test_external_secrets_read_only_their_namespace_and_shared(namespace: str, path: str, allowed: bool) -> None:
    assert access.namespace_may_read(namespace, model.parse_secret_path(path)) is allowed
