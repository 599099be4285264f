"""The pipeline's ports, implemented over the base domains and the resource store.

* ``RbacAuthorizer``: tenancy's pure authorizer over a cached ``Bindings`` snapshot of the stored
  RoleBinding, ClusterRoleBinding and Group objects. Local writes of those kinds invalidate it at
  once; changes made by other replicas are picked up within ``refresh_seconds``.
* ``PolicyAdmission``: the stored ValidatingPolicy objects, compiled once, cached the same way.
* ``HashChainAudit``: audit's ``build_record``.
* ``TokenAuthenticator`` / ``TokenService``: API tokens, stored hashed.
* ``AuditService``: listing and verifying the trail.
* ``PipelineWriter``: the engine's ``ResourceWriter``; controllers write through the pipeline with
  their own service identity.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from blacktop import audit, policy, tenancy
from blacktop.kernel.clock import Clock
from blacktop.kernel.errors import NotAllowedError, NotFoundError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller
from blacktop.kernel.kinds import KindInfo
from blacktop.kernel.ports import AuditQuery, AuditRecord, EventType, ListQuery, ResourceStore
from blacktop.kernel.resources import Resource, ResourceKey

from .ports import Operation, Verb
from .service import RequestContext, ResourceService

TENANCY_GROUP = "tenancy.blacktop.dev"
_BINDING_KINDS = (
    (TENANCY_GROUP, "RoleBinding"),
    (TENANCY_GROUP, "ClusterRoleBinding"),
    (TENANCY_GROUP, "Group"),
)
_POLICY_KIND = (policy.VALIDATING_POLICY.group, policy.VALIDATING_POLICY.kind)


async def list_all(store: ResourceStore, group: str, kind: str) -> list[Resource]:
    """Every stored object of one kind, across namespaces, following continue tokens."""
    items: list[Resource] = []
    token: str | None = None
    while True:
        page = await store.list(ListQuery(group=group, kind=kind, limit=1000, continue_token=token))
        items.extend(page.items)
        token = page.continue_token
        if not token:
            return items


class _Snapshot:
    """Stored objects of a few kinds, kept current from the event log.

    The first use lists them; afterwards only events newer than the last seen revision are read
    and applied, so a write costs one indexed read, not a reload. Local writes of those kinds mark
    it dirty (read at once); other replicas' writes are seen within ``refresh_seconds``.
    """

    def __init__(self, store: ResourceStore, kinds: tuple[tuple[str, str], ...], refresh_seconds: float) -> None:
        self._store = store
        self._kinds = kinds
        self._refresh = refresh_seconds
        self._checked_at = -1e9
        self._revision = 0
        self._loaded = False
        self._dirty = True
        self._objects: dict[ResourceKey, Resource] = {}

    def invalidate_for(self, obj: Mapping[str, Any]) -> None:
        key = ResourceKey.of(obj)
        if (key.group, key.kind) in self._kinds:
            self._dirty = True

    async def changed(self) -> bool:
        """Bring the objects up to date; True when any of them changed since the last call."""
        if not self._loaded:
            self._revision = await self._store.current_revision()
            for kind in self._kinds:
                for obj in await list_all(self._store, *kind):
                    self._objects[ResourceKey.of(obj)] = obj
            self._loaded, self._dirty, self._checked_at = True, False, time.monotonic()
            return True
        if not self._dirty and time.monotonic() - self._checked_at < self._refresh:
            return False
        changed = False
        while True:
            events = await self._store.events(since=self._revision, kinds=self._kinds, limit=1000)
            for event in events:
                key = ResourceKey.of(event.object)
                if event.type == EventType.DELETED:
                    self._objects.pop(key, None)
                else:
                    self._objects[key] = event.object
                self._revision = event.revision
                changed = True
            if len(events) < 1000:
                break
        self._dirty, self._checked_at = False, time.monotonic()
        return changed

    def of_kind(self, group: str, kind: str) -> list[Resource]:
        """The current objects of one kind."""
        return [obj for key, obj in self._objects.items() if (key.group, key.kind) == (group, kind)]


class RbacAuthorizer:
    """Authorizes with tenancy's RBAC rules over the stored bindings."""

    def __init__(
        self, store: ResourceStore, *, access: tenancy.AccessConfig | None = None, refresh_seconds: float = 2.0
    ) -> None:
        self._snapshot = _Snapshot(store, _BINDING_KINDS, refresh_seconds)
        self._bindings = tenancy.compile_bindings()
        self._access = access

    def on_write(self, obj: Mapping[str, Any]) -> None:
        """Invalidate the snapshot when a binding or group changed."""
        self._snapshot.invalidate_for(obj)

    async def bindings(self) -> tenancy.Bindings:
        """The current bindings snapshot."""
        if await self._snapshot.changed():
            self._bindings = tenancy.compile_bindings(
                role_bindings=self._snapshot.of_kind(TENANCY_GROUP, "RoleBinding"),
                cluster_role_bindings=self._snapshot.of_kind(TENANCY_GROUP, "ClusterRoleBinding"),
                groups=self._snapshot.of_kind(TENANCY_GROUP, "Group"),
            )
        return self._bindings

    async def expand(self, caller: Caller) -> Caller:
        """The caller with the groups Group objects give it, so policies see every membership."""
        groups = tenancy.effective_groups(caller, await self.bindings())
        return caller if groups == caller.groups else dataclasses.replace(caller, groups=groups)

    async def authorize(self, caller: Caller, verb: Verb, kind: KindInfo, namespace: str | None) -> None:
        """Raise NotAllowedError naming verb, kind and namespace unless a grant allows the request."""
        kwargs = {"access": self._access} if self._access is not None else {}
        tenancy.authorize(caller, verb.value, kind, namespace, await self.bindings(), **kwargs).enforce()


class PolicyAdmission:
    """Runs every stored ValidatingPolicy against each write."""

    def __init__(self, store: ResourceStore, *, refresh_seconds: float = 2.0) -> None:
        self._snapshot = _Snapshot(store, (_POLICY_KIND,), refresh_seconds)
        self._policies: list[policy.CompiledPolicy] = []

    def on_write(self, obj: Mapping[str, Any]) -> None:
        """Invalidate the compiled policies when a policy changed."""
        self._snapshot.invalidate_for(obj)

    async def _current(self) -> list[policy.CompiledPolicy]:
        if await self._snapshot.changed():
            compiled = []
            for obj in self._snapshot.of_kind(*_POLICY_KIND):
                if (obj.get("metadata") or {}).get("deletionTimestamp"):
                    continue
                compiled.append(policy.compile_policy(obj))
            self._policies = compiled
        return self._policies

    async def admit(
        self,
        *,
        operation: Operation,
        kind: KindInfo,
        obj: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
        caller: Caller,
    ) -> None:
        """Refuse the write when a matching policy's validation fails."""
        if (kind.group, kind.kind) == _POLICY_KIND and obj is not None:
            policy.validate_policy(obj)
        policies = await self._current()
        if not policies:
            return
        subject = obj or old or {}
        meta = subject.get("metadata") or {}
        request = policy.AdmissionRequest(
            operation=policy.Operation(operation.value),
            group=kind.group,
            version=kind.storage_version,
            kind=kind.kind,
            namespace=meta.get("namespace"),
            name=str(meta.get("name", "")),
            user=caller,
            object=obj,
            old_object=old,
        )
        policy.raise_for_violations(policy.admit(policies, request), request)


class HashChainAudit:
    """Builds hash-chained audit records with secret fields redacted from the digests."""

    def build(
        self,
        previous: AuditRecord | None,
        *,
        time: datetime,
        caller: Caller,
        verb: str,
        kind: KindInfo | None,
        group: str,
        kind_name: str,
        namespace: str | None,
        name: str | None,
        outcome: str,
        code: int,
        request_id: str,
        message: str,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
    ) -> AuditRecord:
        """The record following ``previous``."""
        event = audit.AuditEvent(
            time=time,
            actor=caller.ref,
            verb=verb,
            group=group,
            kind=kind_name,
            namespace=namespace,
            name=name,
            outcome=outcome,
            code=code,
            request_id=request_id,
            message=message,
            old=old,
            new=new,
            secret_paths=kind.secret_paths if kind is not None else (),
        )
        return audit.build_record(previous, event)


class TokenAuthenticator:
    """Bearer tokens → callers, with a short cache so hot paths do not hit the database every time."""

    def __init__(
        self, tokens: tenancy.TokenStore, *, clock: Clock, rbac: RbacAuthorizer, cache_seconds: float = 5.0
    ) -> None:
        self._tokens = tokens
        self._clock = clock
        self._rbac = rbac
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._cache_seconds = cache_seconds

    async def authenticate(self, token: str | None) -> Caller:
        """The caller a token belongs to, with group memberships from Group objects."""
        digest = tenancy.hash_token(token) if token else ""
        cached = self._cache.get(digest)
        if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
            return await self._rbac.expand(cached[1])
        caller = await tenancy.authenticate(self._tokens, token, now=self._clock.now())
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic(), caller)
        return await self._rbac.expand(caller)


class TokenService:
    """Issues API tokens: anyone for themselves, platform admins for anyone."""

    def __init__(self, tokens: tenancy.TokenStore, *, clock: Clock) -> None:
        self._tokens = tokens
        self._clock = clock

    async def issue(
        self, *, caller: Caller, user: str, groups: list[str], description: str, ttl_days: int | None
    ) -> dict[str, Any]:
        """Create a token and return its text once."""
        is_admin = SYSTEM_GROUP_ADMINS in caller.groups
        if (user != caller.name or groups) and not is_admin:
            raise NotAllowedError(
                f"{caller.ref} may only create tokens for itself without extra groups (platform-admin only)"
            )
        now = self._clock.now()
        expires = now + timedelta(days=ttl_days) if ttl_days else None
        text, record = tenancy.issue_token(
            user=user, groups=tuple(groups), description=description, now=now, expires_at=expires
        )
        await self._tokens.add(record)
        return {
            "id": record.id,
            "token": text,
            "user": user,
            "groups": sorted(record.groups),
            "expiresAt": expires.isoformat() if expires else None,
        }

    async def ensure_bootstrap(self, token: str | None) -> str | None:
        """Create the first admin token unless one exists; returns its text when created."""
        if token is not None:
            if await self._tokens.get_by_hash(tenancy.hash_token(token)) is not None:
                return None
        elif await self._tokens.list(user="admin"):
            return None
        text, record = tenancy.issue_bootstrap_token(now=self._clock.now(), token=token)
        await self._tokens.add(record)
        return text


class AuditService:
    """Lists and verifies the audit trail."""

    def __init__(self, store: ResourceStore) -> None:
        self._store = store

    async def list(self, query: AuditQuery) -> list[AuditRecord]:
        """Records matching the query, oldest first."""
        return list(await self._store.audit_records(query))

    async def verify(self) -> dict[str, Any]:
        """Recompute the whole chain; names the first broken record."""
        records: list[AuditRecord] = []
        after = 0
        while True:
            batch = await self._store.audit_records(AuditQuery(after_seq=after, limit=10_000))
            if not batch:
                break
            records.extend(batch)
            after = batch[-1].seq
        report = audit.verify(records)
        broken = None if report.ok else {"seq": report.broken_seq, "reason": report.problem}
        return {"ok": report.ok, "checked": report.checked, "firstBroken": broken, "message": report.describe()}


class PipelineWriter:
    """The reconcile engine's writer: every controller write goes through the pipeline as a service identity."""

    def __init__(self, service: ResourceService, caller: Caller) -> None:
        self._service = service
        self._ctx = RequestContext(caller=caller, request_id=f"controller:{caller.name}")

    def _kind(self, key: ResourceKey) -> KindInfo:
        return self._service.kinds.require(key.group, key.kind)

    async def update_status(
        self, key: ResourceKey, status: Mapping[str, Any], *, expected_version: str | None
    ) -> Resource:
        """Replace the object's status."""
        patch: dict[str, Any] = {"status": None}
        kind = self._kind(key)
        current = await self._service.get(self._ctx, kind, key.namespace, key.name)
        body = dict(current, status=dict(status))
        body["metadata"] = dict(
            current["metadata"], resourceVersion=expected_version or current["metadata"].get("resourceVersion")
        )
        del patch
        return await self._service.replace(self._ctx, kind, body, namespace=key.namespace, name=key.name, status=True)

    async def patch(self, key: ResourceKey, patch: Mapping[str, Any], *, expected_version: str | None) -> Resource:
        """Merge-patch metadata and spec."""
        body = dict(patch)
        if expected_version:
            body["metadata"] = dict(body.get("metadata") or {}, resourceVersion=expected_version)
        return await self._service.patch(self._ctx, self._kind(key), namespace=key.namespace, name=key.name, patch=body)

    async def add_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Append a finalizer unless present."""
        current = await self._service.get(self._ctx, self._kind(key), key.namespace, key.name)
        finalizers = list(current["metadata"].get("finalizers") or [])
        if finalizer in finalizers:
            return current
        return await self.patch(
            key, {"metadata": {"finalizers": [*finalizers, finalizer]}}, expected_version=expected_version
        )

    async def remove_finalizer(self, key: ResourceKey, finalizer: str, *, expected_version: str | None) -> Resource:
        """Drop a finalizer; the last one on a deleting object removes the object."""
        current = await self._service.get(self._ctx, self._kind(key), key.namespace, key.name)
        finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != finalizer]
        if len(finalizers) == len(current["metadata"].get("finalizers") or []):
            return current
        return await self.patch(
            key, {"metadata": {"finalizers": finalizers or None}}, expected_version=expected_version
        )

    async def create(self, obj: Resource) -> Resource:
        """Create a child object."""
        key = ResourceKey.of(obj)
        return await self._service.create(self._ctx, self._kind(key), obj, namespace=key.namespace)

    async def delete(self, key: ResourceKey) -> None:
        """Delete a child object; absent is fine."""
        try:
            await self._service.delete(self._ctx, self._kind(key), namespace=key.namespace, name=key.name)
        except NotFoundError:
            return
