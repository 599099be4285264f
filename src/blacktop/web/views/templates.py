"""Golden paths: the template list, a template's parameter form, dry runs, and tasks with their live log.

The form is drawn from ``ScaffolderService.parameter_schema`` (``forms.form_pages``) and submitted
values go to ``ScaffolderService.create_task`` or ``dry_run_template``, so validation, its messages
and RBAC are the scaffolder's, exactly as for ``POST /api/scaffolder/v2/tasks``; the dry run reads
the folder the template was registered from and runs it in memory. The task log streams over a
cookie-authenticated SSE route that reads the same task events ``/eventstream`` does. The task
page's *Cancel* and *Roll back* forms call ``ScaffolderService.cancel`` and ``rollback`` exactly as
``POST /api/scaffolder/v2/tasks/{id}/cancel`` and ``/rollback`` do, for the same callers (any
signed-in user, as any authenticated API caller), and are shown only while they apply
(``Task.is_cancellable``, ``Task.is_undoable``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from blacktop import scaffolder
from blacktop.apiserver import RequestContext
from blacktop.catalog import querying, records
from blacktop.catalog.service import CatalogService
from blacktop.kernel.errors import Problem
from blacktop.scaffolder.service import creator_ref, normalize_template_ref

from .. import forms, sessions
from ..rendering import PREFIX, PortalRoute, renderer
from ..services import portal

router = APIRouter(route_class=PortalRoute)
SignedIn = Annotated[RequestContext, Depends(sessions.signed_in)]

LOG_EVENTS: Final = frozenset({"log", "rollback"})
"""Task events the page's log shows: the run's lines and, after a rollback, what each undo did."""
TASK_PAGE_SIZE: Final = 25
MAX_SUGGESTIONS: Final = 500


def task_user(ctx: RequestContext) -> dict[str, Any]:
    """The ``user`` a task sees (``user.ref`` in templates), as the task API builds it."""
    name = ctx.caller.name
    return {"ref": f"user:default/{name}", "entity": {"metadata": {"name": name}}}


@router.get("/templates", name="portal-templates")
async def templates_page(request: Request, ctx: SignedIn) -> Response:
    """Every template in the catalog."""
    service = portal(request).catalog()
    found = await service.query(
        records.EntityQuery(
            filter=querying.EntityFilter(((querying.Condition("kind", ("template",)),),)),
            order=querying.parse_order(["metadata.name,asc"], style="suffix"),
        )
    )
    items = []
    for entity in found.items:
        metadata: Mapping[str, Any] = entity.document.get("metadata") or {}
        spec: Mapping[str, Any] = entity.document.get("spec") or {}
        items.append({
            "namespace": entity.ref.namespace, "name": metadata.get("name") or entity.ref.name,
            "title": metadata.get("title") or metadata.get("name"), "description": metadata.get("description") or "",
            "tags": list(metadata.get("tags") or []), "owner": spec.get("owner") or "", "type": spec.get("type") or "",
            "ref": entity.ref.key,
        })  # fmt: skip
    return renderer(request).page(request, "templates/list.html", templates=items)


async def _form_page(
    request: Request, namespace: str, name: str, *, status: int = 200, submitted: Mapping[str, list[str]] | None = None,
    problems: tuple[Problem, ...] = (), message: str = "",
) -> Response:  # fmt: skip
    services = portal(request)
    schema = await services.scaffolder().parameter_schema(namespace, "template", name)
    pages = forms.form_pages(schema)
    by_field, other = forms.field_errors(problems, [f.name for p in pages for f in p.fields])
    suggestions = {
        f.name: await _entity_choices(services.catalog(), f.picker_kinds) for p in pages for f in p.fields
        if f.picker_kinds
    }  # fmt: skip
    return renderer(request).page(
        request, "templates/form.html", status=status, schema=schema, pages=pages, namespace=namespace, name=name,
        submitted=submitted, field_errors=by_field, other_errors=other, message=message, suggestions=suggestions,
    )  # fmt: skip


async def _entity_choices(service: CatalogService, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(ref, title)`` of the catalog entities an entity-picker field offers, by name."""
    found = await service.query(
        records.EntityQuery(
            filter=querying.EntityFilter(((querying.Condition("kind", tuple(k.lower() for k in kinds)),),)),
            order=querying.parse_order(["metadata.name,asc"], style="suffix"), limit=MAX_SUGGESTIONS,
        )
    )  # fmt: skip
    choices = []
    for entity in found.items:
        metadata: Mapping[str, Any] = entity.document.get("metadata") or {}
        choices.append((entity.ref.key, str(metadata.get("title") or metadata.get("name") or entity.ref.name)))
    return choices


@router.get("/templates/{namespace}/{name}", name="portal-template")
async def template_page(request: Request, ctx: SignedIn, namespace: str, name: str) -> Response:
    """The template's parameter form."""
    return await _form_page(request, namespace, name)


@router.post("/templates/{namespace}/{name}", name="portal-template-submit")
async def submit_template(request: Request, ctx: SignedIn, namespace: str, name: str) -> Response:
    """``action=dry-run`` renders the result in place; ``action=create`` starts a task and opens its page."""
    form = await sessions.read_form(request)
    service = portal(request).scaffolder()
    schema = await service.parameter_schema(namespace, "template", name)
    values = forms.parse_values(schema, form)
    ref = normalize_template_ref(f"template:{namespace}/{name}")
    try:
        if sessions.first(form, "action") == "dry-run":
            return await _dry_run(request, ctx, ref, values, form=form, namespace=namespace, name=name)
        task = await service.create_task(ref, values, user=task_user(ctx), created_by=creator_ref(ctx.caller))
    except scaffolder.InvalidParameters as exc:
        return await _form_page(
            request, namespace, name, status=422, submitted=form, problems=exc.problems, message=str(exc)
        )
    return RedirectResponse(f"{PREFIX}/tasks/{task.id}", status_code=303)


async def _dry_run(
    request: Request, ctx: RequestContext, ref: str, values: dict[str, Any], *, form: Mapping[str, list[str]],
    namespace: str, name: str,
) -> Response:  # fmt: skip
    result = await portal(request).scaffolder().dry_run_template(ref, values, user=task_user(ctx))
    tree = sorted((f.path, len(f.content), f.executable) for f in result.files)
    return renderer(request).page(
        request, "templates/dry_run.html", namespace=namespace, name=name, result=result, tree=tree,
        output_links=_links(result.output), submitted=form,
    )  # fmt: skip


def _links(output: Mapping[str, Any] | None) -> list[dict[str, str]]:
    links = []
    for link in (output or {}).get("links") or []:
        if isinstance(link, Mapping):
            entity_ref = str(link.get("entityRef") or "")
            links.append({
                "title": str(link.get("title") or link.get("url") or entity_ref),
                "url": str(link.get("url") or ""), "entity_ref": entity_ref,
            })  # fmt: skip
    return links


@router.get("/tasks", name="portal-tasks")
async def tasks_page(request: Request, ctx: SignedIn, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Tasks, newest first."""
    found = await portal(request).scaffolder().list_tasks(limit=TASK_PAGE_SIZE, offset=(page - 1) * TASK_PAGE_SIZE)
    return renderer(request).page(
        request, "templates/tasks.html", tasks=found.tasks, total=found.total, page=page,
        has_next=page * TASK_PAGE_SIZE < found.total,
    )  # fmt: skip


@router.get("/tasks/{task_id}", name="portal-task")
async def task_page(request: Request, ctx: SignedIn, task_id: str) -> Response:
    """A task: status, steps, the log so far (streamed live by portal.js) and its output links."""
    service = portal(request).scaffolder()
    task = await service.require_task(task_id)
    events = await service.events(task_id)
    steps = await service.steps(task_id)
    return renderer(request).page(
        request, "templates/task.html", task=task, steps=steps, log=[e for e in events if e.type in LOG_EVENTS],
        last_event=events[-1].id if events else 0, output_links=_links(task.output),
        template_ref=task.spec.template_ref, done=request.query_params.get("done", ""),
    )  # fmt: skip


@router.post("/tasks/{task_id}/cancel", name="portal-task-cancel")
async def cancel_task(request: Request, ctx: SignedIn, task_id: str) -> Response:
    """Cancel the task, as ``POST /api/scaffolder/v2/tasks/{id}/cancel`` does (its worker stops a running step)."""
    await sessions.read_form(request)
    await portal(request).scaffolder().cancel(task_id, caller=ctx.caller)
    return RedirectResponse(f"{PREFIX}/tasks/{quote(task_id, safe='')}?done=cancel", status_code=303)


@router.post("/tasks/{task_id}/rollback", name="portal-task-rollback")
async def rollback_task(request: Request, ctx: SignedIn, task_id: str) -> Response:
    """Undo what the finished task's steps did, newest first, as ``POST /api/scaffolder/v2/tasks/{id}/rollback``."""
    await sessions.read_form(request)
    await portal(request).scaffolder().rollback(task_id, caller=ctx.caller)
    return RedirectResponse(f"{PREFIX}/tasks/{quote(task_id, safe='')}?done=rollback", status_code=303)


@router.get("/tasks/{task_id}/events", name="portal-task-events")
async def task_events(
    request: Request, ctx: SignedIn, task_id: str, after: Annotated[int | None, Query(ge=0, le=2**53)] = None
) -> Response:
    """Server-Sent Events of the task for the task page (the API's stream, authenticated by the session cookie)."""
    service = portal(request).scaffolder()
    await service.require_task(task_id)

    async def stream() -> AsyncIterator[bytes]:
        async for event in service.follow(task_id, after=after):
            yield f"event: {event.type}\ndata: {json.dumps(event.to_dict(), default=str)}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
