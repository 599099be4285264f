"""Offsets past any database integer are a 4xx naming the parameter, never a 500 (found by the OpenAPI fuzzer)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from .conftest import CatalogApi

HUGE = 2**63 - 1


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


CASES = {
    "legacy list offset": ("GET", f"/api/catalog/entities?offset={HUGE}", None, "offset"),
    "legacy list after": ("GET", f"/api/catalog/entities?limit=5&after={cursor(HUGE)}", None, "after"),
    "by-query offset": ("GET", f"/api/catalog/entities/by-query?offset={HUGE}", None, "offset"),
    "by-query cursor": ("GET", f"/api/catalog/entities/by-query?cursor={cursor(HUGE)}", None, "offset"),
    "predicate offset": ("POST", "/api/catalog/entities/by-query", {"offset": HUGE}, "offset"),
    "negative offset": ("GET", "/api/catalog/entities?offset=-1", None, "offset"),
}


@pytest.mark.parametrize(("method", "url", "body", "path"), CASES.values(), ids=CASES.keys())
async def test_an_out_of_range_offset_is_refused_by_name(
    catalog_api: CatalogApi, method: str, url: str, body: object, path: str
) -> None:
    _, client = await catalog_api()
    response: httpx.Response = await client.request(method, url, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert path in response.text
