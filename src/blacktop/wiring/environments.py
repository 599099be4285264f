"""Wiring preview environments into the platform: the kind, its admission policy and its controller.

The controller is the IO shell around ``environments.reconcile``: it reads the preview's claims
from the store, resolves ``service`` dependencies in the catalog (``w.services["catalog"]``, looked
up on use so the order of ``FEATURES`` does not matter), commits the rendered manifests to the
platform's GitOps repository, and turns the planner's decision into an engine plan. Claims are
created and deleted, and an expired preview is deleted, through the engine's writer: the write
pipeline, as ``controller-manager``, authorised and audited like any other write.

Configuration: ``BLACKTOP_PREVIEW_REGISTRY`` names the registry of the per-commit images (default
``ghcr.io``); the Argo CD Application syncs from the built-in git host's ``platform/gitops``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from blacktop import engine, environments
from blacktop.apiserver import RequestContext
from blacktop.environments import reconcile as planning
from blacktop.environments import rendering
from blacktop.integrations import LocalGitRepository
from blacktop.kernel.errors import BlacktopError, InputError, NotFoundError, TemporaryFailure
from blacktop.kernel.identity import service_caller
from blacktop.kernel.kinds import KindRegistry
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import Resource, ResourceKey
from blacktop.scaffolder.argocd import plan_application
from blacktop.store import SqlResourceStore

from . import Wiring
from .scaffolder import public_url

log = logging.getLogger("blacktop.environments")

CALLER: Final = service_caller("environments")
REGISTRY_VARIABLE: Final = "BLACKTOP_PREVIEW_REGISTRY"
KUBERNETES_NAMESPACE_ANNOTATION: Final = "backstage.io/kubernetes-namespace"


class CatalogServices:
    """Resolves ``service`` dependencies to catalog Components (``component:default/<name>``)."""

    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services

    async def resolve(self, dependency: environments.Dependency) -> planning.ServiceResolution:
        """The in-cluster target of the Component named like the dependency, or why there is none."""
        catalog = self._services.get("catalog")
        if catalog is None:
            return planning.ServiceResolution(None, "no catalog is wired; service dependencies cannot be resolved")
        try:
            entity = await catalog.get_by_name("Component", "default", dependency.name)
        except NotFoundError:
            return planning.ServiceResolution(
                None, f"component:default/{dependency.name} is not in the catalog; register it or fix the name"
            )
        metadata = entity.document.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        where = str(annotations.get(KUBERNETES_NAMESPACE_ANNOTATION) or metadata.get("namespace") or "default")
        name = str(metadata.get("name") or dependency.name)
        target = rendering.ServiceTarget(
            component=f"component:{metadata.get('namespace') or 'default'}/{name}",
            host=f"{name}.{where}.svc.cluster.local",
            port=dependency.port or 80,
        )
        return planning.ServiceResolution(target)


class PreviewController:
    """The engine controller of ``PreviewEnvironment``."""

    group = environments.GROUP
    kind = environments.KIND
    finalizer = environments.FINALIZER

    def __init__(
        self,
        *,
        store: SqlResourceStore,
        kinds: KindRegistry,
        gitops: LocalGitRepository,
        settings: rendering.RenderSettings,
        catalog: CatalogServices,
    ) -> None:
        self._store = store
        self._kinds = kinds
        self._gitops = gitops
        self._settings = settings
        self._catalog = catalog

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Expire, or create the claims, commit the manifests and report status."""
        try:
            preview = environments.parse_preview(obj)
        except InputError as exc:
            return to_engine_plan(obj, planning.invalid(exc.problems), ctx)
        if planning.is_expired(preview, now=ctx.now):
            log.info("preview %s/%s expired at %s; deleting it", preview.namespace, preview.name, preview.expires_at)
            observed = planning.Observed()
        else:
            self._require_claim_kinds(preview)
            services = {
                d.name: await self._catalog.resolve(d) for d in preview.spec.dependencies if d.type == "service"
            }
            sync = await self._sync(preview, services)
            observed = planning.Observed(claims=await self._claims(preview), services=services, sync=sync)
        decision = planning.plan_preview(preview, observed, now=ctx.now, settings=self._settings)
        return to_engine_plan(obj, decision, ctx)

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Withdraw the GitOps files, delete the claims, and hold the finalizer until they are gone."""
        meta = obj.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or "default"), str(meta["name"])
        application = rendering.application_path_for(namespace, name)
        try:
            present = await asyncio.to_thread(self._gitops.list_files, environments.model.folder_for(namespace, name))
            present += await asyncio.to_thread(self._gitops.list_files, application)
            if present:
                message = f"preview {namespace}/{name}: remove (deleted)"
                await self._gitops.awrite(dict.fromkeys(present), message=message)
        except BlacktopError as exc:
            delay = timedelta(seconds=5)
            raise TemporaryFailure(f"could not remove the preview's GitOps files: {exc}", delay=delay) from exc
        claims = await self._claims_of(namespace, name)
        return to_engine_plan(obj, planning.plan_cleanup(claims, expired_ttl=_expired_ttl(obj, ctx)), ctx)

    def _require_claim_kinds(self, preview: environments.Preview) -> None:
        for dependency in preview.spec.dependencies:
            kind = planning.CLAIM_KINDS.get(dependency.type)
            if kind is not None and self._kinds.get(environments.GROUP, kind) is None:
                raise TemporaryFailure(
                    f"kind {kind}.{environments.GROUP} is not served yet (the built-in resources profile registers it "
                    "at start); the preview waits for it",
                    delay=timedelta(seconds=2),
                )

    async def _claims(self, preview: environments.Preview) -> dict[planning.ClaimKey, Mapping[str, Any]]:
        return await self._claims_of(preview.namespace, preview.name)

    async def _claims_of(self, namespace: str, name: str) -> dict[planning.ClaimKey, Mapping[str, Any]]:
        found: dict[planning.ClaimKey, Mapping[str, Any]] = {}
        for kind in planning.CLAIM_KINDS.values():
            token: str | None = None
            while True:
                page = await self._store.list(
                    ListQuery(group=environments.GROUP, kind=kind, namespace=namespace, limit=500, continue_token=token)
                )
                for item in page.items:
                    labels = (item.get("metadata") or {}).get("labels") or {}
                    if labels.get(environments.model.PREVIEW_LABEL) == environments.model.label_value(name):
                        found[planning.ClaimKey(kind, str(item["metadata"]["name"]))] = item
                token = page.continue_token
                if not token:
                    break
        return found

    async def _sync(
        self, preview: environments.Preview, services: Mapping[str, planning.ServiceResolution]
    ) -> planning.SyncOutcome:
        targets = {name: r.target for name, r in services.items() if r.target is not None}
        files = rendering.render_files(preview, settings=self._settings, services=targets, application=plan_application)
        try:
            present = await asyncio.to_thread(self._gitops.list_files, environments.model.gitops_folder(preview))
            changes: dict[str, str | None] = {path: None for path in present if path not in files}
            changes.update(files)
            message = f"preview {preview.namespace}/{preview.name}: generation {preview.generation}"
            # Nothing to commit keeps the files at the head, which status then names.
            commit = await self._gitops.awrite(changes, message=message) or self._gitops.head()
        except BlacktopError as exc:
            return planning.SyncOutcome(files=tuple(files), error=f"could not commit the manifests: {exc}")
        return planning.SyncOutcome(files=tuple(files), commit=commit)


def _expired_ttl(obj: Resource, ctx: engine.ReconcileContext) -> str | None:
    """The preview's TTL when it ran out (so the clean-up's status can say why it is going), else None."""
    try:
        preview = environments.parse_preview(obj)
    except InputError:
        return None
    return preview.spec.ttl_text if planning.is_expired(preview, now=ctx.now) else None


def to_engine_plan(obj: Resource, decision: planning.Decision, ctx: engine.ReconcileContext) -> engine.Plan:
    """The engine plan of a decision: claim writes and status, or only the preview's own deletion."""
    if decision.delete_preview:
        # Alone in its plan: the engine keeps the object a plan's last status write returned, and a
        # deletion after that write would leave it holding the object as it was before the deletion.
        return engine.Plan(actions=(engine.DeleteChild(ResourceKey.of(obj)),))
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    conditions = [engine.ConditionUpdate(c.type, c.status, c.reason, c.message) for c in decision.conditions]
    plan = engine.Plan(
        actions=tuple(engine.CreateChild(claim) for claim in decision.create)
        + tuple(
            engine.DeleteChild(ResourceKey(environments.GROUP, key.kind, namespace, key.name))
            for key in decision.delete
        )
    )
    status = engine.plan_status(obj, now=ctx.now, conditions=conditions, fields=decision.status)
    plan = plan.then(*status.actions)
    return plan.requeue(decision.requeue_after) if decision.requeue_after is not None else plan


async def ensure_policy(w: Wiring) -> None:
    """Create or update the feature's admission policy through the write pipeline."""
    ctx = RequestContext(caller=CALLER, request_id="environments-policy")
    await w.resources.apply(ctx, [("environments/admission-policy", environments.admission_policy())])


def wire(w: Wiring) -> None:
    """Register the PreviewEnvironment kind, its admission policy (at start) and its controller."""
    w.add_kinds(list(environments.KINDS))
    settings = rendering.RenderSettings(
        gitops_url=f"{public_url(w.settings)}/git/platform/gitops.git",
        registry=os.environ.get(REGISTRY_VARIABLE) or "ghcr.io",
    )
    w.controllers.append(
        PreviewController(
            store=w.store, kinds=w.kinds, gitops=w.gitops, settings=settings, catalog=CatalogServices(w.services)
        )
    )

    async def start() -> None:
        await ensure_policy(w)

    w.startup.append(start)
