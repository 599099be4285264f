"""Infrastructure claims with their explain tree, and secrets shown as paths and metadata only.

Test design: the demo's ``orders-db`` claim is listed with its conditions and explained as
``blacktop explain`` does (the page embeds the same text the API returns). For secrets, a canary
value is written through the API and every portal page a user can reach is fetched: the canary
must appear on none of them, while the secret's path and key name do.
"""

from __future__ import annotations

import html
import re

import httpx

from .conftest import Browser

CLAIM = "/ui/infrastructure/databases.platform.company.io/orders-team/orders-db"
CANARY = "canary-Zx81-do-not-show-3f9c"


async def test_claims_are_listed_per_namespace_with_ready_and_synced(admin: Browser) -> None:
    page = await admin.get("/ui/infrastructure")
    assert page.status_code == 200
    assert "Namespace orders-team" in page.text
    assert f'href="{CLAIM}"' in page.text
    row = re.search(rf'href="{CLAIM}">orders-db</a></td>(.*?)</tr>', page.text, re.S)
    assert row is not None
    statuses = re.findall(r'class="status status-(\w+)">(\w+)<', row.group(1))
    assert len(statuses) == 2, "Ready and Synced"


async def test_claim_page_shows_the_explain_tree(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    page = await admin.get(CLAIM)
    assert page.status_code == 200, page.text
    explained = (await admin_api.get(
        "/api/v1/resources/explain/databases/orders-db", params={"namespace": "orders-team"})).json()  # fmt: skip
    assert "Claim: Database orders-team/orders-db" in page.text
    assert f"Composite: {explained['composite']['kind']}" in page.text
    for resource in explained["composite"]["resources"]:
        assert f"Resource {resource['template']}" in page.text
    text = re.search(r'<pre class="log" id="explain-text">(.*?)</pre>', page.text, re.S)
    assert text is not None and html.unescape(text.group(1)) == explained["text"]


async def test_unknown_claim_is_a_404_page(admin: Browser) -> None:
    page = await admin.get("/ui/infrastructure/databases.platform.company.io/orders-team/nope")
    assert page.status_code == 404 and "nope" in page.text


async def test_no_portal_page_ever_shows_a_secret_value(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    written = await admin_api.post("/api/v1/secrets/data/orders/db", json={"data": {"password": CANARY}})
    assert written.status_code == 201, written.text
    listing = await admin.get("/ui/secrets")
    assert 'href="/ui/secrets/secret/data/orders/db"' in listing.text
    secret = await admin.get("/ui/secrets/secret/data/orders/db")
    assert secret.status_code == 200
    assert "<code>password</code>" in secret.text and "Current version" in secret.text
    pages = {
        "/ui/",
        "/ui/catalog",
        "/ui/secrets",
        "/ui/secrets?prefix=orders",
        "/ui/secrets/secret/data/orders/db",
        "/ui/secrets/orders/db",
        "/ui/audit",
        "/ui/infrastructure",
        CLAIM,
        "/ui/tasks",
        "/ui/templates",
    }
    for path in sorted(pages):
        page = await admin.get(path)
        assert page.status_code == 200, path
        assert CANARY not in page.text, f"{path} shows the secret value"


async def test_secrets_page_lists_only_what_the_caller_may_see(viewer: Browser, admin_api: httpx.AsyncClient) -> None:
    await admin_api.post("/api/v1/secrets/data/payments/stripe", json={"data": {"key": CANARY}})
    page = await viewer.get("/ui/secrets")
    assert page.status_code == 200
    assert "payments/stripe" not in page.text
    refused = await viewer.get("/ui/secrets/secret/data/payments/stripe")
    assert refused.status_code == 403 and CANARY not in refused.text
