"""The file actions on a workspace: fetch:template golden output, its options, fetch:plain, fs:*, debug:*.

Test design notes: the golden test renders the hand-written skeleton in ``skeletons/service`` (names
and contents templated, a conditional folder, a raw GitHub workflow, an executable script, a binary
file and a symlink) through ``LocalSkeletonReader`` into an in-memory workspace and compares a text
dump with ``tests/golden/scaffolder/fetch-template-service.txt``; set ``BLACKTOP_UPDATE_GOLDEN=1`` to
rewrite it, then review the diff like code. The step input is rendered from parameters first, as the
runner will, so the whole path from template values to files is covered.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from blacktop.scaffolder import (
    ActionContext,
    ActionRegistry,
    InMemorySkeletonReader,
    InMemoryWorkspace,
    InvalidActionInput,
    LocalSkeletonReader,
    PathNotAllowed,
    TemplateInfo,
    TemplateRenderer,
    WorkspaceFile,
    build_context,
    builtin_actions,
    validate_input,
)

from .conftest import GOLDEN, SKELETONS

PARAMETERS = {
    "name": "payments",
    "description": "Takes the money",
    "owner": "group:default/team-a",
    "tier": "critical",
    "needsDatabase": False,
    "databaseEngine": "postgresql",
    "tags": ["python", "api"],
    "replicas": 3,
    "public": True,
    "repoUrl": "github.com?owner=acme&repo=payments",
}
STEP_INPUT = {
    "url": "./service",
    "targetPath": "./out",
    "copyWithoutTemplating": [".github/workflows/*"],
    "values": {
        "name": "${{ parameters.name }}",
        "description": "${{ parameters.description }}",
        "owner": "${{ parameters.owner }}",
        "tier": "${{ parameters.tier }}",
        "needsDatabase": "${{ parameters.needsDatabase }}",
        "databaseEngine": "${{ parameters.databaseEngine }}",
        "tags": "${{ parameters.tags }}",
        "replicas": "${{ parameters.replicas }}",
        "public": "${{ parameters.public }}",
        "repoUrl": "${{ parameters.repoUrl }}",
    },
}


def registry(renderer: TemplateRenderer, skeletons: object | None = None) -> ActionRegistry:
    return ActionRegistry(builtin_actions(skeletons=skeletons or LocalSkeletonReader(), renderer=renderer))  # type: ignore[arg-type]


def context(workspace: InMemoryWorkspace, base: Path | None = SKELETONS) -> ActionContext:
    return ActionContext(workspace=workspace, template_info=TemplateInfo(base_url=str(base) if base else None))


def dump_tree(files: list[WorkspaceFile]) -> str:
    out = []
    for f in files:
        if f.symlink is not None:
            out.append(f"--- {f.path} -> {f.symlink}")
            continue
        mode = "755" if f.executable else "644"
        try:
            text = f.content.decode("utf-8")
            binary = "\x00" in text
        except UnicodeDecodeError:
            binary = True
        if binary:
            digest = hashlib.sha256(f.content).hexdigest()[:16]
            out.append(f"--- {f.path} ({mode}, binary, {len(f.content)} bytes, sha256 {digest})")
        else:
            out.append(f"--- {f.path} ({mode})\n{text}")
    return "\n".join(out) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


async def run_fetch(
    renderer: TemplateRenderer, parameters: dict[str, object], **overrides: object
) -> InMemoryWorkspace:
    action = registry(renderer).require("fetch:template")
    step_input = renderer.render_value({**STEP_INPUT, **overrides}, build_context(parameters=parameters))
    validate_input(action, step_input)
    workspace = InMemoryWorkspace()
    await action.run(context(workspace), step_input)
    return workspace


async def test_fetch_template_golden(renderer: TemplateRenderer) -> None:
    workspace = await run_fetch(renderer, PARAMETERS)
    check_golden("fetch-template-service.txt", dump_tree(list(await workspace.snapshot())))


async def test_fetch_template_conditional_folder_appears(renderer: TemplateRenderer) -> None:
    workspace = await run_fetch(renderer, {**PARAMETERS, "needsDatabase": True})
    schema = await workspace.require("out/db/schema.sql")
    assert (
        schema.content.decode()
        == "-- schema for payments on postgresql\nCREATE TABLE items (id integer primary key);\n"
    )
    assert "Database: postgresql" in (await workspace.require("out/README.md")).content.decode()


async def test_rendered_name_cannot_escape_target(renderer: TemplateRenderer) -> None:
    with pytest.raises(PathNotAllowed):
        await run_fetch(renderer, {**PARAMETERS, "name": "../../etc"})


async def test_existing_files_are_kept_unless_replace(renderer: TemplateRenderer) -> None:
    action = registry(renderer).require("fetch:template")
    workspace = InMemoryWorkspace([WorkspaceFile("README.md", b"mine")])
    skeleton = InMemorySkeletonReader([WorkspaceFile("sk/README.md", b"${{ values.x }}")])
    action = registry(renderer, skeleton).require("fetch:template")
    ctx = context(workspace, base=None)
    await action.run(ctx, {"url": "sk", "values": {"x": "theirs"}})
    assert (await workspace.require("README.md")).content == b"mine"
    assert any("already exists" in line for line in ctx.logs)
    await action.run(ctx, {"url": "sk", "values": {"x": "theirs"}, "replace": True})
    assert (await workspace.require("README.md")).content == b"theirs"


async def test_cookiecutter_compat(renderer: TemplateRenderer) -> None:
    skeleton = InMemorySkeletonReader(
        [WorkspaceFile("sk/{{ cookiecutter.name }}.md", b"# {{ cookiecutter.name }} ${PLAIN}")]
    )
    workspace = InMemoryWorkspace()
    await (
        registry(renderer, skeleton)
        .require("fetch:template")
        .run(context(workspace, None), {"url": "sk", "values": {"name": "docs"}, "cookiecutterCompat": True})
    )
    assert (await workspace.require("docs.md")).content == b"# docs ${PLAIN}"


async def test_template_file_extension(renderer: TemplateRenderer) -> None:
    skeleton = InMemorySkeletonReader(
        [WorkspaceFile("sk/app.py.njk", b"N = ${{ values.n }}"), WorkspaceFile("sk/raw.yaml", b"x: ${{ values.n }}")]
    )
    workspace = InMemoryWorkspace()
    action = registry(renderer, skeleton).require("fetch:template")
    await action.run(context(workspace, None), {"url": "sk", "values": {"n": 1}, "templateFileExtension": True})
    assert (await workspace.require("app.py")).content == b"N = 1"
    assert (await workspace.require("raw.yaml")).content == b"x: ${{ values.n }}"
    with pytest.raises(InvalidActionInput, match="cannot be combined"):
        await action.run(
            context(workspace, None), {"url": "sk", "templateFileExtension": ".njk", "cookiecutterCompat": True}
        )


async def test_copy_without_render_keeps_names_and_contents_raw(renderer: TemplateRenderer) -> None:
    skeleton = InMemorySkeletonReader(
        [
            WorkspaceFile("sk/w/${{ values.n }}.yaml", b"${{ github.sha }}"),
            WorkspaceFile("sk/${{ values.n }}.md", b"${{ values.n }}"),
        ]
    )
    workspace = InMemoryWorkspace()
    ctx = context(workspace, None)
    action = registry(renderer, skeleton).require("fetch:template")
    await action.run(ctx, {"url": "sk", "values": {"n": "x"}, "copyWithoutRender": ["w/*"]})
    assert await workspace.list() == ["w/${{ values.n }}.yaml", "x.md"]
    assert (await workspace.require("w/${{ values.n }}.yaml")).content == b"${{ github.sha }}"
    assert any("deprecated" in line for line in ctx.logs)
    with pytest.raises(InvalidActionInput, match="cannot be used together"):
        await action.run(ctx, {"url": "sk", "copyWithoutRender": ["a"], "copyWithoutTemplating": ["b"]})


async def test_copy_without_templating_still_renders_names(renderer: TemplateRenderer) -> None:
    skeleton = InMemorySkeletonReader([WorkspaceFile("sk/w/${{ values.n }}.yaml", b"${{ github.sha }}")])
    workspace = InMemoryWorkspace()
    action = registry(renderer, skeleton).require("fetch:template")
    await action.run(context(workspace, None), {"url": "sk", "values": {"n": "x"}, "copyWithoutTemplating": ["w/*"]})
    assert (await workspace.require("w/x.yaml")).content == b"${{ github.sha }}"


async def test_fetch_plain_and_plain_file(renderer: TemplateRenderer) -> None:
    workspace = InMemoryWorkspace()
    actions = registry(renderer)
    await actions.require("fetch:plain").run(context(workspace), {"url": "./service/scripts", "targetPath": "bin"})
    run_sh = await workspace.require("bin/run.sh")
    assert run_sh.executable
    assert b"${{ values.name }}" in run_sh.content
    await actions.require("fetch:plain:file").run(
        context(workspace), {"url": "./service/README.md", "targetPath": "docs/README.md"}
    )
    assert (await workspace.require("docs/README.md")).content.startswith(b"# ${{ values.name }}")


async def test_fs_delete_and_rename(renderer: TemplateRenderer) -> None:
    workspace = InMemoryWorkspace(
        [WorkspaceFile("a.txt", b"a"), WorkspaceFile("img/x.png", b"x"), WorkspaceFile("img/y.png", b"y")]
    )
    actions = registry(renderer)
    await actions.require("fs:delete").run(context(workspace), {"files": ["img/*.png", "missing.txt"]})
    assert await workspace.list() == ["a.txt"]
    await actions.require("fs:rename").run(context(workspace), {"files": [{"from": "a.txt", "to": "docs/b.txt"}]})
    assert await workspace.list() == ["docs/b.txt"]
    with pytest.raises(PathNotAllowed):
        await actions.require("fs:delete").run(context(workspace), {"files": ["../outside"]})
    with pytest.raises(PathNotAllowed):
        await actions.require("fs:delete").run(context(workspace), {"files": ["."]})


async def test_debug_log_lists_workspace_and_redacts_secrets(renderer: TemplateRenderer) -> None:
    workspace = InMemoryWorkspace([WorkspaceFile("a.txt", b"hello")])
    ctx = ActionContext(workspace=workspace, secrets={"TOKEN": "s3cr3t"})
    await (
        registry(renderer)
        .require("debug:log")
        .run(ctx, {"message": "token is s3cr3t", "listWorkspace": "with-contents"})
    )
    assert ctx.logs == ["token is ***", "Workspace has 1 file(s):", "a.txt:\nhello"]


async def test_debug_wait_uses_injected_sleep_and_caps(renderer: TemplateRenderer) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    ctx = ActionContext(workspace=InMemoryWorkspace(), sleep=sleep)
    action = registry(renderer).require("debug:wait")
    await action.run(ctx, {"minutes": 1, "seconds": 2, "milliseconds": 500})
    assert slept == [62.5]
    with pytest.raises(InvalidActionInput, match="maximum of 600 s"):
        await action.run(ctx, {"minutes": 11})
