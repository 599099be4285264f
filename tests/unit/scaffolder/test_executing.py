"""Running templates in process: order, ``if``/``each``, failure semantics, dry-run fakes, outputs.

Test design notes: corpus templates whose steps use only built-in actions run end to end in a dry
run with their valid samples; the design's Go template runs with its skeleton uploaded in memory and
with stand-in publish/register/Argo CD actions that do not support dry runs, so their outputs are
faked from output schemas exactly as Backstage fakes them. Small inline templates pin ``each``
output collection and the ``always()``/``failure()`` rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import yaml

from blacktop.scaffolder import (
    ActionContext,
    ActionRegistry,
    InMemorySkeletonReader,
    InMemoryWorkspace,
    RunOptions,
    TemplateAction,
    TemplateRenderer,
    WorkspaceFile,
    builtin_actions,
    parse_template,
    run_template,
    validate_values,
)

from .conftest import TEMPLATES_ROOT, design_template
from .test_corpus_parameters import CASES


class StandIn(TemplateAction):
    """An action with only an output schema; in a dry run its outputs are faked."""

    def __init__(self, action_id: str, outputs: Mapping[str, Any]) -> None:
        self.id = action_id
        self.output_schema = {"type": "object", "properties": dict(outputs)}

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        raise AssertionError(f"{self.id} must not run in a dry run")


class Boom(TemplateAction):
    id = "test:boom"
    supports_dry_run = True

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        raise RuntimeError("the remote said no")


class Echo(TemplateAction):
    id = "test:echo"
    supports_dry_run = True

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        ctx.log(f"echo {input.get('value')}")
        ctx.output("value", input.get("value"))


def make_registry(renderer: TemplateRenderer, skeleton: list[WorkspaceFile] | None = None) -> ActionRegistry:
    registry = ActionRegistry(builtin_actions(skeletons=InMemorySkeletonReader(skeleton or []), renderer=renderer))
    registry.add(Boom())
    registry.add(Echo())
    return registry


def inline(steps: list[dict[str, Any]], output: dict[str, Any] | None = None) -> Any:
    spec: dict[str, Any] = {"type": "service", "steps": steps}
    if output:
        spec["output"] = output
    return parse_template(
        {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "t"}, "spec": spec}
    )


BUILTIN_ONLY = [
    "accordion-demo",
    "bui-kitchen-sink-demo",
    "conditional-output-demo",
    "conditional-parameters-demo",
]


@pytest.mark.parametrize("case_id", BUILTIN_ONLY)
async def test_corpus_templates_with_builtin_actions_dry_run(case_id: str, renderer: TemplateRenderer) -> None:
    case = CASES[case_id]
    template = parse_template(yaml.safe_load(case.path.read_text()))
    values = validate_values(template, case.valid, renderer=renderer)
    lines: list[tuple[str, str]] = []
    result = await run_template(
        template,
        values,
        registry=make_registry(renderer),
        renderer=renderer,
        workspace=InMemoryWorkspace(),
        options=RunOptions(dry_run=True, log_sink=lambda step, line: lines.append((step, line))),
    )
    assert result.status == "completed", result.error
    assert [s.status for s in result.steps] == ["completed"]
    assert lines
    assert lines[0][0] == "log"
    assert result.output.get("text") or result.output.get("links")
    assert TEMPLATES_ROOT.exists()


async def test_design_template_dry_run_fakes_publishers(renderer: TemplateRenderer) -> None:
    template = parse_template(yaml.safe_load(design_template().read_text()))
    skeleton = [
        WorkspaceFile("skeleton/catalog-info.yaml", b"metadata:\n  name: ${{ values.serviceName }}\n"),
        WorkspaceFile("skeleton/README.md", b"# ${{ values.serviceName }} (${{ values.tier }})\n"),
    ]
    registry = make_registry(renderer, skeleton)
    registry.add(StandIn("publish:github", {"remoteUrl": {"type": "string"}, "repoContentsUrl": {"type": "string"}}))
    registry.add(StandIn("catalog:register", {"entityRef": {"type": "string", "examples": ["component:default/x"]}}))
    registry.add(StandIn("argocd:create-app", {}))
    values = validate_values(
        template, {"serviceName": "payments", "owner": "team-a", "description": "d"}, renderer=renderer
    )
    result = await run_template(
        template,
        values,
        registry=registry,
        renderer=renderer,
        workspace=InMemoryWorkspace(),
        options=RunOptions(dry_run=True),
    )
    assert result.status == "completed", result.error
    assert [(s.id, s.status) for s in result.steps] == [
        ("scaffold", "completed"),
        ("publish", "completed"),
        ("register", "completed"),
        ("create-argocd-app", "completed"),
    ]
    assert result.steps[1].outputs == {"remoteUrl": "<example>", "repoContentsUrl": "<example>"}
    assert result.steps[2].outputs == {"entityRef": "component:default/x"}
    assert "does not support dry runs" in result.steps[1].logs[0]
    assert {f.path: f.content for f in result.files} == {
        "README.md": b"# payments (standard)\n",
        "catalog-info.yaml": b"metadata:\n  name: payments\n",
    }


async def test_each_collects_outputs_and_checks_if_per_item(renderer: TemplateRenderer) -> None:
    template = inline(
        [
            {
                "id": "loop",
                "action": "test:echo",
                "each": "${{ parameters.items }}",
                "if": "${{ each.value !== 'skip' }}",
                "input": {"value": "${{ each.key }}-${{ each.value }}"},
            },
            {"id": "after", "action": "test:echo", "input": {"value": "${{ steps.loop.output.value }}"}},
        ]
    )
    result = await run_template(
        template,
        {"items": ["a", "skip", "b"]},
        registry=make_registry(renderer),
        renderer=renderer,
        workspace=InMemoryWorkspace(),
    )
    assert result.steps[0].outputs == {"value": ["0-a", "2-b"]}
    assert result.steps[1].outputs == {"value": ["0-a", "2-b"]}


async def test_failure_skips_later_steps_unless_always_or_failure(renderer: TemplateRenderer) -> None:
    template = inline(
        [
            {"id": "one", "action": "test:echo", "input": {"value": 1}},
            {"id": "boom", "action": "test:boom"},
            {"id": "normal", "action": "test:echo", "input": {"value": 2}},
            {"id": "cleanup", "action": "test:echo", "if": "${{ always() }}", "input": {"value": 3}},
            {"id": "report", "action": "test:echo", "if": "${{ failure() }}", "input": {"value": 4}},
        ],
        output={
            "links": [
                {"title": "ok", "url": "https://ok"},
                {"title": "why", "url": "https://logs", "if": "${{ failure() }}"},
            ]
        },
    )
    result = await run_template(
        template, {}, registry=make_registry(renderer), renderer=renderer, workspace=InMemoryWorkspace()
    )
    assert result.status == "failed"
    assert result.error == "the remote said no"
    assert [s.status for s in result.steps] == ["completed", "failed", "skipped", "completed", "completed"]
    assert result.output == {"links": [{"title": "why", "url": "https://logs"}]}


async def test_invalid_input_fails_the_step_before_running(renderer: TemplateRenderer) -> None:
    template = inline([{"id": "log", "action": "debug:log", "input": {"listWorkspace": "sometimes"}}])
    result = await run_template(
        template, {}, registry=make_registry(renderer), renderer=renderer, workspace=InMemoryWorkspace()
    )
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("Invalid input passed to action debug:log")


async def test_unknown_action_fails_with_a_clear_message(renderer: TemplateRenderer) -> None:
    template = inline([{"id": "x", "action": "publish:nowhere"}])
    result = await run_template(
        template, {}, registry=make_registry(renderer), renderer=renderer, workspace=InMemoryWorkspace()
    )
    assert result.error is not None
    assert "template action 'publish:nowhere' is not registered" in result.error


async def test_secrets_reach_inputs_but_not_logs(renderer: TemplateRenderer) -> None:
    template = inline([{"id": "log", "action": "debug:log", "input": {"message": "token ${{ secrets.TOKEN }}"}}])
    result = await run_template(
        template,
        {},
        registry=make_registry(renderer),
        renderer=renderer,
        workspace=InMemoryWorkspace(),
        options=RunOptions(secrets={"TOKEN": "hunter2"}),
    )
    assert result.steps[0].logs == ["token ***"]


async def test_dry_run_skips_unsupported_actions_without_rendering_and_hides_secrets(
    renderer: TemplateRenderer,
) -> None:
    template = inline(
        [
            {"id": "log", "action": "debug:log", "input": {"message": "token=${{ secrets.TOKEN }}"}},
            {"id": "pub", "action": "publish:fake", "input": {"broken": "${{ parameters.x | noSuchFilter }}"}},
        ]
    )
    registry = make_registry(renderer)
    registry.add(StandIn("publish:fake", {"remoteUrl": {"type": "string"}}))
    result = await run_template(
        template,
        {},
        registry=registry,
        renderer=renderer,
        workspace=InMemoryWorkspace(),
        options=RunOptions(dry_run=True, secrets={"TOKEN": "hunter2"}),
    )
    assert result.status == "completed", result.error
    assert result.steps[0].logs == ["token="]
    assert result.steps[1].outputs == {"remoteUrl": "<example>"}
