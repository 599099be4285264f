"""Admission by ValidatingPolicy: which writes a policy matches and what its CEL validations decide.

Test design notes: each case is a set of policies and one write; the expectation is the exact list
of (policy, message) violations and the number of warnings. Policies are built by ``policy()``
with the defaults a stored policy would carry, so each row shows only what it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop import policy as pol
from blacktop.kernel import identity
from blacktop.kernel.kinds import KindRegistry

ALICE = identity.Caller("alice", groups=frozenset({"developers"}))
DBA = identity.Caller("dora", groups=frozenset({"dba"}))


def policy(
    name: str,
    *validations: dict[str, Any],
    kinds: list[str] | None = None,
    groups: list[str] | None = None,
    operations: list[str] | None = None,
    failure: str = "Fail",
    **match: Any,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": groups or ["platform.blacktop.dev"], "kinds": kinds or ["Database"]}
    if operations is not None:
        rule["operations"] = operations
    return {
        "apiVersion": pol.kinds.API_VERSION,
        "kind": "ValidatingPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": failure,
            "matchConstraints": {"resourceRules": [rule], **match},
            "validations": list(validations),
        },
    }


def database(
    name: str = "db1", *, labels: dict[str, str] | None = None, namespace: str = "orders", **spec: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "platform.blacktop.dev/v1alpha1", "kind": "Database", "metadata": meta, "spec": spec}


def write(
    obj: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    op: str = "CREATE",
    user: identity.Caller = ALICE,
    kind: str = "Database",
    group: str = "platform.blacktop.dev",
) -> pol.AdmissionRequest:
    source = obj if obj is not None else old
    assert source is not None
    meta = source["metadata"]
    return pol.AdmissionRequest(
        operation=pol.Operation(op),
        group=group,
        version="v1alpha1",
        kind=kind,
        namespace=meta.get("namespace"),
        name=meta["name"],
        user=user,
        object=obj,
        old_object=old,
    )


REQUIRE_TEAM = policy(
    "require-team-label",
    {
        "expression": "has(object.metadata.labels) && 'team' in object.metadata.labels",
        "message": "every Database needs a team label",
    },
)
NO_PROD_OUTSIDE = policy(
    "production-only-in-prod-namespaces",
    {"expression": "false", "message": "tier: production is only allowed in prod-eu and prod-us"},
    objectSelector={"matchLabels": {"tier": "production"}},
    excludeNamespaces=["prod-eu", "prod-us"],
)
NO_PROD_OUTSIDE_CEL = policy(
    "production-only-in-prod-namespaces-cel",
    {
        "expression": "!has(object.metadata.labels) || !('tier' in object.metadata.labels)"
        " || object.metadata.labels.tier != 'production' || request.namespace.startsWith('prod-')",
        "message": "tier: production is only allowed in prod-* namespaces",
    },
)
ENGINE_IMMUTABLE = policy(
    "engine-immutable",
    {
        "expression": "object.spec.engine == oldObject.spec.engine",
        "messageExpression": "'spec.engine is immutable: was ' + oldObject.spec.engine + ', now ' + object.spec.engine",
        "fieldPath": "spec.engine",
    },
    operations=["UPDATE"],
)
LARGE_NEEDS_DBA = policy(
    "large-needs-dba",
    {
        "expression": "object.spec.size != 'large' || 'dba' in request.user.groups",
        "messageExpression": "request.user.name + ' may not request a large database; ask the dba group'",
        "reason": "Forbidden",
    },
)
PROTECTED_DELETE = policy(
    "protected-delete",
    {
        "expression": "!(has(oldObject.metadata.labels) && 'protected' in oldObject.metadata.labels)",
        "message": "remove the protected label before deleting",
    },
    operations=["DELETE"],
)
MAX_REPLICAS = policy("max-replicas", {"expression": "object.spec.replicas <= 3", "message": "at most 3 replicas"})
MAX_REPLICAS_IGNORE = policy(
    "max-replicas-lenient",
    {"expression": "object.spec.replicas <= 3", "message": "at most 3 replicas"},
    failure="Ignore",
)


@dataclass
class Case:
    policies: list[dict[str, Any]]
    request: pol.AdmissionRequest
    want: list[tuple[str, str]] = field(default_factory=list)
    warnings: int = 0


CASES = {
    "label-required-missing": Case(
        [REQUIRE_TEAM], write(database()), [("require-team-label", "every Database needs a team label")]
    ),
    "label-required-present": Case([REQUIRE_TEAM], write(database(labels={"team": "orders"}))),
    "other-kind-not-matched": Case([REQUIRE_TEAM], write(database(), kind="Queue")),
    "other-group-not-matched": Case([REQUIRE_TEAM], write(database(), group="example.com")),
    "delete-not-matched-by-default": Case([REQUIRE_TEAM], write(None, database(), op="DELETE")),
    "production-outside-prod-refused": Case(
        [NO_PROD_OUTSIDE],
        write(database(labels={"tier": "production"})),
        [("production-only-in-prod-namespaces", "tier: production is only allowed in prod-eu and prod-us")],
    ),
    "production-in-prod-namespace-allowed": Case(
        [NO_PROD_OUTSIDE], write(database(labels={"tier": "production"}, namespace="prod-eu"))
    ),
    "staging-anywhere-allowed": Case([NO_PROD_OUTSIDE], write(database(labels={"tier": "staging"}))),
    "selector-matches-old-object-too": Case(
        [NO_PROD_OUTSIDE],
        write(database(labels={"tier": "staging"}), database(labels={"tier": "production"}), op="UPDATE"),
        [("production-only-in-prod-namespaces", "tier: production is only allowed in prod-eu and prod-us")],
    ),
    "production-cel-refused": Case(
        [NO_PROD_OUTSIDE_CEL],
        write(database(labels={"tier": "production"})),
        [("production-only-in-prod-namespaces-cel", "tier: production is only allowed in prod-* namespaces")],
    ),
    "production-cel-allowed-in-prod": Case(
        [NO_PROD_OUTSIDE_CEL], write(database(labels={"tier": "production"}, namespace="prod-us"))
    ),
    "production-cel-unlabelled-allowed": Case([NO_PROD_OUTSIDE_CEL], write(database())),
    "immutable-field-changed": Case(
        [ENGINE_IMMUTABLE],
        write(database(engine="mysql"), database(engine="postgres"), op="UPDATE"),
        [("engine-immutable", "spec.engine is immutable: was postgres, now mysql")],
    ),
    "immutable-field-kept": Case(
        [ENGINE_IMMUTABLE], write(database(engine="postgres"), database(engine="postgres"), op="UPDATE")
    ),
    "immutability-not-checked-on-create": Case([ENGINE_IMMUTABLE], write(database(engine="mysql"))),
    "user-rule-refuses-non-dba": Case(
        [LARGE_NEEDS_DBA],
        write(database(size="large")),
        [("large-needs-dba", "alice may not request a large database; ask the dba group")],
    ),
    "user-rule-admits-dba": Case([LARGE_NEEDS_DBA], write(database(size="large"), user=DBA)),
    "delete-protected-refused": Case(
        [PROTECTED_DELETE],
        write(None, database(labels={"protected": "yes"}), op="DELETE"),
        [("protected-delete", "remove the protected label before deleting")],
    ),
    "delete-unprotected-allowed": Case([PROTECTED_DELETE], write(None, database(), op="DELETE")),
    "missing-field-fail": Case(
        [MAX_REPLICAS],
        write(database()),
        [
            (
                "max-replicas",
                "could not evaluate spec.validations[0].expression: no such key 'replicas'; guard optional "
                "fields with has(), e.g. has(object.spec.field) (failurePolicy is Fail)",
            )
        ],
    ),
    "missing-field-ignore": Case([MAX_REPLICAS_IGNORE], write(database()), warnings=1),
    "replicas-within-limit": Case([MAX_REPLICAS, MAX_REPLICAS_IGNORE], write(database(replicas=2))),
    "replicas-over-limit-both-policies": Case(
        [MAX_REPLICAS, MAX_REPLICAS_IGNORE],
        write(database(replicas=5)),
        [("max-replicas", "at most 3 replicas"), ("max-replicas-lenient", "at most 3 replicas")],
    ),
    "non-bool-result-fails": Case(
        [policy("non-bool", {"expression": "object.spec.replicas", "message": "x"})],
        write(database(replicas=2)),
        [
            (
                "non-bool",
                "could not evaluate spec.validations[0].expression: returned int 2, not a bool (failurePolicy is Fail)",
            )
        ],
    ),
    "type-error-fails": Case(
        [policy("type-error", {"expression": "object.spec.replicas + 'a' == 'b'", "message": "x"})],
        write(database(replicas=2)),
        [
            (
                "type-error",
                "could not evaluate spec.validations[0].expression: No such overload: the operation is not "
                "defined for the given operand types (failurePolicy is Fail)",
            )
        ],
    ),
    "broken-message-expression-falls-back": Case(
        [policy("fallback", {"expression": "false", "messageExpression": "object.spec.nope", "message": "static"})],
        write(database()),
        [("fallback", "static")],
    ),
    "no-message-names-expression": Case(
        [policy("bare", {"expression": "object.metadata.name != 'db1'"})],
        write(database()),
        [("bare", "failed expression: object.metadata.name != 'db1'")],
    ),
    "every-validation-reports": Case(
        [policy("two", {"expression": "false", "message": "first"}, {"expression": "1 > 2", "message": "second"})],
        write(database()),
        [("two", "first"), ("two", "second")],
    ),
    "extension-functions-available": Case(
        [
            policy(
                "lowercase-owner",
                {
                    "expression": "object.spec.owner.lowerAscii() == object.spec.owner"
                    " && object.spec.owner.contains('-') && object.spec.owner.split('-').size() == 2",
                    "message": "owner must be lowercase team-name",
                },
            )
        ],
        write(database(owner="Orders-Team")),
        [("lowercase-owner", "owner must be lowercase team-name")],
    ),
    "extension-functions-pass": Case(
        [
            policy(
                "lowercase-owner",
                {
                    "expression": "object.spec.owner.lowerAscii() == object.spec.owner"
                    " && object.spec.owner.contains('-') && object.spec.owner.split('-').size() == 2",
                    "message": "owner must be lowercase team-name",
                },
            )
        ],
        write(database(owner="orders-team")),
    ),
    "namespaces-list-limits-scope": Case(
        [policy("only-orders", {"expression": "false", "message": "no"}, namespaces=["payments"])],
        write(database()),
    ),
    "match-expressions": Case(
        [
            policy(
                "expr",
                {"expression": "false", "message": "matched"},
                objectSelector={
                    "matchExpressions": [
                        {"key": "tier", "operator": "NotIn", "values": ["dev"]},
                        {"key": "team", "operator": "Exists"},
                    ]
                },
            )
        ],
        write(database(labels={"tier": "prod", "team": "x"})),
        [("expr", "matched")],
    ),
    "match-expressions-not-matched": Case(
        [
            policy(
                "expr",
                {"expression": "false", "message": "matched"},
                objectSelector={"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]},
            )
        ],
        write(database(labels={"team": "x"})),
    ),
    "request-fields-visible": Case(
        [
            policy(
                "request-shape",
                {
                    "expression": "request.operation == 'CREATE' && request.namespace == 'orders'"
                    " && request.name == 'db1' && request.kind.kind == 'Database' && request.user.ref == 'user:alice'"
                    " && oldObject == null",
                    "message": "request variables are wrong",
                },
            )
        ],
        write(database()),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_admission(case: Case) -> None:
    report = pol.evaluate(case.policies, case.request)
    assert [(v.policy, v.message) for v in report.violations] == case.want
    assert len(report.warnings) == case.warnings
    assert pol.admit(case.policies, case.request) == report.violations


def test_warning_names_policy_and_failure() -> None:
    report = pol.evaluate([MAX_REPLICAS_IGNORE], write(database()))
    assert report.allowed
    assert report.warnings == [
        "ValidatingPolicy 'max-replicas-lenient': could not evaluate spec.validations[0].expression: no such key "
        "'replicas'; guard optional fields with has(), e.g. has(object.spec.field) (ignored: failurePolicy is Ignore)"
    ]


def test_violations_raise_invalid_with_policy_named() -> None:
    request = write(database(engine="mysql"), database(engine="postgres"), op="UPDATE")
    violations = pol.admit([ENGINE_IMMUTABLE, REQUIRE_TEAM], request)
    with pytest.raises(pol.PolicyRejected) as info:
        pol.raise_for_violations(violations, request)
    assert str(info.value) == (
        "UPDATE of Database orders/db1 was refused by 2 admission rules: "
        "ValidatingPolicy 'engine-immutable': spec.engine is immutable: was postgres, now mysql; "
        "ValidatingPolicy 'require-team-label': every Database needs a team label"
    )
    assert [p.path for p in info.value.problems] == ["spec.engine", ""]
    assert info.value.reason == "Invalid"


def test_forbidden_reason_raises_not_allowed() -> None:
    request = write(database(size="large"))
    with pytest.raises(pol.PolicyForbidden, match="was refused by ValidatingPolicy 'large-needs-dba'"):
        pol.raise_for_violations(pol.admit([LARGE_NEEDS_DBA], request), request)


def test_no_violations_raise_nothing() -> None:
    request = write(database(labels={"team": "a"}))
    pol.raise_for_violations(pol.admit([REQUIRE_TEAM], request), request)


def test_stored_policy_that_no_longer_compiles_follows_failure_policy() -> None:
    broken = policy("broken", {"expression": "object.(", "message": "x"})
    lenient = policy("broken-lenient", {"expression": "object.(", "message": "x"}, failure="Ignore")
    report = pol.evaluate([broken, lenient], write(database()))
    assert [v.policy for v in report.violations] == ["broken"]
    assert "fix or delete the policy" in report.violations[0].message
    assert len(report.warnings) == 1


def test_compiled_policies_are_cached_per_spec() -> None:
    first = pol.compile_policy(REQUIRE_TEAM)
    assert pol.compile_policy(REQUIRE_TEAM) is first
    changed = policy("require-team-label", {"expression": "true"})
    assert pol.compile_policy(changed) is not first
    assert pol.evaluate([first], write(database())).violations


def test_policy_kind_registers_with_defaults() -> None:
    registry = KindRegistry()
    registry.register(pol.VALIDATING_POLICY)
    raw = policy("p", {"expression": "true"})
    del raw["spec"]["failurePolicy"]
    stored = registry.validate(raw)
    assert stored["spec"]["failurePolicy"] == "Fail"
    assert stored["spec"]["matchConstraints"]["resourceRules"][0]["operations"] == ["CREATE", "UPDATE"]
    assert stored["spec"]["validations"][0]["reason"] == "Invalid"
