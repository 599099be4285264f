"""Template parameter forms: JSON Schema properties to form controls and submitted strings back to values.

Test design: one table row per schema feature the portal must honour (enum, boolean, numbers,
arrays, pattern/maxLength, defaults, ui:help); a property test checks that numbers and strings
survive the round trip through the browser's strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.errors import Problem
from blacktop.web import forms
from blacktop.web.rendering import local_path, safe_url


@dataclass(frozen=True)
class FieldCase:
    schema: dict[str, Any]
    widget: str
    attributes: tuple[tuple[str, str], ...] = ()
    default: str = ""
    options: tuple[str, ...] = ()
    help: str = ""


FIELD_CASES = {
    "enum-is-a-select": FieldCase({"type": "string", "enum": ["a", "b"], "default": "b"}, "select", default="b",
                                  options=("a", "b")),
    "boolean-is-a-checkbox": FieldCase({"type": "boolean", "default": True}, "checkbox", default="true"),
    "pattern-and-maxlength": FieldCase({"type": "string", "pattern": "^[a-z]+$", "maxLength": 9}, "text",
                                       attributes=(("pattern", "^[a-z]+$"), ("maxlength", "9"))),
    "integer-bounds": FieldCase({"type": "integer", "minimum": 1, "maximum": 5}, "number",
                                attributes=(("min", "1"), ("max", "5"), ("step", "1"))),
    "number-any-step": FieldCase({"type": "number", "default": 0.1}, "number", attributes=(("step", "any"),),
                                 default="0.1"),
    "enum-array-is-a-multiselect": FieldCase({"type": "array", "items": {"enum": ["x", "y"]}}, "multiselect",
                                             options=("x", "y")),
    "string-array-is-lines": FieldCase({"type": "array", "items": {"type": "string"}, "default": ["p", "q"]},
                                       "lines", default="p\nq"),
    "object-is-json": FieldCase({"type": "object"}, "json"),
    "textarea-widget": FieldCase({"type": "string", "ui:widget": "textarea"}, "textarea"),
    "password-widget": FieldCase({"type": "string", "ui:widget": "password"}, "password"),
    "help-from-description-and-ui-help": FieldCase({"type": "string", "description": "What.", "ui:help": "How."},
                                                   "text", help="What. How."),
}  # fmt: skip


@pytest.mark.parametrize("case", FIELD_CASES.values(), ids=FIELD_CASES.keys())
def test_schema_properties_become_form_controls(case: FieldCase) -> None:
    field = forms.describe_field("f", case.schema, required=False)
    assert field.widget == case.widget
    assert field.attributes == case.attributes
    assert field.default == case.default
    assert tuple(o.value for o in field.options) == case.options
    assert field.help == case.help


PICKER_CASES = {
    "owner-picker-defaults-to-groups-and-users": ({"type": "string", "ui:field": "OwnerPicker"}, ("Group", "User")),
    "catalog-filter-kind": ({"ui:field": "OwnerPicker", "ui:options": {"catalogFilter": {"kind": "Group"}}},
                            ("Group",)),
    "catalog-filter-list-of-kinds": ({"ui:field": "EntityPicker",
                                      "ui:options": {"catalogFilter": [{"kind": ["System", "Domain"]}]}},
                                     ("System", "Domain")),
    "allowed-kinds-win": ({"ui:field": "EntityPicker", "ui:options": {"allowedKinds": ["Component"],
                                                                       "catalogFilter": {"kind": "Group"}}},
                          ("Component",)),
    "entity-picker-without-kinds-offers-nothing": ({"ui:field": "EntityPicker"}, ()),
    "not-a-picker": ({"type": "string", "ui:field": "RepoUrlPicker"}, ()),
    "plain-field": ({"type": "string"}, ()),
}  # fmt: skip


@pytest.mark.parametrize(("schema", "want"), PICKER_CASES.values(), ids=PICKER_CASES.keys())
def test_entity_pickers_offer_catalog_kinds(schema: dict[str, Any], want: tuple[str, ...]) -> None:
    assert forms.picker_kinds(schema) == want


SCHEMA = {
    "steps": [
        {"title": "One", "schema": {"required": ["name"], "properties": {
            "name": {"type": "string"}, "count": {"type": "integer"}, "rate": {"type": "number"},
            "on": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
            "envs": {"type": "array", "items": {"enum": ["dev", "prod"]}}, "extra": {"type": "object"},
        }}},
        {"title": "Two", "when": {"on": True}, "schema": {"properties": {"note": {"type": "string"}}}},
    ]
}  # fmt: skip

PARSE_CASES = {
    "typed-values": (
        {"name": ["svc"], "count": ["3"], "rate": ["0.5"], "on": ["false", "true"], "tags": ["a\n\n b \n"],
         "envs": ["dev", "prod"], "extra": ['{"k": 1}'], "note": ["hi"]},
        {"name": "svc", "count": 3, "rate": 0.5, "on": True, "tags": ["a", "b"], "envs": ["dev", "prod"],
         "extra": {"k": 1}, "note": "hi"},
    ),
    "empty-fields-are-left-out": (
        {"name": [""], "count": [""], "on": ["false"], "tags": [""], "note": ["  "]},
        {"on": False},
    ),
    "unconvertible-text-passes-through-for-the-validator": (
        {"name": ["x"], "count": ["three"], "extra": ["{not json"]},
        {"name": "x", "count": "three", "on": False, "extra": "{not json"},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("form", "want"), PARSE_CASES.values(), ids=PARSE_CASES.keys())
def test_submitted_strings_become_typed_values(form: dict[str, list[str]], want: dict[str, Any]) -> None:
    assert forms.parse_values(SCHEMA, form) == want


def test_pages_keep_titles_required_and_conditions() -> None:
    pages = forms.form_pages(SCHEMA)
    assert [p.title for p in pages] == ["One", "Two"]
    assert [p.conditional for p in pages] == [False, True]
    assert [f.name for f in pages[0].fields if f.required] == ["name"]


def test_problems_are_split_by_field() -> None:
    problems = [Problem("name", "is required"), Problem("tags[1]", "too long"), Problem("", "template broken")]
    by_field, other = forms.field_errors(problems, ["name", "tags"])
    assert by_field == {"name": ["is required"], "tags": ["too long"]}
    assert other == ["template broken"]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_survive_the_browser(value: int) -> None:
    schema = {"steps": [{"schema": {"properties": {"n": {"type": "integer"}}}}]}
    assert forms.parse_values(schema, {"n": [str(value)]}) == {"n": value}


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_numbers_survive_the_browser(value: float) -> None:
    schema = {"steps": [{"schema": {"properties": {"n": {"type": "number"}}}}]}
    assert forms.parse_values(schema, {"n": [repr(value)]}) == {"n": value}


@given(st.text().filter(lambda s: s.strip() != ""))
def test_text_survives_the_browser_unchanged(value: str) -> None:
    schema = {"steps": [{"schema": {"properties": {"s": {"type": "string"}}}}]}
    assert forms.parse_values(schema, {"s": [value]}) == {"s": value}


URL_CASES = {
    "https": ("https://example.com/x", "https://example.com/x"),
    "http": ("http://example.com", "http://example.com"),
    "site-path": ("/ui/catalog", "/ui/catalog"),
    "javascript": ("javascript:alert(1)", ""),
    "javascript-mixed-case": (" JavaScript:alert(1)", ""),
    "data": ("data:text/html,<script>", ""),
    "protocol-relative": ("//evil.example/x", ""),
    "no-host": ("https:///x", ""),
}


@pytest.mark.parametrize(("given_url", "want"), URL_CASES.values(), ids=URL_CASES.keys())
def test_only_web_links_are_links(given_url: str, want: str) -> None:
    assert safe_url(given_url) == want


NEXT_CASES = {
    "portal-path": ("/ui/catalog?q=x", "/ui/catalog?q=x"),
    "other-site": ("https://evil.example/ui/", "/ui/"),
    "protocol-relative": ("//evil.example", "/ui/"),
    "outside-portal": ("/api/v1/audit/records", "/ui/"),
    "missing": (None, "/ui/"),
}


@pytest.mark.parametrize(("given_next", "want"), NEXT_CASES.values(), ids=NEXT_CASES.keys())
def test_sign_in_only_returns_to_portal_pages(given_next: str | None, want: str) -> None:
    assert local_path(given_next) == want
