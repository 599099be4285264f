"""The secrets controllers: ExternalSecret sync, ClusterExternalSecret fan-out, store status, rotation.

Decisions are the pure functions of ``blacktop.secrets`` (``plan_sync``, ``plan_rotation``,
``stamp_external_secrets``); this module gathers their inputs (the object, its store, fetched values,
the current target) and performs the outcome. Values are written to the encrypted store and the
target is a platform ``Secret`` resource that holds only key names and a store reference, so no
value passes through the resource pipeline, its audit records or its event log.

Team isolation is enforced here, before any fetch: an ExternalSecret in namespace ``N`` reading the
embedded store (or Vault through a ClusterSecretStore) may only name paths of team ``N`` or
``shared/``; anything else fails with Ready=False and a message naming the path and the rule.
Every value read or written on a controller's behalf is audited with its service identity.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from blacktop import engine as reconcile
from blacktop import secrets, tenancy
from blacktop.apiserver import RequestContext, ResourceService
from blacktop.kernel.clock import Clock, format_timestamp, parse_timestamp
from blacktop.kernel.errors import BlacktopError, InputError, NotFoundError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.resources import Resource
from blacktop.secrets import access, crypto, eso, guarding, model, refreshing, rotation, scoping, syncing
from blacktop.secrets import kinds as secret_kinds
from blacktop.secrets.adapters.embedded import EmbeddedStoreReader
from blacktop.tenancy import teamnamespaces

if TYPE_CHECKING:
    from blacktop.secrets.adapters.vault import VaultCredentials

log = logging.getLogger("blacktop.secrets")

SYNC_CALLER: Final = service_caller("external-secrets")
ROTATION_CALLER: Final = service_caller("secret-rotation")
PLATFORM_MOUNT: Final = "platform"
"""Synced targets' values live at ``platform/<namespace>/<secret name>`` in the store."""
CLEANUP_FINALIZER: Final = "secrets.blacktop.dev/target-cleanup"
CES_LABEL: Final = "external-secrets.io/clusterexternalsecret"
NAMESPACE_NAME_LABEL: Final = "kubernetes.io/metadata.name"
"""The label Kubernetes puts on every namespace, naming it (selectors often use it)."""


def _sync_status(obj: Resource) -> refreshing.SyncStatus:
    raw = obj.get("status") or {}
    conditions = tuple(
        refreshing.Condition(
            type=str(c.get("type", "")),
            status=c.get("status", "Unknown"),
            reason=str(c.get("reason", "")),
            message=str(c.get("message", "")),
            last_transition_time=parse_timestamp(str(c["lastTransitionTime"])),
        )
        for c in raw.get("conditions") or []
        if c.get("lastTransitionTime")
    )
    refresh = raw.get("refreshTime")
    return refreshing.SyncStatus(
        refresh_time=parse_timestamp(str(refresh)) if refresh else None,
        synced_resource_version=raw.get("syncedResourceVersion"),
        conditions=conditions,
        binding_name=(raw.get("binding") or {}).get("name"),
    )


def _encode_values(data: Mapping[str, bytes]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    binary: list[str] = []
    for key, raw in data.items():
        try:
            values[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            values[key] = base64.b64encode(raw).decode()
            binary.append(key)
    return values, sorted(binary)


def _decode_values(values: Mapping[str, str], binary: list[str]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) if k in binary else v.encode() for k, v in values.items()}


def _vault() -> ModuleType:
    """The Vault adapter, imported on first use so the platform runs without ``hvac`` installed."""
    try:
        from blacktop.secrets.adapters import vault
    except ImportError as exc:
        raise secrets.UnsupportedProviderError(
            "the Vault provider needs the hvac package; install it with `pip install hvac`"
        ) from exc
    return vault


def _redacted(
    status: refreshing.SyncStatus, fetched: syncing.Fetched, extra: Sequence[Mapping[str, str]] = ()
) -> refreshing.SyncStatus:
    """Status with any fetched value (or Secret-sourced template) scrubbed from condition messages
    (a template error may quote one)."""
    values: set[str] = set()
    maps = [*fetched.secrets.values(), *(m for found in fetched.found.values() for m in found.values()), *extra]
    for mapping in maps:
        values.update(str(v) for v in mapping.values() if len(str(v)) >= 4)
    conditions = []
    for condition in status.conditions:
        message = condition.message
        for value in sorted(values, key=len, reverse=True):
            message = message.replace(value, "<redacted>")
        conditions.append(dataclasses.replace(condition, message=message))
    return dataclasses.replace(status, conditions=tuple(conditions))


def _is_unchanged(target: syncing.TargetSecret, observed: refreshing.ObservedTarget | None) -> bool:
    """A refresh that fetched the same values: the stored target already matches, so nothing is written."""
    return (
        observed is not None
        and dict(observed.data) == dict(target.data)
        and dict(observed.labels) == dict(target.labels)
        and dict(observed.annotations) == dict(target.annotations)
    )


def _ready(status: bool, reason: str, message: str) -> reconcile.ConditionUpdate:
    return reconcile.ConditionUpdate(type="Ready", status=status, reason=reason, message=message)


class SecretsRuntime:
    """Gathers inputs for the secrets planners and performs their plans."""

    def __init__(
        self,
        *,
        store: secrets.SecretStoreService,
        guarded: guarding.GuardedSecretStore,
        resources: ResourceService,
        clock: Clock,
        audit: guarding.SecretAuditLog,
        entropy: crypto.Entropy,
    ) -> None:
        self._store = store
        self._guarded = guarded
        self._resources = resources
        self._clock = clock
        self._audit = audit
        self._entropy = entropy
        self._engine = secrets.TemplateEngine(clock=clock.now, entropy=entropy)
        self._sync_ctx = RequestContext(caller=SYNC_CALLER, request_id="controller:external-secrets")
        self._rotation_ctx = RequestContext(caller=ROTATION_CALLER, request_id="controller:secret-rotation")

    def controllers(self) -> list[reconcile.Controller]:
        """The controllers this feature registers."""
        fc = reconcile.FunctionController
        return [
            fc(eso.GROUP, "ExternalSecret", self.reconcile_external_secret, self.finalize_external_secret,
               finalizer=CLEANUP_FINALIZER),
            fc(eso.GROUP, "ClusterExternalSecret", self.reconcile_cluster_external_secret,
               self.finalize_cluster_external_secret, finalizer=CLEANUP_FINALIZER),
            fc(eso.GROUP, "SecretStore", self.reconcile_store),
            fc(eso.GROUP, "ClusterSecretStore", self.reconcile_store),
            fc(secret_kinds.GROUP, "SecretRotation", self.reconcile_rotation),
        ]  # fmt: skip

    # -- audit -----------------------------------------------------------------------------------

    @staticmethod
    def _entry(
        log: list[guarding.SecretAuditEntry], caller_ctx: RequestContext, action: str, path: model.SecretPath, *,
        version: int | None, outcome: str = "allowed", code: int = 200, message: str = "",
    ) -> None:  # fmt: skip
        """Queue one audit entry; the reconcile appends its entries in one transaction at the end."""
        log.append(
            guarding.SecretAuditEntry(
                caller=caller_ctx.caller, request_id=caller_ctx.request_id, action=action, path=path.api_path,
                team=access.team_of(path), version=version, outcome=outcome, code=code, message=message,
            )
        )  # fmt: skip

    # -- stores ----------------------------------------------------------------------------------

    async def reconcile_store(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """A store is Ready when its manifest validates and its provider and auth method are served."""
        try:
            store = eso.parse_eso_document(obj)
            assert isinstance(store, eso.SecretStore)
            if store.spec.provider.vault is not None:
                _vault().auth_method(store.spec.provider.vault)
        except BlacktopError as exc:
            return reconcile.plan_status(
                obj, now=ctx.now, conditions=[_ready(False, "InvalidProviderConfig", str(exc))]
            )
        provider = store.spec.provider.name
        message = f"store validated ({provider} provider)"
        if provider == "vault":
            message += "; the Vault adapter is untested against a real Vault server"
        return reconcile.plan_status(obj, now=ctx.now, conditions=[_ready(True, "Valid", message)])

    async def _find_store(self, es: eso.ExternalSecret) -> eso.SecretStore:
        ref = es.spec.secret_store_ref
        namespace = es.metadata.namespace or "default"
        info = secret_kinds.SECRET_STORE if ref.kind == "SecretStore" else secret_kinds.CLUSTER_SECRET_STORE
        where = namespace if ref.kind == "SecretStore" else None
        try:
            raw = await self._resources.get(self._sync_ctx, info, where, ref.name)
        except NotFoundError:
            raise secrets.SyncError(
                f"ExternalSecret {namespace}/{es.metadata.name}: could not get {ref.kind} {ref.name!r}"
            ) from None
        parsed = eso.parse_eso_document(raw)
        assert isinstance(parsed, eso.SecretStore)
        labels = await self._namespace_labels(namespace)
        return scoping.resolve_store(es, {(ref.kind, where, ref.name): parsed}, namespace_labels=labels)

    async def _namespace_labels(self, namespace: str) -> dict[str, str]:
        """The labels of one namespace, as ``_namespaces`` gives them (a ClusterSecretStore condition matches them)."""
        labels = {NAMESPACE_NAME_LABEL: namespace}
        team_kind = self._resources.kinds.get(teamnamespaces.kind.GROUP, teamnamespaces.kind.KIND)
        if team_kind is None:
            return labels
        try:
            team_ns = teamnamespaces.parse_team_namespace(
                await self._resources.get(self._sync_ctx, team_kind, None, namespace)
            )
        except (NotFoundError, InputError):
            return labels
        return {**teamnamespaces.rendering.namespace_labels(team_ns), **labels}

    # -- external secrets ------------------------------------------------------------------------

    def _target_path(self, namespace: str, name: str) -> model.SecretPath:
        return model.SecretPath(mount=PLATFORM_MOUNT, path=f"{namespace}/{name}")

    async def _observed(self, namespace: str, name: str) -> refreshing.ObservedTarget | None:
        try:
            current = await self._resources.get(self._sync_ctx, secret_kinds.SECRET, namespace, name)
        except NotFoundError:
            return None
        meta = current.get("metadata") or {}
        spec = current.get("spec") or {}
        try:
            found = await self._store.get(self._target_path(namespace, name))
        except BlacktopError:
            return refreshing.ObservedTarget(data={}, labels=dict(meta.get("labels") or {}))
        data = _decode_values(found.data, list(spec.get("binaryKeys") or []))
        return refreshing.ObservedTarget(
            data=data, labels=dict(meta.get("labels") or {}), annotations=dict(meta.get("annotations") or {})
        )

    def _check_paths(self, es: eso.ExternalSecret, store: eso.SecretStore, plan: syncing.FetchPlan) -> None:
        """Team isolation: only the ExternalSecret's own team prefix and ``shared/``."""
        if store.kind == "SecretStore" and store.spec.provider.vault is not None:
            return  # a namespace's own Vault credentials: Vault's policies decide
        namespace = es.metadata.namespace or "default"
        mount = store.spec.provider.blacktop.mount if store.spec.provider.blacktop is not None else "secret"
        wanted = [k.key for k in plan.keys] + [q.path or "" for q in plan.finds]
        for key in wanted:
            try:
                path = model.parse_secret_path(key, default_mount=mount)
            except BlacktopError:
                path = model.SecretPath(mount=mount, path=key.strip("/") or "-")
            if not access.namespace_may_read(namespace, path):
                raise secrets.SyncError(
                    "access denied: " + access.namespace_denial("ExternalSecret", namespace, es.metadata.name, path)
                )

    async def _passwords(self, es: eso.ExternalSecret, plan: syncing.FetchPlan) -> dict[str, eso.PasswordSpec]:
        found: dict[str, eso.PasswordSpec] = {}
        for ref in plan.generators:
            try:
                raw = await self._resources.get(self._sync_ctx, secret_kinds.PASSWORD, es.metadata.namespace, ref.name)
            except NotFoundError:
                continue
            generator = eso.parse_eso_document(raw)
            assert isinstance(generator, eso.PasswordGenerator)
            found[ref.name] = generator.spec
        return found

    async def _vault_credentials(
        self, store: eso.SecretStore, namespace: str, log: list[guarding.SecretAuditEntry]
    ) -> VaultCredentials:
        vault_module = _vault()
        vault = store.spec.provider.vault
        assert vault is not None
        method = vault_module.auth_method(vault)
        owner = store.metadata.namespace or namespace
        if method == "token":
            ref = vault.auth["tokenSecretRef"]
            token = await self._secret_value(ref.get("namespace") or owner, ref["name"], ref.get("key", "token"), log)
            credentials: VaultCredentials = vault_module.VaultCredentials(token=token)
            return credentials
        role = vault.auth["appRole"]
        secret_ref = role.get("secretRef") or {}
        secret_id = await self._secret_value(
            secret_ref.get("namespace") or owner, secret_ref["name"], secret_ref.get("key", "secret-id"), log
        )
        approle: VaultCredentials = vault_module.VaultCredentials(
            role_id=role.get("roleId"), secret_id=secret_id, approle_mount=role.get("path", "approle")
        )
        return approle

    async def _secret_value(self, namespace: str, name: str, key: str, log: list[guarding.SecretAuditEntry]) -> str:
        where = self._target_path(namespace, name)
        found = await self._store.get(where)
        self._entry(log, self._sync_ctx, "sync-read", where, version=found.metadata.version, message="vault credential")
        if key not in found.data:
            raise secrets.SyncError(f"Secret {namespace}/{name} has no key {key!r}")
        return found.data[key]

    async def _fetch(
        self,
        es: eso.ExternalSecret,
        store: eso.SecretStore,
        plan: syncing.FetchPlan,
        log: list[guarding.SecretAuditEntry],
    ) -> syncing.Fetched:
        passwords = await self._passwords(es, plan)
        namespace = es.metadata.namespace or "default"
        if store.spec.provider.vault is not None:
            reader = _vault().VaultStoreReader(
                store.spec.provider.vault, await self._vault_credentials(store, namespace, log)
            )
            fetched = await reader.fetch(plan)
            return syncing.Fetched(secrets=fetched.secrets, found=fetched.found, passwords=passwords)
        mount = store.spec.provider.blacktop.mount if store.spec.provider.blacktop is not None else "secret"
        fetched = await EmbeddedStoreReader(self._store, mount=mount).fetch(plan, passwords=passwords)
        note = f"for ExternalSecret {namespace}/{es.metadata.name}"
        for key in plan.keys:
            path = model.parse_secret_path(key.key, default_mount=mount)
            ok = key in fetched.secrets
            numbered = key.version.isascii() and key.version.isdigit()
            self._entry(
                log, self._sync_ctx, "sync-read", path, version=int(key.version) if numbered else None,
                outcome="allowed" if ok else "rejected", code=200 if ok else 404, message=note,
            )  # fmt: skip
        for query in plan.finds:
            for found_path in fetched.found.get(query, {}):
                path = model.SecretPath(mount=mount, path=found_path)
                self._entry(log, self._sync_ctx, "sync-read", path, version=None, message=note)
        return fetched

    async def _template_sources(
        self, es: eso.ExternalSecret, log: list[guarding.SecretAuditEntry]
    ) -> dict[tuple[str, str], dict[str, str]]:
        """The ConfigMaps and platform Secrets ``templateFrom`` names, from the ExternalSecret's namespace.

        A source that does not exist is left out: rendering then fails with Ready=False naming it.
        Secret values are read from the store with the sync's identity and audited, never logged.
        """
        namespace = es.metadata.namespace or "default"
        sources: dict[tuple[str, str], dict[str, str]] = {}
        for kind, name in syncing.template_source_refs(es.spec):
            if kind == "ConfigMap":
                try:
                    config_map = await self._resources.get(self._sync_ctx, secret_kinds.CONFIG_MAP, namespace, name)
                except NotFoundError:
                    continue
                try:
                    binary = {k: base64.b64decode(v, validate=True).decode("utf-8", errors="replace")
                              for k, v in (config_map.get("binaryData") or {}).items()}  # fmt: skip
                except ValueError as exc:
                    raise secrets.SyncError(f"ConfigMap {namespace}/{name}: binaryData is not valid base64") from exc
                sources[(kind, name)] = {
                    **binary,
                    **{str(k): str(v) for k, v in (config_map.get("data") or {}).items()},
                }
                continue
            try:
                platform_secret = await self._resources.get(self._sync_ctx, secret_kinds.SECRET, namespace, name)
                where = self._target_path(namespace, name)
                found = await self._store.get(where)
            except (NotFoundError, secrets.SecretNotFound):
                continue
            note = f"template source for ExternalSecret {namespace}/{es.metadata.name}"
            self._entry(log, self._sync_ctx, "sync-read", where, version=found.metadata.version, message=note)
            binary_keys = list((platform_secret.get("spec") or {}).get("binaryKeys") or [])
            values = _decode_values(found.data, binary_keys)
            sources[(kind, name)] = {k: v.decode("utf-8", errors="replace") for k, v in values.items()}
        return sources

    async def reconcile_external_secret(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """Sync the target when a refresh is due, and report status as ESO does."""
        status = _sync_status(obj)
        try:
            es = eso.parse_eso_document(obj)
            assert isinstance(es, eso.ExternalSecret)
        except BlacktopError as exc:
            failed = refreshing.failed(status, now=ctx.now, message=str(exc))
            return self._status_plan(obj, failed, None)
        namespace = es.metadata.namespace or "default"
        observed = await self._observed(namespace, es.target_name)
        if not refreshing.needs_sync(es, status, target=observed, now=ctx.now):
            return reconcile.Plan(requeue_after=refreshing.requeue_after(es, status, now=ctx.now))
        log: list[guarding.SecretAuditEntry] = []
        try:
            decision = await self._sync(es, status, observed, ctx, log)
        finally:
            await self._audit.record_many(log)
        return self._status_plan(obj, decision.status, decision.requeue_after)

    async def _sync(
        self, es: eso.ExternalSecret, status: refreshing.SyncStatus, observed: refreshing.ObservedTarget | None,
        ctx: reconcile.ReconcileContext, log: list[guarding.SecretAuditEntry],
    ) -> refreshing.SyncPlan:  # fmt: skip
        namespace = es.metadata.namespace or "default"
        fetched: syncing.Fetched | None = None
        sources: dict[tuple[str, str], dict[str, str]] = {}
        error: str | None = None
        try:
            store = await self._find_store(es)
            plan = syncing.plan_fetches(es.spec)
            self._check_paths(es, store, plan)
            fetched = await self._fetch(es, store, plan, log)
            sources = await self._template_sources(es, log)
        except BlacktopError as exc:
            error = str(exc)
        decision = refreshing.plan_sync(
            es, status, fetched=fetched, observed=observed, now=ctx.now, engine=self._engine, entropy=self._entropy,
            template_sources=sources, fetch_error=error,
        )  # fmt: skip
        if decision.action == "fail" and fetched is not None:
            secret_sources = [values for (kind, _), values in sources.items() if kind == "Secret"]
            decision = dataclasses.replace(decision, status=_redacted(decision.status, fetched, secret_sources))
        if decision.action == "write" and decision.target is not None:
            if not _is_unchanged(decision.target, observed):
                await self._write_target(decision.target, namespace, log)
        elif decision.action == "delete":
            await self._delete_target(namespace, es.target_name, log)
        elif decision.action == "clear":
            empty = syncing.TargetSecret(name=es.target_name, namespace=namespace, type="Opaque", data={})
            await self._write_target(empty, namespace, log)
        return decision

    def _status_plan(self, obj: Resource, status: refreshing.SyncStatus, requeue: timedelta | None) -> reconcile.Plan:
        body = status.to_json()
        current = obj.get("status") or {}
        if body == current:
            return reconcile.Plan(requeue_after=requeue)
        return reconcile.Plan(actions=(reconcile.SetStatus(body),), requeue_after=requeue)

    async def _write_target(
        self, target: syncing.TargetSecret, namespace: str, log: list[guarding.SecretAuditEntry]
    ) -> None:
        where = self._target_path(namespace, target.name)
        values, binary = _encode_values(target.data)
        meta = await self._store.put(where, values, actor=SYNC_CALLER.ref)
        self._entry(log, self._sync_ctx, "sync-write", where, version=meta.version, message="synced target")
        document = {
            "apiVersion": f"{secret_kinds.GROUP}/{secret_kinds.VERSION}",
            "kind": "Secret",
            "metadata": {
                "name": target.name, "namespace": namespace,
                "labels": dict(target.labels), "annotations": dict(target.annotations),
            },
            "spec": {
                "type": target.type, "keys": sorted(target.data), "immutable": target.immutable,
                "valueFrom": {"path": where.api_path, "version": meta.version}, "binaryKeys": binary,
            },
        }  # fmt: skip
        await self._resources.apply(self._sync_ctx, [(f"ExternalSecret target {namespace}/{target.name}", document)])

    async def _delete_target(self, namespace: str, name: str, log: list[guarding.SecretAuditEntry]) -> None:
        with contextlib.suppress(NotFoundError):
            await self._resources.delete(self._sync_ctx, secret_kinds.SECRET, namespace=namespace, name=name)
        where = self._target_path(namespace, name)
        try:
            await self._store.delete_metadata(where)
        except secrets.SecretNotFound:
            return
        self._entry(log, self._sync_ctx, "sync-delete", where, version=None, message="target removed")

    async def finalize_external_secret(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """creationPolicy Owner: the target goes with the ExternalSecret (Kubernetes' owner GC)."""
        spec = (obj.get("spec") or {}).get("target") or {}
        if spec.get("creationPolicy", "Owner") == "Owner":
            name = spec.get("name") or obj["metadata"]["name"]
            log: list[guarding.SecretAuditEntry] = []
            await self._delete_target(obj["metadata"].get("namespace") or "default", name, log)
            await self._audit.record_many(log)
        return reconcile.Plan()

    # -- cluster external secrets ----------------------------------------------------------------

    async def _namespaces(self) -> dict[str, dict[str, str]]:
        """Namespaces the platform knows, with the labels a ``namespaceSelector`` matches.

        A namespace is known when it holds role bindings or secrets kinds, or when a TeamNamespace
        defines it; the labels are those its Kubernetes Namespace carries: the TeamNamespace's
        (team, environment, tier, monitoring) and ``kubernetes.io/metadata.name``, as on every
        Kubernetes namespace.
        """
        names: set[str] = set()
        binding = next(k for k in tenancy.KINDS if k.kind == "RoleBinding")
        for info in (binding, secret_kinds.EXTERNAL_SECRET, secret_kinds.SECRET_STORE):
            page = await self._resources.list(self._sync_ctx, info, None, limit=5000)
            names.update(str(o["metadata"].get("namespace")) for o in page.items if o["metadata"].get("namespace"))
        labelled: dict[str, dict[str, str]] = {}
        team_kind = self._resources.kinds.get(teamnamespaces.kind.GROUP, teamnamespaces.kind.KIND)
        if team_kind is not None:
            for obj in (await self._resources.list(self._sync_ctx, team_kind, None, limit=5000)).items:
                try:
                    team_ns = teamnamespaces.parse_team_namespace(obj)
                except InputError:
                    continue  # its controller reports the problem; it labels nothing meanwhile
                labelled[team_ns.namespace] = teamnamespaces.rendering.namespace_labels(team_ns)
        names |= set(labelled)
        return {n: {**labelled.get(n, {}), NAMESPACE_NAME_LABEL: n} for n in sorted(names)}

    async def reconcile_cluster_external_secret(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """Stamp the ExternalSecret into every selected namespace and remove it from deselected ones."""
        try:
            ces = eso.parse_eso_document(obj)
            assert isinstance(ces, eso.ClusterExternalSecret)
            known = await self._namespaces()
            known.update({n: {NAMESPACE_NAME_LABEL: n} for n in ces.spec.namespaces if n not in known})
            stamped = scoping.stamp_external_secrets(ces, known)
        except BlacktopError as exc:
            return reconcile.plan_status(obj, now=ctx.now, conditions=[_ready(False, "NotReady", str(exc))])
        owner = ces.metadata.name
        documents = []
        for es in stamped:
            doc = es.model_dump(by_alias=True, exclude_none=True, exclude_defaults=False)
            doc["metadata"] = {
                "name": es.metadata.name, "namespace": es.metadata.namespace,
                "labels": {**es.metadata.labels, CES_LABEL: owner}, "annotations": dict(es.metadata.annotations),
            }  # fmt: skip
            doc["apiVersion"], doc["kind"] = f"{eso.GROUP}/v1", "ExternalSecret"
            documents.append((f"ClusterExternalSecret {owner} → {es.metadata.namespace}", doc))
        if documents:
            await self._resources.apply(self._sync_ctx, documents)
        chosen = sorted(str(es.metadata.namespace) for es in stamped)
        page = await self._resources.list(self._sync_ctx, secret_kinds.EXTERNAL_SECRET, None, limit=5000)
        for existing in page.items:
            meta = existing["metadata"]
            if (meta.get("labels") or {}).get(CES_LABEL) == owner and meta.get("namespace") not in chosen:
                await self._resources.delete(
                    self._sync_ctx, secret_kinds.EXTERNAL_SECRET, namespace=meta["namespace"], name=meta["name"]
                )
        interval = eso.parse_go_duration(ces.spec.refresh_time)
        plan = reconcile.plan_status(
            obj, now=ctx.now, fields={"provisionedNamespaces": chosen},
            conditions=[_ready(True, "Ready", f"ExternalSecret provisioned in {len(chosen)} namespace(s)")],
        )  # fmt: skip
        return plan.requeue(interval) if interval > timedelta(0) else plan

    async def finalize_cluster_external_secret(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """The stamped ExternalSecrets go with their ClusterExternalSecret."""
        owner = obj["metadata"]["name"]
        page = await self._resources.list(self._sync_ctx, secret_kinds.EXTERNAL_SECRET, None, limit=5000)
        for existing in page.items:
            meta = existing["metadata"]
            if (meta.get("labels") or {}).get(CES_LABEL) == owner:
                with contextlib.suppress(NotFoundError):
                    await self._resources.delete(
                        self._sync_ctx, secret_kinds.EXTERNAL_SECRET, namespace=meta["namespace"], name=meta["name"]
                    )
        return reconcile.Plan()

    # -- rotation --------------------------------------------------------------------------------

    def _rotation_policy(self, spec: Mapping[str, Any]) -> rotation.RotationPolicy:
        base = rotation.BUILT_IN_POLICIES[str(spec.get("policy") or rotation.SERVICE_ACCOUNT.name)]
        cadence = eso.parse_go_duration(spec["cadence"]) if spec.get("cadence") else base.cadence
        grace = eso.parse_go_duration(spec["gracePeriod"]) if spec.get("gracePeriod") else base.grace_period
        return rotation.RotationPolicy(name=base.name, cadence=cadence, grace_period=grace)

    async def reconcile_rotation(self, obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
        """Rotate when due, destroy superseded versions once their grace period is over."""
        spec = obj.get("spec") or {}
        namespace = obj["metadata"].get("namespace") or "default"
        try:
            policy = self._rotation_policy(spec)
            where = model.parse_secret_path(str(spec.get("path", "")))
            if not access.namespace_may_read(namespace, where) or access.team_of(where) == access.SHARED_TEAM:
                raise secrets.SyncError(
                    f"access denied: SecretRotation {namespace}/{obj['metadata']['name']} may only rotate "
                    f"{where.mount}/data/{namespace}/… (asked for {where.api_path})"
                )
            password = guarding.password_spec(spec.get("password"), where="spec.password")
            key = str(spec.get("key") or "password")
            outcome = await self._rotate_if_due(where, key, password, policy, ctx)
        except BlacktopError as exc:
            return reconcile.plan_status(obj, now=ctx.now, conditions=[_ready(False, "RotationFailed", str(exc))])
        meta, plan = outcome
        fields = {
            "currentVersion": meta.current_version,
            "lastRotationTime": format_timestamp(meta.versions[meta.current_version].created_time),
            "nextRotationTime": format_timestamp(
                plan.next_rotation_at if not plan.rotate else ctx.now + policy.cadence
            ),
            "policy": {"name": policy.name, "cadence": str(policy.cadence), "gracePeriod": str(policy.grace_period)},
        }
        message = (
            f"version {meta.current_version} is current; superseded versions stay readable for {policy.grace_period}"
        )
        result = reconcile.plan_status(obj, now=ctx.now, fields=fields, conditions=[_ready(True, "Rotated", message)])
        return result.requeue(max(plan.requeue_after, timedelta(seconds=1)))

    async def _rotate_if_due(
        self, where: model.SecretPath, key: str, password: eso.PasswordSpec, policy: rotation.RotationPolicy,
        ctx: reconcile.ReconcileContext,
    ) -> tuple[model.SecretMetadata, rotation.RotationPlan]:  # fmt: skip
        request = RequestContext(caller=ROTATION_CALLER, request_id=f"rotation-{uuid.uuid4().hex[:12]}")
        try:
            meta = await self._store.read_metadata(where)
        except secrets.SecretNotFound:
            await self._guarded.put(request.caller, request.request_id, where.api_path, {key: self._generate(password)})
            meta = await self._store.read_metadata(where)
        plan = rotation.plan_rotation(policy, meta, now=ctx.now)
        if plan.rotate:
            await self._guarded.rotate(
                request.caller, request.request_id, where.api_path, key=key, spec=password, entropy=self._entropy
            )
        if plan.expire_versions:
            await self._guarded.destroy(
                request.caller, request.request_id, where.api_path, versions=plan.expire_versions
            )
        meta = await self._store.read_metadata(where)
        return meta, rotation.plan_rotation(policy, meta, now=ctx.now)

    def _generate(self, spec: eso.PasswordSpec) -> str:
        return secrets.generate_password(spec, entropy=self._entropy)["password"].decode()
