"""Portal sessions: the API token in a cookie, and the CSRF token every form carries.

A portal session is nothing but an API token kept in an HttpOnly, SameSite=Strict cookie scoped to
``/ui`` (Secure when the portal is served over https); every page hands it to the API's own authenticator, so a
revoked or expired token ends the session at once and the portal never knows more than the API.

Forms are protected by a double-submit token: a random value in its own HttpOnly, SameSite=Strict
cookie, repeated in a hidden ``csrf`` field of every form. A POST whose field does not match the
cookie is refused before anything else runs. The value is random (never derived from the API
token), so pages never carry anything that could be turned back into a credential.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qs

from fastapi import Request, Response

from blacktop.apiserver import RequestContext
from blacktop.kernel.errors import NotAllowedError, TooLargeError

from .services import portal

SESSION_COOKIE: Final = "blacktop_session"
CSRF_COOKIE: Final = "blacktop_csrf"
CSRF_FIELD: Final = "csrf"
COOKIE_PATH: Final = "/ui"
"""Both cookies go only to the portal: the API and the git host never see them (they take bearer tokens)."""
MAX_FORM_BYTES: Final = 256 * 1024
"""Portal forms are small (template values, filters); anything bigger is refused unread."""


def is_https(request: Request) -> bool:
    """Whether the browser reached the portal over https (cookies are then marked Secure)."""
    return request.url.scheme == "https"


def session_token(request: Request) -> str | None:
    """The API token of the signed-in browser, or None."""
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    return token or None


async def signed_in(request: Request) -> RequestContext:
    """Authenticate the browser with the API's authenticator; every portal page but sign-in depends on this."""
    caller = await portal(request).services.authenticator.authenticate(session_token(request))
    request.state.caller = caller
    return RequestContext(caller=caller, request_id=str(getattr(request.state, "request_id", "") or ""))


def csrf_token(request: Request) -> str:
    """The CSRF value for this browser: its cookie's, or a new one that ``remember_csrf`` will set."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) >= 32:
        return existing
    fresh: str | None = getattr(request.state, "new_csrf", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.new_csrf = fresh
    return fresh


def remember_csrf(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request minted a new value."""
    fresh = getattr(request.state, "new_csrf", None)
    if fresh is not None:
        response.set_cookie(
            CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=is_https(request), path=COOKIE_PATH
        )


def start_session(request: Request, response: Response, token: str) -> None:
    """Keep ``token`` as the browser's session and rotate the CSRF value."""
    secure = is_https(request)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path=COOKIE_PATH)
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict", secure=secure, path=COOKIE_PATH
    )


def end_session(request: Request, response: Response) -> None:
    """Forget the session and the CSRF value."""
    secure = is_https(request)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure)
    response.delete_cookie(CSRF_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure)


async def read_form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form body, CSRF-checked: ``NotAllowedError`` when the token is missing or wrong."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise TooLargeError(f"the form is {declared} bytes; the portal accepts at most {MAX_FORM_BYTES}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise TooLargeError(f"the form exceeds {MAX_FORM_BYTES} bytes")
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    check_csrf(request, form)
    return form


def check_csrf(request: Request, form: Mapping[str, list[str]]) -> None:
    """Refuse a form whose ``csrf`` field does not repeat the browser's CSRF cookie."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = (form.get(CSRF_FIELD) or [""])[0]
    if len(expected) < 32 or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise NotAllowedError(
            "the form was refused: its CSRF token is missing or does not match this browser's "
            "(the form may be stale or come from another site); reload the page and submit it again"
        )


def first(form: Mapping[str, list[str]], name: str, default: str = "") -> str:
    """The first value of a form field."""
    values = form.get(name)
    return values[0] if values else default
