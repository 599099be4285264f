"""The action contract and registry: conflicts, lookups, entry points, input validation, examples.

Test design notes: entry points are real ``importlib.metadata.EntryPoint`` objects pointing at this
module, so loading goes through ``EntryPoint.load`` exactly as installed plugins do. Every built-in
action's examples are executed against an in-memory workspace and skeleton (the style guide's
"every action ships an example that a test runs").
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.scaffolder import (
    ENTRY_POINT_GROUP,
    ActionContext,
    ActionExists,
    ActionNotFound,
    ActionRegistry,
    InMemorySkeletonReader,
    InMemoryWorkspace,
    InvalidActionInput,
    TemplateAction,
    TemplateInfo,
    TemplateRenderer,
    WorkspaceFile,
    build_context,
    builtin_actions,
    fake_output,
    input_problems,
    load_entry_point_actions,
    validate_input,
)


class PluginAction(TemplateAction):
    id = "acme:hello"
    description = "says hello"
    input_schema: Mapping[str, Any] = {"type": "object", "required": ["who"], "properties": {"who": {"type": "string"}}}

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        ctx.output("greeting", f"hello {input['who']}")


class UndoableAction(PluginAction):
    id = "acme:undoable"

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        ctx.log("undone")


class OtherAction(PluginAction):
    id = "acme:other"


plugin_instance = OtherAction()


def plugin_factory() -> list[TemplateAction]:
    return [UndoableAction()]


NOT_AN_ACTION = 42


def entry(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group=ENTRY_POINT_GROUP)


def test_duplicate_action_id_is_rejected() -> None:
    registry = ActionRegistry([PluginAction()])
    with pytest.raises(ActionExists, match="template action 'acme:hello' is already registered") as caught:
        registry.add(PluginAction())
    assert isinstance(caught.value, ConflictError)


def test_unknown_action_is_not_found() -> None:
    registry = ActionRegistry([PluginAction()])
    assert registry.get("nope") is None
    with pytest.raises(ActionNotFound, match=r"'publish:nowhere' is not registered.*acme:hello") as caught:
        registry.require("publish:nowhere")
    assert isinstance(caught.value, NotFoundError)


def test_entry_points_add_classes_instances_and_factories() -> None:
    registry = ActionRegistry()
    added = load_entry_point_actions(
        registry, entry_points=[entry("a", "PluginAction"), entry("b", "plugin_instance"), entry("c", "plugin_factory")]
    )
    assert added == ["acme:hello", "acme:other", "acme:undoable"]
    assert [a.id for a in registry.list()] == ["acme:hello", "acme:other", "acme:undoable"]
    assert registry.require("acme:undoable").has_undo is True
    assert registry.require("acme:hello").has_undo is False


def test_entry_point_that_is_not_an_action_is_refused() -> None:
    with pytest.raises(InvalidActionInput, match="does not provide template actions"):
        load_entry_point_actions(ActionRegistry(), entry_points=[entry("bad", "NOT_AN_ACTION")])


def test_entry_point_duplicate_conflicts_with_builtin() -> None:
    registry = ActionRegistry([PluginAction()])
    with pytest.raises(ActionExists):
        load_entry_point_actions(registry, entry_points=[entry("a", "PluginAction")])


def test_no_installed_entry_points_is_fine() -> None:
    assert load_entry_point_actions(ActionRegistry()) == []


def test_input_is_validated_with_paths() -> None:
    action = builtin_actions(skeletons=InMemorySkeletonReader([]), renderer=TemplateRenderer())[0]
    assert action.id == "fetch:template"
    problems = input_problems(action, {"values": "not an object", "replace": "yes"})
    assert [p.path for p in problems] == ["input.replace", "input.url", "input.values"]
    with pytest.raises(InvalidActionInput, match="Invalid input passed to action fetch:template"):
        validate_input(action, {"values": []})
    validate_input(action, {"url": "./skeleton", "unknownExtra": 1})  # extra keys pass, as in Backstage


def test_fake_output_for_dry_run() -> None:
    schema = {
        "type": "object",
        "properties": {
            "remoteUrl": {"type": "string"},
            "commit": {"type": "string", "examples": ["abc123"]},
            "count": {"type": "integer"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "nested": {"type": "object", "properties": {"x": {"type": "number"}}},
        },
    }
    assert fake_output(schema) == {
        "remoteUrl": "<example>",
        "commit": "abc123",
        "count": 0,
        "ok": False,
        "tags": ["<example>"],
        "nested": {"x": 0},
    }


def test_describe_lists_schemas_and_examples() -> None:
    described = PluginAction().describe()
    assert described["id"] == "acme:hello"
    assert described["schema"]["input"]["required"] == ["who"]
    assert described["supportsDryRun"] is False


BUILTINS = builtin_actions(skeletons=InMemorySkeletonReader([]), renderer=TemplateRenderer())


def test_builtin_action_ids() -> None:
    assert sorted(a.id for a in BUILTINS) == [
        "debug:log",
        "debug:wait",
        "fetch:plain",
        "fetch:plain:file",
        "fetch:template",
        "fetch:template:file",
        "fs:delete",
        "fs:rename",
    ]
    assert all(a.supports_dry_run for a in BUILTINS)


EXAMPLES = [(a.id, e) for a in BUILTINS for e in a.examples]


@pytest.mark.parametrize(("action_id", "example"), EXAMPLES, ids=[f"{i}:{e.description}" for i, e in EXAMPLES])
async def test_builtin_examples_run(action_id: str, example: Any) -> None:
    renderer = TemplateRenderer()
    skeleton = InMemorySkeletonReader([WorkspaceFile(p, t.encode()) for p, t in example.skeleton.items()])
    registry = ActionRegistry(builtin_actions(skeletons=skeleton, renderer=renderer))
    action = registry.require(example.step["action"])
    assert action.id == action_id
    workspace = InMemoryWorkspace([WorkspaceFile(p, t.encode()) for p, t in example.workspace.items()])
    step_input = renderer.render_value(example.step.get("input", {}), build_context(parameters={}))
    validate_input(action, step_input)

    async def no_sleep(seconds: float) -> None:
        return None

    ctx = ActionContext(workspace=workspace, template_info=TemplateInfo(base_url=None), sleep=no_sleep)
    await action.run(ctx, step_input)
    after = await workspace.list()
    before = sorted(example.workspace)
    assert after != before or action_id.startswith("debug:")
