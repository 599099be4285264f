"""What the HTTP layer is given by the composition root, and its request dependencies.

Routes receive services through ``ApiServices`` (stored on ``app.state``) and the caller through
``CurrentContext``; they never open sessions or read settings themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from blacktop.apiserver import RequestContext, ResourceService
from blacktop.kernel.documents import Document, Limits, load_documents
from blacktop.kernel.errors import InputError, Problem, TooLargeError
from blacktop.kernel.identity import Caller
from blacktop.kernel.kinds import KindInfo, KindRegistry
from blacktop.kernel.ports import AuditQuery, AuditRecord
from blacktop.telemetry import PlatformMetrics


class Authenticator(Protocol):
    """Turns a bearer token into a caller."""

    async def authenticate(self, token: str | None) -> Caller:
        """The caller the token belongs to; ``UnauthenticatedError`` when missing, unknown or expired."""
        ...


class AuditReader(Protocol):
    """Reads and verifies the audit trail."""

    async def list(self, query: AuditQuery) -> list[AuditRecord]:
        """Records matching the query, oldest first."""
        ...

    async def verify(self) -> dict[str, Any]:
        """Recompute the hash chain; ``{"ok": bool, "checked": n, "firstBroken": {...} | None}``."""
        ...


class TokenIssuer(Protocol):
    """Issues API tokens."""

    async def issue(
        self, *, caller: Caller, user: str, groups: list[str], description: str, ttl_days: int | None
    ) -> dict[str, Any]:
        """Create a token for ``user`` and return it once, with its id."""
        ...


@dataclass
class ApiServices:
    """Everything the HTTP layer calls."""

    resources: ResourceService
    kinds: KindRegistry
    authenticator: Authenticator
    metrics: PlatformMetrics
    audit: AuditReader
    tokens: TokenIssuer
    limits: Limits = field(default_factory=Limits)
    ready: Callable[[], Awaitable[None]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def services(request: Request) -> ApiServices:
    """The services the composition root built for this app.

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency on a worker
    thread, which on every request would cost more than the lookup.
    """
    found: ApiServices = request.app.state.services
    return found


Services = Annotated[ApiServices, Depends(services)]


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer …``, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def current_context(request: Request, svc: Services) -> RequestContext:
    """Authenticate the request; every route that touches platform state depends on this."""
    caller = await svc.authenticator.authenticate(bearer_token(request))
    request.state.caller = caller
    return RequestContext(caller=caller, request_id=str(request.state.request_id))


CurrentContext = Annotated[RequestContext, Depends(current_context)]


async def read_documents(request: Request, svc: ApiServices) -> list[Document]:
    """The request body as YAML or JSON documents, within the configured limits."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > svc.limits.max_bytes:
        raise TooLargeError(f"the request body is {declared} bytes; the limit is {svc.limits.max_bytes}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > svc.limits.max_bytes:
            raise TooLargeError(f"the request body exceeds the limit of {svc.limits.max_bytes} bytes")
    if not body.strip():
        raise InputError("the request body is empty", problems=[Problem("", "send a YAML or JSON object")])
    return load_documents(bytes(body), source="request body", limits=svc.limits)


async def read_object(request: Request, svc: ApiServices) -> dict[str, Any]:
    """Exactly one YAML or JSON object from the request body."""
    documents = await read_documents(request, svc)
    if len(documents) != 1 or not isinstance(documents[0].content, dict):
        raise InputError(
            "the request body must hold exactly one object",
            problems=[Problem("", f"found {len(documents)} document(s); use /api/v1/platform/apply for several")],
        )
    content: dict[str, Any] = documents[0].content
    return content


def kind_for_path(svc: ApiServices, group: str, version: str, plural: str) -> KindInfo:
    """Resolve ``/apis/{group}/{version}/.../{plural}`` to a kind (404 suggesting close names)."""
    return svc.kinds.by_plural(group, version, plural)
