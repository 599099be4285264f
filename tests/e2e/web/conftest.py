"""Fixtures for the portal end-to-end tests: a running platform with the demo data, and a browser-like client.

``Browser`` is an httpx client that keeps cookies like a browser does and knows the portal's
form conventions (the hidden ``csrf`` field repeats the CSRF cookie); it never sends an
``Authorization`` header, so every request is authenticated by the session cookie alone.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from blacktop.bootstrap import Platform, load_demo
from blacktop.kernel.errors import BlacktopError
from tests.fixtures.platform import ADMIN_TOKEN

GROUPS = "/apis/tenancy.blacktop.dev/v1alpha1/groups"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"


class Browser:
    """A cookie-keeping client that fills in the CSRF field of forms."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @property
    def csrf(self) -> str:
        """The CSRF cookie (what the hidden form field carries)."""
        return str(self.client.cookies.get("blacktop_csrf") or "")

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def submit(self, path: str, data: dict[str, Any], *, csrf: str | None = None) -> httpx.Response:
        """POST a form as the page would (with the page's CSRF value unless ``csrf`` overrides it)."""
        if not self.csrf:
            await self.client.get("/ui/sign-in")
        body = {**data, "csrf": self.csrf if csrf is None else csrf}
        if csrf == "":
            body.pop("csrf")
        return await self.client.post(path, data=body)

    async def sign_in(self, token: str) -> httpx.Response:
        page = await self.client.get("/ui/sign-in")
        assert page.status_code == 200
        field = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert field is not None and field.group(1) == self.csrf, "the form repeats the CSRF cookie"
        return await self.submit("/ui/sign-in", {"token": token, "next": "/ui/"})


async def wait_for_demo(platform: Platform, *, patience: float = 60.0) -> None:
    """Load the demo once the features registered its kinds (an XRD's claim kind appears after it reconciles)."""
    deadline = asyncio.get_running_loop().time() + patience
    while True:
        try:
            await load_demo(platform)
            return
        except BlacktopError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)


@pytest.fixture
async def demo(platform: Platform) -> Platform:
    """The test platform with blacktop's demo data (catalog, templates, the orders-db claim)."""
    await wait_for_demo(platform)
    return platform


def browser_for(platform: Platform, *, scheme: str = "http") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=platform.app)
    return httpx.AsyncClient(transport=transport, base_url=f"{scheme}://blacktop", timeout=60)


@pytest.fixture
async def anonymous(demo: Platform) -> AsyncIterator[Browser]:
    """A browser that has not signed in."""
    async with browser_for(demo) as client:
        yield Browser(client)


@pytest.fixture
async def admin(demo: Platform) -> AsyncIterator[Browser]:
    """A browser signed in with the bootstrap admin token."""
    async with browser_for(demo) as client:
        browser = Browser(client)
        signed = await browser.sign_in(ADMIN_TOKEN)
        assert signed.status_code == 303, signed.text
        yield browser


@pytest.fixture
async def admin_api(demo: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API as the bootstrap admin, to set up what the portal then shows."""
    async with browser_for(demo) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


async def issue_token(api: httpx.AsyncClient, user: str) -> str:
    """An API token for ``user`` (retried: SQLite may refuse a write racing a controller's)."""
    for _ in range(20):
        response = await api.post("/api/v1/tenancy/tokens", json={"user": user})
        if response.status_code == 201:
            return str(response.json()["token"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no token for {user}: {response.text}")


async def make_viewer(api: httpx.AsyncClient, user: str, namespace: str) -> None:
    """Bind ``user`` to the viewer role in ``namespace`` through a group."""
    group = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "Group",
             "metadata": {"name": f"{user}-viewers"}, "spec": {"members": [user]}}  # fmt: skip
    binding = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding",
               "metadata": {"name": f"{user}-viewer"},
               "spec": {"role": "viewer", "subjects": [{"kind": "Group", "name": f"{user}-viewers"}]}}  # fmt: skip
    assert (await api.post(GROUPS, json=group)).status_code == 201
    created = await api.post(BINDINGS.format(ns=namespace), json=binding)
    assert created.status_code == 201, created.text


@pytest.fixture
async def viewer(demo: Platform, admin_api: httpx.AsyncClient) -> AsyncIterator[Browser]:
    """A browser signed in as vera, a viewer in orders-team and nothing else."""
    await make_viewer(admin_api, "vera", "orders-team")
    token = await issue_token(admin_api, "vera")
    async with browser_for(demo) as client:
        browser = Browser(client)
        assert (await browser.sign_in(token)).status_code == 303
        yield browser
