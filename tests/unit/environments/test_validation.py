"""Schema and policy validation of PreviewEnvironment documents: every problem, each with its field path.

Test design notes: each row names one mistake and the paths it must be reported at. The same
rows run through the kind's admission policy (CEL, as the write pipeline runs it) to show the
policy and the pure rules agree on what the schema cannot express (TTL, unique names).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop import environments, policy
from blacktop.environments import validation
from blacktop.kernel.identity import service_caller

from .conftest import design, preview, storable


@dataclass
class Case:
    document: dict[str, Any]
    want_paths: list[str] = field(default_factory=list)


def _with(document: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    target: Any = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied


CASES = {
    "design-example-storable": Case(storable()),
    "minimal": Case(preview()),
    "design-example-as-written": Case(design()),
    "ttl-in-days": Case(preview(ttl="3d"), ["spec.ttl"]),
    "ttl-words": Case(preview(ttl="three days"), ["spec.ttl"]),
    "ttl-zero": Case(preview(ttl="0s"), ["spec.ttl"]),
    "ttl-too-long": Case(preview(ttl="721h"), ["spec.ttl"]),
    "ttl-a-number": Case(preview(ttl=72), ["spec.ttl"]),
    "cpu-not-a-quantity": Case(preview(resources={"cpu": "two"}), ["spec.resources.cpu"]),
    "memory-not-a-quantity": Case(preview(resources={"memory": "4 GB"}), ["spec.resources.memory"]),
    "cpu-as-integer": Case(preview(resources={"cpu": 2})),
    "unknown-dependency-type": Case(
        preview(dependencies=[{"name": "q", "type": "queue"}]), ["spec.dependencies[0].type"]
    ),
    "dependency-without-name": Case(preview(dependencies=[{"type": "mock"}]), ["spec.dependencies[0].name"]),
    "duplicate-dependency-names": Case(
        preview(dependencies=[{"name": "db", "type": "database"}, {"name": "db", "type": "cache"}]),
        ["spec.dependencies[0].name", "spec.dependencies[1].name"],
    ),
    "commit-not-hex": Case(preview(source={"repository": "a/b", "commit": "HEAD"}), ["spec.source.commit"]),
    "missing-source": Case(_with(preview(), ["spec"], {"ttl": "1h"}), ["spec.source"]),
    "repository-without-owner": Case(
        preview(source={"repository": "svc", "commit": "abcdef1"}), ["spec.source.repository"]
    ),
    "host-not-a-dns-name": Case(preview(ingress={"host": "Not A Host"}), ["spec.ingress.host"]),
    "slack-without-hash": Case(preview(notifications={"slack": "payments"}), ["spec.notifications.slack"]),
    "typo-in-field": Case(preview(ttls="72h"), ["spec"]),
    "every-problem-at-once": Case(
        preview(resources={"cpu": "x", "memory": "y"}, ingress={"host": "-"}),
        ["spec.ingress.host", "spec.resources.cpu", "spec.resources.memory"],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_validation_reports_every_problem_path(case: Case) -> None:
    assert sorted(p.path for p in validation.problems_in(case.document)) == case.want_paths


def test_defaults_fill_ttl_resources_and_notifications() -> None:
    parsed = environments.parse_preview(preview())
    assert parsed.spec.ttl_text == "72h"
    assert (parsed.spec.resources.cpu, parsed.spec.resources.memory) == ("500m", "512Mi")
    assert parsed.spec.notifications == environments.model.Notifications(github_status=False, slack=None)
    assert parsed.spec.ingress is None and parsed.spec.dependencies == ()


def test_the_design_example_parses_into_every_field() -> None:
    parsed = environments.parse_preview(storable())
    spec = parsed.spec
    assert spec.source == environments.model.Source(
        "acme-corp/payment-service", "abc123def", "feature/payment-refactor"
    )
    assert spec.ttl_text == "72h" and spec.resources == environments.model.Resources("2", "4Gi")
    assert [(d.name, d.type, d.fixture, d.version, d.config) for d in spec.dependencies] == [
        ("orders-db", "database", "seed-data-minimal", None, None),
        ("notification-service", "service", None, "latest-stable", None),
        ("stripe-mock", "mock", None, None, "test-mode"),
    ]
    assert spec.ingress == environments.model.Ingress("pr-1234.preview.acme.io", True)
    assert spec.notifications == environments.model.Notifications(True, "#payments-previews")
    assert parsed.pull_request == 1234


POLICY_ROWS = {
    name: case
    for name, case in CASES.items()
    if isinstance(case.document["spec"].get("ttl", ""), str)  # a non-string ttl is the schema's to refuse
    and (any(p.startswith("spec.ttl") for p in case.want_paths) or name in ("duplicate-dependency-names", "minimal"))
}


def _policy_path(path: str) -> str:
    """The policy reports a repeated name on the list itself (CEL cannot say which entry)."""
    return "spec.dependencies" if path.startswith("spec.dependencies") else path


@pytest.mark.parametrize("case", POLICY_ROWS.values(), ids=POLICY_ROWS.keys())
def test_the_admission_policy_agrees_with_the_pure_rules(case: Case) -> None:
    document = case.document
    request = policy.AdmissionRequest(
        operation=policy.Operation.CREATE, group=environments.GROUP, version=environments.VERSION,
        kind=environments.KIND, namespace="team-a", name="pr-7", user=service_caller("test"), object=document,
    )  # fmt: skip
    violations = policy.admit([environments.admission_policy()], request)
    semantic = environments.kinds.spec_problems(document["spec"])
    assert sorted({v.field_path for v in violations}) == sorted({_policy_path(p.path) for p in semantic})
    for violation in violations:
        if violation.field_path == "spec.ttl":
            assert f"'{document['spec']['ttl']}'" in violation.describe(), "the message quotes the bad value"


def test_a_bad_ttl_message_says_how_to_write_one() -> None:
    request = policy.AdmissionRequest(
        operation=policy.Operation.CREATE, group=environments.GROUP, version=environments.VERSION,
        kind=environments.KIND, namespace="team-a", name="pr-7", user=service_caller("test"),
        object=preview(ttl="3d"),
    )  # fmt: skip
    [violation] = policy.admit([environments.admission_policy()], request)
    assert violation.field_path == "spec.ttl"
    assert "'3d' is not a duration; use a Go duration such as 72h" in violation.describe()


def test_the_admission_policy_compiles() -> None:
    compiled = policy.compile_policy(environments.admission_policy())
    assert len(compiled.validations) == 3
