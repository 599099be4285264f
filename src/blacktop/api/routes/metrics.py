"""DORA metrics over HTTP (``/api/v1/metrics``): the report, and webhook ingestion of deployments.

``GET /api/v1/metrics/dora`` answers any authenticated caller: the aggregates are not secret, while
the records themselves (``/apis/metrics.blacktop.dev/v1alpha1/...``) follow RBAC. Webhooks post to
``/api/v1/metrics/namespaces/{namespace}/webhooks/{github|argocd}``; the record is written through
the write pipeline as the token's caller, so the token needs ``create`` on deployments in that
namespace (the team's ``recorder`` or ``developer`` role). GitHub cannot send a bearer header, so the
token may also come as the password of HTTP basic auth (``https://webhook:<token>@host/...``).

When the namespace configured a webhook secret, the raw body is checked against the delivery's
signature (``X-Hub-Signature-256``) or shared secret (``X-Blacktop-Webhook-Secret``) before it is
parsed; a delivery without valid proof is a 401 and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from blacktop import metrics
from blacktop.apiserver import RequestContext, Verb
from blacktop.kernel.documents import load_documents
from blacktop.kernel.errors import InputError, NotFoundError, Problem, TooLargeError

from ..deps import ApiServices, CurrentContext, Services, bearer_token

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


async def raw_body(request: Request, svc: ApiServices) -> bytes:
    """The request body exactly as sent (signatures cover these bytes), within the configured size limit."""
    limit = svc.limits.max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"the request body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise TooLargeError(f"the request body exceeds the limit of {limit} bytes")
    return bytes(body)


def parse_object(body: bytes, svc: ApiServices) -> dict[str, Any]:
    """Exactly one YAML or JSON object from a verified body."""
    if not body.strip():
        raise InputError("the request body is empty", problems=[Problem("", "send a YAML or JSON object")])
    documents = load_documents(body, source="request body", limits=svc.limits)
    if len(documents) != 1 or not isinstance(documents[0].content, dict):
        raise InputError(
            "the request body must hold exactly one object",
            problems=[Problem("", f"found {len(documents)} document(s); send one event per delivery")],
        )
    content: dict[str, Any] = documents[0].content
    return content


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
    found = _service(svc)
    # The right to record here comes first: a caller without it learns nothing about the namespace's
    # webhook secret (not even whether one is configured), and no secret is read on its behalf.
    await svc.resources.authorize(ctx, Verb.CREATE, metrics.kinds.DEPLOYMENT, namespace)
    body = await raw_body(request, svc)
    await found.verify_delivery(
        namespace=namespace,
        source=source,
        body=body,
        proof=request.headers.get(metrics.signatures.HEADERS.get(source, metrics.signatures.SHARED_SECRET_HEADER)),
        request_id=ctx.request_id,
    )
    payload = parse_object(body, svc)
    target = metrics.Target(namespace=namespace, service=service, environment=environment, workflow=workflow)
    result = await found.ingest(
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
