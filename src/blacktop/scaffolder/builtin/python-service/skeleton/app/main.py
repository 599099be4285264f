"""The HTTP application: ``create_app`` builds it with its probes, metrics, tracing and request log.

Nothing happens at import time; ``python -m app`` (``app/__main__.py``) reads the settings, sets up
logging and tracing and serves ``create_app(...)``. Tests build the app with their own settings,
tracer provider and metrics registry.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from prometheus_client import CollectorRegistry

from app import __version__
from app.context import REQUEST_ID
from app.metrics import HttpMetrics
from app.settings import Settings

ReadinessCheck = Callable[[], Awaitable[bool]]
"""An async check that returns True when a dependency (database, queue, ...) is usable."""

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Probes and scrapes are counted but not logged: they would drown the request log.
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

request_log = logging.getLogger("app.requests")


def create_app(
    settings: Settings,
    *,
    tracer_provider: TracerProvider | None = None,
    metrics_registry: CollectorRegistry | None = None,
    readiness_checks: dict[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """Build the application; without a tracer provider, spans are not recorded (incoming trace ids are kept)."""
    metrics = HttpMetrics(metrics_registry)
    tracer = tracer_provider.get_tracer("app") if tracer_provider is not None else trace.NoOpTracer()
    checks = dict(readiness_checks or {})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ready = True
        yield
        app.state.ready = False  # fail readiness while draining
        if tracer_provider is not None and hasattr(tracer_provider, "shutdown"):
            tracer_provider.shutdown()  # flush the spans still queued

    app = FastAPI(title=settings.service_name, version=__version__, lifespan=lifespan)
    app.state.ready = False
    app.state.settings = settings

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        metrics.in_progress.inc()
        parent = propagate.extract(request.headers)
        try:
            with tracer.start_as_current_span(request.method, context=parent, kind=SpanKind.SERVER) as span:
                try:
                    response = await call_next(request)
                    status = response.status_code
                except Exception:
                    request_log.exception("unhandled error", extra={"method": request.method, "path": request.url.path})
                    raise
                finally:
                    route = route_of(request)
                    span.update_name(f"{request.method} {route}")
                    span.set_attribute("http.request.method", request.method)
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    span.set_attribute("request.id", request_id)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                    seconds = time.perf_counter() - started
                    metrics.observe(method=request.method, route=route, status=status, seconds=seconds)
                    if request.url.path not in _QUIET_PATHS:
                        request_log.info(
                            "request",
                            extra={
                                "method": request.method,
                                "path": request.url.path,
                                "route": route,
                                "status": status,
                                "duration_ms": round(seconds * 1000, 3),
                            },
                        )
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            metrics.in_progress.dec()
            REQUEST_ID.reset(token)

    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process serves requests."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"])
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: started, not draining, and every readiness check passes."""
        results: dict[str, Any] = {}
        for name, check in checks.items():
            try:
                results[name] = bool(await check())
            except Exception as exc:  # a failing check means not ready, never a 500
                results[name] = f"error: {exc}"
        ready = bool(request.app.state.ready) and all(v is True for v in results.values())
        body = {"status": "ready" if ready else "not ready", "checks": results}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["probes"], include_in_schema=False)
    async def metrics_endpoint() -> Response:
        """Prometheus scrape endpoint."""
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    @app.get("/", tags=["service"])
    async def index() -> dict[str, str]:
        """What this service is."""
        return {"service": settings.service_name, "version": __version__}

    return app


def route_of(request: Request) -> str:
    """The route template that served the request (``/items/{id}``), so metric labels stay few."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
