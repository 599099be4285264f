"""Two platforms on one database (two replicas): what one does to a location, the other's refresh sees.

Test design notes: each replica remembers the hashes it wrote and the files it read, to skip
reading 100,000 rows on an unchanged refresh. That memory must not outlive a change made through
the other replica: an entity deleted there comes back on this replica's refresh, as in Backstage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import yaml

from blacktop.bootstrap import build_platform, running
from tests.fixtures.platform import ADMIN_TOKEN, settings_for

from .conftest import EXAMPLES, register


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    state = tmp_path / "state"
    state.mkdir()
    (state / "catalog.yaml").write_text(yaml.safe_dump({"refresh_interval_seconds": None}), encoding="utf-8")
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            built = await build_platform(settings_for(state))
            await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
            await stack.enter_async_context(running(built))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=built.app), base_url="http://blacktop",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60,
            )  # fmt: skip
            clients.append(await stack.enter_async_context(client))
        yield clients[0], clients[1]


async def test_an_entity_deleted_through_one_replica_comes_back_on_the_others_refresh(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = replicas
    await register(first, EXAMPLES / "all.yaml")
    entity = (await first.get("/api/catalog/entities/by-name/component/default/artist-lookup")).json()
    assert (await first.post("/api/catalog/refresh", json={"entityRef": "component:default/podcast-api"})).is_success

    deleted = await second.delete(f"/api/catalog/entities/by-uid/{entity['metadata']['uid']}")
    assert deleted.status_code == 204, deleted.text
    assert (await first.get("/api/catalog/entities/by-name/component/default/artist-lookup")).status_code == 404

    refreshed = await first.post("/api/catalog/refresh", json={"entityRef": "component:default/podcast-api"})
    assert refreshed.is_success, refreshed.text
    back = await first.get("/api/catalog/entities/by-name/component/default/artist-lookup")
    assert back.status_code == 200, "the first replica's memory of the location was not trusted after the delete"
