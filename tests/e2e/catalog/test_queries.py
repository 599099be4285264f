"""Backstage's catalog query semantics over HTTP, on the corpus's example organisation.

Filters: OR across ``filter`` parameters, AND within one, a repeated key means any-of, a bare key
means "exists", case-insensitive, ``relations.<type>=<ref>``. Then paging (offset/limit/after and
by-query cursors), ``fields``, ordering, facets, by-refs, full-text search, scorecards and access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import EXAMPLES, CatalogApi, register


@pytest.fixture
async def client(catalog_api: CatalogApi) -> httpx.AsyncClient:
    _, api = await catalog_api()
    for root in (EXAMPLES / "all.yaml", EXAMPLES / "acme" / "org.yaml"):
        await register(api, root)
    return api


def names(items: list[dict[str, object]]) -> list[str]:
    return sorted(str(e["metadata"]["name"]) for e in items)  # type: ignore[index]


async def test_filter_semantics_against_hand_computed_sets(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/catalog/entities")).json()

    def where(predicate: Callable[[dict[str, Any]], bool]) -> list[str]:
        return names([e for e in everything if predicate(e)])

    def spec(e: dict[str, Any], key: str) -> Any:
        return (e.get("spec") or {}).get(key)

    def tags(e: dict[str, Any]) -> list[str]:
        return list(e["metadata"].get("tags") or [])

    def owned_by_a(e: dict[str, Any]) -> bool:
        return {"type": "ownedBy", "targetRef": "group:default/team-a"} in e["relations"]

    table = {
        "kind=component,spec.type=website": where(lambda e: e["kind"] == "Component" and spec(e, "type") == "website"),
        "kind=domain|kind=system,metadata.name=podcast": where(
            lambda e: e["kind"] == "Domain" or (e["kind"] == "System" and e["metadata"]["name"] == "podcast")
        ),
        "kind=domain,kind=resource": where(lambda e: e["kind"] in ("Domain", "Resource")),
        "KIND=Domain,Metadata.Name=ARTISTS": ["artists"],
        "kind=group,spec.profile.email": where(
            lambda e: e["kind"] == "Group" and "email" in (spec(e, "profile") or {})
        ),
        "kind=component,relations.ownedby=group:default/team-a": where(
            lambda e: e["kind"] == "Component" and owned_by_a(e)
        ),
        "kind=component,metadata.tags=java": where(lambda e: e["kind"] == "Component" and "java" in tags(e)),
        "kind=component,metadata.tags.java": where(lambda e: e["kind"] == "Component" and "java" in tags(e)),
        "metadata.annotations.backstage.io/orphan=true": [],
    }
    for expression, want in table.items():
        params: list[tuple[str, str | int | float | bool | None]] = [("filter", f) for f in expression.split("|")]
        got = (await client.get("/api/catalog/entities", params=params)).json()
        assert names(got) == want, expression
        assert want or expression.startswith("metadata.annotations"), f"{expression} should select something"


async def test_paging_with_offset_limit_after_and_link_header(client: httpx.AsyncClient) -> None:
    everything = names((await client.get("/api/catalog/entities", params={"filter": "kind=user"})).json())
    first = await client.get("/api/catalog/entities", params={"filter": "kind=user", "limit": 5})
    assert 'rel="next"' in first.headers["link"]
    after = first.headers["link"].split("after=")[1].split(">")[0]
    second = await client.get("/api/catalog/entities", params={"filter": "kind=user", "limit": 5, "after": after})
    offset = await client.get("/api/catalog/entities", params={"filter": "kind=user", "limit": 5, "offset": 5})
    assert second.json() == offset.json()
    assert len(everything) == 17
    assert set(names(first.json())) | set(names(second.json())) <= set(everything)


async def test_by_query_cursor_walks_every_item_once_with_total(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"filter": "kind=user", "limit": 4, "orderField": "metadata.name,desc"}
    page = (await client.get("/api/catalog/entities/by-query", params=params)).json()
    total = page["totalItems"]
    while True:
        seen += [f"{e['metadata']['name']}/{e['metadata']['namespace']}" for e in page["items"]]
        cursor = page["pageInfo"].get("nextCursor")
        if not cursor:
            break
        page = (await client.get("/api/catalog/entities/by-query", params={"cursor": cursor, "limit": 4})).json()
    assert total == 17 == len(seen) == len(set(seen))
    names_seen = [s.split("/")[0] for s in seen]
    assert names_seen == sorted(names_seen, reverse=True)


async def test_full_text_filter_fields_and_order(client: httpx.AsyncClient) -> None:
    page = (
        await client.get(
            "/api/catalog/entities/by-query",
            params={"fullTextFilterTerm": "ARTIST", "fullTextFilterFields": "metadata.name",
                    "fields": "kind,metadata.name", "orderField": "metadata.name,asc"},
        )
    ).json()  # fmt: skip
    got = [e["metadata"]["name"] for e in page["items"]]
    everything = (await client.get("/api/catalog/entities")).json()
    assert got == sorted(e["metadata"]["name"] for e in everything if "artist" in e["metadata"]["name"].lower())
    assert all("artist" in e["metadata"]["name"] for e in page["items"]) and page["items"]
    assert all(set(e) == {"kind", "metadata"} and set(e["metadata"]) == {"name"} for e in page["items"])


async def test_predicate_query_matches_the_equivalent_filter(client: httpx.AsyncClient) -> None:
    by_filter = (
        await client.get(
            "/api/catalog/entities/by-query", params={"filter": "kind=component,spec.lifecycle=production"}
        )
    ).json()
    by_predicate = (
        await client.post(
            "/api/catalog/entities/by-query",
            json={"query": {"$all": [{"kind": "component"}, {"spec.lifecycle": {"$in": ["production"]}}]}},
        )
    ).json()
    assert names(by_predicate["items"]) == names(by_filter["items"]) != []
    nothing = (await client.post("/api/catalog/entities/by-query", json={"query": {"$any": []}})).json()
    assert nothing["items"] == [] and nothing["totalItems"] == 0


async def test_facets_count_original_values(client: httpx.AsyncClient) -> None:
    facets = (await client.get("/api/catalog/entity-facets", params={"facet": ["kind", "spec.lifecycle"],
                                                                      "filter": "kind=component"})).json()  # fmt: skip
    everything = (await client.get("/api/catalog/entities", params={"filter": "kind=component"})).json()
    assert facets["facets"]["kind"] == [{"value": "Component", "count": len(everything)}]
    lifecycles: dict[str, int] = {}
    for e in everything:
        lifecycles[e["spec"]["lifecycle"]] = lifecycles.get(e["spec"]["lifecycle"], 0) + 1
    assert {f["value"]: f["count"] for f in facets["facets"]["spec.lifecycle"]} == lifecycles


async def test_by_refs_keeps_request_order_with_nulls(client: httpx.AsyncClient) -> None:
    body = {"entityRefs": ["component:default/artist-lookup", "component:default/missing", "Domain:Artists"],
            "fields": ["metadata.name"]}  # fmt: skip
    items = (await client.post("/api/catalog/entities/by-refs", json=body)).json()["items"]
    assert items == [{"metadata": {"name": "artist-lookup"}}, None, {"metadata": {"name": "artists"}}]


async def test_search_ranks_prefix_matches(client: httpx.AsyncClient) -> None:
    hits = (await client.get("/api/v1/catalog/search", params={"q": "artis"})).json()["items"]
    assert hits and all("artist" in (h["name"] + (h["description"] or "")).lower() for h in hits)
    assert [h["rank"] for h in hits] == sorted((h["rank"] for h in hits), reverse=True)
    only_domains = (await client.get("/api/v1/catalog/search", params={"q": "artis", "filter": "kind=domain"})).json()
    assert [h["ref"] for h in only_domains["items"]] == ["domain:default/artists"]


async def test_scores_and_completeness_per_team(client: httpx.AsyncClient) -> None:
    result = (await client.get("/api/v1/catalog/scores", params={"team": "team-a"})).json()
    assert result["items"] and all(i["owner"] == "group:default/team-a" for i in result["items"])
    one = (await client.get("/api/v1/catalog/scores", params={"ref": "component:artist-lookup"})).json()
    [score] = one["items"]
    assert "owner" in score["passed"]
    assert {f["id"] for f in score["failed"]} >= {"on-call"}
    assert 0 < score["percent"] < 100


async def test_reads_need_a_token_and_writes_need_an_admin(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/catalog/entities", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    issued = (await client.post("/api/v1/tenancy/tokens", json={"user": "bob"})).json()
    bob = {"Authorization": f"Bearer {issued['token']}"}
    assert (await client.get("/api/catalog/entities", headers=bob)).status_code == 200
    refused = await client.post("/api/catalog/locations", json={"type": "file", "target": "/x.yaml"}, headers=bob)
    assert refused.status_code == 403
    assert (
        await client.post("/api/catalog/refresh", json={"entityRef": "component:x"}, headers=bob)
    ).status_code == 403


async def test_validate_entity_and_analyze_location(client: httpx.AsyncClient) -> None:
    good = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "ok"},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}  # fmt: skip
    ok = await client.post("/api/catalog/validate-entity", json={"entity": good, "location": "url:https://x/y.yaml"})
    assert ok.status_code == 200
    bad = {**good, "metadata": {"name": "no good!"}}
    refused = await client.post(
        "/api/catalog/validate-entity", json={"entity": bad, "location": "url:https://x/y.yaml"}
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "metadata.name"
    location = {"type": "file", "target": str(EXAMPLES / "all-apis.yaml")}
    analyzed = (await client.post("/api/catalog/analyze-location", json={"location": location})).json()
    assert analyzed["existingEntityFiles"] and all(f["isRegistered"] is False for f in analyzed["existingEntityFiles"])
