"""Wiring self-service infrastructure into the platform: Crossplane kinds, the claim lifecycle, plan/explain.

What ``wire`` adds:

* the kinds ``CompositeResourceDefinition``, ``Composition``, ``CompositionRevision`` and
  ``EnvironmentConfig`` (``apiextensions.crossplane.io``);
* a :class:`ResourcesState` fed by the write listener and by following the event log, so an
  applied XRD registers its composite and claim kinds on every replica at run time;
* this feature's own reconcile engine: its controller registry grows when an XRD appears (the
  platform engine's set is fixed when it is built). It shares work across replicas through its
  own lease group, so a claim is reconciled by exactly one process;
* the built-in profile (``Database`` and ``Cache``) created at start where absent
  (``BLACKTOP_RESOURCES_PROFILE=off`` skips it);
* ``POST /api/v1/resources/plan`` and ``GET /api/v1/resources/explain/{kind}/{name}``.

The ports of ``blacktop.resources.ports`` are looked up in ``w.services`` at start, so the
providers (``resources.publisher``, ``resources.connection_details``) and the secret store
(``resources.connection_secrets``) plug in whether they are wired before or after this feature.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

import yaml

from blacktop import engine, policy
from blacktop.api.routes import resources_infra as routes
from blacktop.apiserver import RequestContext
from blacktop.apiserver.adapters import PipelineWriter
from blacktop.kernel.documents import iter_objects, load_documents
from blacktop.kernel.errors import InputError, NotFoundError, Problem
from blacktop.kernel.identity import service_caller
from blacktop.kernel.kinds import KindInfo
from blacktop.kernel.resources import GroupVersion, Resource, ResourceKey, json_merge_patch
from blacktop.resources import definitions as xrds
from blacktop.resources import explaining, kinds, ports, validation
from blacktop.resources import reconcile as planning
from blacktop.resources.profile import profile_files
from blacktop.store.leases import SqlLeaseStore

from . import Wiring
from .resources_controllers import (
    ClaimController,
    Collaborators,
    CompositeController,
    CompositionController,
    DefinitionController,
    Follower,
    Objects,
    ResourcesState,
)

log = logging.getLogger("blacktop.resources")

CALLER: Final = service_caller("resources-controller")
PUBLISHER_SERVICE: Final = "resources.publisher"
DETAILS_SERVICE: Final = "resources.connection_details"
SECRETS_SERVICE: Final = "resources.connection_secrets"
LEASE_GROUP: Final = "resources"


class SecretStoreConnectionSecrets:
    """``resources.ports.ConnectionSecretWriter`` over the secret store (``w.services["secrets"]``).

    Writes go through the guarded store as the resources controller (authorized and audited);
    a new version is written only when the values changed, compared with the latest version
    read from the store itself (not audited as a reveal, since nobody is shown the values).
    """

    def __init__(self, guarded: Any) -> None:
        self._guarded = guarded

    async def write(self, *, path: str, data: Mapping[str, bytes], owner: ports.CompositeRef) -> str:
        """Write ``data`` at ``path`` unless the latest version already holds it."""
        values = {k: v.decode("utf-8", errors="replace") for k, v in data.items()}
        try:
            current = await self._guarded.store.get(path)
        except NotFoundError:
            current = None
        if current is not None and dict(current.data) == values:
            return str(current.metadata.version)
        written = await self._guarded.put(CALLER, f"resources:{owner.name}", path, values)
        return str(written.version)

    async def delete(self, *, path: str) -> None:
        """Soft-delete the latest version; nothing stored is fine."""
        with contextlib.suppress(NotFoundError):
            await self._guarded.delete(CALLER, "resources:delete", path)


class Runtime:
    """The feature's moving parts: state, follower, controller registry and engine."""

    def __init__(self, w: Wiring) -> None:
        self.w = w
        self.state = ResourcesState(kinds=w.kinds)
        self.objects = Objects(w.store, PipelineWriter(w.resources, CALLER))
        self.collaborators = Collaborators()
        self.registry = engine.ControllerRegistry(
            [DefinitionController(self.state, self.objects), CompositionController(self.state, self.objects)]
        )
        self.follower = Follower(w.store, self.state)
        self.engine: engine.Engine | None = None
        self.state.on_definition.append(self._add_controllers)
        self.state.on_revision.append(self._revision_changed)

    def _add_controllers(self, definition: xrds.Definition) -> None:
        composite = definition.composite
        if self.registry.get(composite.group, composite.kind) is None:
            self.registry.register(
                CompositeController(composite.group, composite.kind, self.state, self.objects, self.collaborators)
            )
        claim = definition.claim
        if claim is not None and self.registry.get(claim.group, claim.kind) is None:
            self.registry.register(
                ClaimController(claim.group, claim.kind, self.state, self.objects, self.collaborators)
            )

    def _revision_changed(self) -> None:
        if self.engine is not None:
            self.engine.resync()

    def on_write(self, obj: Mapping[str, Any]) -> None:
        """Keep the state current and wake the owner of a changed composed resource or composite."""
        meta = obj.get("metadata") or {}
        self.state.observe(obj, deleted=bool(meta.get("deletionTimestamp")) and not meta.get("finalizers"))
        if self.engine is None:
            return
        for owner in meta.get("ownerReferences") or []:
            if owner.get("controller") and self.registry.get(
                GroupVersion.parse(str(owner.get("apiVersion"))).group, str(owner.get("kind"))
            ):
                info = self.w.kinds.get(GroupVersion.parse(str(owner.get("apiVersion"))).group, str(owner.get("kind")))
                namespace = meta.get("namespace") if info is not None and info.namespaced else None
                key = ResourceKey(info.group if info else "", str(owner.get("kind")), namespace, str(owner.get("name")))
                self._wake(key)
        claim = ((obj.get("spec") or {}).get("claimRef")) or {}
        if claim.get("name") and claim.get("namespace"):
            group = GroupVersion.parse(str(claim.get("apiVersion"))).group
            self._wake(ResourceKey(group, str(claim.get("kind")), str(claim["namespace"]), str(claim["name"])))

    def _wake(self, key: ResourceKey) -> None:
        if self.engine is not None and self.engine.gate.may_own(key) and self.engine.cached(key) is not None:
            self.engine.queue.add(key)

    async def start(self) -> None:
        """Load state, create the missing profile objects, start following and reconciling."""
        services = self.w.services
        self.collaborators.publisher = services.get(PUBLISHER_SERVICE)
        self.collaborators.details = services.get(DETAILS_SERVICE)
        self.collaborators.secrets = services.get(SECRETS_SERVICE)
        if self.collaborators.secrets is None and services.get("secrets") is not None:
            self.collaborators.secrets = SecretStoreConnectionSecrets(services["secrets"])
        await self.follower.load()
        if os.environ.get("BLACKTOP_RESOURCES_PROFILE", "on").lower() not in ("off", "0", "false"):
            await self.apply_profile()
        self.follower.start()
        if self.w.settings.engine.enabled:
            await self.establish()
            self.engine = self._build_engine()
            await self.engine.start()

    async def establish(self) -> None:
        """Reconcile every XRD and Composition once before serving, so their kinds, CEL policies and
        revisions exist when the first claim arrives (and the start-up burst of writes is over)."""
        registry = engine.ControllerRegistry(
            [DefinitionController(self.state, self.objects), CompositionController(self.state, self.objects)]
        )
        once = engine.Engine(source=self.w.store, writer=self.objects.writer, registry=registry, clock=self.w.clock)
        await once.prime()
        for _ in range(10_000):
            if not await once.process_next():
                break

    async def stop(self) -> None:
        """Stop the engine and the follower."""
        if self.engine is not None:
            await self.engine.stop()
        await self.follower.stop()

    async def apply_profile(self) -> list[str]:
        """Create the profile's XRDs and Compositions that do not exist yet (existing ones are left alone)."""
        missing: list[tuple[str, Any]] = []
        for name, content in profile_files():
            documents = load_documents(content, source=name)
            for doc, obj in iter_objects(documents):
                if await self.w.store.get(ResourceKey.of(obj)) is None:
                    missing.append((f"{doc.source}#{doc.index + 1}", obj))
        if not missing:
            return []
        ctx = RequestContext(caller=service_caller("resources-profile"), request_id="resources-profile")
        results = await self.w.resources.apply(ctx, missing)
        return [f"{r.object['kind']}/{r.object['metadata']['name']} {r.action}" for r in results]

    def _build_engine(self) -> engine.Engine:
        settings = self.w.settings
        member = f"{socket.gethostname()}-{os.getpid()}-resources-{uuid.uuid4().hex[:6]}"
        lease_store = SqlLeaseStore(self.w.db) if self.w.db.dialect.name == "postgresql" else None
        built = engine.Engine(
            source=self.w.store,
            writer=self.objects.writer,
            registry=self.registry,
            clock=self.w.clock,
            settings=engine.EngineSettings(
                member=member,
                workers=settings.engine.workers,
                poll_interval=timedelta(milliseconds=250),
                resync_period=timedelta(seconds=settings.engine.resync_seconds),
                leases=engine.LeaseSettings(
                    group=LEASE_GROUP,
                    shards=settings.engine.shards,
                    lease_ttl=timedelta(seconds=settings.engine.lease_seconds),
                ),
            ),
            lease_store=lease_store,
        )
        self.w.store.subscribe(built.deliver)
        return built


class Infrastructure:
    """``plan`` and ``explain`` over the runtime's state (routes call it through ``extra``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.w = runtime.w

    def _composites(self, definition: xrds.Definition) -> CompositeController:
        info = definition.composite
        return CompositeController(
            info.group, info.kind, self.runtime.state, self.runtime.objects, self.runtime.collaborators
        )

    async def plan(self, ctx: RequestContext, documents: list[tuple[str, Any]]) -> dict[str, Any]:
        """Plan each claim or composite; problems of every document are collected and raised once."""
        problems: list[Problem] = []
        items: list[dict[str, Any]] = []
        for source, obj in documents:
            try:
                items.append(await self._plan_one(ctx, source, obj))
            except InputError as exc:
                problems.extend(
                    Problem(path=f"{source}: {p.path}" if p.path else source, message=p.message) for p in exc.problems
                )
                if not exc.problems:
                    problems.append(Problem(path=source, message=str(exc)))
        if problems:
            raise InputError(f"{len(problems)} problem(s) in the documents to plan", problems=problems)
        return {"items": items, "text": "".join(i["text"] for i in items)}

    async def _plan_one(self, ctx: RequestContext, source: str, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, Mapping):
            raise InputError("not an object", problems=[Problem("", "each document must be an object")])
        gv = GroupVersion.parse(str(obj.get("apiVersion") or ""))
        found = self.runtime.state.definition_of(gv.group, str(obj.get("kind")))
        if found is None:
            raise InputError(
                f"{obj.get('kind')} is not a claim or composite",
                problems=[
                    Problem("kind", "plan takes claims or composites of an installed CompositeResourceDefinition")
                ],
            )
        definition, is_claim = found
        info = definition.claim if is_claim and definition.claim else definition.composite
        candidate = dict(obj)
        meta = dict(candidate.get("metadata") or {})
        if info.namespaced:
            meta.setdefault("namespace", "default")
        candidate["metadata"] = meta
        desired = self.w.kinds.validate(candidate)
        try:
            # Authorizes the caller to read the claim in its namespace, whether or not it exists yet.
            existing = await self.w.resources.get(ctx, info, meta.get("namespace"), str(meta.get("name")))
        except NotFoundError:
            existing = None
        if existing is not None:
            desired["metadata"] = {**existing["metadata"], **desired["metadata"]}
            desired["spec"] = {**_owned_spec(existing), **(desired.get("spec") or {})}
        self._check_rules(definition, info, desired, existing)
        controller = self._composites(definition)
        where = f"{desired['metadata'].get('namespace')}/" if info.namespaced else ""
        target = f"{info.kind} {where}{meta.get('name')}"
        if is_claim:
            current_xr = await self._claim_composite(desired, definition)
            decided = planning.plan_claim(desired, definition=definition, composite=current_xr)
            if decided.create_composite is not None:
                xr = dict(decided.create_composite)
                xr["metadata"]["uid"] = "planned"
            else:
                assert current_xr is not None
                xr = json_merge_patch(json.loads(json.dumps(current_xr)), dict(decided.composite_patch))
            xr = self.w.kinds.validate(xr)
        else:
            current_xr, xr = existing, desired
        composite_plan, observed = await controller.plan(xr)
        previous = None
        if current_xr is not None:
            previous, _ = await controller.plan(current_xr)
        changes = explaining.plan_changes(
            composite_plan,
            observed=observed,
            previous=previous.render if previous else None,
            previous_placements=previous.placements if previous else None,
        )
        selection = composite_plan.status_fields.get("compositionSelection")
        text = explaining.render_plan(target, changes, error=composite_plan.error)
        return {"source": source, "target": target, "composition": selection, "changes": changes,
                "error": composite_plan.error, "text": text}  # fmt: skip

    def _check_rules(
        self, definition: xrds.Definition, info: KindInfo, obj: Mapping[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        policies = validation.policy_for(definition)
        if not policies:
            return
        meta = obj.get("metadata") or {}
        request = policy.AdmissionRequest(
            operation=policy.Operation.UPDATE if old is not None else policy.Operation.CREATE,
            group=info.group,
            version=GroupVersion.parse(str(obj.get("apiVersion"))).version,
            kind=info.kind,
            namespace=meta.get("namespace"),
            name=str(meta.get("name")),
            user=CALLER,
            object=obj,
            old_object=old,
            dry_run=True,
        )
        violations = policy.admit(policies, request)
        if violations:
            raise InputError(
                f"{info.kind} {meta.get('name')} breaks {len(violations)} rule(s) of its XRD",
                problems=[Problem(v.field_path or "spec", v.message) for v in violations],
            )

    async def _claim_composite(self, claim: Mapping[str, Any], definition: xrds.Definition) -> Resource | None:
        ref = (claim.get("spec") or {}).get("resourceRef") or {}
        name = ref.get("name") or planning.composite_name(claim)
        key = ResourceKey(definition.group, definition.composite.kind, None, str(name))
        if definition.composite.namespaced:
            key = ResourceKey(definition.group, definition.composite.kind, claim["metadata"].get("namespace"), name)
        return await self.w.store.get(key)

    async def explain(self, ctx: RequestContext, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        """The tree of a claim or composite the caller may read."""
        info = self.w.kinds.resolve(kind)
        found = self.runtime.state.definition_of(info.group, info.kind)
        if found is None:
            raise InputError(
                f"{info.kind} is not a claim or composite",
                problems=[Problem("kind", "explain takes claims or composites, e.g. databases/orders-db")],
            )
        definition, is_claim = found
        obj = await self.w.resources.get(ctx, info, (namespace or "default") if info.namespaced else None, name)
        claim = obj if is_claim else None
        composite = await self._claim_composite(obj, definition) if is_claim else obj
        decided = None
        observed: list[Resource] = []
        if composite is not None:
            decided, observed = await self._composites(definition).plan(composite)
        tree = explaining.explain_tree(claim=claim, composite=composite, plan=decided, observed=observed)
        if composite is None:
            tree["composite"]["kind"] = definition.composite.kind
            tree["composite"]["name"] = planning.composite_name(obj)
        return {**tree, "text": explaining.render_explain(tree)}


def _owned_spec(existing: Mapping[str, Any]) -> dict[str, Any]:
    spec = existing.get("spec") or {}
    return {k: v for k, v in spec.items() if k in ("resourceRef", "resourceRefs", "claimRef", "compositionRef")}


def wire(w: Wiring) -> None:
    """Register the Crossplane kinds, the lifecycle runtime, the plan/explain API and the profile."""
    w.add_kinds(list(kinds.KINDS))
    runtime = Runtime(w)
    w.resources.add_listener(runtime.on_write)
    w.routers.append(routes.router)
    w.services["resources_infra"] = Infrastructure(runtime)
    w.services["resources_runtime"] = runtime
    w.startup.append(runtime.start)
    w.shutdown.append(runtime.stop)


def profile_documents() -> list[dict[str, Any]]:
    """The built-in profile's documents (for tests and ``blacktop plan`` examples)."""
    out: list[dict[str, Any]] = []
    for _, content in profile_files():
        out.extend(d for d in yaml.safe_load_all(content) if isinstance(d, dict))
    return out


__all__ = ["Infrastructure", "Runtime", "profile_documents", "wire"]
