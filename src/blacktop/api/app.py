"""The FastAPI application factory; the composition root hands it the services."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute

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

    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = route.path if isinstance(route, APIRoute) else "unmatched"
        services.metrics.observe_request(
            method=request.method, route=template, code=response.status_code, seconds=time.perf_counter() - started
        )
        response.headers["X-Request-Id"] = request.state.request_id
        return response

    return app
