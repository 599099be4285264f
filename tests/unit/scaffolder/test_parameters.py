"""Parameter pages: ``when``, defaults, ``depends``, custom messages, conditional schemas, portal schema.

Test design notes: templates are built inline as small dicts so each case shows exactly the schema
feature it exercises; the expected problems are (path, message) pairs so both location and wording
are pinned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from blacktop.scaffolder import (
    InvalidParameters,
    InvalidTemplate,
    TemplateRenderer,
    parameter_schema,
    parse_template,
    prepare_values,
    problems_in,
    validate_secrets,
    validate_values,
)
from blacktop.scaffolder.parameters import check_template_schemas, page_schema, secret_fields

from .conftest import corpus_template, design_template


def template(parameters: Any, **spec: Any) -> Any:
    return parse_template(
        {
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {"name": "t", "title": "T"},
            "spec": {"type": "service", "parameters": parameters, "steps": [{"action": "debug:log"}], **spec},
        }
    )


@dataclass(frozen=True)
class Case:
    parameters: Any
    values: dict[str, Any]
    want: list[tuple[str, str]]


CASES = {
    "custom-error-message-string": Case(
        {"properties": {"name": {"type": "string", "pattern": "^[a-z]+$", "errorMessage": "Use lower-case letters"}}},
        {"name": "ABC"},
        [("name", "Use lower-case letters")],
    ),
    "custom-error-message-per-keyword": Case(
        {
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "ui:errorMessage": {"required": "Tell us the name", "pattern": "x"}}
            },
        },
        {},
        [("name", "Tell us the name")],
    ),
    "min-length-one-reads-not-empty": Case(
        {"properties": {"name": {"title": "Name", "type": "string", "minLength": 1}}},
        {"name": ""},
        [("name", "Name must not be empty")],
    ),
    "integer-type": Case(
        {"properties": {"replicas": {"title": "Replicas", "type": "integer"}}},
        {"replicas": 1.5},
        [("replicas", "Replicas must be a whole number; got a number")],
    ),
    "dependencies-oneof-picks-the-chosen-branch": Case(
        {
            "properties": {"kind": {"type": "string", "enum": ["db", "cache"]}},
            "dependencies": {
                "kind": {
                    "oneOf": [
                        {
                            "properties": {"kind": {"enum": ["db"]}, "engine": {"title": "Engine", "type": "string"}},
                            "required": ["engine"],
                        },
                        {"properties": {"kind": {"enum": ["cache"]}, "size": {"type": "integer"}}},
                    ]
                }
            },
        },
        {"kind": "db"},
        [("engine", "Engine is required")],
    ),
    "dependencies-property-list": Case(
        {"properties": {"a": {"type": "string"}, "b": {"title": "B", "type": "string"}}, "dependencies": {"a": ["b"]}},
        {"a": "x"},
        [("b", "B is required by a field you filled in: 'b' is a dependency of 'a'")],
    ),
    "if-then-else": Case(
        {
            "properties": {"public": {"type": "boolean"}, "domain": {"title": "Domain", "type": "string"}},
            "if": {"properties": {"public": {"const": True}}},
            "then": {"required": ["domain"]},
        },
        {"public": True},
        [("domain", "Domain is required")],
    ),
    "const-options-listed-by-title": Case(
        {
            "properties": {
                "consent": {"title": "Consent", "oneOf": [{"const": True, "title": "I agree"}, {"const": False}]}
            }
        },
        {"consent": "maybe"},
        [("consent", "Consent must be one of I agree (true), false (false); got 'maybe'")],
    ),
    "depends-required-only-when-condition-holds": Case(
        [
            {
                "required": ["engine"],
                "properties": {
                    "db": {"type": "boolean", "default": False},
                    "engine": {"title": "Engine", "type": "string", "depends": {"db": True}},
                },
            }
        ],
        {"db": True},
        [("engine", "Engine is required when db is true")],
    ),
    "depends-satisfied-by-default": Case(
        [
            {
                "required": ["engine"],
                "properties": {
                    "db": {"type": "boolean", "default": False},
                    "engine": {"type": "string", "depends": {"db": True}},
                },
            }
        ],
        {},
        [],
    ),
    "depends-list-of-values": Case(
        {
            "properties": {
                "tier": {"type": "string"},
                "replicas": {"title": "Replicas", "type": "integer", "depends": {"tier": ["critical", "standard"]}},
            }
        },
        {"tier": "internal", "replicas": 2},
        [("replicas", "Replicas only applies when tier is 'critical' or 'standard'; leave it out")],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_problems_have_paths_and_readable_messages(case: Case, renderer: TemplateRenderer) -> None:
    problems = problems_in(template(case.parameters), case.values, renderer=renderer)
    assert [(p.path, p.message) for p in problems] == case.want


def test_hidden_page_is_not_validated_and_its_values_are_removed(renderer: TemplateRenderer) -> None:
    t = parse_template(
        yaml.safe_load(
            corpus_template(
                "backstage/plugins/scaffolder-backend/sample-templates/conditional-parameters-demo/template.yaml"
            ).read_text()
        )
    )
    values = {"name": "svc", "cloudProvider": "GCP", "gcpProjectId": "p-1", "awsRegion": "mars-1"}
    prepared = validate_values(t, values, renderer=renderer)
    assert "awsRegion" not in prepared
    assert prepared["gcpRegion"] == "us-central1"  # default of the visible GCP page
    assert "azureRegion" not in prepared  # default of a hidden page is not applied
    assert prepared["enableMonitoring"] is False
    assert "alertThreshold" not in prepared  # monitoring page hidden by the default false


def test_when_that_fails_to_render_counts_as_true(renderer: TemplateRenderer) -> None:
    t = template([{"properties": {}}, {"when": "${{ parameters.x | noSuchFilter }}", "required": ["y"]}])
    _, visible = prepare_values(t, {}, renderer=renderer)
    assert visible == [0, 1]


def test_bare_when_expression_works(renderer: TemplateRenderer) -> None:
    t = template([{"properties": {"a": {"type": "string"}}}, {"when": "parameters.a === 'on'", "required": ["b"]}])
    assert [p.path for p in problems_in(t, {"a": "on"}, renderer=renderer)] == ["b"]
    assert problems_in(t, {"a": "off"}, renderer=renderer) == []


def test_nested_defaults_are_filled(renderer: TemplateRenderer) -> None:
    t = parse_template(
        yaml.safe_load(corpus_template("software-templates/scaffolder-templates/rails-demo/template.yaml").read_text())
    )
    prepared, _ = prepare_values(
        t, {"name": "a", "owner": "b", "repoUrl": "github.com?owner=o&repo=r"}, renderer=renderer
    )
    assert prepared["railsArguments"] == {"template": "./rails-template-file.rb"}
    assert prepared["dryRun"] is False


def test_parameter_schema_turns_depends_into_if_then_and_keeps_ui_keys() -> None:
    body = parameter_schema(parse_template(yaml.safe_load(design_template().read_text())))
    assert body["title"] == "Go Microservice (Production-Ready)"
    first, second = body["steps"]
    assert first["title"] == "Service Details"
    assert first["schema"]["properties"]["serviceName"]["ui:autofocus"] is True
    assert "databaseEngine" not in second["schema"]["properties"]
    assert second["schema"]["allOf"] == [
        {
            "if": {"properties": {"needsDatabase": {"const": True}}, "required": ["needsDatabase"]},
            "then": {
                "properties": {
                    "databaseEngine": {
                        "title": "Database Engine",
                        "type": "string",
                        "enum": ["postgresql", "mysql", "mongodb"],
                        "ui:widget": "select",
                    }
                }
            },
        }
    ]


def test_parameter_schema_keeps_when() -> None:
    t = template([{"title": "A", "properties": {}}, {"title": "B", "when": "${{ parameters.x }}", "properties": {}}])
    steps = parameter_schema(t)["steps"]
    assert "when" not in steps[0]
    assert steps[1]["when"] == "${{ parameters.x }}"
    assert page_schema(t.parameters[1])["type"] == "object"


def test_single_object_parameters_form_one_page(renderer: TemplateRenderer) -> None:
    t = template({"required": ["a"], "properties": {"a": {"type": "string"}}})
    assert len(t.parameters) == 1
    assert [p.path for p in problems_in(t, {}, renderer=renderer)] == ["a"]


def test_invalid_schema_is_an_authoring_error() -> None:
    t = template({"properties": {"a": {"type": "strang"}}})
    with pytest.raises(InvalidTemplate) as caught:
        check_template_schemas(t)
    assert caught.value.problems[0].path.startswith("spec.parameters[0]")


def test_secrets_are_checked_without_echoing_values() -> None:
    t = template(
        {"properties": {}}, secrets={"schema": {"required": ["TOKEN"], "properties": {"TOKEN": {"minLength": 10}}}}
    )
    with pytest.raises(InvalidParameters) as caught:
        validate_secrets(t, {"TOKEN": "short-s3cret"[:5]})
    assert [p.path for p in caught.value.problems] == ["secrets.TOKEN"]
    assert "short" not in str(caught.value)
    assert "short" not in caught.value.problems[0].message
    validate_secrets(t, {"TOKEN": "long-enough-token"})


def test_secret_fields_are_listed_for_the_portal() -> None:
    t = parse_template(
        yaml.safe_load(
            corpus_template(
                "backstage/plugins/scaffolder-backend/sample-templates/bui-kitchen-sink-demo/template.yaml"
            ).read_text()
        )
    )
    assert secret_fields(t) == ["deployToken"]
