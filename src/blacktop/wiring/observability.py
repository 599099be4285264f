"""Wiring zero-config observability into the platform: the ObservabilityConfig kind and its controller,
the catalog sync, local mode (a Prometheus process) and the HTTP API.

The controller renders every output of a config and commits what changed to the GitOps repository
under ``observability/<namespace>/<service>/``; ``status.outputs`` keeps the folder, the commit and
each file's digest, with conditions ``Synced`` (committed) and ``Ready``. Deleting a config
removes its folder before the finalizer lets the object go. The catalog sync runs after every
catalog refresh and once at start, so every catalog service without a config gets one.

Configuration is read from ``$BLACKTOP_OBSERVABILITY_CONFIG`` or ``<data_dir>/observability.yaml``
(``ObservabilitySettings``) until ``Settings`` grows an ``observability`` section. Local mode is off
unless that file turns it on, so tests never start a Prometheus they did not ask for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field

from blacktop import engine, observability
from blacktop.api.routes import observability as observability_routes
from blacktop.apiserver import RequestContext, ResourceService
from blacktop.catalog import querying, records
from blacktop.catalog import service as catalog_service_mod
from blacktop.integrations import LocalGitRepository
from blacktop.kernel.errors import (
    BlacktopError,
    ConflictError,
    InputError,
    NotFoundError,
    Problem,
    TemporaryFailure,
    UnavailableError,
)
from blacktop.kernel.identity import service_caller
from blacktop.kernel.resources import Resource
from blacktop.observability import adapters, defaulting, local, publishing, service, syncing

from . import Wiring

log = logging.getLogger("blacktop.observability")

FINALIZER: Final = "observability.blacktop.dev/outputs"
CALLER = service_caller("observability")
CONFLICT_RETRY: Final = timedelta(seconds=3)
"""How soon a config refused for another config's folder looks again (the other may be going away)."""
KIND = observability.OBSERVABILITY_CONFIG_KIND


class LocalPrometheusSettings(BaseModel):
    """Local mode: run Debian's ``prometheus`` beside ``blacktop up``."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    """Start Prometheus with the generated scrape configs and rules (needs the binary installed)."""
    binary: str = "prometheus"
    """The Prometheus executable, a name on PATH or a path."""
    host: str = "127.0.0.1"
    port: int = Field(default=9090, ge=1, le=65535)
    """The port Prometheus' UI and API listen on."""
    scrape_interval: str = Field(default="15s", pattern=observability.model.DURATION_PATTERN)
    """Default scrape interval of the local Prometheus (each service's own interval still applies)."""
    evaluation_interval: str = Field(default="30s", pattern=observability.model.DURATION_PATTERN)
    """How often the local Prometheus evaluates the SLO rules."""


class ObservabilitySettings(BaseModel):
    """The observability feature's configuration file."""

    model_config = ConfigDict(extra="forbid")
    zero_config: bool = True
    """Create an ObservabilityConfig for every catalog service that has none."""
    tiers: dict[str, float] = Field(default_factory=lambda: dict(defaulting.CatalogDefaults().tiers))
    """Availability objective per tier."""
    lifecycle_tiers: dict[str, str] = Field(default_factory=lambda: dict(defaulting.CatalogDefaults().lifecycle_tiers))
    """The tier of a service naming none, by its catalog ``spec.lifecycle``."""
    default_tier: str = "standard"
    namespace: str = "owner"
    """Where generated configs live: ``owner``, ``entity`` or a fixed namespace."""
    prometheus_url: str | None = None
    """The Prometheus SLO reports read from; default: the local one when local mode runs."""
    local_prometheus: LocalPrometheusSettings = Field(default_factory=LocalPrometheusSettings)


def load_settings(data_dir: Path) -> ObservabilitySettings:
    """Read the observability configuration file, or defaults when there is none."""
    path = Path(os.environ.get("BLACKTOP_OBSERVABILITY_CONFIG") or data_dir / "observability.yaml")
    if not path.is_file():
        return ObservabilitySettings()
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        settings = ObservabilitySettings.model_validate(loaded)
    except ValueError as exc:
        raise InputError(f"observability configuration {path} is invalid", problems=[Problem("", str(exc))]) from exc
    if settings.default_tier not in settings.tiers:
        raise InputError(
            f"observability configuration {path} is invalid",
            problems=[Problem("default_tier", f"{settings.default_tier!r} is not one of the tiers")],
        )
    return settings


def catalog_defaults(settings: ObservabilitySettings) -> defaulting.CatalogDefaults:
    """The zero-config mapping these settings imply."""
    return defaulting.CatalogDefaults(
        tiers=dict(settings.tiers),
        lifecycle_tiers=dict(settings.lifecycle_tiers),
        default_tier=settings.default_tier,
        namespace=settings.namespace,
    )


# -- adapters --------------------------------------------------------------------------------------


class GitOutputRepository:
    """``OutputRepository`` over the platform's GitOps repository (git runs in a thread), with group commit.

    Writes that arrive while a commit is being made wait and are then committed together, in one
    commit listing every message: a catalog change that touches 2,000 services makes a few hundred
    commits instead of 2,000, and the repository's lock is held that much less. Each config owns
    its own folder, so merging the writes of several configs cannot mix their files.
    """

    def __init__(self, repository: LocalGitRepository) -> None:
        self._repo = repository
        self._pending: list[tuple[dict[str, str | None], str, asyncio.Future[str | None]]] = []
        self._lock = asyncio.Lock()

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        """Commit the files (with whatever other writes are waiting); the commit that holds them."""
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending.append((dict(files), message, done))
        async with self._lock:
            if not done.done():
                batch, self._pending = self._pending, []
                # Shielded: a reconcile cancelled (timed out) while leading still settles every waiter.
                await asyncio.shield(self._commit(batch))
        return await done

    async def _commit(self, batch: list[tuple[dict[str, str | None], str, asyncio.Future[str | None]]]) -> None:
        merged: dict[str, str | None] = {}
        for files, _, _ in batch:
            merged.update(files)
        message = batch[0][1] if len(batch) == 1 else (
            f"observability: {len(batch)} services\n\n" + "\n".join(m for _, m, _ in batch)
        )  # fmt: skip
        try:
            commit = await self._repo.awrite(merged, message=message)
        except Exception as exc:
            for _, _, done in batch:
                if not done.done():
                    done.set_exception(exc)
        else:
            for _, _, done in batch:
                if not done.done():
                    done.set_result(commit)

    async def list_files(self, prefix: str) -> list[str]:
        """Paths under ``prefix`` at the head."""
        return await asyncio.to_thread(self._repo.list_files, prefix)

    async def read(self, path: str) -> str | None:
        """A file's text at the head, or None."""
        try:
            return (await asyncio.to_thread(self._repo.read, path)).decode()
        except NotFoundError:
            return None

    async def head(self) -> str | None:
        """The branch head."""
        return await asyncio.to_thread(self._repo.head)


class PipelineConfigObjects:
    """``ConfigObjects`` through the write pipeline, as the ``observability`` service identity."""

    def __init__(self, resources: ResourceService) -> None:
        self._resources = resources

    def _ctx(self) -> RequestContext:
        return RequestContext(caller=CALLER, request_id=f"observability-{uuid.uuid4().hex[:12]}")

    async def list_configs(self) -> list[Mapping[str, Any]]:
        """Every ObservabilityConfig, page by page."""
        items: list[Mapping[str, Any]] = []
        token: str | None = None
        while True:
            page = await self._resources.list(self._ctx(), KIND, None, limit=500, continue_token=token)
            items.extend(page.items)
            token = page.continue_token
            if not token:
                return items

    async def apply(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Apply the documents in one transaction."""
        items = [(f"catalog:{d['metadata']['namespace']}/{d['metadata']['name']}", d) for d in documents]
        await self._resources.apply(self._ctx(), items)

    async def delete(self, *, namespace: str, name: str) -> None:
        """Delete one config (its finalizer then removes its outputs)."""
        with contextlib.suppress(NotFoundError):
            await self._resources.delete(self._ctx(), KIND, namespace=namespace, name=name)


class CatalogServiceReader:
    """``CatalogReader`` over the catalog's storage: entities as the Backstage API serves them."""

    def __init__(self, catalog: catalog_service_mod.CatalogService) -> None:
        self._catalog = catalog

    async def list_entities(self, *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Entities of the given kinds, with relations."""
        entity_filter = querying.parse_filters([f"kind={k.lower()}" for k in kinds])
        page = await self._catalog.query(records.EntityQuery(filter=entity_filter))
        return [item.served() for item in page.items]

    async def get_entities(self, refs: Sequence[str]) -> list[Mapping[str, Any]]:
        """The entities with these refs that exist."""
        found = await self._catalog.repository.get_by_refs(list(refs))
        return [found[ref].served() for ref in refs if ref in found]

    async def list_owned(self, owners: Sequence[str], *, kinds: Sequence[str]) -> list[Mapping[str, Any]]:
        """Entities of the kinds with an ``ownedBy`` relation to one of ``owners``."""
        conditions = [f"kind={k.lower()}" for k in kinds] + [f"relations.ownedby={o}" for o in owners]
        page = await self._catalog.query(records.EntityQuery(filter=querying.parse_filters([",".join(conditions)])))
        return [item.served() for item in page.items]


class SyncOnRefresh:
    """A catalog ``RefreshObserver``: syncs the configs of the components and groups a refresh changed."""

    def __init__(self, sync: syncing.CatalogSync) -> None:
        self._sync = sync

    async def refreshed(self, location: records.LocationRecord, summary: catalog_service_mod.RefreshSummary) -> None:
        """Sync what the refresh's changed and removed refs affect (everything on the first refresh heard)."""
        if self._sync.last is None:
            await run_sync(self._sync.sync)
        else:
            await run_sync(lambda: self._sync.sync_changes([*summary.changed_refs, *summary.removed_refs]))


async def run_sync(sync: Callable[[], Awaitable[syncing.SyncResult]]) -> None:
    """One sync, logged; failures are logged, never raised into the catalog's refresh."""
    try:
        result = await sync()
    except Exception:
        log.exception("observability catalog sync failed")
        return
    if result.applied or result.deleted:
        log.info("observability catalog sync: %d applied, %d deleted", len(result.applied), len(result.deleted))
    for problem in result.problems:
        log.warning("observability catalog sync: %s", problem.describe())


# -- local mode --------------------------------------------------------------------------------------


class LocalPrometheusMode:
    """Keeps a local Prometheus' files in step with the configs; reloads it when they change."""

    def __init__(
        self,
        runner: adapters.LocalPrometheus,
        configs: PipelineConfigObjects,
        *,
        platform: str,
        settings: LocalPrometheusSettings,
    ) -> None:
        self.runner = runner
        self._configs = configs
        self._platform = platform
        self._settings = settings
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def refresh_files(self) -> bool:
        """Render the local files from every config and write them; whether anything changed."""
        parsed = []
        for document in await self._configs.list_configs():
            if (document.get("metadata") or {}).get("deletionTimestamp"):
                continue
            with contextlib.suppress(InputError):
                parsed.append(observability.parse_observability_config({**document, "status": None}))
        files = local.render_local_files(
            parsed,
            platform_target=self._platform,
            evaluation_interval=self._settings.evaluation_interval,
            scrape_interval=self._settings.scrape_interval,
        )
        return self.runner.write(files)

    def mark_dirty(self) -> None:
        """Ask for the files to be rendered again soon."""
        self._dirty.set()

    async def start(self) -> None:
        """Write the files, start Prometheus and follow config changes."""
        await self.refresh_files()
        await self.runner.start()
        print(f"local Prometheus: {self.runner.url}", flush=True)
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0.5)  # coalesce a burst of reconciles into one reload
            self._dirty.clear()
            try:
                if await self.refresh_files():
                    await self.runner.reload()
            except Exception:
                log.exception("updating the local Prometheus failed")

    async def stop(self) -> None:
        """Stop following and stop the process."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.runner.stop()


# -- the controller --------------------------------------------------------------------------------


class ObservabilityController:
    """Publishes ObservabilityConfig outputs to the GitOps repository and withdraws them on deletion."""

    def __init__(
        self,
        publisher: publishing.OutputPublisher,
        *,
        on_change: list[Any] | None = None,
        on_hand_written: list[Any] | None = None,
    ) -> None:
        self.publisher = publisher
        self.on_change = on_change if on_change is not None else []
        """Callables run after outputs changed (local mode marks itself dirty)."""
        self.on_hand_written = on_hand_written if on_hand_written is not None else []
        """Callables run when a hand-written config appears or goes (the catalog sync re-runs)."""

    def controller(self) -> engine.FunctionController:
        """This controller as the engine registers it."""
        return engine.FunctionController(
            group=KIND.group,
            kind=KIND.kind,
            on_reconcile=self.reconcile,
            on_finalize=self.finalize,
            finalizer=FINALIZER,
        )

    def _notify(self, hooks: list[Any]) -> None:
        for hook in hooks:
            hook()

    async def reconcile(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Render, commit what changed, and record outputs and conditions."""
        previous = publishing.OutputsStatus.from_status(obj.get("status"))
        if previous is None and not defaulting.is_managed(obj):
            # A hand-written config may replace a catalog-managed one for the same service.
            self._notify(self.on_hand_written)
        try:
            config = observability.parse_observability_config({**obj, "status": None})
            published = await self.publisher.publish(config, previous)
        except (InputError, NotFoundError) as exc:
            return self._failed(obj, ctx, "InvalidSpec" if isinstance(exc, InputError) else "TemplateNotFound", exc)
        except ConflictError as exc:
            return self._failed(obj, ctx, "ServiceConflict", exc).requeue(CONFLICT_RETRY)
        except UnavailableError as exc:
            raise TemporaryFailure(f"the GitOps repository is unavailable: {exc}", delay=timedelta(seconds=10)) from exc
        count = len(published.files)
        conditions = [
            engine.ConditionUpdate("Synced", True, "Committed", f"{count} files in {published.folder} at "
                                      f"{(published.commit or '')[:12]}"),
            engine.ConditionUpdate("Ready", True, "OutputsPublished", f"outputs of {config.spec.service} are "
                                      "in the GitOps repository"),
        ]  # fmt: skip
        if previous != published:
            self._notify(self.on_change)
        return engine.plan_status(obj, now=ctx.now, conditions=conditions, fields={"outputs": published.to_json()})

    def _failed(self, obj: Resource, ctx: engine.ReconcileContext, reason: str, exc: BlacktopError) -> engine.Plan:
        problems = "; ".join(p.describe() for p in getattr(exc, "problems", ()))
        message = f"{exc}{': ' + problems if problems else ''}"
        conditions = [
            engine.ConditionUpdate("Synced", False, reason, message),
            engine.ConditionUpdate("Ready", False, reason, message),
        ]
        return engine.plan_status(obj, now=ctx.now, conditions=conditions)

    async def finalize(self, obj: Resource, ctx: engine.ReconcileContext) -> engine.Plan:
        """Remove the config's folder from the GitOps repository."""
        meta = obj.get("metadata") or {}
        previous = publishing.OutputsStatus.from_status(obj.get("status"))
        try:
            await self.publisher.withdraw(str(meta.get("name")), str(meta.get("namespace") or "default"), previous)
        except UnavailableError as exc:
            raise TemporaryFailure(f"the GitOps repository is unavailable: {exc}", delay=timedelta(seconds=10)) from exc
        self._notify(self.on_change)
        if not defaulting.is_managed(obj):
            self._notify(self.on_hand_written)
        return engine.Plan()


# -- wire ------------------------------------------------------------------------------------------------


def wire(w: Wiring) -> None:
    """Register the ObservabilityConfig kind, its controller, the catalog sync, local mode and the API."""
    settings = load_settings(w.settings.data_dir)
    w.add_kinds([KIND])
    publisher = publishing.OutputPublisher(GitOutputRepository(w.gitops))
    controller = ObservabilityController(publisher)
    w.controllers.append(controller.controller())
    configs = PipelineConfigObjects(w.resources)
    tasks: set[asyncio.Task[None]] = set()

    sync: syncing.CatalogSync | None = None
    catalog = w.services.get("catalog")
    if settings.zero_config and isinstance(catalog, catalog_service_mod.CatalogService):
        sync = syncing.CatalogSync(CatalogServiceReader(catalog), configs, defaults=catalog_defaults(settings))
        catalog.observers.append(SyncOnRefresh(sync))
        zero_config = sync

        def resync() -> None:
            task = asyncio.get_running_loop().create_task(run_sync(zero_config.sync))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        controller.on_hand_written.append(resync)

        async def first_sync() -> None:
            await run_sync(zero_config.sync)

        w.startup.append(first_sync)

    mode = service.LocalMode()
    querier = adapters.HttpPrometheus(settings.prometheus_url) if settings.prometheus_url else None
    if settings.local_prometheus.enabled:
        mode, runner = _local_mode(w, settings, configs, controller)
        if querier is None and runner is not None:
            querier = adapters.HttpPrometheus(runner.url)

    async def cancel_tasks() -> None:
        for task in list(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    w.shutdown.append(cancel_tasks)
    w.services["observability"] = service.ObservabilityService(
        publisher=publisher, querier=querier, sync=sync, local=mode
    )
    w.routers.append(observability_routes.router)


def _local_mode(
    w: Wiring, settings: ObservabilitySettings, configs: PipelineConfigObjects, controller: ObservabilityController
) -> tuple[service.LocalMode, adapters.LocalPrometheus | None]:
    wanted = settings.local_prometheus
    binary = adapters.find_prometheus(wanted.binary)
    if binary is None:
        reason = f"local mode is on but {wanted.binary!r} is not installed (Debian: apt-get install prometheus)"
        log.warning("%s", reason)
        return service.LocalMode(enabled=False, binary=None, reason=reason), None
    runner = adapters.LocalPrometheus(
        binary=binary, directory=w.settings.data_dir / "prometheus", host=wanted.host, port=wanted.port
    )
    mode = LocalPrometheusMode(runner, configs, platform=f"{w.settings.host}:{w.settings.port}", settings=wanted)
    controller.on_change.append(mode.mark_dirty)
    w.startup.append(mode.start)
    w.shutdown.append(mode.stop)
    return service.LocalMode(enabled=True, url=runner.url, binary=binary, reason="running beside blacktop"), runner
