"""Liveness, readiness and metrics.

``/healthz`` and ``/readyz`` answer without credentials because load balancers and orchestrators
probe them; they reveal nothing but up/down. ``/metrics`` needs any valid token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ..deps import CurrentContext, Services

router = APIRouter(tags=["system"])


@router.get("/healthz", operation_id="system-healthz")
async def healthz() -> dict[str, Any]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="system-readyz")
async def readyz(svc: Services) -> dict[str, Any]:
    """The process can serve: its database answers."""
    if svc.ready is not None:
        await svc.ready()
    return {"status": "ready"}


@router.get("/metrics", operation_id="system-metrics", response_class=Response)
async def metrics(svc: Services, ctx: CurrentContext) -> Response:
    """Prometheus metrics: requests, latency, reconciles, queue depth and errors."""
    return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
