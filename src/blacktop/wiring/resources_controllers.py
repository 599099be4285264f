"""The resources feature's controllers: XRDs, Compositions, claims and composite resources.

The planners are pure (``blacktop.resources.reconcile``); the controllers here read what a plan
needs from the store, call the planner and perform the writes a plan cannot express as an engine
``Plan`` (creating, patching and deleting composed resources, publishing external manifests,
writing the connection secret), always through the write pipeline.

:class:`ResourcesState` is every replica's view of the XRDs, Compositions, revisions and
EnvironmentConfigs. It is fed by the write listener (this process) and by following the event
log (other replicas), and it registers and unregisters the composite and claim kinds an XRD
serves, so ``blacktop get databases`` works on every replica without a restart. Controllers of
claim and composite kinds are added to a registry of this feature's own engine when their XRD
appears, since the platform engine's controller set is fixed when it is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import cel

from blacktop import engine, resources
from blacktop.kernel.errors import BlacktopError, ConflictError, NotFoundError
from blacktop.kernel.kinds import KindInfo, KindRegistry
from blacktop.kernel.ports import EventType, ListQuery
from blacktop.kernel.resources import GroupVersion, Resource, ResourceKey
from blacktop.resources import definitions as xrds
from blacktop.resources import kinds, ports, validation
from blacktop.resources import reconcile as planning
from blacktop.resources.composition import load_composition, plan_revision
from blacktop.store import SqlResourceStore

log = logging.getLogger("blacktop.resources")

WATCHED: Final = [(k.group, k.kind) for k in kinds.KINDS]
PROTECTION_ANNOTATION: Final = "resources.blacktop.dev/deletion-protection-default"
UNREADY_REQUEUE: Final = timedelta(seconds=30)
"""A safety net only: a composite is woken when a composed resource changes, a claim when its composite does
(``Runtime.on_write``). Polling every unready object every few seconds cost a thousand pending claims
more work than provisioning them."""
WRITE_FAILED_REQUEUE: Final = timedelta(seconds=5)
DELETE_REQUEUE: Final = timedelta(milliseconds=200)
REFUSED_REQUEUE: Final = timedelta(seconds=10)


@dataclass
class Collaborators:
    """The ports the controllers use; None where the implementing feature is not wired."""

    publisher: ports.ExternalResourcePublisher | None = None
    details: ports.ConnectionDetailsReader | None = None
    secrets: ports.ConnectionSecretWriter | None = None


@dataclass
class ResourcesState:
    """Every replica's index of the Crossplane objects and the kinds their XRDs serve."""

    kinds: KindRegistry
    definitions: dict[str, xrds.Definition] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    compositions: dict[str, Resource] = field(default_factory=dict)
    revisions: dict[str, Resource] = field(default_factory=dict)
    environment_configs: dict[str, Resource] = field(default_factory=dict)
    on_definition: list[Callable[[xrds.Definition], None]] = field(default_factory=list)
    on_revision: list[Callable[[], None]] = field(default_factory=list)

    def observe(self, obj: Mapping[str, Any], *, deleted: bool = False) -> None:
        """Take in one stored (or deleted) object of a watched kind; other kinds are ignored."""
        key = ResourceKey.of(obj)
        if key.group != kinds.GROUP:
            return
        name = key.name
        if key.kind == kinds.COMPOSITION.kind:
            self._put(self.compositions, name, obj, deleted)
        elif key.kind == kinds.COMPOSITION_REVISION.kind:
            self._put(self.revisions, name, obj, deleted)
            for callback in self.on_revision:
                callback()
        elif key.kind == kinds.ENVIRONMENT_CONFIG.kind:
            self._put(self.environment_configs, name, obj, deleted)
        elif key.kind == kinds.DEFINITION.kind:
            self._definition(name, obj, deleted)

    @staticmethod
    def _put(index: dict[str, Resource], name: str, obj: Mapping[str, Any], deleted: bool) -> None:
        if deleted:
            index.pop(name, None)
        else:
            index[name] = copy.deepcopy(dict(obj))

    def _definition(self, name: str, obj: Mapping[str, Any], deleted: bool) -> None:
        previous = self.definitions.get(name)
        if deleted:
            self.definitions.pop(name, None)
            self.invalid.pop(name, None)
            if previous is not None:
                for info in previous.kinds():
                    with contextlib.suppress(NotFoundError):
                        self.kinds.unregister(info.group, info.kind)
            return
        try:
            loaded = xrds.load_definition(obj)
            for info in loaded.kinds():
                existing = self.kinds.get(info.group, info.kind)
                if existing is not None and existing.origin != info.origin:
                    raise ConflictError(
                        f"kind {info.kind} in group {info.group!r} is already served ({existing.origin}); "
                        "choose other names"
                    )
                self.kinds.register(info, replace=True)
        except BlacktopError as exc:
            self.invalid[name] = str(exc)
            return
        self.invalid.pop(name, None)
        if previous is not None:
            stale = {(k.group, k.kind) for k in previous.kinds()} - {(k.group, k.kind) for k in loaded.kinds()}
            for group, kind in stale:
                with contextlib.suppress(NotFoundError):
                    self.kinds.unregister(group, kind)
        self.definitions[name] = loaded
        for callback in self.on_definition:
            callback(loaded)

    def definition_of(self, group: str, kind: str) -> tuple[xrds.Definition, bool] | None:
        """The XRD serving a kind and whether the kind is its claim (True) or composite (False)."""
        for definition in self.definitions.values():
            if definition.group != group:
                continue
            if definition.composite.kind == kind:
                return definition, False
            if definition.claim is not None and definition.claim.kind == kind:
                return definition, True
        return None

    def served(self, api_version: str, kind: str) -> bool:
        """Whether the platform serves this kind (else composed resources of it go to the publisher)."""
        gv = GroupVersion.parse(api_version)
        info = self.kinds.get(gv.group, kind)
        return info is not None and gv.version in info.versions


class Follower:
    """Follows the event log for the watched kinds, so every replica's ``ResourcesState`` is current."""

    def __init__(self, store: SqlResourceStore, state: ResourcesState, *, interval: float = 1.0) -> None:
        self._store = store
        self._state = state
        self._interval = interval
        self._since = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def load(self) -> None:
        """List every watched kind once (XRDs last, so their kinds see the Compositions)."""
        revision = await self._store.current_revision()
        for group, kind in sorted(WATCHED, key=lambda k: k[1] == kinds.DEFINITION.kind):
            token: str | None = None
            while True:
                page = await self._store.list(ListQuery(group=group, kind=kind, limit=500, continue_token=token))
                for obj in page.items:
                    self._state.observe(obj)
                token = page.continue_token
                if not token:
                    break
        self._since = revision

    async def poll(self) -> int:
        """Read one batch of events; returns how many were read."""
        events = await self._store.events(since=self._since, kinds=WATCHED, limit=1000)
        for event in events:
            self._state.observe(event.object, deleted=event.type is EventType.DELETED)
            self._since = max(self._since, event.revision)
        return len(events)

    def start(self) -> None:
        """Follow in a background task."""
        self._stop.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="resources-follower")

    async def stop(self) -> None:
        """Stop following."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.poll()
            except Exception:
                log.exception("following XRD and Composition events failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)


def _conditions(updates: Sequence[planning.Condition]) -> list[engine.ConditionUpdate]:
    return [engine.ConditionUpdate(c.type, c.status, c.reason, c.message) for c in updates]


def _key(ref: Mapping[str, Any]) -> ResourceKey:
    return ResourceKey(
        group=GroupVersion.parse(str(ref.get("apiVersion") or "")).group,
        kind=str(ref.get("kind")),
        namespace=ref.get("namespace") or None,
        name=str(ref.get("name")),
    )


def protection_default(definition: xrds.Definition, claim: Mapping[str, Any]) -> bool:
    """Evaluate the XRD's deletion-protection CEL annotation over the claim (False when absent)."""
    expression = ((definition.document or {}).get("metadata") or {}).get("annotations", {}).get(PROTECTION_ANNOTATION)
    if not expression:
        return False
    try:
        result = cel.evaluate(str(expression), {"object": dict(claim)})
    except Exception:
        log.warning("deletion-protection expression of %s failed; treating the claim as protected", definition.name)
        return True
    return result is True


class Objects:
    """Reads from the store and writes through the pipeline (the engine's writer)."""

    def __init__(self, store: SqlResourceStore, writer: engine.ResourceWriter) -> None:
        self.store = store
        self.writer = writer

    async def get(self, ref: Mapping[str, Any]) -> Resource | None:
        """The referenced object, or None."""
        return await self.store.get(_key(ref))

    async def list_kind(self, info: KindInfo) -> list[Resource]:
        """Every object of a kind (all namespaces)."""
        found: list[Resource] = []
        token: str | None = None
        while True:
            page = await self.store.list(ListQuery(group=info.group, kind=info.kind, limit=500, continue_token=token))
            found.extend(page.items)
            token = page.continue_token
            if not token:
                return found


@dataclass
class DefinitionController:
    """XRDs: report whether the kinds are served, keep the CEL policy, refuse removal while instances exist."""

    state: ResourcesState
    objects: Objects
    group: str = kinds.GROUP
    kind: str = kinds.DEFINITION.kind
    finalizer: str | None = planning.DEFINITION_FINALIZER

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Established/Offered from the loaded definition; the CEL policy created or updated."""
        name = obj["metadata"]["name"]
        self.state.observe(obj)
        if name in self.state.invalid:
            failed = engine.ConditionUpdate("Established", False, "InvalidDefinition", self.state.invalid[name])
            return engine.plan_status(obj, now=ctx.now, conditions=[failed])
        definition = self.state.definitions[name]
        for policy in validation.policy_for(definition):
            await self._ensure(policy, obj)
        kinds_text = ", ".join(f"{k.plural}.{k.group}" for k in definition.kinds())
        updates = [engine.ConditionUpdate("Established", True, "WatchingCompositeResource", f"serving {kinds_text}")]
        if definition.claim is not None:
            updates.append(engine.ConditionUpdate("Offered", True, "WatchingClaim", f"claims: {definition.claim.kind}"))
        return engine.plan_status(obj, now=ctx.now, conditions=updates)

    async def _ensure(self, policy: Mapping[str, Any], owner: Resource) -> None:
        desired = copy.deepcopy(dict(policy))
        desired["metadata"]["ownerReferences"] = [_owner_ref(owner)]
        current = await self.objects.store.get(ResourceKey.of(desired))
        if current is None:
            await self.objects.writer.create(desired)
        elif current.get("spec") != desired["spec"]:
            await self.objects.writer.patch(ResourceKey.of(current), {"spec": desired["spec"]}, expected_version=None)

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Refuse (stay pending with a condition) while composites or claims of its kinds exist."""
        definition = self.state.definitions.get(obj["metadata"]["name"])
        instances: list[Resource] = []
        if definition is not None:
            for info in definition.kinds():
                if self.state.kinds.get(info.group, info.kind) is not None:
                    instances.extend(await self.objects.list_kind(info))
        decided = planning.plan_definition_deletion(obj, instances=instances)
        if not decided.done:
            return engine.plan_status(obj, now=ctx.now, conditions=_conditions(decided.conditions)).requeue(
                REFUSED_REQUEUE
            )
        if definition is not None:
            for policy in validation.policy_for(definition):
                await self.objects.writer.delete(ResourceKey.of(policy))
        return engine.Plan()


def _owner_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion"),
        "kind": owner.get("kind"),
        "name": meta.get("name"),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


@dataclass
class CompositionController:
    """Compositions: validate (conditions name every problem) and keep the newest revision."""

    state: ResourcesState
    objects: Objects
    group: str = kinds.GROUP
    kind: str = kinds.COMPOSITION.kind
    finalizer: str | None = None

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Valid condition; a CompositionRevision created (or bumped) for a changed spec."""
        self.state.observe(obj)
        try:
            load_composition(obj)
        except BlacktopError as exc:
            problems = "; ".join(f"{p.path}: {p.message}" for p in getattr(exc, "problems", ()))
            message = str(exc) + (f" ({problems})" if problems else "")
            failed = engine.ConditionUpdate("Valid", False, "InvalidComposition", message)
            return engine.plan_status(obj, now=ctx.now, conditions=[failed])
        planned = plan_revision(obj, list(self.state.revisions.values()))
        revision = copy.deepcopy(dict(planned.revision))
        if planned.action == "create":
            revision["metadata"]["ownerReferences"] = [_owner_ref(obj)]
            with contextlib.suppress(ConflictError):
                created = await self.objects.writer.create(revision)
                self.state.observe(created)
        elif planned.action == "update":
            updated = await self.objects.writer.patch(
                ResourceKey.of(revision), {"spec": {"revision": revision["spec"]["revision"]}}, expected_version=None
            )
            self.state.observe(updated)
        number = revision["spec"]["revision"]
        valid = engine.ConditionUpdate(
            "Valid", True, "Loaded", f"latest revision {number}: {revision['metadata']['name']}"
        )
        return engine.plan_status(
            obj, now=ctx.now, conditions=[valid], fields={"latestRevision": revision["metadata"]["name"]}
        )

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Nothing to clean up: revisions stay for the composites pinned to them."""
        return engine.Plan()


@dataclass
class ClaimController:
    """A claim kind: keep its composite in step and reflect the composite's conditions."""

    group: str
    kind: str
    state: ResourcesState
    objects: Objects
    collaborators: Collaborators
    finalizer: str | None = planning.CLAIM_FINALIZER

    def _definition(self) -> xrds.Definition:
        found = self.state.definition_of(self.group, self.kind)
        if found is None:
            raise NotFoundError(f"no CompositeResourceDefinition serves claims of kind {self.kind}.{self.group}")
        return found[0]

    async def _composite(self, obj: Resource, definition: xrds.Definition) -> Resource | None:
        ref = (obj.get("spec") or {}).get("resourceRef") or {}
        name = ref.get("name") or planning.composite_name(obj)
        return await self.objects.get(
            {"apiVersion": definition.composite_api_version, "kind": definition.composite.kind, "name": name}
        )

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Create or update the XR; copy its Synced/Ready, selection and connection secret path."""
        definition = self._definition()
        composite = await self._composite(obj, definition)
        path = ports.connection_secret_path(obj["metadata"]["namespace"], planning.claim_secret_name(obj))
        decided = planning.plan_claim(obj, definition=definition, composite=composite, secret_path=path)
        try:
            if decided.create_composite is not None:
                await self.objects.writer.create(dict(decided.create_composite))
            elif decided.composite_patch and composite is not None:
                await self.objects.writer.patch(
                    ResourceKey.of(composite), decided.composite_patch, expected_version=None
                )
        except ConflictError:
            raise
        except BlacktopError as exc:
            failed = engine.ConditionUpdate(
                "Synced", False, "CompositeWriteFailed", f"could not write the composite resource: {exc}"
            )
            return engine.plan_status(obj, now=ctx.now, conditions=[failed]).requeue(WRITE_FAILED_REQUEUE)
        plan = engine.Plan()
        if decided.claim_patch:
            plan = plan.then(engine.PatchObject(decided.claim_patch))
        status = engine.plan_status(
            obj, now=ctx.now, conditions=_conditions(decided.conditions), fields=decided.status_fields
        )
        plan = plan.then(*status.actions)
        ready = any(c.type == "Ready" and c.status for c in decided.conditions)
        return plan if ready else plan.requeue(UNREADY_REQUEUE)

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Refuse while deletion-protected; otherwise delete the XR (waiting for it under Foreground)."""
        definition = self._definition()
        composite = await self._composite(obj, definition)
        protected = planning.is_deletion_protected(obj, default=protection_default(definition, obj))
        policy = (obj.get("spec") or {}).get("compositeDeletePolicy") or definition.default_delete_policy
        decided = planning.plan_claim_deletion(
            obj, composite=composite, protected=protected, foreground=policy == "Foreground"
        )
        for ref in decided.delete:
            await self.objects.writer.delete(_key(ref))
        if decided.done:
            return engine.Plan()
        wait = REFUSED_REQUEUE if protected else DELETE_REQUEUE
        return engine.plan_status(obj, now=ctx.now, conditions=_conditions(decided.conditions)).requeue(wait)


@dataclass
class CompositeController:
    """A composite kind: select, render, write composed resources, publish the rest, aggregate readiness."""

    group: str
    kind: str
    state: ResourcesState
    objects: Objects
    collaborators: Collaborators
    finalizer: str | None = planning.COMPOSITE_FINALIZER

    def _definition(self) -> xrds.Definition:
        found = self.state.definition_of(self.group, self.kind)
        if found is None:
            raise NotFoundError(f"no CompositeResourceDefinition serves composites of kind {self.kind}.{self.group}")
        return found[0]

    async def observed(self, obj: Resource) -> list[Resource]:
        """The composed resources of ``obj`` that exist (served kinds only), from its resourceRefs."""
        found: list[Resource] = []
        for ref in resources.composition.selection.crossplane_spec(obj).get("resourceRefs") or []:
            if not self.state.served(str(ref.get("apiVersion")), str(ref.get("kind"))):
                continue
            current = await self.objects.get(ref)
            if current is not None:
                found.append(current)
        return found

    async def _details(self, observed: Sequence[Resource]) -> dict[str, Mapping[str, bytes]]:
        reader = self.collaborators.details
        out: dict[str, Mapping[str, bytes]] = {}
        if reader is None:
            return out
        for obj in observed:
            template = ((obj.get("metadata") or {}).get("annotations") or {}).get(
                resources.composition.RESOURCE_NAME_ANNOTATION
            )
            if not template:
                continue
            details = await reader.fetch(obj)
            if details:
                out[str(template)] = details
        return out

    async def plan(self, obj: Resource) -> tuple[planning.CompositePlan, list[Resource]]:
        """Plan ``obj`` from the current state (used by reconcile, ``plan`` and ``explain``)."""
        definition = self._definition()
        observed = await self.observed(obj)
        environment = None
        if self.state.environment_configs:
            environment = _environment(obj, self.state)
        decided = planning.plan_composite(
            obj,
            definition=definition,
            compositions=list(self.state.compositions.values()),
            revisions=list(self.state.revisions.values()),
            observed=observed,
            served=self.state.served,
            connection_details=await self._details(observed),
            environment=environment,
        )
        return decided, observed

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Render and converge the composed resources; Synced carries any layer's error."""
        decided, _ = await self.plan(obj)
        plan = engine.Plan()
        if decided.spec_patch:
            plan = plan.then(engine.PatchObject(decided.spec_patch))
        if decided.render is None:
            status = engine.plan_status(
                obj, now=ctx.now, conditions=_conditions(decided.conditions), fields=decided.status_fields
            )
            return plan.then(*status.actions).requeue(UNREADY_REQUEUE)
        errors = await self._write_children(decided)
        external_ready, external_messages = await self._publish(obj, decided, errors)
        version = await self._write_secret(obj, decided, errors)
        fields, conditions = planning.composite_status(
            decided,
            now=ctx.now,
            external_ready=external_ready,
            external_messages=external_messages,
            published_version=version,
        )
        if errors:
            conditions = (
                planning.Condition("Synced", False, "ComposeResourcesFailed", "; ".join(errors)),
                *(c for c in conditions if c.type != "Synced"),
            )
        status = engine.plan_status(obj, now=ctx.now, conditions=_conditions(conditions), fields=fields)
        plan = plan.then(*status.actions)
        ready = decided.render.ready and not errors
        return plan if ready else plan.requeue(UNREADY_REQUEUE)

    async def _write_children(self, decided: planning.CompositePlan) -> list[str]:
        errors: list[str] = []
        for write in decided.writes:
            key = ResourceKey.of(write.desired)
            try:
                if write.observed is None:
                    try:
                        await self.objects.writer.create(dict(write.desired))
                    except ConflictError:
                        current = await self.objects.store.get(key)
                        if current is None:
                            raise
                        _check_controller(current, write.desired)
                        await self.objects.writer.patch(
                            key,
                            planning.ChildWrite(write.template, write.desired, current).patch,
                            expected_version=None,
                        )
                else:
                    await self.objects.writer.patch(key, write.patch, expected_version=None)
            except BlacktopError as exc:
                errors.append(f"composed resource {write.template!r} ({key.kind} {key.name}): {describe_error(exc)}")
        for ref in decided.deletes:
            if self.state.served(str(ref.get("apiVersion")), str(ref.get("kind"))):
                try:
                    await self.objects.writer.delete(_key(ref))
                except BlacktopError as exc:
                    errors.append(f"deleting composed resource {ref.get('kind')} {ref.get('name')}: {exc}")
        return errors

    async def _publish(
        self, obj: Resource, decided: planning.CompositePlan, errors: list[str]
    ) -> tuple[dict[str, bool | None], dict[str, str]]:
        ready: dict[str, bool | None] = {}
        messages: dict[str, str] = {}
        templates = {
            _ref_tuple(ref): name
            for name, ref in decided.placements.items()
            if not self.state.served(str(ref.get("apiVersion")), str(ref.get("kind")))
        }
        for name in templates.values():
            ready[name] = None
            messages[name] = "no GitOps publisher is configured; the manifest was rendered only"
        publisher = self.collaborators.publisher
        if publisher is None or (not decided.external and not _had_external(obj, self.state)):
            return ready, messages
        try:
            observations = await publisher.publish(composite_ref(obj), list(decided.external))
        except BlacktopError as exc:
            errors.append(f"publishing managed resources for an external reconciler failed: {exc}")
            return ready, messages
        for seen in observations:
            ready[seen.resource_name] = seen.ready
            messages[seen.resource_name] = seen.message or seen.reason
        return ready, messages

    async def _write_secret(self, obj: Resource, decided: planning.CompositePlan, errors: list[str]) -> str | None:
        writer = self.collaborators.secrets
        assert decided.render is not None
        ref = (obj.get("spec") or {}).get("writeConnectionSecretToRef") or {}
        if writer is None or not ref.get("name") or not decided.render.connection_details:
            return None
        definition = self._definition()
        data = decided.render.published_connection_details(definition.connection_secret_keys)
        path = ports.connection_secret_path(str(ref.get("namespace")), str(ref["name"]))
        try:
            return await writer.write(path=path, data=data, owner=composite_ref(obj))
        except BlacktopError as exc:
            errors.append(f"writing the connection secret {path} failed: {exc}")
            return None

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Delete composed resources one by one (last template first), withdraw external ones, drop the secret."""
        existing = await self.observed(obj)
        selection = (obj.get("status") or {}).get("compositionSelection") or {}
        order: list[str] = []
        composition = self.state.compositions.get(str(selection.get("composition") or ""))
        if composition is not None:
            with contextlib.suppress(BlacktopError):
                order = [t.name for s in load_composition(composition).steps if s.patch_and_transform
                         for t in s.patch_and_transform.resources]  # fmt: skip
        decided = planning.plan_composite_deletion(obj, existing=existing, order=order)
        for ref in decided.delete:
            await self.objects.writer.delete(_key(ref))
        if not decided.done:
            return engine.plan_status(obj, now=ctx.now, conditions=_conditions(decided.conditions)).requeue(
                DELETE_REQUEUE
            )
        if self.collaborators.publisher is not None and _had_external(obj, self.state):
            await self.collaborators.publisher.withdraw(composite_ref(obj))
        ref = (obj.get("spec") or {}).get("writeConnectionSecretToRef") or {}
        if self.collaborators.secrets is not None and ref.get("name"):
            path = ports.connection_secret_path(str(ref.get("namespace")), str(ref["name"]))
            await self.collaborators.secrets.delete(path=path)
        return engine.Plan()


def describe_error(exc: BaseException) -> str:
    """An error's message followed by each of its problems (``path: message``)."""
    problems = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in getattr(exc, "problems", ()))
    return f"{exc} ({problems})" if problems else str(exc)


def _ref_tuple(ref: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(ref.get("apiVersion")), str(ref.get("kind")), str(ref.get("name"))


def _had_external(obj: Resource, state: ResourcesState) -> bool:
    refs = resources.composition.selection.crossplane_spec(obj).get("resourceRefs") or []
    return any(not state.served(str(r.get("apiVersion")), str(r.get("kind"))) for r in refs)


def _check_controller(current: Mapping[str, Any], desired: Mapping[str, Any]) -> None:
    owners = [o for o in (current.get("metadata") or {}).get("ownerReferences") or [] if o.get("controller")]
    wanted = (desired.get("metadata") or {}).get("ownerReferences") or [{}]
    if owners and owners[0].get("uid") != wanted[0].get("uid"):
        raise ConflictError(
            f"{current.get('kind')} {current['metadata'].get('name')} exists and is controlled by "
            f"{owners[0].get('kind')} {owners[0].get('name')}; it cannot be composed by {wanted[0].get('name')}"
        )


def composite_ref(obj: Mapping[str, Any]) -> ports.CompositeRef:
    """The port's reference to a composite (with its claim, when it has one)."""
    meta = obj.get("metadata") or {}
    claim = resources.composition.selection.crossplane_spec(obj).get("claimRef") or {}
    return ports.CompositeRef(
        api_version=str(obj.get("apiVersion")),
        kind=str(obj.get("kind")),
        name=str(meta.get("name")),
        uid=str(meta.get("uid") or ""),
        claim_namespace=claim.get("namespace"),
        claim_name=claim.get("name"),
    )


def _environment(obj: Resource, state: ResourcesState) -> Mapping[str, Any] | None:
    fields = resources.composition.selection.crossplane_spec(obj)
    name = (fields.get("compositionRef") or {}).get("name")
    composition = state.compositions.get(str(name or ""))
    spec = (composition or {}).get("spec") or {}
    if not spec.get("environment"):
        return None
    try:
        resolved = resources.composition.resolve_environment(
            spec["environment"], obj, list(state.environment_configs.values())
        )
    except BlacktopError:
        return None
    return dict(resolved.environment)
