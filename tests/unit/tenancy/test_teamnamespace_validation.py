"""TeamNamespace validation: every problem reported with its field path, by schema, Python and admission.

Test design: each row mutates the design's example and names the paths that must be reported.
``problems`` runs what the write pipeline runs (schema with defaults, then the admission policy
through ``policy.admit``) and, separately, the controller's ``validation.problems_in``; both must
report the row's paths, so the API and the controller cannot disagree about what is valid.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from tests.corpus import examples_dir

from blacktop import policy
from blacktop.kernel import quantities
from blacktop.kernel.errors import InputError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.kinds import validate_object
from blacktop.tenancy import teamnamespaces as tns

EXAMPLE: dict[str, Any] = yaml.safe_load((examples_dir() / "team-namespace-payments.yaml").read_text())
POLICY = policy.compile_policy(tns.admission.policy_document())
SCHEMA_ONLY = dataclasses.replace(tns.TEAM_NAMESPACE, checks=None)
"""The kind without its semantic checks: what the schema alone says (the checks are tested against it)."""


def example(change: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    if change is not None:
        change(document["spec"])
    return document


def schema_paths(document: dict[str, Any]) -> tuple[list[str], dict[str, Any] | None]:
    try:
        return [], validate_object(SCHEMA_ONLY, document)
    except InputError as exc:
        return sorted(p.path for p in exc.problems), None


def admission_paths(document: dict[str, Any]) -> list[str]:
    request = policy.AdmissionRequest(
        operation=policy.Operation.CREATE, group=tns.kind.GROUP, version=tns.kind.VERSION, kind=tns.kind.KIND,
        namespace=None, name=str(document["metadata"]["name"]), user=service_caller("test"), object=document,
        old_object=None,
    )  # fmt: skip
    violations = policy.admit([POLICY], request)
    assert not any(v.evaluation_error for v in violations), violations
    return sorted(v.field_path for v in violations)


@dataclass(frozen=True)
class Case:
    change: Callable[[dict[str, Any]], object] | None
    schema: list[str] = field(default_factory=list)
    semantic: list[str] = field(default_factory=list)
    name: str = "payments-production"


def _set(*path: str, value: Any) -> Callable[[dict[str, Any]], object]:
    def change(spec: dict[str, Any]) -> None:
        node = spec
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return change


def _delete(key: str) -> Callable[[dict[str, Any]], object]:
    return lambda spec: spec.pop(key)


CASES = {
    "design-example": Case(None),
    "missing-team": Case(_delete("team"), schema=["spec.team"]),
    "team-not-a-label": Case(_set("team", value="Payments Team"), schema=["spec.team"]),
    "unknown-environment": Case(_set("environment", value="prod"), schema=["spec.environment"]),
    "unknown-tier": Case(_set("tier", value="gold"), schema=["spec.tier"]),
    "quota-not-a-quantity": Case(_set("resourceQuotas", "memory", value="64GB"), schema=["spec.resourceQuotas.memory"]),
    "quota-negative-int": Case(_set("resourceQuotas", "pods", value=-1), schema=["spec.resourceQuotas.pods"]),
    "limit-not-a-quantity": Case(
        _set("limitRanges", "maxLimit", "cpu", value="8 cores"), schema=["spec.limitRanges.maxLimit.cpu"]
    ),
    "request-above-limit": Case(
        _set("limitRanges", "defaultRequest", "memory", value="8Gi"),
        semantic=["spec.limitRanges.defaultRequest.memory"],
    ),
    "limit-above-max": Case(
        _set("limitRanges", "defaultLimit", "cpu", value="16"), semantic=["spec.limitRanges.defaultLimit.cpu"]
    ),
    "request-above-max-without-limit": Case(
        _set("limitRanges", "defaultLimit", value={"memory": "4Gi"}),
        semantic=[],
    ),
    "request-above-max-no-limit-in-between": Case(
        lambda s: s["limitRanges"].update(defaultLimit={"memory": "4Gi"}, defaultRequest={"cpu": "9"}),
        semantic=["spec.limitRanges.defaultRequest.cpu"],
    ),
    "equal-values-are-fine": Case(
        _set("limitRanges", "defaultRequest", "cpu", value="2000m"),
    ),
    "both-limits-out-of-order": Case(
        lambda s: s["limitRanges"].update(defaultRequest={"cpu": "3", "memory": "8Gi"}),
        semantic=["spec.limitRanges.defaultRequest.cpu", "spec.limitRanges.defaultRequest.memory"],
    ),
    "subject-with-group-and-user": Case(
        _set("rbac", "admins", value=[{"group": "a", "user": "b"}]), schema=["spec.rbac.admins[0]"]
    ),
    "empty-subject": Case(_set("rbac", "viewers", value=[{}]), schema=["spec.rbac.viewers[0]"]),
    "environment-and-tier-default": Case(lambda s: [s.pop("environment"), s.pop("tier")]),
    "rule-without-direction": Case(_set("networkPolicies", value=[{}]), schema=["spec.networkPolicies[0]"]),
    "name-too-long-for-a-namespace": Case(None, semantic=["metadata.name"], name="a" * 64),
    "name-with-dots": Case(None, semantic=["metadata.name"], name="payments.production"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_pipeline_and_controller_report_the_same_paths(case: Case) -> None:
    document = example(case.change)
    document["metadata"]["name"] = case.name
    schema, defaulted = schema_paths(document)
    assert schema == case.schema
    if defaulted is None:
        return
    assert admission_paths(defaulted) == case.semantic
    assert sorted(p.path for p in tns.validation.problems_in(defaulted)) == case.semantic


CONTROLLER_ONLY = {
    "bad-cidr": (_set("networkPolicies", value=[{"allowEgressTo": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]),
                 ["spec.networkPolicies[0].allowEgressTo[0].ipBlock.cidr"]),
    "cidr-without-prefix": (_set("networkPolicies", value=[{"allowEgressTo": [{"ipBlock": {"cidr": "10.0.0.1"}}]}]),
                            ["spec.networkPolicies[0].allowEgressTo[0].ipBlock.cidr"]),
    "except-outside-cidr": (
        _set("networkPolicies",
             value=[{"allowEgressTo": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}]),
        ["spec.networkPolicies[0].allowEgressTo[0].ipBlock.except[0]"],
    ),
    "ipblock-with-selector": (
        _set("networkPolicies", value=[{"allowIngressFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"},
                                                              "namespaceSelector": {}}]}]),
        ["spec.networkPolicies[0].allowIngressFrom[0].ipBlock"],
    ),
    "bad-label-value": (
        _set("networkPolicies",
             value=[{"allowIngressFrom": [{"namespaceSelector": {"matchLabels": {"team": "a b"}}}]}]),
        ["spec.networkPolicies[0].allowIngressFrom[0].namespaceSelector.matchLabels[team]"],
    ),
    "in-without-values": (
        _set("networkPolicies", value=[{"allowIngressFrom": [{"namespaceSelector": {
            "matchExpressions": [{"key": "team", "operator": "In"}]}}]}]),
        ["spec.networkPolicies[0].allowIngressFrom[0].namespaceSelector.matchExpressions[0].values"],
    ),
    "bad-quota-resource-name": (_set("resourceQuotas", "cpu cores", value="2"), ["spec.resourceQuotas[cpu cores]"]),
}  # fmt: skip


@pytest.mark.parametrize("case", CONTROLLER_ONLY.values(), ids=CONTROLLER_ONLY.keys())
def test_controller_reports_network_and_selector_problems(
    case: tuple[Callable[[dict[str, Any]], object], list[str]],
) -> None:
    change, want = case
    defaulted = validate_object(SCHEMA_ONLY, example(change))
    paths = sorted(p.path for p in tns.validation.problems_in(defaulted))
    assert paths == want
    with pytest.raises(InputError) as refused:  # and the write pipeline refuses it at write time
        validate_object(tns.TEAM_NAMESPACE, example(change))
    assert sorted(p.path for p in refused.value.problems) == want
    with pytest.raises(InputError) as raised:
        tns.parse_team_namespace(defaulted)
    assert len(raised.value.problems) == len(want)


def test_order_messages_name_both_fields_and_values() -> None:
    document = validate_object(SCHEMA_ONLY, example(_set("limitRanges", "defaultRequest", "cpu", value="3")))
    [problem] = tns.validation.problems_in(document)
    assert problem.message.startswith(
        "spec.limitRanges.defaultRequest.cpu (3) exceeds spec.limitRanges.defaultLimit.cpu (2)"
    )
    request = policy.AdmissionRequest(
        operation=policy.Operation.CREATE, group=tns.kind.GROUP, version=tns.kind.VERSION, kind=tns.kind.KIND,
        namespace=None, name="payments-production", user=service_caller("test"), object=document, old_object=None,
    )  # fmt: skip
    [violation] = policy.admit([POLICY], request)
    assert violation.message == problem.message


def test_defaults_fill_environment_tier_and_monitoring() -> None:
    document = example(lambda s: [s.pop("environment"), s.pop("tier"), s.pop("monitoring"), s.pop("rbac")])
    parsed = tns.parse_team_namespace(validate_object(tns.TEAM_NAMESPACE, document))
    assert (parsed.environment, parsed.tier) == ("development", "standard")
    assert parsed.monitoring == tns.model.Monitoring(prometheus=True, cost_allocation=True, team_dashboard=False)
    assert parsed.rbac == {}


def test_kind_exports_as_a_crd_with_the_quantity_pattern() -> None:
    from blacktop.kernel.kinds import to_crd

    crd = to_crd(tns.TEAM_NAMESPACE)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    quota = schema["properties"]["spec"]["properties"]["resourceQuotas"]["additionalProperties"]
    assert crd["spec"]["scope"] == "Cluster" and crd["spec"]["group"] == "platform.company.io"
    assert quota["x-kubernetes-int-or-string"] is True and quota["pattern"] == quantities.QUANTITY_PATTERN


def test_demo_ships_the_design_example_unchanged() -> None:
    from importlib import resources

    demo = yaml.safe_load(resources.files("blacktop.demo").joinpath("15-team-namespace.yaml").read_text())
    assert demo == EXAMPLE
    assert tns.validation.problems_in(validate_object(tns.TEAM_NAMESPACE, demo)) == []


def test_exported_crd_is_a_valid_kubernetes_object() -> None:
    import kubernetes_validate  # type: ignore[import-untyped]

    from blacktop.kernel.kinds import to_crd

    kubernetes_validate.validate(to_crd(tns.TEAM_NAMESPACE), "1.31", strict=True)


def _update(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    request = policy.AdmissionRequest(
        operation=policy.Operation.UPDATE, group=tns.kind.GROUP, version=tns.kind.VERSION, kind=tns.kind.KIND,
        namespace=None, name="payments-production", user=service_caller("test"), object=new, old_object=old,
    )  # fmt: skip
    return sorted(v.field_path for v in policy.admit([POLICY], request))


def test_updates_that_keep_an_invalid_spec_pass_so_status_and_finalizers_can_be_written() -> None:
    invalid = validate_object(SCHEMA_ONLY, example(_set("limitRanges", "defaultRequest", "cpu", value="3")))
    with_status = {**copy.deepcopy(invalid), "status": {"observedGeneration": 1}}
    without_finalizer = copy.deepcopy(invalid)
    without_finalizer["metadata"]["finalizers"] = []
    assert _update(invalid, with_status) == []
    assert _update(invalid, without_finalizer) == []
    for unchanged_spec in (with_status, without_finalizer):  # the kind's own checks let them through too
        validate_object(tns.TEAM_NAMESPACE, unchanged_spec, old=invalid)
    valid = validate_object(tns.TEAM_NAMESPACE, example())
    assert _update(valid, invalid) == ["spec.limitRanges.defaultRequest.cpu"]
