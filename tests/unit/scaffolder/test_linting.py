"""Template linting: every authoring mistake found before a run, each with its path.

Test design notes: one inline template carries one mistake of each kind; the corpus templates (real,
working Backstage templates) must lint clean apart from actions blacktop does not register here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from blacktop.scaffolder import (
    ActionRegistry,
    InMemorySkeletonReader,
    TemplateRenderer,
    builtin_actions,
    lint_template,
    parse_template,
)

from .conftest import TEMPLATES_ROOT, design_template


def test_each_kind_of_mistake_is_reported(renderer: TemplateRenderer) -> None:
    template = parse_template(
        {
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {"name": "broken"},
            "spec": {
                "type": "service",
                "parameters": [
                    {"properties": {"n": {"type": "strang"}}},
                    {"when": "parameters.n ===", "properties": {}},
                ],
                "steps": [
                    {"id": "first", "action": "debug:log", "input": {"message": "${{ steps.second.output.x }}"}},
                    {"id": "second", "action": "debug:log", "input": {"message": "${{ parameters.n | shout }}"}},
                    {"id": "third", "action": "publish:nowhere", "if": "${{ steps['ghost'].output.ok }}"},
                    {"id": "fourth", "action": "debug:log", "input": {"message": "${{ exec('ls') }}"}},
                    {"id": "fifth", "action": "debug:log", "input": {"message": "${{ ''.__class__['__mro__'] }}"}},
                ],
                "output": {"links": [{"url": "${{ steps.first.output.url | parseRepoUrl }"}]},
            },
        }
    )
    registry = ActionRegistry(builtin_actions(skeletons=InMemorySkeletonReader([]), renderer=renderer))
    problems = lint_template(template, renderer=renderer, registry=registry)
    got = [(p.path, p.message.split(";")[0]) for p in problems]
    assert got[0][0].startswith("spec.parameters[0]")
    assert [path for path, _ in got[1:]] == [
        "spec.parameters[1].when",
        "spec.steps[0].input.message",
        "spec.steps[1].input.message",
        "spec.steps[2].action",
        "spec.steps[2].if",
        "spec.steps[3].input.message",
        "spec.steps[4].input.message",
        "spec.steps[4].input.message",
        "spec.output.links[0].url",
    ]
    messages = dict(got[1:])
    assert "syntax error" in messages["spec.parameters[1].when"]
    assert messages["spec.steps[0].input.message"] == "refers to step 'second', which has not run yet at this point"
    assert messages["spec.steps[1].input.message"] == "unknown filter(s) shout"
    assert messages["spec.steps[2].action"] == "action 'publish:nowhere' is not registered"
    assert messages["spec.steps[2].if"] == "refers to step 'ghost', which the template does not have"
    assert messages["spec.steps[3].input.message"] == "unknown function(s) exec()"
    assert [m for path, m in got if path == "spec.steps[4].input.message"] == [
        "reaches for '__class__'",
        "reaches for '__mro__'",
    ]
    assert "syntax error" in messages["spec.output.links[0].url"]


FILES = [*sorted(TEMPLATES_ROOT.rglob("*.yaml")), design_template()]


@pytest.mark.parametrize("path", FILES, ids=[f"{i}-{p.parent.name}" for i, p in enumerate(FILES)])
def test_corpus_templates_lint_clean(path: Path, renderer: TemplateRenderer) -> None:
    assert lint_template(parse_template(yaml.safe_load(path.read_text())), renderer=renderer) == []
