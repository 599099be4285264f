"""The ``recorder`` role on the real DORA kinds: create records in its own namespace and nothing else.

Test design notes: tenancy names the metrics group itself (it is a lower tier than metrics), so the
first test pins that the names agree and that both real kinds fall in the ``record`` class. The
table then asks the authorizer and the secret store's path policy about one recorder bound in
``payments``; every row is a thing a machine identity with the role must or must not be able to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from blacktop import metrics, secrets, tenancy
from blacktop.kernel import identity
from blacktop.kernel.kinds import KindInfo
from blacktop.secrets import access
from blacktop.secrets import kinds as secret_kinds
from blacktop.tenancy import kinds as tenancy_kinds
from blacktop.tenancy import rbac

RECORDER = identity.Caller("ci-deploy-recorder")
BINDINGS = rbac.compile_bindings(
    role_bindings=[
        {
            "metadata": {"name": "ci", "namespace": "payments"},
            "spec": {"role": "recorder", "subjects": [{"kind": "User", "name": RECORDER.name}]},
        }
    ]
)
DATABASE = KindInfo(group="platform.blacktop.dev", kind="Database", plural="databases", versions=("v1alpha1",))


def test_the_dora_kinds_are_records() -> None:
    assert rbac.METRICS_GROUP == metrics.GROUP
    for kind in metrics.KINDS:
        assert rbac.target_for(kind).resource_class is rbac.ResourceClass.RECORD
    assert "recorder" in tenancy_kinds.NAMESPACE_ROLES


@dataclass(frozen=True)
class Ask:
    verb: str
    kind: KindInfo
    namespace: str | None
    allowed: bool


ASKS = {
    "create-deployment": Ask("create", metrics.DEPLOYMENT, "payments", True),
    "create-incident": Ask("create", metrics.INCIDENT, "payments", True),
    "read-back-a-deployment": Ask("get", metrics.DEPLOYMENT, "payments", True),
    "list-deployments": Ask("list", metrics.DEPLOYMENT, "payments", False),
    "update-deployment": Ask("update", metrics.DEPLOYMENT, "payments", False),
    "delete-deployment": Ask("delete", metrics.DEPLOYMENT, "payments", False),
    "create-deployment-in-another-namespace": Ask("create", metrics.DEPLOYMENT, "search", False),
    "create-deployments-across-namespaces": Ask("create", metrics.DEPLOYMENT, None, False),
    "create-a-workload": Ask("create", DATABASE, "payments", False),
    "read-a-workload": Ask("get", DATABASE, "payments", False),
    "create-a-rolebinding": Ask("create", tenancy_kinds.ROLE_BINDING, "payments", False),
    "read-platform-secrets-kind": Ask("get", secret_kinds.SECRET, "payments", False),
}


@pytest.mark.parametrize("case", ASKS.values(), ids=ASKS.keys())
def test_a_recorder_may_only_record(case: Ask) -> None:
    decision = tenancy.authorize(RECORDER, case.verb, case.kind, case.namespace, BINDINGS)
    assert decision.allowed is case.allowed, decision.message
    if case.allowed:
        assert decision.message.endswith("(role recorder from RoleBinding payments/ci)")


@pytest.mark.parametrize("operation", list(access.SecretOperation), ids=str)
@pytest.mark.parametrize("path", ["secret/payments/webhooks/github", "secret/shared/registry"], ids=["own", "shared"])
def test_a_recorder_reads_no_secret_not_even_its_teams_webhook_secret(
    operation: access.SecretOperation, path: str
) -> None:
    grants = rbac.grants_of(RECORDER, BINDINGS)
    decision = access.decide(RECORDER, operation, secrets.parse_secret_path(path), grants)
    assert not decision.allowed, decision.message
