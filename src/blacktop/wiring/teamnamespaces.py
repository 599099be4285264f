"""Wiring TeamNamespaces: the kind, its controller, the admission policy and the GitOps output.

The controller reads the TeamNamespace and the RoleBindings stored in its namespace, asks the pure
planner (``tenancy.teamnamespaces.reconcile``) what to change, and returns an engine plan: bindings
to create and delete, and the status. Two effects cannot be plan actions: updating an owned binding
whose subjects changed (plans only create or delete children; deleting and recreating would leave
the team without access in between), which goes through the write pipeline as
``service:teamnamespace-controller``; and the commit of the rendered manifests to the platform's
GitOps repository (``tenancy/teamnamespaces/<name>/``), skipped when the digest in status and the
files in the folder already match. The finalizer deletes the owned bindings and the folder.

At start-up the ``teamnamespace-rules`` ValidatingPolicy is applied, so semantically invalid
objects (a default request above its limit) are refused with a 422 naming the field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final, Protocol

from blacktop import engine, tenancy
from blacktop.apiserver import RequestContext
from blacktop.apiserver.adapters import PipelineWriter
from blacktop.kernel.errors import BlacktopError, InputError, UnavailableError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.ports import ListPage, ListQuery
from blacktop.kernel.resources import Resource
from blacktop.tenancy import teamnamespaces as tns

from . import Wiring

log = logging.getLogger("blacktop.teamnamespaces")

CALLER: Final = service_caller("teamnamespace-controller")
REPOSITORY: Final = "platform/gitops"
RETRY: Final = timedelta(seconds=10)


class ObjectReader(Protocol):
    """Lists stored objects (the resource store)."""

    async def list(self, query: ListQuery) -> ListPage:
        """A page of matching objects."""
        ...


class ManifestRepository(Protocol):
    """The GitOps repository as the controller uses it (``LocalGitRepository`` is one)."""

    def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix`` at the branch head."""
        ...

    def head(self) -> str | None:
        """The branch head commit."""
        ...

    async def awrite(self, files: Mapping[str, str | bytes | None], *, message: str) -> str | None:
        """Commit ``files`` (None deletes); None when nothing changed."""
        ...


class TeamNamespaceController:
    """The engine controller of ``TeamNamespace.platform.company.io``."""

    group: str = tns.kind.GROUP
    kind: str = tns.kind.KIND
    finalizer: str | None = tns.FINALIZER

    def __init__(self, *, store: ObjectReader, writer: engine.ResourceWriter, repository: ManifestRepository) -> None:
        self._store = store
        self._writer = writer
        self._repo = repository

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Bindings in sync, manifests committed, status Ready/Synced with the summary."""
        try:
            team_ns = tns.parse_team_namespace(obj)
        except InputError as exc:
            return _failed(obj, ctx, "InvalidSpec", _describe(exc))
        changes = tns.reconcile.plan_bindings(team_ns, obj, await self._bindings(team_ns.namespace))
        if changes.conflicts:
            return _failed(obj, ctx, "BindingConflict", "; ".join(changes.conflicts))
        for key, patch in changes.update:
            await self._writer.patch(key, patch, expected_version=None)
        try:
            published = await self._publish(team_ns, previous=tns.reconcile.Published.from_status(obj.get("status")))
        except UnavailableError as exc:
            message = f"the GitOps repository {REPOSITORY} is unavailable: {exc}"
            return _failed(obj, ctx, "GitOpsUnavailable", message, synced_only=True).requeue(RETRY)
        except BlacktopError as exc:
            return _failed(obj, ctx, "GitOpsFailed", _describe(exc), synced_only=True).requeue(RETRY)
        children: list[engine.Action] = [engine.CreateChild(b) for b in changes.create]
        children += [engine.DeleteChild(k) for k in changes.delete]
        bindings = changes.desired
        synced = engine.ConditionUpdate(
            "Synced", True, "Committed",
            f"{published.files} manifest(s) in {REPOSITORY}:{published.path} at {(published.commit or '')[:12]}",
        )  # fmt: skip
        ready = engine.ConditionUpdate(
            "Ready", True, "Provisioned", tns.reconcile.ready_message(team_ns, bindings=bindings, published=published)
        )
        fields = tns.reconcile.status_fields(team_ns, bindings=bindings, published=published)
        status = engine.plan_status(obj, now=ctx.now, conditions=[synced, ready], fields=fields)
        return engine.Plan(actions=(*children, *status.actions))

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Delete the owned bindings and the GitOps folder."""
        meta = obj.get("metadata") or {}
        name = str(meta.get("name"))
        folder = tns.rendering.folder_for(name)
        try:
            stale = await asyncio.to_thread(self._repo.list_files, folder)
            if stale:
                await self._repo.awrite(dict.fromkeys(stale), message=f"tenancy: remove {tns.kind.KIND} {name}")
        except UnavailableError as exc:
            message = f"cannot remove {folder} from {REPOSITORY}: {exc}"
            return _failed(obj, ctx, "GitOpsUnavailable", message, synced_only=True).requeue(RETRY)
        owned = tns.reconcile.plan_cleanup(str(meta.get("uid") or ""), await self._bindings(name))
        return engine.Plan(actions=tuple(engine.DeleteChild(k) for k in owned))

    async def _bindings(self, namespace: str) -> list[Resource]:
        found: list[Resource] = []
        token: str | None = None
        while True:
            query = ListQuery(
                group=tenancy.kinds.GROUP, kind="RoleBinding", namespace=namespace, limit=500, continue_token=token
            )
            page = await self._store.list(query)
            found.extend(page.items)
            token = page.continue_token
            if not token:
                return found

    async def _publish(
        self, team_ns: tns.TeamNamespace, *, previous: tns.reconcile.Published | None
    ) -> tns.reconcile.Published:
        files = tns.rendering.render_files(team_ns)
        digest = tns.reconcile.digest(files)
        folder = tns.rendering.folder_for(team_ns.name)
        existing = set(await asyncio.to_thread(self._repo.list_files, folder))
        if previous is not None and previous.digest == digest and existing == set(files):
            return previous
        changes: dict[str, str | None] = {**dict.fromkeys(existing - set(files)), **files}
        message = f"tenancy: {tns.kind.KIND} {team_ns.name} (generation {team_ns.generation})"
        commit = await self._repo.awrite(changes, message=message)
        if commit is None:
            commit = await asyncio.to_thread(self._repo.head)
        return tns.reconcile.Published(REPOSITORY, folder, commit, digest, len(files))


def _describe(exc: BlacktopError) -> str:
    problems = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in getattr(exc, "problems", ()))
    return f"{exc} ({problems})" if problems else str(exc)


def _failed(
    obj: Resource, ctx: engine.ReconcileContext, reason: str, message: str, *, synced_only: bool = False
) -> engine.Plan:
    """Ready (unless only the sync failed and it was Ready) and Synced False with ``reason``."""
    conditions = [engine.ConditionUpdate("Synced", False, reason, message)]
    if not synced_only or not _was_ready(obj):
        conditions.append(engine.ConditionUpdate("Ready", False, reason, message))
    return engine.plan_status(obj, now=ctx.now, conditions=conditions)


def _was_ready(obj: Mapping[str, Any]) -> bool:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


async def ensure_policy(w: Wiring) -> None:
    """Apply the ``teamnamespace-rules`` ValidatingPolicy (created, updated, or left unchanged)."""
    ctx = RequestContext(caller=CALLER, request_id="teamnamespace-policy")
    results = await w.resources.apply(ctx, [("teamnamespaces", tns.admission.policy_document())])
    for result in results:
        if result.action != "unchanged":
            log.info("ValidatingPolicy %s %s", tns.admission.POLICY_NAME, result.action)


def wire(w: Wiring) -> None:
    """Register the TeamNamespace kind, its controller and the start-up policy."""
    w.add_kinds([tns.TEAM_NAMESPACE])
    controller = TeamNamespaceController(store=w.store, writer=PipelineWriter(w.resources, CALLER), repository=w.gitops)
    w.controllers.append(controller)

    async def start() -> None:
        await ensure_policy(w)

    w.startup.append(start)


__all__ = ["ManifestRepository", "ObjectReader", "TeamNamespaceController", "ensure_policy", "wire"]
