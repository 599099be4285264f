"""Planning a TeamNamespace's platform RoleBindings: create, update, delete, refuse to take over.

Test design: each row gives the spec's ``rbac`` and the bindings already stored in the namespace
(owned by this TeamNamespace, by another uid, or by nobody) and names what the planner must do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop.kernel.kinds import validate_object
from blacktop.kernel.resources import ResourceKey
from blacktop.tenancy import teamnamespaces as tns

UID = "uid-payments"
NS = "payments-production"


def owner(rbac: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": NS, "uid": UID, "generation": 1}
    obj = {"apiVersion": tns.kind.API_VERSION, "kind": "TeamNamespace", "metadata": meta,
           "spec": {"team": "payments", "rbac": rbac}}  # fmt: skip
    return validate_object(tns.TEAM_NAMESPACE, obj)


def stored(name: str, role: str, subjects: list[tuple[str, str]], *, uid: str | None = UID) -> dict[str, Any]:
    labels = {"app.kubernetes.io/managed-by": "blacktop", "platform.company.io/team-namespace": NS}
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": labels}
    if uid is not None:
        meta["ownerReferences"] = [
            {"apiVersion": tns.kind.API_VERSION, "kind": "TeamNamespace", "name": NS, "uid": uid}
        ]
    return {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding", "metadata": meta,
            "spec": {"role": role, "subjects": [{"kind": k, "name": n} for k, n in subjects]}}  # fmt: skip


@dataclass(frozen=True)
class Case:
    rbac: dict[str, Any]
    observed: list[dict[str, Any]] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    conflicts: int = 0


DESIGN = {"admins": [{"group": "payments-leads"}], "developers": [{"group": "payments-engineers"}],
          "viewers": [{"group": "payments-stakeholders"}]}  # fmt: skip
IN_SYNC = [stored("team-admins", "admin", [("Group", "payments-leads")]),
           stored("team-developers", "developer", [("Group", "payments-engineers")]),
           stored("team-viewers", "viewer", [("Group", "payments-stakeholders")])]  # fmt: skip

CASES = {
    "first-reconcile-creates-one-per-list": Case(DESIGN, create=["team-admins", "team-developers", "team-viewers"]),
    "in-sync-does-nothing": Case(DESIGN, IN_SYNC),
    "added-user-updates-the-binding": Case(
        {**DESIGN, "admins": [{"group": "payments-leads"}, {"user": "alice"}]}, IN_SYNC, update=["team-admins"]
    ),
    "removed-list-deletes-its-binding": Case(
        {"admins": DESIGN["admins"], "developers": DESIGN["developers"]}, IN_SYNC, delete=["team-viewers"]
    ),
    "emptied-list-deletes-its-binding": Case({**DESIGN, "viewers": []}, IN_SYNC, delete=["team-viewers"]),
    "hand-made-binding-is-left-alone": Case(
        DESIGN, [*IN_SYNC, stored("oncall", "admin", [("User", "olga")], uid=None)]
    ),
    "same-name-not-owned-is-a-conflict": Case(
        DESIGN, [stored("team-admins", "admin", [("User", "mallory")], uid="someone-else")],
        create=["team-developers", "team-viewers"], conflicts=1,
    ),
    "no-rbac-deletes-every-owned-binding": Case(
        {}, IN_SYNC, delete=["team-admins", "team-developers", "team-viewers"]
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_bindings(case: Case) -> None:
    obj = owner(case.rbac)
    changes = tns.reconcile.plan_bindings(tns.parse_team_namespace(obj), obj, case.observed)
    assert [b["metadata"]["name"] for b in changes.create] == case.create
    assert [k.name for k, _ in changes.update] == case.update
    assert [k.name for k in changes.delete] == case.delete
    assert len(changes.conflicts) == case.conflicts
    for binding in changes.create:
        assert binding["metadata"]["ownerReferences"][0]["uid"] == UID
        assert binding["metadata"]["namespace"] == NS


def test_updated_binding_patch_carries_every_subject() -> None:
    rbac = {**DESIGN, "admins": [{"group": "payments-leads"}, {"user": "alice"}]}
    obj = owner(rbac)
    [(key, patch)] = tns.reconcile.plan_bindings(tns.parse_team_namespace(obj), obj, IN_SYNC).update
    assert key == ResourceKey("tenancy.blacktop.dev", "RoleBinding", NS, "team-admins")
    assert patch["spec"] == {"role": "admin", "subjects": [{"kind": "Group", "name": "payments-leads"},
                                                           {"kind": "User", "name": "alice"}]}  # fmt: skip


def test_cleanup_deletes_only_owned_bindings() -> None:
    observed = [*IN_SYNC, stored("oncall", "admin", [("User", "olga")], uid=None)]
    assert [k.name for k in tns.reconcile.plan_cleanup(UID, observed)] == ["team-admins", "team-developers",
                                                                            "team-viewers"]  # fmt: skip


def test_digest_changes_with_content_and_path_only() -> None:
    files = {"a/b.yaml": "x: 1\n", "a/c.yaml": "y: 2\n"}
    assert tns.reconcile.digest(files) == tns.reconcile.digest(dict(reversed(list(files.items()))))
    assert tns.reconcile.digest(files) != tns.reconcile.digest({**files, "a/c.yaml": "y: 3\n"})
    assert tns.reconcile.digest(files) != tns.reconcile.digest({"a/b.yaml": "x: 1\n", "a/d.yaml": "y: 2\n"})
