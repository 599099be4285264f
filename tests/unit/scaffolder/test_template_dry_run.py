"""Dry runs of catalog templates (``ScaffolderService.dry_run_template``) and when task actions apply.

Test design notes: the catalog and the template folders are fakes keyed by ref and folder, so a
test sees which folder the service read; the registry is the built-in actions over whatever the
service hands it, as in production. Refusals are table-driven, each row a reason a dry run cannot
happen, with the error kind the delivery layers map (404, 413, 422) and words of the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import BlacktopError, NotFoundError, TooLargeError
from blacktop.scaffolder import (
    ActionRegistry,
    InMemorySkeletonReader,
    InMemoryTaskStore,
    InMemoryWorkspace,
    InvalidParameters,
    RunnerSettings,
    SkeletonReader,
    Task,
    TaskRunner,
    TaskSpec,
    TemplateRenderer,
    WorkspaceFile,
    builtin_actions,
)
from blacktop.scaffolder.service import MAX_TEMPLATE_DRY_RUN_BYTES, ScaffolderService, TemplateDocument

FOLDER = "file:///templates/hello"
TEMPLATE: dict[str, Any] = {
    "apiVersion": "scaffolder.backstage.io/v1beta3",
    "kind": "Template",
    "metadata": {"name": "hello", "namespace": "team-a"},
    "spec": {
        "type": "service",
        "parameters": {"required": ["name"], "properties": {"name": {"type": "string", "maxLength": 20}}},
        "steps": [
            {"id": "fetch", "action": "fetch:template",
             "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}}},
            {"id": "say", "action": "debug:log", "input": {"message": "made ${{ parameters.name }}"}},
        ],
        "output": {"text": [{"title": "name", "content": "${{ parameters.name }}"}]},
    },
}  # fmt: skip
FILES = [
    WorkspaceFile("template.yaml", b"kind: Template\n"),
    WorkspaceFile("skeleton/README.md", b"# ${{ values.name }}\n"),
    WorkspaceFile("skeleton/run.sh", b"#!/bin/sh\n", executable=True),
]
USER = {"ref": "user:default/dev"}


@dataclass
class Catalog:
    """Templates by ref, as ``CatalogTemplates`` finds them."""

    templates: dict[str, TemplateDocument]

    async def fetch_template(self, ref: str) -> TemplateDocument:
        found = self.templates.get(ref)
        if found is None:
            raise NotFoundError(f"template {ref} is not in the catalog")
        return found


@dataclass
class Folders:
    """Template folders by base URL; remembers what was read."""

    trees: dict[str, list[WorkspaceFile]]
    read: list[tuple[str, str | None]] = field(default_factory=list)

    async def fetch_tree(self, url: str, *, base_url: str | None) -> Sequence[WorkspaceFile]:
        self.read.append((url, base_url))
        return await InMemorySkeletonReader(self.trees[base_url or ""]).fetch_tree(url, base_url=None)

    async def fetch_file(self, url: str, *, base_url: str | None) -> WorkspaceFile:
        raise AssertionError("a template dry run reads the whole folder")


def build(*, folders: Folders | None, max_bytes: int = MAX_TEMPLATE_DRY_RUN_BYTES) -> ScaffolderService:
    renderer, store, clock = TemplateRenderer(), InMemoryTaskStore(), FrozenClock()

    def registry_for(skeletons: SkeletonReader) -> ActionRegistry:
        return ActionRegistry(builtin_actions(skeletons=skeletons, renderer=renderer))

    runner = TaskRunner(
        store=store, registry=registry_for(InMemorySkeletonReader([])), renderer=renderer,
        workspaces=NoWorkspaces(), clock=clock, settings=RunnerSettings(worker="w1"), registry_for=registry_for,
    )  # fmt: skip
    catalog = Catalog({"template:team-a/hello": TemplateDocument(TEMPLATE, "template:team-a/hello", FOLDER)})
    return ScaffolderService(
        store=store, runner=runner, registry=runner.registry, renderer=renderer, templates=catalog,
        dry_run_registry=registry_for, clock=clock, new_id=lambda: "t1", template_folders=folders,
        template_dry_run_max_bytes=max_bytes,
    )  # fmt: skip


class NoWorkspaces:
    def open(self, task_id: str) -> InMemoryWorkspace:
        raise AssertionError("a dry run never opens a task workspace")

    def discard(self, task_id: str) -> None:
        raise AssertionError("a dry run never opens a task workspace")


REFS = {
    "full-ref": "template:team-a/hello",
    "namespace-and-name": "team-a/hello",
    "upper-case-kind": "Template:team-a/hello",
}


@pytest.mark.parametrize("ref", REFS.values(), ids=REFS.keys())
async def test_a_catalog_template_runs_in_memory_over_its_registered_folder(ref: str) -> None:
    folders = Folders({FOLDER: FILES})
    service = build(folders=folders)
    result = await service.dry_run_template(ref, {"name": "svc"}, user=USER)
    assert result.status == "completed", result.error
    assert folders.read == [(".", FOLDER)], "the folder the template was registered from, whole"
    assert [(f.path, f.content, f.executable) for f in result.files] == [
        ("README.md", b"# svc\n", False),
        ("run.sh", b"#!/bin/sh\n", True),
    ]
    assert [s["status"] for s in result.steps] == ["completed", "completed"]
    assert {"body": {"message": "made svc", "stepId": "say"}} in result.log
    assert result.output == {"text": [{"title": "name", "content": "svc"}]}
    assert (await service.list_tasks()).total == 0, "a dry run stores no task"


@dataclass(frozen=True)
class Refusal:
    ref: str
    values: dict[str, Any]
    folders: Folders | None
    max_bytes: int
    error: type[BlacktopError]
    words: tuple[str, ...]
    reads_folder: bool


REFUSALS = {
    "unknown-template": Refusal(
        "template:team-a/nope", {"name": "svc"}, Folders({FOLDER: FILES}), MAX_TEMPLATE_DRY_RUN_BYTES, NotFoundError,
        ("template:team-a/nope",), False,
    ),
    "no-template-folders-here": Refusal(
        "team-a/hello", {"name": "svc"}, None, MAX_TEMPLATE_DRY_RUN_BYTES, NotFoundError,
        ("template:team-a/hello", "not enabled", "blacktop template dry-run"), False,
    ),
    "folder-over-the-limit": Refusal(
        "team-a/hello", {"name": "svc"}, Folders({FOLDER: FILES}), 30, TooLargeError,
        ("template:team-a/hello's folder holds 46 bytes", "at most 30", "blacktop template dry-run"), True,
    ),
    "invalid-values": Refusal(
        "team-a/hello", {"name": "x" * 21}, Folders({FOLDER: FILES}), MAX_TEMPLATE_DRY_RUN_BYTES, InvalidParameters,
        (), True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_template_dry_run_is_refused_with_an_actionable_error(case: Refusal) -> None:
    service = build(folders=case.folders, max_bytes=case.max_bytes)
    with pytest.raises(case.error) as refused:
        await service.dry_run_template(case.ref, case.values, user=USER)
    assert all(w in str(refused.value) for w in case.words), str(refused.value)
    assert bool(case.folders and case.folders.read) is case.reads_folder
    if isinstance(refused.value, InvalidParameters):
        assert [p.path for p in refused.value.problems] == ["name"]


def test_the_default_limit_is_what_the_portal_read_before() -> None:
    assert MAX_TEMPLATE_DRY_RUN_BYTES == 3 * 1024 * 1024


def task(**changes: Any) -> Task:
    spec = TaskSpec(template=TEMPLATE, template_ref="template:team-a/hello", values={})
    return replace(Task(id="t1", spec=spec, status="open", created_at=datetime(2026, 1, 1, tzinfo=UTC)), **changes)


ACTIONS = {
    "open": (task(status="open"), True, False),
    "processing": (task(status="processing"), True, False),
    "processing-cancel-pending": (task(status="processing", cancel_requested=True), False, False),
    "completed": (task(status="completed"), False, True),
    "failed": (task(status="failed"), False, True),
    "cancelled": (task(status="cancelled", cancel_requested=True), False, True),
    "failed-rollback-may-be-retried": (task(status="failed", rollback="failed"), False, True),
    "rolled-back": (task(status="failed", rollback="completed"), False, False),
}


@pytest.mark.parametrize(("state", "cancellable", "undoable"), ACTIONS.values(), ids=ACTIONS.keys())
def test_cancel_and_rollback_apply_only_in_their_states(state: Task, cancellable: bool, undoable: bool) -> None:
    assert state.is_cancellable is cancellable
    assert state.is_undoable is undoable
