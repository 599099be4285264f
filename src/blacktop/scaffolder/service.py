"""The scaffolder's use cases behind the task API and the CLI: create, read, cancel and roll back tasks,
dry-run a template, list actions and a template's parameter schema.

Templates are catalog entities, found through ``TemplateSource`` by ref; the values are
validated against the parameter pages before a task is stored, so a task never starts with
values it would fail on. A template can also be sent with the request (``create_inline_task``,
what ``blacktop template run --file`` uses): it is parsed and linted at once, and its skeleton
files are captured into the task within ``InlineLimits``, because the worker that runs it may
start later, after a restart, or on another machine. Running an inline template can do whatever a
catalog template can, and only platform admins put templates into the catalog (catalog locations
are admin-only), so only platform admins may run inline templates. Dry runs execute in memory
over the uploaded skeleton files with a registry built for them (``RegistryFactory``), so no
repository, catalog entry or GitOps commit is made; a dry run of a catalog template
(``dry_run_template``, the portal's *Dry run*) reads the folder the template was registered from
through ``template_folders`` within ``template_dry_run_max_bytes`` and runs the same way. Ids and
time come from the constructor; IO stays behind ports.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import BlacktopError, NotAllowedError, NotFoundError, Problem, TooLargeError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller

from . import linting, model, parameters, paths, tasks
from .actions import ActionRegistry, TemplateInfo
from .adapters import InMemorySkeletonReader, InMemoryWorkspace
from .errors import InvalidTemplate
from .executing import RunOptions, run_template
from .ports import SkeletonReader, TaskStore, WorkspaceFile
from .running import RegistryFactory, TaskRunner
from .templating import TemplateRenderer

DRY_RUN_REF = "template:default/dry-run"

EVENT_POLL_SECONDS: Final = 0.2
"""How often a followed task's event log is read while the task runs."""


@dataclass(frozen=True, slots=True)
class TemplateDocument:
    """A template entity and the folder (``file:`` URL or path) its skeletons are read from."""

    document: Mapping[str, Any]
    ref: str
    base_url: str | None


class TemplateSource(Protocol):
    """Finds templates in the catalog."""

    async def fetch_template(self, ref: str) -> TemplateDocument:
        """The template ``ref`` names; raises ``NotFoundError``."""
        ...


INLINE_TEMPLATE_GROUPS: Final = frozenset({SYSTEM_GROUP_ADMINS})
"""Callers in one of these groups may run a template sent with the request (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class InlineLimits:
    """How much skeleton an inline task may capture (it is stored with the task)."""

    max_files: int = 1000
    max_file_bytes: int = 1024 * 1024
    max_total_bytes: int = 3 * 1024 * 1024


MAX_TEMPLATE_DRY_RUN_BYTES: Final = 3 * 1024 * 1024
"""How much of a catalog template's folder ``dry_run_template`` reads (as much as an inline task may capture)."""


@dataclass(frozen=True, slots=True)
class DryRunResult:
    """What ``POST /v2/dry-run`` answers: log, file tree with contents, steps and output."""

    status: str
    log: list[dict[str, Any]]
    files: Sequence[WorkspaceFile]
    output: Mapping[str, Any]
    steps: list[dict[str, Any]]
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Backstage's response body, plus ``status`` and ``error``."""
        return {
            "status": self.status,
            "error": self.error,
            "log": self.log,
            "directoryContents": [
                {"path": f.path, "base64Content": base64.b64encode(f.content).decode(), "executable": f.executable}
                for f in self.files
            ],
            "output": dict(self.output),
            "steps": self.steps,
        }


@dataclass
class ScaffolderService:
    """Task and template use cases over the task store, the runner and the catalog."""

    store: TaskStore
    runner: TaskRunner
    registry: ActionRegistry
    renderer: TemplateRenderer
    templates: TemplateSource
    dry_run_registry: RegistryFactory
    clock: Clock
    new_id: Callable[[], str]
    on_created: list[Callable[[], None]] = field(default_factory=list)
    inline_limits: InlineLimits = field(default_factory=InlineLimits)
    template_folders: SkeletonReader | None = None
    """Reads the folder a catalog template was registered from, for ``dry_run_template``; None: not offered."""
    template_dry_run_max_bytes: int = MAX_TEMPLATE_DRY_RUN_BYTES

    async def create_task(
        self, template_ref: str, values: Mapping[str, Any], *, user: Mapping[str, Any], created_by: str,
        secrets: Mapping[str, str] | None = None,
    ) -> tasks.Task:  # fmt: skip
        """Validate ``values`` against the catalog template and store an open task; workers pick it up."""
        found = await self.templates.fetch_template(normalize_template_ref(template_ref))
        template = model.parse_template(found.document, source=found.ref)
        prepared = parameters.validate_values(template, values, renderer=self.renderer)
        parameters.validate_secrets(template, secrets or {})
        spec = tasks.TaskSpec(
            template=found.document, template_ref=found.ref, values=prepared, base_url=found.base_url, user=user
        )
        return await self._store(spec, created_by=created_by, secrets=secrets, note=f"Task created from {found.ref}")

    async def create_inline_task(
        self, document: Mapping[str, Any], values: Mapping[str, Any], *, files: Sequence[WorkspaceFile],
        caller: Caller, user: Mapping[str, Any], created_by: str, secrets: Mapping[str, str] | None = None,
    ) -> tasks.Task:  # fmt: skip
        """Store a task for a template sent with the request, its skeleton ``files`` captured into the task.

        Raises ``NotAllowedError`` unless the caller may run inline templates, ``InvalidTemplate``
        with every problem of the document, ``TooLargeError`` past ``inline_limits``, and the
        parameter errors ``create_task`` raises.
        """
        if not caller.groups & INLINE_TEMPLATE_GROUPS:
            raise NotAllowedError(
                f"{caller.ref} may not run an inline template: a template sent with the request can do anything a "
                "catalog template can, and only platform admins add templates to the catalog. Ask a platform admin to "
                "register it (POST /api/catalog/locations) and run it by name, or use a dry run, which anyone may do"
            )
        template = model.parse_template(document, source="the inline template")
        ref = template.ref.lower()
        problems = linting.lint_template(template, renderer=self.renderer, registry=self.registry)
        if problems:
            raise InvalidTemplate(
                f"inline template {ref} has {len(problems)} problem(s); fix them and send it again", problems=problems
            )
        skeleton = capture_skeleton(files, limits=self.inline_limits)
        prepared = parameters.validate_values(template, values, renderer=self.renderer)
        parameters.validate_secrets(template, secrets or {})
        digest = inline_digest(document, skeleton)
        source: dict[str, Any] = {
            "type": "inline", "sha256": digest, "files": len(skeleton), "bytes": sum(len(f.content) for f in skeleton)
        }  # fmt: skip
        spec = tasks.TaskSpec(
            template=dict(document), template_ref=ref, values=prepared, base_url=None, user=user, source=source,
            skeleton=skeleton,
        )  # fmt: skip
        note = (
            f"Task created from the inline template {ref} (sha256 {digest[:12]}, {len(skeleton)} skeleton "
            f"file(s) captured), sent by {created_by}"
        )
        return await self._store(spec, created_by=created_by, secrets=secrets, note=note)

    async def _store(
        self, spec: tasks.TaskSpec, *, created_by: str, secrets: Mapping[str, str] | None, note: str
    ) -> tasks.Task:
        task = tasks.Task(
            id=self.new_id(), spec=spec, status="open", created_at=self.clock.now(), created_by=created_by
        )
        await self.store.add(task, secrets=dict(secrets or {}))
        await self.store.append_event(task.id, "log", {"message": note}, now=task.created_at)
        for callback in self.on_created:
            callback()
        return task

    async def require_task(self, task_id: str) -> tasks.Task:
        """The task, or ``NotFoundError``."""
        found = await self.store.get(task_id)
        if found is None:
            raise NotFoundError(f"scaffolder task {task_id!r} does not exist; list tasks with `blacktop task list`")
        return found

    async def list_tasks(
        self, *, created_by: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tasks.TaskPage:
        """Tasks newest first."""
        return await self.store.list_tasks(created_by=created_by, status=status, limit=limit, offset=offset)

    async def events(self, task_id: str, *, after: int | None = None) -> list[tasks.TaskEvent]:
        """The task's events after ``after``."""
        await self.require_task(task_id)
        return await self.store.events(task_id, after=after)

    async def follow(
        self, task_id: str, *, after: int | None = None, poll_seconds: float = EVENT_POLL_SECONDS
    ) -> AsyncIterator[tasks.TaskEvent]:
        """The task's events after ``after`` as they are written, ending after ``completion`` or once it has ended."""
        last = after
        while True:
            for event in await self.events(task_id, after=last):
                last = event.id
                yield event
                if event.type == "completion":
                    return
            task = await self.require_task(task_id)
            if task.is_terminal and not await self.events(task_id, after=last):
                return
            await asyncio.sleep(poll_seconds)

    async def steps(self, task_id: str) -> list[tasks.StepRecord]:
        """The task's step records."""
        await self.require_task(task_id)
        return await self.store.steps(task_id)

    async def cancel(self, task_id: str, *, caller: Caller) -> tasks.Task:
        """Cancel an open task, or ask the worker running it to stop (its creator or a platform admin)."""
        require_task_owner(await self.require_task(task_id), caller, "cancel")
        return await self.store.request_cancel(task_id, now=self.clock.now())

    async def rollback(self, task_id: str, *, caller: Caller) -> tasks.Task:
        """Undo what the task's steps did, newest first (its creator or a platform admin)."""
        require_task_owner(await self.require_task(task_id), caller, "roll back")
        await self.runner.rollback(task_id)
        return await self.require_task(task_id)

    async def parameter_schema(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        """The template's parameter pages as the portal form reads them."""
        found = await self.templates.fetch_template(f"{kind.lower()}:{namespace}/{name}")
        return parameters.parameter_schema(model.parse_template(found.document, source=found.ref))

    def actions(self) -> list[dict[str, Any]]:
        """Every installed action as ``GET /v2/actions`` lists it."""
        return [action.describe() for action in self.registry.list()]

    async def dry_run(
        self, document: Mapping[str, Any], values: Mapping[str, Any], *, files: Sequence[WorkspaceFile],
        user: Mapping[str, Any], secrets: Mapping[str, str] | None = None,
    ) -> DryRunResult:  # fmt: skip
        """Run the template in memory over the uploaded skeleton ``files``: no side effects."""
        template = model.parse_template(document, source="dry-run")
        prepared = parameters.validate_values(template, values, renderer=self.renderer)
        registry = self.dry_run_registry(InMemorySkeletonReader(files))
        log: list[dict[str, Any]] = []
        options = RunOptions(
            user=user, secrets=dict(secrets or {}), template_info=TemplateInfo(entity_ref=DRY_RUN_REF, base_url=""),
            task_id="dry-run", dry_run=True,
            log_sink=lambda step_id, line: log.append({"body": {"message": line, "stepId": step_id}}),
        )  # fmt: skip
        result = await run_template(
            template, prepared, registry=registry, renderer=self.renderer, workspace=InMemoryWorkspace(),
            options=options,
        )  # fmt: skip
        steps = [
            {"id": s.id, "name": s.name, "action": s.action, "status": s.status, "output": s.outputs, "error": s.error}
            for s in result.steps
        ]
        return DryRunResult(result.status, log, result.files, result.output, steps, result.error)

    async def dry_run_template(
        self, template_ref: str, values: Mapping[str, Any], *, user: Mapping[str, Any],
        secrets: Mapping[str, str] | None = None,
    ) -> DryRunResult:  # fmt: skip
        """Dry-run a catalog template over the folder it was registered from, as ``dry_run`` runs an upload.

        The folder is what ``blacktop template dry-run`` would upload for a local template: every
        file beside the template file. Raises ``NotFoundError`` for an unknown template,
        ``NotFoundError`` too when this blacktop reads no template folders, ``TooLargeError`` past
        ``template_dry_run_max_bytes``, and whatever ``dry_run`` raises for bad values.
        """
        found = await self.templates.fetch_template(normalize_template_ref(template_ref))
        if self.template_folders is None:
            raise NotFoundError(
                f"dry runs of catalog templates such as {found.ref} are not enabled in this blacktop (it reads no "
                "template folders); run `blacktop template dry-run` on a checkout of the template instead"
            )
        files = await self.template_folders.fetch_tree(".", base_url=found.base_url)
        size = sum(len(f.content) for f in files)
        if size > self.template_dry_run_max_bytes:
            raise TooLargeError(
                f"template {found.ref}'s folder holds {size} bytes; a dry run reads at most "
                f"{self.template_dry_run_max_bytes}. Run `blacktop template dry-run` on a checkout of the template "
                "instead"
            )
        return await self.dry_run(found.document, values, files=files, user=user, secrets=secrets)


def capture_skeleton(files: Sequence[WorkspaceFile], *, limits: InlineLimits) -> tuple[tasks.SkeletonFile, ...]:
    """The uploaded skeleton as task data: paths normalised and unique, no symlinks, within ``limits``."""
    problems: list[Problem] = []
    captured: dict[str, tasks.SkeletonFile] = {}
    total = 0
    for index, file in enumerate(files):
        where = f"directoryContents[{index}]"
        try:
            clean = paths.normalize_path(file.path, what="skeleton path")
        except BlacktopError as exc:
            problems.append(Problem(f"{where}.path", str(exc)))
            continue
        if not clean or file.is_symlink:
            problems.append(Problem(f"{where}.path", f"{file.path!r} must name a regular file inside the folder"))
        elif clean in captured:
            problems.append(Problem(f"{where}.path", f"{clean!r} is sent twice"))
        elif len(file.content) > limits.max_file_bytes:
            problems.append(Problem(f"{where}.base64Content", f"{clean!r} is over {limits.max_file_bytes} bytes"))
        else:
            captured[clean] = tasks.SkeletonFile(clean, file.content, file.executable)
            total += len(file.content)
    if len(captured) > limits.max_files or total > limits.max_total_bytes:
        raise TooLargeError(
            f"the inline template's skeleton has {len(captured)} file(s) and {total} bytes; an inline task may "
            f"capture at most {limits.max_files} files and {limits.max_total_bytes} bytes. Leave build output and "
            "other large files out of the template's folder, or register the template in the catalog"
        )
    if problems:
        raise InvalidTemplate("the inline template's skeleton files are not usable", problems=problems)
    return tuple(captured[p] for p in sorted(captured))


def inline_digest(document: Mapping[str, Any], skeleton: Sequence[tasks.SkeletonFile]) -> str:
    """sha256 over the template document and its skeleton, recorded so a run can be traced to what was sent."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode())
    for file in skeleton:
        digest.update(b"\0" + file.path.encode() + b"\0" + (b"x" if file.executable else b"-"))
        digest.update(hashlib.sha256(file.content).digest())
    return digest.hexdigest()


def normalize_template_ref(ref: str) -> str:
    """``name``, ``ns/name`` or ``template:ns/name`` as a full template ref (kind defaults to template)."""
    kind, colon, rest = ref.partition(":")
    if not colon:
        kind, rest = "template", ref
    namespace, slash, name = rest.partition("/")
    if not slash:
        namespace, name = "default", rest
    return f"{kind.lower()}:{namespace}/{name}"


def creator_ref(caller: Caller) -> str:
    """How a task records the user who created it (``createdBy``, Backstage's user entity ref)."""
    return f"user:default/{caller.name}"


def require_task_owner(task: tasks.Task, caller: Caller, verb: str) -> None:
    """Refuse ``verb`` on ``task`` unless ``caller`` created it or is a platform admin.

    Cancelling stops someone's work and a rollback deletes what the task created (repositories,
    catalog locations, Argo CD applications), so neither is open to every signed-in user.
    """
    if SYSTEM_GROUP_ADMINS in caller.groups or task.created_by == creator_ref(caller):
        return
    raise NotAllowedError(
        f"{caller.ref} may not {verb} task {task.id}: only the user who created it "
        f"({task.created_by or 'unknown'}) or a platform admin may"
    )
