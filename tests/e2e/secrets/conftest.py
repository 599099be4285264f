"""Fixtures for the secrets end-to-end tests: a platform on a frozen clock, teams, tokens and helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from blacktop.bootstrap import Platform, build_platform, running
from blacktop.kernel.clock import FrozenClock
from tests.fixtures.platform import ADMIN_TOKEN, settings_for

SHARED = (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()
GROUPS = "/apis/tenancy.blacktop.dev/v1alpha1/groups"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"
ESO = "/apis/external-secrets.io/v1beta1"
PLATFORM_SECRETS = "/apis/secrets.blacktop.dev/v1alpha1/namespaces/{ns}/secrets"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def secrets_platform(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Platform]:
    """A running platform whose engine resyncs every 0.2s, so a moved frozen clock is seen at once."""
    settings = settings_for(tmp_path / "state", engine={"resync_seconds": 0.2, "workers": 4})
    built = await build_platform(settings, clock=clock)
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with running(built):
        yield built


@pytest.fixture
async def admin(secrets_platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=secrets_platform.app)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as client:
        yield client


async def add_team(admin: httpx.AsyncClient, team: str, members: list[str], role: str = "developer") -> None:
    group = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "Group",
             "metadata": {"name": f"{team}-team"}, "spec": {"members": members}}  # fmt: skip
    binding = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding",
               "metadata": {"name": f"{team}-{role}"},
               "spec": {"role": role, "subjects": [{"kind": "Group", "name": f"{team}-team"}]}}  # fmt: skip
    assert (await admin.post(GROUPS, json=group)).status_code == 201
    response = await admin.post(BINDINGS.format(ns=team), json=binding)
    assert response.status_code == 201, response.text


async def client_for(admin: httpx.AsyncClient, user: str) -> httpx.AsyncClient:
    # SqlTokenStore.add reads then writes in a DEFERRED transaction, so a concurrent controller write
    # can make it fail at once with "database is locked" on SQLite; retried here (reported upstream).
    for _ in range(20):
        response = await admin.post("/api/v1/tenancy/tokens", json={"user": user})
        if response.status_code != 503:
            break
        await asyncio.sleep(0.1)
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    return httpx.AsyncClient(
        transport=admin._transport, base_url="http://blacktop", headers={"Authorization": f"Bearer {token}"}
    )


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 15.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def ready_condition(obj: dict[str, Any]) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return None
