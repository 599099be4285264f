"""The scaffolder over HTTP: Backstage's task API under ``/api/scaffolder/v2`` (same paths and shapes).

``POST /tasks`` validates the values and stores a task that workers run, for a catalog template
(``templateRef``, as in Backstage) or, a blacktop addition, for a template sent with the request
(``template`` plus its skeleton as ``directoryContents``, the body ``POST /dry-run`` takes; platform
admins only, and the task records ``templateInfo.source``); ``GET /tasks/{id}``,
``/events`` and the SSE ``/eventstream`` show its progress; ``/cancel`` stops it; ``/rollback``
(a blacktop addition) undoes what its steps did. ``POST /dry-run`` renders a template with
uploaded skeleton files and no side effects. Every route needs a valid token; tasks run as the
caller, so ``user.ref`` in templates is the caller.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from blacktop.kernel.errors import InputError, NotFoundError, Problem
from blacktop.scaffolder import WorkspaceFile
from blacktop.scaffolder import service as scaffolder_service
from blacktop.scaffolder.service import ScaffolderService

from ..deps import CurrentContext, Services, read_object

router = APIRouter(prefix="/api/scaffolder/v2", tags=["scaffolder"])

MAX_ID = 2**53
After = Annotated[int | None, Query(ge=0, le=MAX_ID, description="only events with ids above this one")]


def _scaffolder(svc: Any) -> ScaffolderService:
    found = svc.extra.get("scaffolder")
    if not isinstance(found, ScaffolderService):
        raise NotFoundError("the scaffolder is not enabled in this blacktop")
    return found


def _json(data: Any, *, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status_code=status, media_type="application/json")


def _user(ctx: Any) -> dict[str, Any]:
    name = ctx.caller.name
    return {"ref": f"user:default/{name}", "entity": {"metadata": {"name": name}}}


def _mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InputError(f"the request field {key!r} must be an object", problems=[Problem(key, "must be an object")])
    return value


def _directory_contents(body: dict[str, Any]) -> list[WorkspaceFile]:
    """``directoryContents`` (``[{path, base64Content, executable?}]``) as files; every bad entry reported."""
    entries = body.get("directoryContents") or []
    if not isinstance(entries, list):
        raise InputError(
            "directoryContents must be a list", problems=[Problem("directoryContents", "send [{path, base64Content}]")]
        )
    files, problems = [], []
    for index, entry in enumerate(entries):
        try:
            content = base64.b64decode(entry.get("base64Content") or "", validate=True)
            files.append(WorkspaceFile(str(entry["path"]), content, executable=bool(entry.get("executable"))))
        except (KeyError, TypeError, AttributeError, binascii.Error) as exc:
            problems.append(Problem(f"directoryContents[{index}]", f"needs path and base64Content ({exc})"))
    if problems:
        raise InputError("directoryContents has invalid entries", problems=problems)
    return files


@router.post("/tasks", operation_id="scaffolder-create-task", status_code=201)
async def create_task(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """Start a task: ``{templateRef | template + directoryContents, values, secrets?}`` -> ``{id}``.

    With ``template`` (the whole Template entity) the skeleton files are captured into the task;
    only platform admins may run such inline templates.
    """
    body = await read_object(request, svc)
    ref, template = body.get("templateRef"), body.get("template")
    values, secrets = _mapping(body, "values"), {str(k): str(v) for k, v in _mapping(body, "secrets").items()}
    created_by = scaffolder_service.creator_ref(ctx.caller)
    scaffolder = _scaffolder(svc)
    if template is not None and ref is not None:
        raise InputError(
            "send either templateRef or template, not both",
            problems=[Problem("template", "leave out templateRef to run the template sent here")],
        )
    if template is not None:
        if not isinstance(template, dict):
            raise InputError("template must be an object", problems=[Problem("template", "send the Template entity")])
        task = await scaffolder.create_inline_task(
            template, values, files=_directory_contents(body), caller=ctx.caller, user=_user(ctx),
            created_by=created_by, secrets=secrets,
        )  # fmt: skip
        return _json({"id": task.id}, status=201)
    if not isinstance(ref, str) or not ref:
        raise InputError(
            "templateRef is required",
            problems=[Problem("templateRef", "name the template to run (or send the whole template as template)")],
        )
    task = await scaffolder.create_task(ref, values, user=_user(ctx), created_by=created_by, secrets=secrets)
    return _json({"id": task.id}, status=201)


@router.get("/tasks", operation_id="scaffolder-list-tasks")
async def list_tasks(
    svc: Services,
    ctx: CurrentContext,
    created_by: str | None = Query(default=None, alias="createdBy"),
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> Response:
    """Tasks newest first: ``{tasks, totalTasks}``."""
    page = await _scaffolder(svc).list_tasks(created_by=created_by, status=status, limit=limit, offset=offset)
    return _json({"tasks": [t.to_dict() for t in page.tasks], "totalTasks": page.total})


@router.get("/tasks/{task_id}", operation_id="scaffolder-get-task")
async def get_task(task_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """One task with its status, plus its steps' progress (``steps``, a blacktop addition)."""
    scaffolder = _scaffolder(svc)
    task = await scaffolder.require_task(task_id)
    body = task.to_dict()
    body["steps"] = [
        {"id": s.step_id, "action": s.action, "status": s.status, "error": s.error, "output": s.outputs()}
        for s in await scaffolder.steps(task_id)
    ]
    return _json(body)


@router.get("/tasks/{task_id}/events", operation_id="scaffolder-task-events")
async def task_events(task_id: str, svc: Services, ctx: CurrentContext, after: After = None) -> Response:
    """The task's events after ``after`` (polling)."""
    events = await _scaffolder(svc).events(task_id, after=after)
    return _json([e.to_dict() for e in events])


@router.get("/tasks/{task_id}/eventstream", operation_id="scaffolder-task-eventstream")
async def task_eventstream(task_id: str, svc: Services, ctx: CurrentContext, after: After = None) -> Response:
    """Server-Sent Events of the task; the stream ends after the ``completion`` event."""
    scaffolder = _scaffolder(svc)
    await scaffolder.require_task(task_id)

    async def stream() -> AsyncIterator[bytes]:
        async for event in scaffolder.follow(task_id, after=after):
            yield f"event: {event.type}\ndata: {json.dumps(event.to_dict(), default=str)}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/tasks/{task_id}/cancel", operation_id="scaffolder-cancel-task")
async def cancel_task(task_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """Cancel the task (a running step is stopped by its worker's heartbeat)."""
    task = await _scaffolder(svc).cancel(task_id, caller=ctx.caller)
    return _json({"status": task.status, "cancelRequested": task.cancel_requested})


@router.post("/tasks/{task_id}/rollback", operation_id="scaffolder-rollback-task")
async def rollback_task(task_id: str, svc: Services, ctx: CurrentContext) -> Response:
    """Undo the task's completed steps in reverse order (blacktop addition)."""
    task = await _scaffolder(svc).rollback(task_id, caller=ctx.caller)
    return _json({"status": task.status, "rollback": task.rollback})


@router.post("/dry-run", operation_id="scaffolder-dry-run")
async def dry_run(request: Request, svc: Services, ctx: CurrentContext) -> Response:
    """``{template, values, secrets?, directoryContents}`` -> log, files, output and steps; no side effects.

    ``directoryContents`` entries are ``{path, base64Content}`` as Backstage sends them, plus an optional
    ``executable`` (blacktop addition) so skeleton scripts keep their mode.
    """
    body = await read_object(request, svc)
    template = body.get("template")
    if not isinstance(template, dict):
        raise InputError("template is required", problems=[Problem("template", "send the whole Template entity")])
    result = await _scaffolder(svc).dry_run(
        template, _mapping(body, "values"), files=_directory_contents(body), user=_user(ctx),
        secrets={str(k): str(v) for k, v in _mapping(body, "secrets").items()},
    )  # fmt: skip
    return _json(result.to_dict())


@router.get("/actions", operation_id="scaffolder-list-actions")
async def list_actions(svc: Services, ctx: CurrentContext) -> Response:
    """Every installed action with its schemas and examples."""
    return _json(_scaffolder(svc).actions())


@router.get("/templating-extensions", operation_id="scaffolder-templating-extensions")
async def templating_extensions(svc: Services, ctx: CurrentContext) -> Response:
    """The filters and globals templates may use."""
    return _json(_scaffolder(svc).renderer.describe_extensions())


@router.get("/templates/{namespace}/{kind}/{name}/parameter-schema", operation_id="scaffolder-parameter-schema")
async def parameter_schema(namespace: str, kind: str, name: str, svc: Services, ctx: CurrentContext) -> Response:
    """The template's parameter pages for the portal form."""
    return _json(await _scaffolder(svc).parameter_schema(namespace, kind, name))
