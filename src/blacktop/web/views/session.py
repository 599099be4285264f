"""Signing in and out: the token a person pastes is checked by the API's authenticator, then kept in a cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from blacktop.kernel.errors import UnauthenticatedError

from .. import sessions
from ..rendering import PREFIX, PortalRoute, local_path, renderer
from ..services import portal

router = APIRouter(route_class=PortalRoute)


@router.get("/sign-in", name="portal-sign-in")
async def sign_in_page(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """The sign-in form."""
    return renderer(request).page(request, "sign_in.html", next=local_path(next), error=None)


@router.post("/sign-in", name="portal-sign-in-submit")
async def sign_in(request: Request) -> Response:
    """Check the pasted token with the API's authenticator; on success keep it and go where the user was going."""
    form = await sessions.read_form(request)
    token = sessions.first(form, "token").strip()
    target = local_path(sessions.first(form, "next"))
    try:
        caller = await portal(request).services.authenticator.authenticate(token or None)
    except UnauthenticatedError as exc:
        return renderer(request).page(request, "sign_in.html", status=401, next=target, error=str(exc))
    request.state.caller = caller
    response = RedirectResponse(target, status_code=303)
    sessions.start_session(request, response, token)
    return response


@router.post("/sign-out", name="portal-sign-out")
async def sign_out(request: Request) -> Response:
    """Forget the session cookie (the token itself stays valid; revoke it with the CLI)."""
    await sessions.read_form(request)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    sessions.end_session(request, response)
    return response
