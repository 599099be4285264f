"""``GET /entities/by-name/{kind}/{namespace}/{name}/ancestry`` on the corpus's nested example locations.

Test design notes: ``all.yaml`` (Location ``example-all``) points at ``all-components.yaml``
(Location ``example-components``), which points at each component's file. Backstage's answer for a
component is therefore the component, its Location, that Location's parent and the generated
Location of the registered file, each with the refs of the entities that emitted it; the expected
chain is written from those files, not by running blacktop.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from .conftest import EXAMPLES, CatalogApi, register


@pytest.fixture
async def client(catalog_api: CatalogApi) -> httpx.AsyncClient:
    _, api = await catalog_api()
    await register(api, EXAMPLES / "all.yaml")
    return api


def generated_ref() -> str:
    key = f"file:{EXAMPLES / 'all.yaml'}"
    return "location:default/generated-" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()


async def test_a_component_traces_back_through_its_locations_to_the_registered_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/catalog/entities/by-name/component/default/artist-lookup/ancestry")
    assert response.status_code == 200, response.text
    body = response.json()

    assert body["rootEntityRef"] == "component:default/artist-lookup"
    chain = {
        f"{i['entity']['kind'].lower()}:{i['entity']['metadata']['namespace']}/{i['entity']['metadata']['name']}": i[
            "parentEntityRefs"
        ]
        for i in body["items"]
    }
    assert chain == {
        "component:default/artist-lookup": ["location:default/example-components"],
        "location:default/example-components": ["location:default/example-all"],
        "location:default/example-all": [generated_ref()],
        generated_ref(): [],
    }
    assert body["items"][0]["entity"]["metadata"]["name"] == "artist-lookup", "the asked-for entity comes first"


async def test_an_unknown_entity_is_a_404_in_backstages_words(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/catalog/entities/by-name/component/default/nope/ancestry")
    assert response.status_code == 404
    assert "No entity named 'nope' found" in response.text
