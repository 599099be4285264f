"""XRD ``x-kubernetes-validations`` enforced through ValidatingPolicy admission.

Test design notes: each case states a rule where Kubernetes would evaluate it (``self`` bound to
the schema node), a claim, and whether Kubernetes would admit it. The rule goes through
``load_definition`` → ``policy_for`` → ``blacktop.policy.admit``, i.e. the same path the write
pipeline takes, so the translation (guards for absent optional fields, ``all`` over array items,
``oldSelf`` on update only) is checked by its effect, not by its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from blacktop import policy
from blacktop.kernel.identity import service_caller
from blacktop.resources import definitions, validation


def definition(spec_schema: dict[str, Any]) -> definitions.Definition:
    return definitions.load_definition(
        {
            "apiVersion": "apiextensions.crossplane.io/v1",
            "kind": "CompositeResourceDefinition",
            "metadata": {"name": "xcaches.platform.company.io"},
            "spec": {
                "group": "platform.company.io",
                "names": {"kind": "XCache", "plural": "xcaches"},
                "claimNames": {"kind": "Cache", "plural": "caches"},
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "referenceable": True,
                        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}},
                    }
                ],
            },
        }
    )


def violations(loaded: definitions.Definition, spec: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    def claim(body: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "platform.company.io/v1alpha1", "kind": "Cache",
                "metadata": {"name": "c", "namespace": "team"}, "spec": body}  # fmt: skip

    request = policy.AdmissionRequest(
        operation=policy.Operation.UPDATE if old is not None else policy.Operation.CREATE,
        group="platform.company.io",
        version="v1alpha1",
        kind="Cache",
        namespace="team",
        name="c",
        user=service_caller("test"),
        object=claim(spec),
        old_object=None if old is None else claim(old),
    )
    return [v.message for v in policy.admit(validation.policy_for(loaded), request)]


@dataclass
class Case:
    schema: dict[str, Any]
    spec: dict[str, Any]
    admitted: bool
    old: dict[str, Any] | None = None


SIZE_RULE = {
    "type": "object",
    "x-kubernetes-validations": [{"rule": "self.size in ['small', 'large']", "message": "size is small or large"}],
    "properties": {"size": {"type": "string"}},
}
OPTIONAL_NODE = {
    "type": "object",
    "properties": {
        "limits": {
            "type": "object",
            "x-kubernetes-validations": [{"rule": "self.max >= self.min"}],
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        }
    },
}
ITEMS = {
    "type": "object",
    "properties": {
        "ports": {
            "type": "array",
            "items": {
                "type": "integer",
                "x-kubernetes-validations": [{"rule": "self > 1024", "message": "high ports"}],
            },
        }
    },
}
TRANSITION = {
    "type": "object",
    "properties": {
        "engine": {
            "type": "string",
            "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "engine is immutable"}],
        }
    },
    "required": ["engine"],
}

CASES = {
    "rule-on-spec-admits": Case(SIZE_RULE, {"size": "small"}, True),
    "rule-on-spec-refuses": Case(SIZE_RULE, {"size": "medium"}, False),
    "absent-optional-node-skips-its-rule": Case(OPTIONAL_NODE, {}, True),
    "present-optional-node-is-checked": Case(OPTIONAL_NODE, {"limits": {"min": 3, "max": 1}}, False),
    "every-array-item-is-checked": Case(ITEMS, {"ports": [8080, 80]}, False),
    "array-items-all-valid": Case(ITEMS, {"ports": [8080, 9090]}, True),
    "absent-array-skips": Case(ITEMS, {}, True),
    "transition-rule-ignored-on-create": Case(TRANSITION, {"engine": "redis"}, True),
    "transition-rule-admits-unchanged": Case(TRANSITION, {"engine": "redis"}, True, old={"engine": "redis"}),
    "transition-rule-refuses-change": Case(TRANSITION, {"engine": "valkey"}, False, old={"engine": "redis"}),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rules_are_enforced_where_kubernetes_would_evaluate_them(case: Case) -> None:
    found = violations(definition(case.schema), case.spec, case.old)
    assert (found == []) is case.admitted, found


def test_messages_name_the_field_path() -> None:
    (message,) = violations(definition(ITEMS), {"ports": [1]})
    assert message == "spec.ports: high ports"


def test_definitions_without_rules_need_no_policy() -> None:
    assert validation.policy_for(definition({"type": "object"})) == []


def test_policies_compile_under_the_policy_checker() -> None:
    for schema in (SIZE_RULE, OPTIONAL_NODE, ITEMS, TRANSITION):
        for document in validation.policy_for(definition(schema)):
            policy.validate_policy(document)
