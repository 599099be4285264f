"""The web portal: server-rendered pages under ``/ui/`` over the same services the HTTP API calls.

The portal is a delivery layer like ``api`` and ``cli``: it authenticates with the API's
authenticator (the session is an API token in a cookie), reads and writes only through the
application services the API routes use, so RBAC, validation and audit are theirs, and maps
blacktop errors to pages in one place (``rendering.PortalRoute``). ``install`` adds it to the
FastAPI app the composition root built; nothing runs at import time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from .rendering import PREFIX, Renderer
from .services import PortalServices
from .views import audit, catalog, home, infrastructure, secrets, session, templates

__all__ = ["PortalServices", "install"]


def install(app: FastAPI, *, redirect_root: bool = True) -> None:
    """Serve the portal from ``app`` under ``/ui/`` (its services are ``app.state.services``).

    ``redirect_root`` also answers ``/`` with a redirect to the portal.
    """
    app.state.portal_renderer = Renderer()
    for module in (session, home, catalog, templates, infrastructure, secrets, audit):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    if redirect_root:
        app.include_router(home.root_router)
    # check_dir=False: an installation that lost the assets still serves every page, only unstyled.
    static = StaticFiles(directory=Path(__file__).resolve().parent / "static", check_dir=False)
    app.mount(f"{PREFIX}/static", static, name="portal-static")
