"""Every corpus template loads, accepts a valid sample of values and rejects an invalid one field by field.

Test design notes: the samples are written by hand from each template's parameter pages (they are
test data, not derived from the schemas). The invalid sample of each template breaks several fields
in different ways (missing, wrong type, outside an enum, bad pattern/format, nested objects, array
items) and the expected list names every offending field path, so a validator that stops at the
first error or loses the nesting fails. Hidden ``when`` pages are exercised in their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from blacktop.scaffolder import InvalidParameters, TemplateRenderer, parse_template_yaml, validate_values
from blacktop.scaffolder.parameters import problems_in

from .conftest import TEMPLATES_ROOT, corpus_template, design_template

SAMPLE = "backstage/plugins/scaffolder-backend/sample-templates"
SOFTWARE = "software-templates/scaffolder-templates"
REPO = "github.com?owner=acme&repo=svc"


@dataclass(frozen=True)
class Case:
    path: Path
    valid: dict[str, Any]
    invalid: dict[str, Any]
    invalid_paths: list[str] = field(default_factory=list)


CASES = {
    "accordion-demo": Case(
        corpus_template(f"{SAMPLE}/accordion-demo/template.yaml"),
        valid={"serviceName": "svc", "advanced_section": {"replicas": 2, "memoryLimit": "256Mi"}},
        invalid={"advanced_section": {"replicas": "two", "nested_section": {"ingressEnabled": "yes"}}},
        invalid_paths=[
            "advanced_section.memoryLimit",
            "advanced_section.nested_section.ingressEnabled",
            "advanced_section.nested_section.port",
            "advanced_section.replicas",
            "serviceName",
        ],
    ),
    "bui-kitchen-sink-demo": Case(
        corpus_template(f"{SAMPLE}/bui-kitchen-sink-demo/template.yaml"),
        valid={
            "name": "Ada",
            "email": "ada@example.com",
            "website": "https://example.com",
            "features": ["logging", "tracing"],
            "startDate": "2026-11-26",
            "startDateTime": "2026-11-26T10:00:00Z",
            "owner": {"displayName": "Ada"},
            "contacts": [{"name": "Bob", "role": "PM", "primary": True}],
            "consent": True,
        },
        invalid={
            "email": "not-an-email",
            "website": "not a url",
            "replicas": 11,
            "confidence": -1,
            "environment": "qa",
            "features": ["logging", "logging"],
            "startDate": "2026-13-45",
            "owner": {},
            "contacts": [{"role": "CEO"}],
        },
        invalid_paths=[
            "confidence",
            "contacts[0].name",
            "contacts[0].role",
            "email",
            "environment",
            "features",
            "name",
            "owner.displayName",
            "replicas",
            "startDate",
            "website",
        ],
    ),
    "conditional-output-demo": Case(
        corpus_template(f"{SAMPLE}/conditional-output-demo/template.yaml"),
        valid={"name": "svc", "enableCI": "No"},
        invalid={"enableCI": "Maybe", "showDetails": "yes"},
        invalid_paths=["enableCI", "name", "showDetails"],
    ),
    "conditional-parameters-demo": Case(
        corpus_template(f"{SAMPLE}/conditional-parameters-demo/template.yaml"),
        valid={"name": "svc", "cloudProvider": "AWS", "awsRegion": "eu-west-1"},
        invalid={
            "name": "svc",
            "cloudProvider": "AWS",
            "awsRegion": "mars-1",
            "enableMonitoring": True,
            "alertEmail": "nope",
            "alertThreshold": 10,
        },
        invalid_paths=["alertEmail", "alertThreshold", "awsRegion"],
    ),
    "longrunning-wait-action": Case(
        corpus_template(f"{SAMPLE}/longrunning-demo/wait-action.yaml"),
        valid={},
        invalid={"name": 5},
        invalid_paths=["name"],
    ),
    "notifications-demo": Case(
        corpus_template(f"{SAMPLE}/notifications-demo/template.yaml"),
        valid={"title": "Deploy done", "entityRefs": ["component:default/svc"]},
        invalid={"recipients": "everyone", "severity": "urgent", "entityRefs": "component:default/svc"},
        invalid_paths=["entityRefs", "recipients", "severity", "title"],
    ),
    "create-app-example": Case(
        corpus_template("create-app/templates/default-app/examples/template/template.yaml"),
        valid={"name": "svc", "repoUrl": REPO},
        invalid={"name": ["svc"]},
        invalid_paths=["name", "repoUrl"],
    ),
    "demo-template": Case(
        corpus_template("demo/demo-template/template/template.yaml"),
        valid={"name": "Ada", "mode": "dark", "topics": ["input-examples"], "repoUrl": REPO},
        invalid={"name": 1, "mode": "sepia", "topics": ["gardening", "input-examples", "input-examples"]},
        invalid_paths=["mode", "name", "repoUrl", "topics", "topics[0]"],
    ),
    "clean-architecture-app": Case(
        corpus_template(f"{SOFTWARE}/clean-architecture-app/template.yaml"),
        valid={
            "name": "app",
            "package": "co.com.acme",
            "projectType": "reactive",
            "coverage": "jacoco",
            "owner": "group:default/team-a",
            "repoUrl": REPO,
        },
        invalid={"name": "app", "lombok": "yes"},
        invalid_paths=["coverage", "lombok", "owner", "package", "projectType", "repoUrl"],
    ),
    "create-react-app": Case(
        corpus_template(f"{SOFTWARE}/create-react-app/template.yaml"),
        valid={"component_id": "web", "owner": "team-a", "repoUrl": REPO},
        invalid={"component_id": "web", "description": 42},
        invalid_paths=["description", "owner", "repoUrl"],
    ),
    "docs-template-cookiecutter": Case(
        corpus_template(f"{SOFTWARE}/docs-template-cookiecutter/template.yaml"),
        valid={"name": "docs", "description": "Our docs", "repoUrl": REPO},
        invalid={"description": ["x"], "owner": False},
        invalid_paths=["description", "name", "owner", "repoUrl"],
    ),
    "docs-template": Case(
        corpus_template(f"{SOFTWARE}/docs-template/template.yaml"),
        valid={"name": "docs", "description": "Our docs", "owner": "team-a", "repoUrl": REPO},
        invalid={"name": True, "description": "d", "repoUrl": 7},
        invalid_paths=["name", "repoUrl"],
    ),
    "gitlab-merge-request": Case(
        corpus_template(f"{SOFTWARE}/gitlab-merge-request/template.yaml"),
        valid={"name": "mr", "repoUrl": "gitlab.com?owner=acme&repo=svc", "targetPath": "docs"},
        invalid={"targetPath": 3, "assignee": ["me"]},
        invalid_paths=["assignee", "name", "repoUrl", "targetPath"],
    ),
    "pull-request": Case(
        corpus_template(f"{SOFTWARE}/pull-request/template.yaml"),
        valid={"name": "pr", "repoUrl": REPO},
        invalid={"name": None, "repoUrl": REPO},
        invalid_paths=["name"],
    ),
    "rails-demo": Case(
        corpus_template(f"{SOFTWARE}/rails-demo/template.yaml"),
        valid={"name": "shop", "owner": "team-a", "repoUrl": REPO, "railsArguments": {"database": "postgresql"}},
        invalid={
            "name": "shop",
            "owner": "team-a",
            "repoUrl": REPO,
            "dryRun": "no",
            "railsArguments": {"webpacker": "svelte", "minimal": "yes"},
        },
        invalid_paths=["dryRun", "railsArguments.minimal", "railsArguments.webpacker"],
    ),
    "react-ssr-template": Case(
        corpus_template(f"{SOFTWARE}/react-ssr-template/template.yaml"),
        valid={"component_id": "web", "owner": "team-a", "repoUrl": REPO},
        invalid={"owner": 1},
        invalid_paths=["component_id", "owner", "repoUrl"],
    ),
    "springboot-grpc-template": Case(
        corpus_template(f"{SOFTWARE}/springboot-grpc-template/template.yaml"),
        valid={"component_id": "grpc", "owner": "team-a", "java_package_name": "io.acme.grpc", "repoUrl": REPO},
        invalid={"component_id": "grpc", "owner": "team-a"},
        invalid_paths=["java_package_name", "repoUrl"],
    ),
    "design-microservice-golang": Case(
        design_template(),
        valid={
            "serviceName": "payments",
            "owner": "team-a",
            "description": "Payments API",
            "needsDatabase": True,
            "databaseEngine": "postgresql",
        },
        invalid={"serviceName": "Payments!", "description": "x" * 201, "tier": "gold", "databaseEngine": "mysql"},
        invalid_paths=["databaseEngine", "description", "owner", "serviceName", "tier"],
    ),
}


def test_every_corpus_template_has_a_case() -> None:
    files = sorted(TEMPLATES_ROOT.rglob("*.yaml"))
    assert len(files) == 17
    assert {c.path for c in CASES.values()} >= set(files)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_valid_sample_is_accepted(case: Case, renderer: TemplateRenderer) -> None:
    template = parse_template_yaml(case.path.read_text(), source=str(case.path))
    prepared = validate_values(template, case.valid, renderer=renderer)
    for key, value in case.valid.items():
        assert prepared[key] == value or isinstance(value, dict)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_invalid_sample_is_rejected_field_by_field(case: Case, renderer: TemplateRenderer) -> None:
    template = parse_template_yaml(case.path.read_text(), source=str(case.path))
    with pytest.raises(InvalidParameters) as caught:
        validate_values(template, case.invalid, renderer=renderer)
    assert sorted({p.path for p in caught.value.problems}) == case.invalid_paths
    assert all(p.message for p in caught.value.problems)
    assert str(caught.value).startswith(f"the values for template '{template.ref}' are invalid")


def test_problem_messages_read_as_sentences(renderer: TemplateRenderer) -> None:
    template = parse_template_yaml(design_template().read_text())
    values = {"serviceName": "Payments!", "description": "x" * 201, "tier": "gold", "databaseEngine": "mysql"}
    messages = {p.path: p.message for p in problems_in(template, values, renderer=renderer)}
    assert messages == {
        "databaseEngine": "Database Engine only applies when needsDatabase is true; leave it out",
        "description": "Description must be at most 200 characters long; it has 201",
        "owner": "Owner Team is required",
        "serviceName": "Service Name must match the pattern ^[a-z][a-z0-9-]{2,30}$; 'Payments!' does not",
        "tier": "Service Tier must be one of 'critical', 'standard', 'internal'; got 'gold'",
    }
