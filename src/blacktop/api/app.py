"""The FastAPI application factory; the composition root hands it the services."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blacktop.telemetry import PlatformMetrics

from . import errors
from .deps import ApiServices
from .routes import audit, platform, resources, system, tenancy


def create_app(services: ApiServices, *, extra_routers: list[APIRouter] | None = None) -> FastAPI:
    """Build the HTTP API over ``services``; ``extra_routers`` lets feature contexts add their routes."""
    app = FastAPI(
        title="blacktop platform API",
        version="0.1.0",
        description="One declarative API for the catalog, templates, infrastructure claims, secrets and observability.",
        generate_unique_id_function=lambda route: route.operation_id or route.name,
    )
    app.state.services = services
    errors.install(app)
    for router in (system.router, platform.router, audit.router, tenancy.router, resources.router):
        app.include_router(router)
    for router in extra_routers or []:
        app.include_router(router)

    app.add_middleware(RequestObserver, metrics=services.metrics)
    return app


class RequestObserver:
    """Gives each request an id (``X-Request-Id``, echoed back) and records its route, code and duration.

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware
    runs every request through an extra task and memory stream, which costs more than the write
    pipeline's own audit step.
    """

    def __init__(self, app: ASGIApp, *, metrics: PlatformMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = route.path if isinstance(route, APIRoute) else "unmatched"
            self._metrics.observe_request(
                method=scope["method"], route=template, code=status, seconds=time.perf_counter() - started
            )
