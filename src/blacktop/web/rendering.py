"""Turning views into HTML: the Jinja2 environment, the page response and the portal's one error mapping.

Templates are autoescaped (every value a page shows came from users: entity descriptions,
template titles, audit messages), links from data pass ``safe_url`` so a ``javascript:`` link in
an entity never becomes clickable, and every response carries a Content-Security-Policy that
allows only the portal's own script and stylesheet. ``PortalRoute`` is where blacktop errors
become pages, as ``api/errors.py`` is for JSON: 401 redirects to sign-in, others render
``error.html`` with the status, the message and every problem.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from blacktop.kernel.errors import BlacktopError, Problem, UnauthenticatedError, status_code

from . import sessions

log = logging.getLogger("blacktop.web")

PREFIX: Final = "/ui"
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def safe_url(value: object) -> str:
    """``value`` if it is an http(s) URL or a path on this site, else an empty string (never ``javascript:``)."""
    text = str(value or "").strip()
    if text.startswith("/") and not text.startswith("//"):
        return text
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else ""


def entity_url(ref: object) -> str:
    """The portal page of an entity ref (``kind:namespace/name``)."""
    text = str(ref)
    kind, _, rest = text.partition(":")
    namespace, _, name = rest.partition("/")
    if not name:
        namespace, name = "default", rest
    return f"{PREFIX}/catalog/{quote(kind.lower(), safe='')}/{quote(namespace, safe='')}/{quote(name, safe='')}"


def condition(obj: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    """The status condition ``kind`` (Ready, Synced) of an object, or an Unknown one."""
    for found in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(found, Mapping) and found.get("type") == kind:
            return dict(found)
    return {"type": kind, "status": "Unknown", "reason": "", "message": ""}


def when(value: object) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value or "")


def local_path(value: str | None) -> str:
    """``value`` when it is a portal path (for ``next=`` redirects), else the portal's home."""
    text = (value or "").strip()
    if text.startswith(PREFIX) and not text.startswith("//") and "\\" not in text:
        return text
    return f"{PREFIX}/"


class Renderer:
    """The portal's Jinja2 environment (package templates, autoescape always on)."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("blacktop.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(safe_url=safe_url, entity_url=entity_url, when=when)
        self.env.globals.update(condition=condition, prefix=PREFIX)

    def page(self, request: Request, template: str, /, *, status: int = 200, **values: Any) -> HTMLResponse:
        """Render ``template`` as a full response with the security headers and the CSRF cookie."""
        caller = getattr(request.state, "caller", None)
        html = self.env.get_template(template).render(
            request_path=request.url.path, caller=caller, csrf=sessions.csrf_token(request), **values
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        sessions.remember_csrf(request, response)
        return response


def renderer(request: Request) -> Renderer:
    """The renderer ``install`` stored on the app."""
    found: Renderer = request.app.state.portal_renderer
    return found


def error_page(request: Request, code: int, title: str, message: str, problems: tuple[Problem, ...] = ()) -> Response:
    """The error page: what went wrong, every problem, and the request id for the logs."""
    request_id = str(getattr(request.state, "request_id", "") or "")
    return renderer(request).page(
        request, "error.html", status=code, code=code, title=title, message=message, problems=problems,
        request_id=request_id,
    )  # fmt: skip


_TITLES: Final = {
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid input",
    503: "Unavailable",
}


class PortalRoute(APIRoute):
    """A route whose errors become pages: sign-in redirect for 401, ``error.html`` for the rest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (dependencies included, so authentication errors are caught too)."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except UnauthenticatedError:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{PREFIX}/sign-in?next={quote(target, safe='')}", status_code=303)
            except BlacktopError as exc:
                code = status_code(exc)
                return error_page(
                    request, code, _TITLES.get(code, "Error"), str(exc), tuple(getattr(exc, "problems", ()))
                )
            except RequestValidationError as exc:
                problems = tuple(
                    Problem(path=".".join(str(p) for p in err.get("loc", ())[1:]), message=str(err.get("msg")))
                    for err in exc.errors()
                )
                return error_page(request, 422, "Invalid input", "the request's parameters are invalid", problems)
            except Exception:
                request_id = str(getattr(request.state, "request_id", "") or "")
                log.exception("unexpected error rendering portal page %s (request %s)", request.url.path, request_id)
                return error_page(
                    request, 500, "Something went wrong",
                    f"an unexpected error occurred; the server log has the details under request id {request_id}",
                )  # fmt: skip
            for header, value in SECURITY_HEADERS.items():
                response.headers.setdefault(header, value)
            return response

        return guarded
