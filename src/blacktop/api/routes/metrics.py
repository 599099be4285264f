"""DORA metrics over HTTP (``/api/v1/metrics``): the report, and webhook ingestion of deployments.

``GET /api/v1/metrics/dora`` answers any authenticated caller: the aggregates are not secret, while
the records themselves (``/apis/metrics.blacktop.dev/v1alpha1/...``) follow RBAC. Webhooks post to
``/api/v1/metrics/namespaces/{namespace}/webhooks/{github|argocd}``; the record is written through
the write pipeline as the token's caller, so the token needs ``create`` on deployments in that
namespace (the team's developer role). GitHub cannot send a bearer header, so the token may also
come as the password of HTTP basic auth (``https://webhook:<token>@host/...`` in the webhook URL).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from blacktop import metrics
from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import NotFoundError

from ..deps import CurrentContext, Services, bearer_token, read_object

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])

STATUS_CODES = {"created": 201, "duplicate": 200, "ignored": 202}


def _service(svc: Any) -> metrics.MetricsService:
    found = svc.extra.get("metrics")
    if not isinstance(found, metrics.MetricsService):
        raise NotFoundError("DORA metrics are not enabled in this blacktop")
    return found


def webhook_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer``, or the password of ``Authorization: Basic``."""
    token = bearer_token(request)
    if token is not None:
        return token
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    password = decoded.partition(":")[2]
    return password or None


async def webhook_context(request: Request, svc: Services) -> RequestContext:
    """Authenticate a webhook delivery by bearer or basic-auth token."""
    caller = await svc.authenticator.authenticate(webhook_token(request))
    request.state.caller = caller
    return RequestContext(caller=caller, request_id=str(request.state.request_id))


WebhookContext = Annotated[RequestContext, Depends(webhook_context)]


@router.get("/dora", operation_id="metrics-dora")
async def dora_report(
    svc: Services,
    ctx: CurrentContext,
    team: Annotated[str | None, Query(description="owner group ref, e.g. group:default/payments")] = None,
    service: Annotated[str | None, Query(description="component ref, e.g. component:default/payments")] = None,
    window: Annotated[str, Query(description="7d, 30d, 90d (1 to 365 days, or weeks: 4w)")] = "30d",
    environment: Annotated[str, Query(description="the environment, or 'all'")] = "production",
) -> dict[str, Any]:
    """The four DORA metrics per service, per team and for the organisation over the window."""
    report = await _service(svc).report(window=window, team=team, service=service, environment=environment)
    return metrics.render_report(report)


@router.post("/namespaces/{namespace}/webhooks/{source}", operation_id="metrics-webhook")
async def webhook(
    namespace: str,
    source: str,
    request: Request,
    svc: Services,
    ctx: WebhookContext,
    service: Annotated[str | None, Query(description="the catalog component deployed")] = None,
    environment: Annotated[str | None, Query(description="the environment deployed to")] = None,
    workflow: Annotated[str | None, Query(description="GitHub: only runs of this workflow name")] = None,
) -> JSONResponse:
    """Record the deployment a GitHub or Argo CD webhook delivery describes (idempotent per delivery)."""
    payload = await read_object(request, svc)
    target = metrics.Target(namespace=namespace, service=service, environment=environment, workflow=workflow)
    result = await _service(svc).ingest(
        ctx,
        source=source,
        payload=payload,
        target=target,
        event=request.headers.get("x-github-event"),
        delivery_id=request.headers.get("x-github-delivery"),
    )
    gauges = svc.extra.get("metrics.gauges")
    if result.result == "created" and gauges is not None:
        gauges.refresh_soon()
    return JSONResponse(result.to_json(), status_code=STATUS_CODES[result.result])
