"""The composition root: the only module that imports every part of blacktop and wires them.

``build_platform(settings)`` opens the state store (migrating it), registers the built-in kinds,
builds the write pipeline over the base domains, the HTTP app and the reconcile engine with its
controllers. ``serve`` runs it all in one process for ``blacktop up``; ``main`` is the console
entry point.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from blacktop import engine as reconcile
from blacktop import policy, store, tenancy, web
from blacktop.api import ApiServices, create_app
from blacktop.apiserver import RequestContext, ResourceService
from blacktop.apiserver.adapters import (
    AuditService,
    HashChainAudit,
    PipelineWriter,
    PolicyAdmission,
    RbacAuthorizer,
    TokenAuthenticator,
    TokenService,
)
from blacktop.cli import build_app, run_app
from blacktop.integrations import GitRepositories
from blacktop.kernel.clock import Clock, SystemClock
from blacktop.kernel.documents import Limits, iter_objects, load_documents
from blacktop.kernel.errors import BlacktopError
from blacktop.kernel.identity import service_caller
from blacktop.kernel.kinds import KindInfo, KindRegistry
from blacktop.kernel.resources import Resource
from blacktop.settings import Settings
from blacktop.store.leases import SqlLeaseStore
from blacktop.telemetry import PlatformMetrics
from blacktop.wiring import Wiring
from blacktop.wiring import catalog as catalog_wiring
from blacktop.wiring import environments as environments_wiring
from blacktop.wiring import metrics as metrics_wiring
from blacktop.wiring import observability as observability_wiring
from blacktop.wiring import providers as providers_wiring
from blacktop.wiring import resources as resources_wiring
from blacktop.wiring import scaffolder as scaffolder_wiring
from blacktop.wiring import secrets as secrets_wiring
from blacktop.wiring import teamnamespaces as teamnamespaces_wiring

log = logging.getLogger("blacktop")


FEATURES: list[Callable[[Wiring], None]] = [
    catalog_wiring.wire,
    observability_wiring.wire,
    secrets_wiring.wire,
    providers_wiring.wire,
    resources_wiring.wire,
    environments_wiring.wire,
    scaffolder_wiring.wire,
    teamnamespaces_wiring.wire,
    metrics_wiring.wire,
]
"""Each feature's ``wire`` function, in the order they are wired."""


def builtin_kinds() -> list[KindInfo]:
    """Every kind the platform serves out of the box."""
    return [*tenancy.KINDS, *policy.KINDS]


def builtin_controllers() -> list[reconcile.Controller]:
    """The controllers of the built-in kinds."""
    return [
        reconcile.FunctionController(
            group=policy.VALIDATING_POLICY.group, kind="ValidatingPolicy", on_reconcile=_policy_ready
        ),
    ]


async def _policy_ready(obj: Resource, ctx: reconcile.ReconcileContext) -> reconcile.Plan:
    """A ValidatingPolicy is Ready once every expression compiled (the pipeline refuses ones that do not)."""
    try:
        compiled = policy.compile_policy(obj)
    except Exception as exc:
        update = reconcile.ConditionUpdate(type="Ready", status=False, reason="InvalidExpression", message=str(exc))
    else:
        count = len(compiled.validations)
        update = reconcile.ConditionUpdate(
            type="Ready", status=True, reason="Compiled", message=f"{count} validation(s) compiled and enforced"
        )
    return reconcile.plan_status(obj, now=ctx.now, conditions=[update])


class TokenRecords:
    """Adapts the SQL token table to tenancy's ``TokenStore`` port."""

    def __init__(self, rows: store.SqlTokenStore | store.InMemoryTokenStore) -> None:
        self._rows = rows

    async def add(self, token: tenancy.ApiToken) -> None:
        """Store a token record."""
        await self._rows.add(
            store.ApiTokenRecord(
                id=token.id,
                token_hash=token.token_hash,
                user=token.user,
                groups=tuple(sorted(token.groups)),
                description=token.description,
                created_at=token.created_at or SystemClock().now(),
                expires_at=token.expires_at,
            )
        )

    async def get_by_hash(self, token_hash: str) -> tenancy.ApiToken | None:
        """The token with this hash, or None."""
        record = await self._rows.get_by_hash(token_hash)
        return None if record is None else _token(record)

    async def list(self, *, user: str | None = None) -> list[tenancy.ApiToken]:
        """Tokens, optionally of one user."""
        return [_token(r) for r in await self._rows.list(user=user)]

    async def delete(self, token_id: str) -> None:
        """Remove a token."""
        await self._rows.delete(token_id)


def _token(record: store.ApiTokenRecord) -> tenancy.ApiToken:
    return tenancy.ApiToken(
        id=record.id,
        token_hash=record.token_hash,
        user=record.user,
        groups=frozenset(record.groups),
        description=record.description,
        created_at=record.created_at,
        expires_at=record.expires_at,
    )


class EngineMetricsAdapter:
    """Feeds the engine's observations into the platform's Prometheus metrics."""

    def __init__(self, metrics: PlatformMetrics) -> None:
        self._metrics = metrics

    def observe_queue_depth(self, depth: int) -> None:
        """Record the work queue length."""
        self._metrics.set_queue_depth(depth)

    def observe_reconcile(self, *, group: str, kind: str, outcome: str, seconds: float) -> None:
        """Count one reconcile."""
        self._metrics.observe_reconcile(kind=f"{kind}.{group}", outcome=outcome, seconds=seconds)


@dataclass
class Platform:
    """Everything one blacktop process runs, wired."""

    settings: Settings
    db: AsyncEngine
    store: store.SqlResourceStore
    kinds: KindRegistry
    resources: ResourceService
    tokens: TokenService
    metrics: PlatformMetrics
    app: FastAPI
    engine: reconcile.Engine | None
    clock: Clock
    wiring: Wiring

    async def close(self) -> None:
        """Stop the engine, the features and release the database."""
        if self.engine is not None:
            await self.engine.stop()
        for stop in reversed(self.wiring.shutdown):
            await stop()
        await self.store.close()
        await self.db.dispose()


async def build_platform(settings: Settings, *, clock: Clock | None = None) -> Platform:
    """Open the store (migrating it) and wire every part of the platform."""
    clock = clock or SystemClock()
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = store.build_engine(settings.database_url)
    await store.migrate(db)
    state = store.SqlResourceStore(db, clock=clock)
    kinds = KindRegistry()
    for kind in builtin_kinds():
        kinds.register(kind)
    rbac = RbacAuthorizer(state)
    admission = PolicyAdmission(state)
    service = ResourceService(
        store=state,
        kinds=kinds,
        authorizer=rbac,
        admission=admission,
        audit=HashChainAudit(),
        clock=clock,
        new_uid=lambda: str(uuid.uuid4()),
    )
    service.add_listener(rbac.on_write)
    service.add_listener(admission.on_write)
    token_rows = TokenRecords(store.SqlTokenStore(db))
    tokens = TokenService(token_rows, clock=clock)
    metrics = PlatformMetrics()
    limits = Limits(
        max_bytes=settings.limits.max_body_bytes,
        max_depth=settings.limits.max_yaml_depth,
        max_aliases=settings.limits.max_yaml_aliases,
    )

    async def ready() -> None:
        await state.current_revision()

    services = ApiServices(
        resources=service,
        kinds=kinds,
        authenticator=TokenAuthenticator(token_rows, clock=clock, rbac=rbac),
        metrics=metrics,
        audit=AuditService(state),
        tokens=tokens,
        limits=limits,
        ready=ready,
        extra={"max_list_limit": settings.limits.max_list_limit},
    )
    git = GitRepositories(settings.data_dir / "git")
    wiring = Wiring(
        settings=settings, db=db, store=state, kinds=kinds, resources=service, clock=clock, metrics=metrics,
        git=git, gitops=git.get("platform/gitops"),
        controllers=builtin_controllers(),
    )  # fmt: skip
    for wire in FEATURES:
        wire(wiring)
    services.extra.update(wiring.services)
    app = create_app(services, extra_routers=wiring.routers)
    web.install(app)
    engine = _build_engine(settings, wiring) if settings.engine.enabled else None
    if engine is not None:
        state.subscribe(engine.deliver)
    return Platform(settings, db, state, kinds, service, tokens, metrics, app, engine, clock, wiring)


def _build_engine(settings: Settings, wiring: Wiring) -> reconcile.Engine:
    member = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    engine_settings = reconcile.EngineSettings(
        member=member,
        workers=settings.engine.workers,
        resync_period=timedelta(seconds=settings.engine.resync_seconds),
        leases=reconcile.LeaseSettings(
            shards=settings.engine.shards, lease_ttl=timedelta(seconds=settings.engine.lease_seconds)
        ),
    )
    lease_store = SqlLeaseStore(wiring.db)
    return reconcile.Engine(
        source=wiring.store,
        writer=PipelineWriter(wiring.resources, service_caller("controller-manager")),
        registry=reconcile.ControllerRegistry(wiring.controllers),
        clock=wiring.clock,
        settings=engine_settings,
        lease_store=lease_store,
        metrics=EngineMetricsAdapter(wiring.metrics),
    )


async def load_demo(platform: Platform) -> list[str]:
    """Apply the demo data set shipped with blacktop and its features, and register the demo catalog (idempotent)."""
    demo = package_files.files("blacktop.demo")
    files = [
        (f"demo/{entry.name}", entry.read_bytes())
        for entry in demo.iterdir()
        if entry.name.endswith((".yaml", ".yml", ".json"))
    ]
    documents = []
    for name, content in sorted([*files, *platform.wiring.demo_files]):
        documents.extend(load_documents(content, source=name))
    items = [(f"{doc.source}#{doc.index + 1}", obj) for doc, obj in iter_objects(documents)]
    ctx = RequestContext(caller=service_caller("demo-loader"), request_id="demo")
    results = await platform.resources.apply(ctx, items)
    lines = [f"{r.object['kind']}/{r.object['metadata']['name']} {r.action}" for r in results]
    catalog = platform.wiring.services.get("catalog")
    if catalog is not None:
        target = Path(str(demo / "catalog" / "all.yaml"))
        location = await catalog.register("file", str(target), on_conflict="refresh")
        lines.append(f"catalog location {target} registered ({getattr(location, 'id', '')})")
    return lines


@asynccontextmanager
async def running(platform: Platform) -> AsyncIterator[Platform]:
    """Run the engine for the lifetime of the block."""
    for start in platform.wiring.startup:
        await start()
    if platform.engine is not None:
        await platform.engine.start()
    try:
        yield platform
    finally:
        await platform.close()


def serve(*, data_dir: Path, host: str, port: int, demo: bool, database_url: str | None) -> None:
    """``blacktop up``: the whole platform in this process until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides: dict[str, Any] = {"data_dir": data_dir, "host": host, "port": port, "demo": demo}
    if database_url:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)
    with asyncio.Runner(loop_factory=_fast_event_loop()) as runner:
        runner.run(_serve(settings))


def _fast_event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (Linux and macOS), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(settings: Settings) -> None:
    platform = await build_platform(settings)
    token = await platform.tokens.ensure_bootstrap(settings.bootstrap_token)
    token_file = settings.data_dir / "bootstrap-token"
    if token is not None and settings.bootstrap_token is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        token_file.write_text(token + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        print(f"created the bootstrap admin token in {token_file} (readable only by you)", flush=True)
    elif token_file.exists():
        print(f"admin token: {token_file}", flush=True)
    config = uvicorn.Config(platform.app, host=settings.host, port=settings.port, log_level="info", lifespan="off")
    server = uvicorn.Server(config)
    print(f"blacktop is up: http://{settings.host}:{settings.port} (state: {settings.database_url})", flush=True)
    async with running(platform):
        if settings.demo:
            await _load_demo_when_ready(platform)
        # uvicorn re-raises the signal that stopped it once it has shut down; with these handlers in
        # place that re-raise returns here, so the features' shutdown (embedded servers, workers) runs.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: None)
        await server.serve()


async def _load_demo_when_ready(platform: Platform, *, patience: float = 30.0) -> None:
    """Load the demo once the features have registered their kinds (an XRD's kinds appear after it reconciles).

    A demo that still does not apply is reported and the platform keeps running.
    """
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            for line in await load_demo(platform):
                log.info("demo: %s", line)
            return
        except BlacktopError as exc:
            if asyncio.get_running_loop().time() > deadline:
                problems = "; ".join(p.describe() for p in getattr(exc, "problems", ()))
                log.error("the demo data could not be loaded: %s %s", exc, problems)
                return
            await asyncio.sleep(0.5)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``blacktop`` console command."""
    sys.exit(run_app(build_app(serve=serve), list(argv) if argv is not None else None))
