"""Wiring the service catalog into the platform: storage, readers, the HTTP API, the refresh loop,
one audit record per location refresh, and catalog Groups/Users feeding the platform's RBAC groups.

Configuration is read from ``$BLACKTOP_CATALOG_CONFIG`` or ``<data_dir>/catalog.yaml`` (see
``CatalogSettings``) until ``Settings`` grows a ``catalog`` section. Entity writes go straight to the
catalog tables in bulk; the pipeline's hash-chained audit trail gets one ``refresh`` record per
location refresh, and platform ``Group`` objects are applied through the write pipeline with the
``catalog`` service identity, so both stay audited and RBAC-checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from blacktop import catalog, tenancy
from blacktop.api.routes import catalog as catalog_routes
from blacktop.apiserver import RequestContext, ResourceService
from blacktop.apiserver.adapters import HashChainAudit
from blacktop.catalog import adapters, locations, querying, records, service
from blacktop.kernel.errors import BlacktopError, InputError, NotFoundError, Problem
from blacktop.kernel.identity import service_caller
from blacktop.store import SqlResourceStore
from blacktop.store.catalog import SqlCatalogRepository

from . import Wiring

log = logging.getLogger("blacktop.catalog")

MANAGED_LABEL = "catalog.blacktop.dev/managed"
PLATFORM_GROUP = next(k for k in tenancy.KINDS if k.kind == "Group")
CATALOG_CALLER = service_caller("catalog")


class ReadingSettings(BaseModel):
    """Outbound reads for ``url:`` locations."""

    model_config = ConfigDict(extra="forbid")
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts (``example.com``, ``*.example.com``, ``host:port``) url locations may be read from."""
    max_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    """Largest file read from a URL or disk."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    """Longest time one URL read may take."""


class RuleSettings(BaseModel):
    """``{allow: [Kind], locations?: [{type, exact|pattern}]}`` as in Backstage's ``catalog.rules``."""

    model_config = ConfigDict(extra="forbid")
    allow: list[str]
    locations: list[dict[str, str]] | None = None


class CatalogSettings(BaseModel):
    """The catalog's configuration file."""

    model_config = ConfigDict(extra="forbid")
    rules: list[RuleSettings] | None = None
    """Which kinds may come from where; default: every kind blacktop knows from any location."""
    orphan_strategy: Literal["delete", "keep"] = "delete"
    """Delete entities no location emits any more, or keep them annotated ``backstage.io/orphan``."""
    refresh_interval_seconds: float | None = Field(default=300.0, gt=0)
    """How often every location is refreshed (None: only on demand)."""
    reading: ReadingSettings = Field(default_factory=ReadingSettings)
    locations: list[dict[str, str]] = Field(default_factory=list)
    """Locations registered at start: ``[{type, target}]``."""
    sync_groups: bool = True
    """Write catalog Groups (members from Group.spec.members and User.spec.memberOf) as platform Groups."""
    checks: list[dict[str, Any]] | None = None
    """Scorecard checks (``scoring.parse_checks``); default: ``catalog.DEFAULT_CHECKS``."""
    parse_workers: int | None = Field(default=None, ge=0, le=64)
    """Processes that parse descriptor files during a refresh (None: cores beyond two; 0: inline)."""


def load_settings(data_dir: Path) -> CatalogSettings:
    """Read the catalog configuration file, or defaults when there is none."""
    path = Path(os.environ.get("BLACKTOP_CATALOG_CONFIG") or data_dir / "catalog.yaml")
    if not path.is_file():
        return CatalogSettings()
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return CatalogSettings.model_validate(loaded)
    except ValueError as exc:
        raise InputError(f"catalog configuration {path} is invalid", problems=[Problem("", str(exc))]) from exc


def build_config(settings: CatalogSettings) -> service.CatalogConfig:
    """The service's configuration from the settings file."""
    rules = service.ALLOW_ALL if settings.rules is None else tuple(_rule(r) for r in settings.rules)
    interval = settings.refresh_interval_seconds
    return service.CatalogConfig(
        rules=rules,
        orphan_strategy=catalog.OrphanStrategy(settings.orphan_strategy),
        refresh_interval=timedelta(seconds=interval) if interval else None,
        checks=catalog.parse_checks(settings.checks) if settings.checks is not None else catalog.DEFAULT_CHECKS,
    )


def _rule(rule: RuleSettings) -> locations.AllowRule:
    matchers = None
    if rule.locations is not None:
        matchers = tuple(
            locations.LocationMatcher(m["type"], exact=m.get("exact"), pattern=m.get("pattern")) for m in rule.locations
        )
    return locations.AllowRule(allow=tuple(locations.KindMatcher(k) for k in rule.allow), locations=matchers)


class AuditRefreshes:
    """Appends one record per location refresh to the pipeline's hash-chained audit trail."""

    def __init__(self, store: SqlResourceStore, clock: Any) -> None:
        self._store = store
        self._clock = clock
        self._audit = HashChainAudit()

    async def refreshed(self, location: records.LocationRecord, summary: service.RefreshSummary) -> None:
        """Record the refresh summary as a ``refresh`` of the location."""
        async with self._store.transaction() as tx:
            record = self._audit.build(
                await tx.last_audit(), time=self._clock.now(), caller=CATALOG_CALLER, verb="refresh", kind=None,
                group="catalog.blacktop.dev", kind_name="Location", namespace=None, name=location.id,
                outcome="allowed", code=200, request_id=f"catalog-refresh-{uuid.uuid4().hex[:12]}",
                message=f"refreshed {location.key}: {summary.written} written, {summary.removed} removed, "
                f"{summary.orphaned} orphaned, {summary.problems} problem(s)",
                old=None, new={"location": location.key, **summary.to_dict()},
            )  # fmt: skip
            await tx.append_audit(record)


class GroupSync:
    """Keeps platform ``Group`` objects in step with the catalog's Groups and memberships."""

    def __init__(self, catalog_service: service.CatalogService, resources: ResourceService) -> None:
        self._catalog = catalog_service
        self._resources = resources
        self._applied: dict[str, tuple[str, ...]] | None = None

    async def refreshed(self, location: records.LocationRecord, summary: service.RefreshSummary) -> None:
        """Apply platform Groups whose catalog membership changed (and remove ones the catalog dropped)."""
        touched = [r for r in (*summary.changed_refs, *summary.removed_refs) if r.startswith(("group:", "user:"))]
        if not touched and self._applied is not None:
            return
        await self.sync()

    async def sync(self) -> None:
        """Compute every catalog group's members and apply the differences."""
        page = await self._catalog.query(records.EntityQuery(filter=querying.parse_filters(["kind=group"])))
        desired: dict[str, tuple[str, tuple[str, ...]]] = {}
        for group in page.items:
            members = sorted({
                r.target.name if r.target.namespace == "default" else f"{r.target.namespace}-{r.target.name}"
                for r in group.relations if r.type == "hasMember" and r.target.kind.lower() == "user"
            })  # fmt: skip
            description = str((group.document.get("metadata") or {}).get("description") or "")
            desired[_platform_name(group.ref)] = (description, tuple(members))
        ctx = RequestContext(caller=CATALOG_CALLER, request_id=f"catalog-groups-{uuid.uuid4().hex[:12]}")
        previous = self._applied or {}
        changed = [name for name, (_, members) in desired.items() if previous.get(name) != members]
        if changed:
            documents = [(f"catalog:{name}", _group_document(name, *desired[name])) for name in sorted(changed)]
            await self._resources.apply(ctx, documents)
        for name in sorted(set(previous) - set(desired)):
            with contextlib.suppress(NotFoundError):
                await self._resources.delete(ctx, PLATFORM_GROUP, namespace=None, name=name)
        self._applied = {name: members for name, (_, members) in desired.items()}


def _platform_name(ref: catalog.EntityRef) -> str:
    name = ref.name.lower()
    return name if ref.namespace.lower() == "default" else f"{ref.namespace.lower()}-{name}"


def _group_document(name: str, description: str, members: tuple[str, ...]) -> dict[str, Any]:
    return {
        "apiVersion": f"{PLATFORM_GROUP.group}/{PLATFORM_GROUP.versions[0]}",
        "kind": "Group",
        "metadata": {"name": name, "labels": {MANAGED_LABEL: "true"}},
        "spec": {"description": description or f"from the catalog group {name}", "members": list(members)},
    }


class ProcessOffload:
    """Runs CPU-heavy parsing in a small process pool, so parsing overlaps with database writes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker process."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RefreshLoop:
    """Registers configured locations, then refreshes every location on the interval."""

    def __init__(self, catalog_service: service.CatalogService, configured: list[dict[str, str]]) -> None:
        self._catalog = catalog_service
        self._configured = configured
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register configured locations and start the interval task."""
        for item in self._configured:
            try:
                await self._catalog.register(item["type"], item["target"], on_conflict="refresh")
            except BlacktopError as exc:
                log.warning("catalog location %s:%s: %s", item.get("type"), item.get("target"), exc)
        if self._catalog.config.refresh_interval is not None:
            self._task = asyncio.create_task(self._run(self._catalog.config.refresh_interval.total_seconds()))

    async def _run(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            for location in await self._catalog.list_locations():
                try:
                    await self._catalog.refresh_location(location.id)
                except Exception:
                    log.exception("catalog refresh of %s failed", location.key)

    async def stop(self) -> None:
        """Cancel the interval task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def wire(w: Wiring) -> None:
    """Register the catalog's storage, service, HTTP routes and background refresh."""
    settings = load_settings(w.settings.data_dir)
    reading = settings.reading
    sources = adapters.CatalogLocationSources(
        files=adapters.FileSystemLocationReader(max_bytes=max(reading.max_bytes, 64 * 1024 * 1024)),
        urls=adapters.HttpLocationReader(
            allowed_hosts=reading.allowed_hosts, max_bytes=reading.max_bytes, timeout_seconds=reading.timeout_seconds
        ),
        git=adapters.GitCheckouts(w.settings.data_dir / "catalog" / "git"),
    )
    catalog_service = service.CatalogService(
        repository=SqlCatalogRepository(w.db), sources=sources, clock=w.clock,
        new_id=lambda: str(uuid.uuid4()), config=build_config(settings),
    )  # fmt: skip
    workers = settings.parse_workers if settings.parse_workers is not None else max(0, (os.cpu_count() or 2) - 2)
    if workers:
        offload = ProcessOffload(workers)
        catalog_service.offload = offload
        w.shutdown.append(offload.close)
    catalog_service.observers.append(AuditRefreshes(w.store, w.clock))
    if settings.sync_groups:
        catalog_service.observers.append(GroupSync(catalog_service, w.resources))
    loop = RefreshLoop(catalog_service, settings.locations)
    w.services["catalog"] = catalog_service
    w.routers.append(catalog_routes.router)
    w.startup.append(loop.start)
    w.shutdown.append(loop.stop)
