"""The platform API's one write pipeline and its read paths, independent of HTTP.

Every write, whether it comes from the HTTP API, the CLI or a controller writing status, runs
the same steps: authenticate (done by the caller's transport) → authorize → validate against the
kind's schema → admission policies → store with optimistic concurrency → audit record in the same
transaction → watch event (written by the store in that transaction) → listeners told. A refused
request is audited too, in a transaction of its own, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from blacktop.kernel import kinds as kinds_mod
from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import BlacktopError, InputError, NotFoundError, Problem, status_code
from blacktop.kernel.identity import Caller
from blacktop.kernel.kinds import KindInfo, KindRegistry
from blacktop.kernel.ports import EventType, ListPage, ListQuery, ResourceStore, ResourceTransaction, WatchEvent
from blacktop.kernel.resources import Resource, ResourceKey, json_merge_patch
from blacktop.kernel.selectors import FieldSelector, LabelSelector

from . import objects
from .ports import Admission, AuditTrail, Authorizer, Operation, Verb, WriteListener


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks and under which request id (echoed in audit records and error responses)."""

    caller: Caller
    request_id: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What ``apply`` did with one document."""

    source: str
    action: str  # created | configured | unchanged
    object: Resource


@dataclass(frozen=True, slots=True)
class _Planned:
    source: str
    kind: KindInfo
    key: ResourceKey
    desired: Resource
    exists: bool


class ResourceService:
    """Create, read, update, patch, delete, apply and watch resources of any registered kind."""

    def __init__(
        self,
        *,
        store: ResourceStore,
        kinds: KindRegistry,
        authorizer: Authorizer,
        admission: Admission,
        audit: AuditTrail,
        clock: Clock,
        new_uid: Callable[[], str],
        watch_poll_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self._authorizer = authorizer
        self._admission = admission
        self._audit = audit
        self._clock = clock
        self._new_uid = new_uid
        self._listeners: list[WriteListener] = []
        self._changed = asyncio.Event()
        self._watch_poll = watch_poll_seconds

    def add_listener(self, listener: WriteListener) -> None:
        """Call ``listener(obj)`` with every object a committed write stored."""
        self._listeners.append(listener)

    # -- reads -------------------------------------------------------------------------------

    async def get(self, ctx: RequestContext, kind: KindInfo, namespace: str | None, name: str) -> Resource:
        """One object, or NotFoundError."""
        await self._authorize(ctx, Verb.GET, kind, namespace, name)
        obj = await self.store.get(self._key(kind, namespace, name))
        if obj is None:
            raise NotFoundError(f"{kind.plural} {name!r} not found{_in(namespace)}")
        return obj

    async def list(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        namespace: str | None,
        *,
        label_selector: LabelSelector | None = None,
        field_selector: FieldSelector | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ListPage:
        """A page of objects of ``kind`` (in ``namespace``, or everywhere when None)."""
        await self._authorize(ctx, Verb.LIST, kind, namespace, None)
        query = ListQuery(
            group=kind.group,
            kind=kind.kind,
            namespace=namespace if kind.namespaced else None,
            label_selector=label_selector or LabelSelector(),
            field_selector=field_selector or FieldSelector(),
            limit=limit,
            continue_token=continue_token,
        )
        return await self.store.list(query)

    async def watch(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        namespace: str | None,
        *,
        since: int | None,
        label_selector: LabelSelector | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Events for ``kind`` after revision ``since``; without ``since``, current objects first as ADDED."""
        await self._authorize(ctx, Verb.WATCH, kind, namespace, None)
        selector = label_selector or LabelSelector()
        return self._follow(kind, namespace, since, selector)

    async def _follow(
        self, kind: KindInfo, namespace: str | None, since: int | None, selector: LabelSelector
    ) -> AsyncIterator[WatchEvent]:
        if since is None:
            revision = await self.store.current_revision()
            token: str | None = None
            while True:
                page = await self.store.list(
                    ListQuery(kind.group, kind.kind, namespace, selector, limit=500, continue_token=token)
                )
                for obj in page.items:
                    yield WatchEvent(int(obj["metadata"]["resourceVersion"]), EventType.ADDED, obj)
                token = page.continue_token
                if not token:
                    break
            since = revision
        while True:
            events = await self.store.events(since=since, kinds=[(kind.group, kind.kind)], limit=500)
            for event in events:
                since = event.revision
                meta = event.object.get("metadata") or {}
                if namespace and meta.get("namespace") != namespace:
                    continue
                if selector.matches(meta.get("labels") or {}):
                    yield event
            if not events:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=self._watch_poll)

    # -- writes ------------------------------------------------------------------------------

    async def create(
        self, ctx: RequestContext, kind: KindInfo, obj: Mapping[str, Any], *, namespace: str | None = None
    ) -> Resource:
        """Create ``obj``; ConflictError when it exists."""
        name = _name_of(obj)
        ns = self._namespace_for(kind, obj, namespace)
        return await self._guarded(ctx, Verb.CREATE, kind, ns, name, lambda: self._create(ctx, kind, obj, ns))

    async def _create(self, ctx: RequestContext, kind: KindInfo, obj: Mapping[str, Any], ns: str | None) -> Resource:
        problems = objects.check_identity(kind, obj, namespace=ns)
        if problems:
            raise InputError(f"{kind.kind} does not match the request path", problems=problems)
        prepared = objects.prepare_create(kind, obj, namespace=ns, uid=self._new_uid(), now=self._clock.now())
        desired = kinds_mod.validate_object(kind, prepared, version=_version_of(obj))
        await self._admission.admit(operation=Operation.CREATE, kind=kind, obj=desired, old=None, caller=ctx.caller)
        async with self.store.transaction() as tx:
            stored = await tx.create(desired)
            await self._record(tx, ctx, Verb.CREATE, kind, old=None, new=stored)
        self._notify(stored)
        return stored

    async def replace(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        obj: Mapping[str, Any],
        *,
        namespace: str | None,
        name: str,
        status: bool = False,
    ) -> Resource:
        """Replace the object (or only its status); ConflictError on a stale resourceVersion."""
        ns = namespace if kind.namespaced else None
        problems = objects.check_identity(kind, obj, namespace=ns, name=name)
        if problems:
            raise InputError(f"{kind.kind} does not match the request path", problems=problems)
        return await self._guarded(
            ctx,
            Verb.UPDATE,
            kind,
            ns,
            name,
            lambda: self._update(ctx, kind, ns, name, lambda old: objects.prepare_update(old, obj, status_only=status)),
        )

    async def patch(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        *,
        namespace: str | None,
        name: str,
        patch: Mapping[str, Any],
        status: bool = False,
    ) -> Resource:
        """Apply an RFC 7386 JSON merge patch to the object (or only its status)."""
        if not isinstance(patch, Mapping):
            raise InputError("a merge patch must be a JSON object", problems=[Problem("", "send a JSON object")])
        ns = namespace if kind.namespaced else None

        def change(old: Resource) -> Resource:
            patched = json_merge_patch(old, patch)
            objects.check_version(old, patch)
            patched.setdefault("metadata", {})["resourceVersion"] = old["metadata"].get("resourceVersion")
            return objects.prepare_update(old, patched, status_only=status)

        return await self._guarded(
            ctx, Verb.PATCH, kind, ns, name, lambda: self._update(ctx, kind, ns, name, change, verb=Verb.PATCH)
        )

    async def _update(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        ns: str | None,
        name: str,
        change: Callable[[Resource], Resource],
        *,
        verb: Verb = Verb.UPDATE,
    ) -> Resource:
        key = self._key(kind, ns, name)
        async with self.store.transaction() as tx:
            old = await tx.get(key)
            if old is None:
                raise NotFoundError(f"{kind.plural} {name!r} not found{_in(ns)}")
            desired = kinds_mod.validate_object(kind, change(old), version=kind.storage_version, old=old)
            if desired == old:
                return old
            await self._admission.admit(operation=Operation.UPDATE, kind=kind, obj=desired, old=old, caller=ctx.caller)
            version = str(old["metadata"].get("resourceVersion"))
            if objects.is_finalized(desired):
                stored = await tx.delete(key, expected_version=version)
                await self._record(tx, ctx, Verb.DELETE, kind, old=old, new=None)
            else:
                stored = await tx.update(desired, expected_version=version)
                await self._record(tx, ctx, verb, kind, old=old, new=stored)
        self._notify(stored)
        return stored

    async def delete(
        self,
        ctx: RequestContext,
        kind: KindInfo,
        *,
        namespace: str | None,
        name: str,
        expected_version: str | None = None,
    ) -> Resource:
        """Delete the object; with finalizers it is only marked (deletionTimestamp) until they clear."""
        ns = namespace if kind.namespaced else None
        return await self._guarded(
            ctx, Verb.DELETE, kind, ns, name, lambda: self._delete(ctx, kind, ns, name, expected_version)
        )

    async def _delete(
        self, ctx: RequestContext, kind: KindInfo, ns: str | None, name: str, expected_version: str | None
    ) -> Resource:
        key = self._key(kind, ns, name)
        async with self.store.transaction() as tx:
            old = await tx.get(key)
            if old is None:
                raise NotFoundError(f"{kind.plural} {name!r} not found{_in(ns)}")
            if expected_version:
                objects.check_version(old, {"metadata": {"resourceVersion": expected_version}})
            if old["metadata"].get("deletionTimestamp"):
                return old
            await self._admission.admit(operation=Operation.DELETE, kind=kind, obj=None, old=old, caller=ctx.caller)
            version = str(old["metadata"].get("resourceVersion"))
            if old["metadata"].get("finalizers"):
                stored = await tx.update(objects.mark_deleted(old, now=self._clock.now()), expected_version=version)
                await self._record(tx, ctx, Verb.DELETE, kind, old=old, new=stored, message="marked for deletion")
            else:
                stored = await tx.delete(key, expected_version=version)
                await self._record(tx, ctx, Verb.DELETE, kind, old=old, new=None)
        self._notify(stored)
        return stored

    async def apply(self, ctx: RequestContext, documents: Sequence[tuple[str, Any]]) -> builtins.list[ApplyResult]:
        """Create or update every document atomically: all are validated first, then written in one transaction.

        When any document is invalid nothing is written, and the error names each failing document.
        """
        planned = await self._plan_apply(ctx, documents)
        results: builtins.list[ApplyResult] = []
        async with self.store.transaction() as tx:
            for item in planned:
                old = await tx.get(item.key)
                if old is None:
                    stored = await tx.create(item.desired)
                    await self._record(tx, ctx, Verb.CREATE, item.kind, old=None, new=stored)
                    results.append(ApplyResult(item.source, "created", stored))
                    continue
                merged = objects.prepare_update(old, objects.merge_for_apply(old, item.desired), status_only=False)
                merged = kinds_mod.validate_object(item.kind, merged, version=item.kind.storage_version, old=old)
                if merged == old:
                    results.append(ApplyResult(item.source, "unchanged", old))
                    continue
                stored = await tx.update(merged, expected_version=str(old["metadata"]["resourceVersion"]))
                await self._record(tx, ctx, Verb.UPDATE, item.kind, old=old, new=stored)
                results.append(ApplyResult(item.source, "configured", stored))
        for result in results:
            if result.action != "unchanged":
                self._notify(result.object)
        return results

    async def _plan_apply(self, ctx: RequestContext, documents: Sequence[tuple[str, Any]]) -> builtins.list[_Planned]:
        problems: builtins.list[Problem] = []
        planned: builtins.list[_Planned] = []
        seen: dict[ResourceKey, str] = {}
        for source, obj in documents:
            try:
                item = await self._plan_one(ctx, source, obj)
            except BlacktopError as exc:
                if not isinstance(exc, InputError | NotFoundError):
                    raise
                found = getattr(exc, "problems", ()) or (Problem("", str(exc)),)
                problems.extend(Problem(p.path, p.message, document=p.document or source, line=p.line) for p in found)
                continue
            if item.key in seen:
                problems.append(Problem("metadata.name", f"duplicates the object in {seen[item.key]}", document=source))
                continue
            seen[item.key] = source
            planned.append(item)
        if problems:
            failing = sorted({p.document or "" for p in problems})
            raise InputError(
                f"nothing was applied: {len(failing)} document(s) are invalid ({', '.join(failing)})",
                problems=problems,
            )
        return planned

    async def _plan_one(self, ctx: RequestContext, source: str, obj: Any) -> _Planned:
        if not isinstance(obj, Mapping):
            raise InputError("a document must be an object", problems=[Problem("", "expected a mapping")])
        validated = self.kinds.validate(obj)
        kind = self.kinds.require(ResourceKey.of(validated).group, str(validated["kind"]))
        ns = self._namespace_for(kind, validated, None)
        key = self._key(kind, ns, _name_of(validated))
        old = await self.store.get(key)
        verb = Verb.UPDATE if old is not None else Verb.CREATE
        await self._authorize(ctx, verb, kind, ns, key.name)
        if old is None:
            desired = objects.prepare_create(kind, validated, namespace=ns, uid=self._new_uid(), now=self._clock.now())
            desired = kinds_mod.validate_object(kind, desired, version=_version_of(obj))
            await self._admission.admit(operation=Operation.CREATE, kind=kind, obj=desired, old=None, caller=ctx.caller)
        else:
            desired = copy.deepcopy(validated)
            desired.setdefault("metadata", {})["namespace"] = ns
            if not kind.namespaced:
                desired["metadata"].pop("namespace", None)
            merged = objects.prepare_update(old, objects.merge_for_apply(old, desired), status_only=False)
            await self._admission.admit(operation=Operation.UPDATE, kind=kind, obj=merged, old=old, caller=ctx.caller)
        return _Planned(source, kind, key, desired, old is not None)

    async def authorize(self, ctx: RequestContext, verb: Verb, kind: KindInfo, namespace: str | None) -> None:
        """Refuse (403, audited) unless the caller may ``verb`` objects of ``kind`` in ``namespace``.

        For a feature that must know before it reads anything on the caller's behalf (a webhook
        checks the right to record before it looks up the namespace's signing secret).
        """
        await self._authorize(ctx, verb, kind, namespace if kind.namespaced else None, None)

    # -- plumbing ----------------------------------------------------------------------------

    async def _authorize(
        self, ctx: RequestContext, verb: Verb, kind: KindInfo, namespace: str | None, name: str | None
    ) -> None:
        try:
            await self._authorizer.authorize(ctx.caller, verb, kind, namespace)
        except BlacktopError as exc:
            await self._record_refusal(ctx, verb, kind, namespace, name, exc)
            raise

    async def _guarded(
        self,
        ctx: RequestContext,
        verb: Verb,
        kind: KindInfo,
        namespace: str | None,
        name: str,
        write: Callable[[], Any],
    ) -> Resource:
        """Authorize, run the write, and audit a refusal of any kind (denied, invalid, conflict)."""
        await self._authorize(ctx, verb, kind, namespace, name)
        try:
            result: Resource = await write()
        except BlacktopError as exc:
            await self._record_refusal(ctx, verb, kind, namespace, name, exc)
            raise
        return result

    async def _record(
        self,
        tx: ResourceTransaction,
        ctx: RequestContext,
        verb: Verb,
        kind: KindInfo,
        *,
        old: Resource | None,
        new: Resource | None,
        message: str = "",
    ) -> None:
        subject = new or old or {}
        key = ResourceKey.of(subject)
        record = self._audit.build(
            await tx.last_audit(),
            time=self._clock.now(),
            caller=ctx.caller,
            verb=verb.value,
            kind=kind,
            group=kind.group,
            kind_name=kind.kind,
            namespace=key.namespace,
            name=key.name,
            outcome="allowed",
            code=201 if verb is Verb.CREATE else 200,
            request_id=ctx.request_id,
            message=message,
            old=old,
            new=new,
        )
        await tx.append_audit(record)

    async def _record_refusal(
        self,
        ctx: RequestContext,
        verb: Verb,
        kind: KindInfo,
        namespace: str | None,
        name: str | None,
        exc: BlacktopError,
    ) -> None:
        code = status_code(exc)
        outcome = "denied" if code in (401, 403) else "rejected"
        if verb in (Verb.GET, Verb.LIST, Verb.WATCH) and outcome != "denied":
            return
        async with self.store.transaction() as tx:
            record = self._audit.build(
                await tx.last_audit(),
                time=self._clock.now(),
                caller=ctx.caller,
                verb=verb.value,
                kind=kind,
                group=kind.group,
                kind_name=kind.kind,
                namespace=namespace,
                name=name,
                outcome=outcome,
                code=code,
                request_id=ctx.request_id,
                message=str(exc)[:500],
                old=None,
                new=None,
            )
            await tx.append_audit(record)

    def _notify(self, obj: Resource) -> None:
        self._changed.set()
        for listener in self._listeners:
            listener(obj)

    def _key(self, kind: KindInfo, namespace: str | None, name: str) -> ResourceKey:
        return ResourceKey(kind.group, kind.kind, namespace if kind.namespaced else None, name)

    def _namespace_for(self, kind: KindInfo, obj: Mapping[str, Any], namespace: str | None) -> str | None:
        if not kind.namespaced:
            return None
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        return str(namespace or meta.get("namespace") or "default")


def _name_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not name:
        raise InputError("the object has no name", problems=[Problem("metadata.name", "is required")])
    return name


def _version_of(obj: Mapping[str, Any]) -> str | None:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.rpartition("/")[2] or None


def _in(namespace: str | None) -> str:
    return f" in namespace {namespace!r}" if namespace else ""
