"""Inline templates: who may run them, what is captured into the task, and that a worker runs the capture.

Test design notes: the service and the runner share an in-memory store. The task spec is sent
through JSON (what the SQL store does) before a fresh runner runs it, so the captured skeleton
is checked to survive storage; the runner's workspace is kept to read what ``fetch:template`` wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import NotAllowedError, TooLargeError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller
from blacktop.scaffolder import (
    ActionRegistry,
    InMemoryTaskStore,
    InMemoryWorkspace,
    RunnerSettings,
    SkeletonReader,
    TaskRunner,
    TaskSpec,
    TemplateRenderer,
    WorkspaceFile,
    builtin_actions,
)
from blacktop.scaffolder.errors import InvalidTemplate
from blacktop.scaffolder.service import InlineLimits, ScaffolderService, capture_skeleton, inline_digest
from blacktop.scaffolder.tasks import SkeletonFile

ADMIN = Caller("ada", frozenset({SYSTEM_GROUP_ADMINS}))
DEVELOPER = Caller("dev", frozenset({"team-a"}))
TEMPLATE: dict[str, Any] = {
    "apiVersion": "scaffolder.backstage.io/v1beta3",
    "kind": "Template",
    "metadata": {"name": "Hello", "namespace": "team-a"},
    "spec": {
        "type": "service",
        "parameters": {"required": ["name"], "properties": {"name": {"type": "string"}}},
        "steps": [
            {
                "id": "fetch",
                "action": "fetch:template",
                "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
            }
        ],
    },
}
FILES = [
    WorkspaceFile("skeleton/README.md", b"# ${{ values.name }}\n"),
    WorkspaceFile("skeleton/run.sh", b"#!/bin/sh\n", executable=True),
]


class NoCatalog:
    async def fetch_template(self, ref: str) -> Any:
        raise AssertionError("an inline task never reads the catalog")


@dataclass
class KeptWorkspaces:
    workspace: InMemoryWorkspace

    def open(self, task_id: str) -> InMemoryWorkspace:
        return self.workspace

    def discard(self, task_id: str) -> None:
        pass


def build() -> tuple[ScaffolderService, InMemoryTaskStore, TaskRunner, InMemoryWorkspace]:
    renderer, store, clock = TemplateRenderer(), InMemoryTaskStore(), FrozenClock()

    def registry_for(skeletons: SkeletonReader) -> ActionRegistry:
        return ActionRegistry(builtin_actions(skeletons=skeletons, renderer=renderer))

    class NoDisk:
        async def fetch_tree(self, url: str, *, base_url: str | None) -> Any:
            raise AssertionError("an inline task never reads skeletons from the worker's disk")

        async def fetch_file(self, url: str, *, base_url: str | None) -> Any:
            raise AssertionError("an inline task never reads skeletons from the worker's disk")

    workspace = InMemoryWorkspace()
    runner = TaskRunner(
        store=store, registry=registry_for(NoDisk()), renderer=renderer, workspaces=KeptWorkspaces(workspace),
        clock=clock, settings=RunnerSettings(worker="w1"), registry_for=registry_for,
    )  # fmt: skip
    service = ScaffolderService(
        store=store, runner=runner, registry=runner.registry, renderer=renderer, templates=NoCatalog(),
        dry_run_registry=registry_for, clock=clock, new_id=lambda: "t1", inline_limits=InlineLimits(max_files=5),
    )  # fmt: skip
    return service, store, runner, workspace


async def create(service: ScaffolderService, caller: Caller = ADMIN, **changes: Any) -> Any:
    return await service.create_inline_task(
        changes.get("document", TEMPLATE), changes.get("values", {"name": "svc"}), files=changes.get("files", FILES),
        caller=caller, user={"ref": f"user:default/{caller.name}"}, created_by=f"user:default/{caller.name}",
    )  # fmt: skip


async def test_a_captured_skeleton_survives_storage_and_runs_without_the_folder() -> None:
    service, store, runner, workspace = build()
    task = await create(service)
    stored = TaskSpec.from_dict(json.loads(json.dumps(task.spec.to_dict())))
    assert stored == task.spec and stored.is_inline
    assert stored.skeleton == (
        SkeletonFile("skeleton/README.md", b"# ${{ values.name }}\n"),
        SkeletonFile("skeleton/run.sh", b"#!/bin/sh\n", executable=True),
    )
    assert task.spec.template_ref == "template:team-a/hello"
    assert task.spec.source == {"type": "inline", "sha256": inline_digest(TEMPLATE, stored.skeleton), "files": 2,
                                "bytes": 31}  # fmt: skip
    assert "skeleton" not in task.to_dict()["spec"], "the API never serves the captured files"
    await store.add(replace(task, id="t2", spec=stored), secrets={})
    assert await runner.run_once() == "t1"
    assert await runner.run_once() == "t2"
    assert (await store.get("t2")).status == "completed"  # type: ignore[union-attr]
    assert (await workspace.require("README.md")).content == b"# svc\n"
    assert (await workspace.require("run.sh")).executable


async def test_only_platform_admins_may_run_inline_templates() -> None:
    service, store, _, _ = build()
    with pytest.raises(NotAllowedError, match="user:dev may not run an inline template"):
        await create(service, DEVELOPER)
    assert (await store.list_tasks()).total == 0


REFUSALS: dict[str, tuple[dict[str, Any], type[Exception], list[str]]] = {
    "no-steps-or-type": (
        {"document": {**TEMPLATE, "spec": {"parameters": {}}}},
        InvalidTemplate,
        ["spec.type", "spec.steps"],
    ),
    "unknown-action": (
        {"document": {**TEMPLATE, "spec": {"type": "x", "steps": [{"action": "no:such"}]}}},
        InvalidTemplate,
        ["spec.steps[0].action"],
    ),
    "escaping-path": ({"files": [WorkspaceFile("../x", b"")]}, InvalidTemplate, ["directoryContents[0].path"]),
    "twice": (
        {"files": [WorkspaceFile("a/b", b""), WorkspaceFile("a//b", b"")]},
        InvalidTemplate,
        ["directoryContents[1].path"],
    ),
    "symlink": ({"files": [WorkspaceFile("a", symlink="/etc")]}, InvalidTemplate, ["directoryContents[0].path"]),
    "too-many-files": ({"files": [WorkspaceFile(f"f{i}", b"") for i in range(6)]}, TooLargeError, []),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_bad_inline_templates_are_refused_before_a_task_exists(
    case: tuple[dict[str, Any], type[Exception], list[str]],
) -> None:
    changes, error, paths = case
    service, store, _, _ = build()
    with pytest.raises(error) as raised:
        await create(service, **changes)
    assert [p.path for p in getattr(raised.value, "problems", ())] == paths
    assert (await store.list_tasks()).total == 0


def test_capture_limits_bytes_per_file_and_in_total() -> None:
    limits = InlineLimits(max_files=10, max_file_bytes=4, max_total_bytes=6)
    with pytest.raises(InvalidTemplate) as raised:
        capture_skeleton([WorkspaceFile("big", b"12345")], limits=limits)
    assert [p.path for p in raised.value.problems] == ["directoryContents[0].base64Content"]
    with pytest.raises(TooLargeError, match="at most 10 files and 6 bytes"):
        capture_skeleton([WorkspaceFile("a", b"1234"), WorkspaceFile("b", b"1234")], limits=limits)


@given(st.binary(max_size=64), st.binary(max_size=64), st.booleans())
def test_the_digest_changes_with_any_file_byte_or_mode(first: bytes, second: bytes, executable: bool) -> None:
    one = (SkeletonFile("a", first),)
    other = (SkeletonFile("a", second, executable),)
    same = first == second and not executable
    assert (inline_digest(TEMPLATE, one) == inline_digest(TEMPLATE, other)) == same
