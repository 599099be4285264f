"""The parameter form's HTML for the built-in python-service template, pinned as golden files.

Test design: the template's parameter schema is computed by the scaffolder (pure), drawn by the
portal's form template, and compared with ``tests/golden/web/<case>.html``; one case is the fresh
form, one the form re-shown with what was typed and the scaffolder's per-field messages.
Regenerate with ``BLACKTOP_UPDATE_GOLDEN=1`` and review the diff like code.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from blacktop.kernel.errors import Problem
from blacktop.scaffolder import model, parameters
from blacktop.web import forms
from blacktop.web.rendering import Renderer

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "web"


def python_service_schema() -> dict[str, Any]:
    text = (resources.files("blacktop.scaffolder") / "builtin" / "python-service" / "template.yaml").read_text()
    return parameters.parameter_schema(model.parse_template_yaml(text, source="python-service"))


def render_form(submitted: dict[str, list[str]] | None, problems: list[Problem], message: str) -> str:
    schema = python_service_schema()
    pages = forms.form_pages(schema)
    by_field, other = forms.field_errors(problems, [f.name for p in pages for f in p.fields])
    template = Renderer().env.get_template("templates/form.html")
    return template.render(
        request_path="/ui/templates/default/python-service", caller=None, csrf="CSRF-TOKEN", schema=schema,
        pages=pages, namespace="default", name="python-service", submitted=submitted, field_errors=by_field,
        other_errors=other, message=message, suggestions={"owner": [("group:default/team-a", "Team <A>")]},
    )  # fmt: skip


CASES = {
    "python-service-form": (None, [], ""),
    "python-service-form-errors": (
        {"serviceName": ["Bad <Name>"], "tier": ["internal"], "tracingSamplingRate": ["2"], "description": [""]},
        [Problem("serviceName", "must start with a lowercase letter"), Problem("owner", "Owner Team is required"),
         Problem("tracingSamplingRate", "Trace sampling rate must be at most 1; got 2"), Problem("", "whole form")],
        "the values are invalid",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.keys(), ids=CASES.keys())
def test_form_html_matches_its_golden_file(case: str) -> None:
    submitted, problems, message = CASES[case]
    text = "\n".join(line.rstrip() for line in render_form(submitted, problems, message).splitlines()) + "\n"
    path = GOLDEN / f"{case}.html"
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; review and rerun with BLACKTOP_UPDATE_GOLDEN=1"
