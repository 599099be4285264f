"""Fixtures for the catalog end-to-end tests: a platform with a catalog configuration, over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blacktop.bootstrap import Platform, build_platform, running
from tests.corpus import corpus_dir, shared_dir
from tests.fixtures.platform import ADMIN_TOKEN, settings_for

EXAMPLES = corpus_dir("backstage", "entities", "backstage", "packages", "catalog-model", "examples")
PAYMENT_SERVICE = shared_dir() / "examples" / "catalog-info-payment-service.yaml"

CatalogApi = Callable[..., Awaitable[tuple[Platform, httpx.AsyncClient]]]


@pytest.fixture
async def catalog_api(tmp_path: Path) -> AsyncIterator[CatalogApi]:
    """Build a running platform with a given ``catalog.yaml`` and an admin client for it (one per call)."""
    stack = AsyncExitStack()
    count = 0

    async def make(**config: Any) -> tuple[Platform, httpx.AsyncClient]:
        nonlocal count
        count += 1
        state = tmp_path / f"state-{count}"
        state.mkdir()
        config.setdefault("refresh_interval_seconds", None)
        (state / "catalog.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        built = await build_platform(settings_for(state))
        await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
        await stack.enter_async_context(running(built))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=built.app), base_url="http://blacktop",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60,
        )  # fmt: skip
        await stack.enter_async_context(client)
        return built, client

    async with stack:
        yield make


async def register(client: httpx.AsyncClient, target: Path | str, *, type_: str = "file") -> dict[str, Any]:
    """Register a location and return the created response body (asserting 201)."""
    response = await client.post("/api/catalog/locations", json={"type": type_, "target": str(target)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def location_status(client: httpx.AsyncClient, location_id: str) -> dict[str, Any]:
    """blacktop's status of one location: summary and processing errors."""
    response = await client.get(f"/api/v1/catalog/locations/{location_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def entity(client: httpx.AsyncClient, kind: str, name: str, namespace: str = "default") -> dict[str, Any]:
    """One served entity (asserting it exists)."""
    response = await client.get(f"/api/catalog/entities/by-name/{kind}/{namespace}/{name}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def write(path: Path, text: str) -> Path:
    """Write a descriptor file (creating folders) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
