"""The audit trail page: filters by actor, kind and namespace select the same records as the API; a non-admin
is refused the trail and catalog writes by both doors with the same message (``audit.access``, ``catalog.access``)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from blacktop.bootstrap import Platform

from .conftest import Browser, browser_for, issue_token

FILTERS = {
    "by-kind": {"kind": "Database"},
    "by-namespace": {"namespace": "orders-team"},
    "by-actor": {"actor": "service:demo-loader"},
    "by-actor-and-kind": {"actor": "service:demo-loader", "kind": "Group"},
}


@pytest.mark.parametrize("params", FILTERS.values(), ids=FILTERS.keys())
async def test_audit_filters_select_what_the_api_selects(
    admin: Browser, admin_api: httpx.AsyncClient, params: dict[str, str]
) -> None:
    expected = (await admin_api.get("/api/v1/audit/records", params={**params, "limit": 50})).json()["items"]
    page = await admin.get("/ui/audit", params=params)
    assert page.status_code == 200
    shown = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", page.text)]
    wanted = [r["seq"] for r in expected]
    # Controllers keep writing while the test runs, so one list may have grown past the other.
    common = min(len(shown), len(wanted))
    assert common > 0 and shown[:common] == wanted[:common]
    for name, value in params.items():
        assert f'name="{name}" value="{value}"' in page.text, "the filter stays filled in"


@dataclass(frozen=True)
class Refusal:
    api_method: str
    api_path: str
    api_body: dict[str, Any] | None
    portal_method: str
    portal_path: str


REFUSALS = {
    "audit-records": Refusal("GET", "/api/v1/audit/records", None, "GET", "/ui/audit"),
    "audit-verify": Refusal("POST", "/api/v1/audit/verify", None, "GET", "/ui/audit"),
    "catalog-refresh": Refusal(
        "POST", "/api/catalog/refresh", {"entityRef": "component:default/payment-service"},
        "POST", "/ui/catalog/component/default/payment-service/refresh",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_the_api_and_the_portal_refuse_a_non_admin_with_one_message(
    demo: Platform, viewer: Browser, admin_api: httpx.AsyncClient, case: Refusal
) -> None:
    token = await issue_token(admin_api, "vera")
    async with browser_for(demo) as vera_api:
        vera_api.headers["Authorization"] = f"Bearer {token}"
        api = await vera_api.request(case.api_method, case.api_path, json=case.api_body)
    portal = await (
        viewer.get(case.portal_path) if case.portal_method == "GET" else viewer.submit(case.portal_path, {})
    )
    assert api.status_code == 403 and portal.status_code == 403
    message = api.json()["message"]
    assert message.startswith("user:vera may ")
    assert message in html.unescape(portal.text)
