"""A ValidatingPolicy is checked when written: bad CEL and bad selectors are reported with their paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from blacktop import policy as pol
from blacktop.kernel.errors import InputError


def spec(*validations: dict[str, Any], **match: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"kinds": ["*"]}], **match},
            "validations": list(validations),
        },
    }


@dataclass(frozen=True)
class Case:
    policy: dict[str, Any]
    want: list[tuple[str, str]]


CASES = {
    "syntax-error": Case(
        spec({"expression": "object.spec.x > "}),
        [("spec.validations[0].expression", "does not compile: Syntax error: mismatched input")],
    ),
    "unknown-variable": Case(
        spec({"expression": "obj.spec.x == 1"}),
        [("spec.validations[0].expression", "uses unknown variable(s) obj; expressions may read object")],
    ),
    "unknown-function": Case(
        spec({"expression": "frobnicate(object)"}),
        [("spec.validations[0].expression", "calls unknown function(s) frobnicate")],
    ),
    "macro-variables-are-bound": Case(
        spec({"expression": "object.spec.ports.all(p, p.number > 0) && request.user.groups.exists(g, g == 'a')"}),
        [],
    ),
    "message-expression-error": Case(
        spec({"expression": "true", "messageExpression": "'a' +"}),
        [("spec.validations[0].messageExpression", "does not compile")],
    ),
    "every-problem-at-once": Case(
        spec(
            {"expression": "true"},
            {"expression": "(("},
            {"expression": "oops == 1"},
            objectSelector={
                "matchExpressions": [
                    {"key": "a", "operator": "In"},
                    {"key": "b", "operator": "Exists", "values": ["x"]},
                ]
            },
        ),
        [
            ("spec.matchConstraints.objectSelector.matchExpressions[0].values", "In needs at least one value"),
            ("spec.matchConstraints.objectSelector.matchExpressions[1].values", "Exists takes no values"),
            ("spec.validations[1].expression", "does not compile"),
            ("spec.validations[2].expression", "uses unknown variable(s) oops"),
        ],
    ),
    "no-validations": Case(
        {"metadata": {"name": "p"}, "spec": {"matchConstraints": {"resourceRules": [{"kinds": ["*"]}]}}},
        [("spec.validations", "list at least one validation")],
    ),
    "no-rules": Case(
        {"metadata": {"name": "p"}, "spec": {"validations": [{"expression": "true"}]}},
        [("spec.matchConstraints.resourceRules", "list at least one resource rule")],
    ),
    "valid": Case(spec({"expression": "has(object.spec) && object.spec.size() > 0", "message": "m"}), []),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_policy_problems_are_reported_with_paths(case: Case) -> None:
    if not case.want:
        pol.validate_policy(case.policy)
        return
    with pytest.raises(InputError) as info:
        pol.validate_policy(case.policy)
    got = sorted((p.path, p.message) for p in info.value.problems)
    assert [path for path, _ in got] == [path for path, _ in case.want]
    for (_, message), (_, fragment) in zip(got, case.want, strict=True):
        assert fragment in message
    assert str(info.value).startswith("ValidatingPolicy p is invalid")


def test_compile_error_message_points_at_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        pol.validate_policy(spec({"expression": "object.spec.x > "}))
    assert info.value.problems[0].message.endswith("(line 1, column 17)")


def test_policy_kind_exports_as_structural_crd() -> None:
    from blacktop.kernel.kinds import to_crd

    def closed(node: object) -> bool:
        if isinstance(node, dict):
            return ("properties" in node and "additionalProperties" in node) or any(closed(v) for v in node.values())
        return isinstance(node, list) and any(closed(v) for v in node)

    crd = to_crd(pol.VALIDATING_POLICY)
    assert crd["spec"]["scope"] == "Cluster"
    assert not closed(crd)
