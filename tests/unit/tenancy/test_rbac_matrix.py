"""The whole RBAC matrix: role × verb × kind (by scope and class) × namespace (own, other, all/cluster).

Test design notes: the expected decisions are a plain-text table, one row per (role, kind,
namespace position) listing the verbs allowed; every verb not listed must be denied. ``Deployment``
is a DORA record (resource class ``record``): teams treat it like a workload, and the ``recorder``
role (a machine identity's) may only create records and read one back, in its own namespace. Each role is
granted the way a user would grant it (ClusterRoleBinding, RoleBinding to a user, RoleBinding to a
Group object, a token group), so the table also proves that every path to a grant works. The own
namespace is ``team-a``; ``other`` is ``team-b``; ``all`` means no namespace (a list across all
namespaces, or a cluster-scoped kind).
"""

from __future__ import annotations

from typing import Any

import pytest

from blacktop.kernel import identity
from blacktop.kernel.kinds import KindInfo, Scope
from blacktop.tenancy import kinds, rbac

DATABASE = KindInfo(group="platform.blacktop.dev", kind="Database", plural="databases", versions=("v1alpha1",))
DEPLOYMENT = KindInfo(group="metrics.blacktop.dev", kind="Deployment", plural="deployments", versions=("v1alpha1",))
KIND_BY_NAME: dict[str, KindInfo] = {
    "Database": DATABASE,  # workload, namespaced
    "Deployment": DEPLOYMENT,  # record, namespaced
    "RoleBinding": kinds.ROLE_BINDING,  # governance, namespaced
    "User": kinds.USER,  # cluster-scoped, readable by all
    "ClusterRoleBinding": kinds.CLUSTER_ROLE_BINDING,  # cluster-scoped, admins only
}
NAMESPACE_BY_POSITION: dict[str, str | None] = {"own": "team-a", "other": "team-b", "all": None}

VERB_SETS: dict[str, frozenset[str]] = {
    "all": frozenset(rbac.Verb),
    "rw": frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    "read": frozenset({"get", "list", "watch"}),
    "create-get": frozenset({"create", "get"}),
    "-": frozenset(),
}

# role             kind                namespace  allowed
MATRIX = """
platform-admin     Database            own        all
platform-admin     Database            other      all
platform-admin     Database            all        all
platform-admin     Deployment          own        all
platform-admin     Deployment          other      all
platform-admin     Deployment          all        all
platform-admin     RoleBinding         own        all
platform-admin     RoleBinding         other      all
platform-admin     RoleBinding         all        all
platform-admin     User                own        all
platform-admin     User                other      all
platform-admin     User                all        all
platform-admin     ClusterRoleBinding  own        all
platform-admin     ClusterRoleBinding  other      all
platform-admin     ClusterRoleBinding  all        all
system-admin       Database            own        all
system-admin       Database            other      all
system-admin       Database            all        all
system-admin       Deployment          own        all
system-admin       Deployment          other      all
system-admin       Deployment          all        all
system-admin       RoleBinding         own        all
system-admin       RoleBinding         other      all
system-admin       RoleBinding         all        all
system-admin       User                own        all
system-admin       User                other      all
system-admin       User                all        all
system-admin       ClusterRoleBinding  own        all
system-admin       ClusterRoleBinding  other      all
system-admin       ClusterRoleBinding  all        all
cluster-viewer     Database            own        read
cluster-viewer     Database            other      read
cluster-viewer     Database            all        read
cluster-viewer     Deployment          own        read
cluster-viewer     Deployment          other      read
cluster-viewer     Deployment          all        read
cluster-viewer     RoleBinding         own        read
cluster-viewer     RoleBinding         other      read
cluster-viewer     RoleBinding         all        read
cluster-viewer     User                own        read
cluster-viewer     User                other      read
cluster-viewer     User                all        read
cluster-viewer     ClusterRoleBinding  own        read
cluster-viewer     ClusterRoleBinding  other      read
cluster-viewer     ClusterRoleBinding  all        read
admin              Database            own        all
admin              Database            other      -
admin              Database            all        -
admin              Deployment          own        all
admin              Deployment          other      -
admin              Deployment          all        -
admin              RoleBinding         own        all
admin              RoleBinding         other      -
admin              RoleBinding         all        -
admin              User                own        read
admin              User                other      read
admin              User                all        read
admin              ClusterRoleBinding  own        -
admin              ClusterRoleBinding  other      -
admin              ClusterRoleBinding  all        -
developer          Database            own        rw
developer          Database            other      -
developer          Database            all        -
developer          Deployment          own        rw
developer          Deployment          other      -
developer          Deployment          all        -
developer          RoleBinding         own        read
developer          RoleBinding         other      -
developer          RoleBinding         all        -
developer          User                own        read
developer          User                other      read
developer          User                all        read
developer          ClusterRoleBinding  own        -
developer          ClusterRoleBinding  other      -
developer          ClusterRoleBinding  all        -
token-developer    Database            own        rw
token-developer    Database            other      -
token-developer    Database            all        -
token-developer    Deployment          own        rw
token-developer    Deployment          other      -
token-developer    Deployment          all        -
token-developer    RoleBinding         own        read
token-developer    RoleBinding         other      -
token-developer    RoleBinding         all        -
token-developer    User                own        read
token-developer    User                other      read
token-developer    User                all        read
token-developer    ClusterRoleBinding  own        -
token-developer    ClusterRoleBinding  other      -
token-developer    ClusterRoleBinding  all        -
viewer             Database            own        read
viewer             Database            other      -
viewer             Database            all        -
viewer             Deployment          own        read
viewer             Deployment          other      -
viewer             Deployment          all        -
viewer             RoleBinding         own        read
viewer             RoleBinding         other      -
viewer             RoleBinding         all        -
viewer             User                own        read
viewer             User                other      read
viewer             User                all        read
viewer             ClusterRoleBinding  own        -
viewer             ClusterRoleBinding  other      -
viewer             ClusterRoleBinding  all        -
nobody             Database            own        -
nobody             Database            other      -
nobody             Database            all        -
nobody             Deployment          own        -
nobody             Deployment          other      -
nobody             Deployment          all        -
nobody             RoleBinding         own        -
nobody             RoleBinding         other      -
nobody             RoleBinding         all        -
nobody             User                own        read
nobody             User                other      read
nobody             User                all        read
nobody             ClusterRoleBinding  own        -
nobody             ClusterRoleBinding  other      -
nobody             ClusterRoleBinding  all        -
recorder           Database            own        -
recorder           Database            other      -
recorder           Database            all        -
recorder           Deployment          own        create-get
recorder           Deployment          other      -
recorder           Deployment          all        -
recorder           RoleBinding         own        -
recorder           RoleBinding         other      -
recorder           RoleBinding         all        -
recorder           User                own        read
recorder           User                other      read
recorder           User                all        read
recorder           ClusterRoleBinding  own        -
recorder           ClusterRoleBinding  other      -
recorder           ClusterRoleBinding  all        -
"""

CALLERS: dict[str, identity.Caller] = {
    "platform-admin": identity.Caller("pat"),
    "system-admin": identity.service_caller("catalog"),
    "cluster-viewer": identity.Caller("carol"),
    "admin": identity.Caller("ada"),
    "developer": identity.Caller("dev"),
    "token-developer": identity.Caller("tina", groups=frozenset({"ci-bots"})),
    "viewer": identity.Caller("vic"),
    "nobody": identity.Caller("nora"),
    "recorder": identity.Caller("ci-recorder"),
}


def _binding(
    kind: str, name: str, role: str, subjects: list[tuple[str, str]], namespace: str | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": kinds.API_VERSION,
        "kind": kind,
        "metadata": meta,
        "spec": {"role": role, "subjects": [{"kind": k, "name": n} for k, n in subjects]},
    }


BINDINGS = rbac.compile_bindings(
    cluster_role_bindings=[
        _binding("ClusterRoleBinding", "admins", "platform-admin", [("User", "pat")]),
        _binding("ClusterRoleBinding", "auditors", "viewer", [("User", "carol")]),
    ],
    role_bindings=[
        _binding("RoleBinding", "owners", "admin", [("User", "ada")], "team-a"),
        _binding("RoleBinding", "devs", "developer", [("Group", "team-a-devs"), ("Group", "ci-bots")], "team-a"),
        _binding("RoleBinding", "watchers", "viewer", [("User", "vic")], "team-a"),
        _binding("RoleBinding", "recorders", "recorder", [("User", "ci-recorder")], "team-a"),
        # Bindings elsewhere must not leak into team-a or team-b decisions for others.
        _binding("RoleBinding", "elsewhere", "admin", [("User", "nora")], "team-c"),
    ],
    groups=[{"metadata": {"name": "team-a-devs"}, "spec": {"members": ["dev"]}}],
)


def _rows() -> list[Any]:
    params = []
    for line in MATRIX.strip().splitlines():
        role, kind, position, allowed = line.split()
        for verb in rbac.Verb:
            want = verb in VERB_SETS[allowed]
            params.append(pytest.param(role, kind, position, verb, want, id=f"{role}-{kind}-{position}-{verb}"))
    return params


def test_matrix_covers_every_combination() -> None:
    seen = {tuple(line.split()[:3]) for line in MATRIX.strip().splitlines()}
    expected = {(r, k, p) for r in CALLERS for k in KIND_BY_NAME for p in NAMESPACE_BY_POSITION}
    assert seen == expected
    assert len(MATRIX.strip().splitlines()) == len(expected)


@pytest.mark.parametrize(("role", "kind", "position", "verb", "want"), _rows())
def test_rbac_matrix(role: str, kind: str, position: str, verb: rbac.Verb, want: bool) -> None:
    decision = rbac.authorize(CALLERS[role], verb, KIND_BY_NAME[kind], NAMESPACE_BY_POSITION[position], BINDINGS)
    assert decision.allowed is want, decision.message
    if not want:
        assert decision.message.startswith(f"{CALLERS[role].ref} may not {verb} {KIND_BY_NAME[kind].plural}")


def test_group_kind_triple_is_accepted_like_kind_info() -> None:
    by_info = rbac.authorize(CALLERS["developer"], "create", DATABASE, "team-a", BINDINGS)
    by_triple = rbac.authorize(
        CALLERS["developer"], "create", ("platform.blacktop.dev", "Database", Scope.NAMESPACED), "team-a", BINDINGS
    )
    assert by_info.allowed
    assert by_triple.allowed
