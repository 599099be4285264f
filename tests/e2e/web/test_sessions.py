"""Signing in and out, the 401 redirect, CSRF refusal and RBAC refusals, through the portal over HTTP.

Test design: a real platform (SQLite, engine, demo data) driven over ASGI by a cookie-keeping
client that never sends an ``Authorization`` header, so every page is authenticated by the
portal's session cookie and authorized by the platform's own rules.
"""

from __future__ import annotations

import httpx
import pytest

from blacktop.bootstrap import Platform
from tests.fixtures.platform import ADMIN_TOKEN

from .conftest import Browser, browser_for

PAGES = {
    "home": "/ui/",
    "catalog": "/ui/catalog?q=payment",
    "entity": "/ui/catalog/component/default/payment-service",
    "templates": "/ui/templates",
    "template-form": "/ui/templates/default/python-service",
    "tasks": "/ui/tasks",
    "infrastructure": "/ui/infrastructure",
    "claim": "/ui/infrastructure/databases.platform.company.io/orders-team/orders-db",
    "secrets": "/ui/secrets",
    "audit": "/ui/audit?actor=user%3Aadmin",
}


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
async def test_every_page_redirects_to_sign_in_without_a_session(anonymous: Browser, path: str) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 303
    location = httpx.URL(response.headers["location"])
    assert location.path == "/ui/sign-in"
    assert location.params["next"] == path


async def test_a_forged_session_cookie_is_not_a_session(anonymous: Browser) -> None:
    anonymous.client.cookies.set("blacktop_session", "bt_not-a-real-token-at-all-000000", path="/ui")
    response = await anonymous.get("/ui/catalog")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/sign-in")


async def test_root_redirects_to_the_portal(anonymous: Browser) -> None:
    response = await anonymous.get("/")
    assert (response.status_code, response.headers["location"]) == (307, "/ui/")
    bare = await anonymous.get("/ui")
    assert bare.status_code == 307 and httpx.URL(bare.headers["location"]).path == "/ui/"


async def test_sign_in_keeps_the_token_in_a_strict_http_only_cookie_and_sign_out_forgets_it(
    anonymous: Browser,
) -> None:
    refused = await anonymous.submit("/ui/sign-in", {"token": "bt_wrong-token-000000000000000000", "next": "/ui/"})
    assert refused.status_code == 401
    assert 'role="alert"' in refused.text and "token" in refused.text.lower()
    assert "blacktop_session" not in anonymous.client.cookies

    signed = await anonymous.submit("/ui/sign-in", {"token": ADMIN_TOKEN, "next": "/ui/catalog?kind=component"})
    assert (signed.status_code, signed.headers["location"]) == (303, "/ui/catalog?kind=component")
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("blacktop_session="))
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/ui"} <= attributes
    assert "secure" not in attributes, "plain http: a Secure cookie would never come back"

    home = await anonymous.get("/ui/")
    assert home.status_code == 200 and "user:admin" in home.text

    out = await anonymous.submit("/ui/sign-out", {})
    assert (out.status_code, out.headers["location"]) == (303, "/ui/sign-in")
    assert (await anonymous.get("/ui/")).status_code == 303


async def test_sign_in_over_https_marks_the_cookies_secure(demo: Platform) -> None:
    async with browser_for(demo, scheme="https") as client:
        browser = Browser(client)
        signed = await browser.sign_in(ADMIN_TOKEN)
    cookies = [c.lower() for c in signed.headers.get_list("set-cookie")]
    assert all("secure" in c for c in cookies) and len(cookies) == 2


async def test_sign_in_only_redirects_inside_the_portal(anonymous: Browser) -> None:
    signed = await anonymous.submit("/ui/sign-in", {"token": ADMIN_TOKEN, "next": "https://evil.example/ui/"})
    assert signed.headers["location"] == "/ui/"


CSRF_CASES = {
    "missing": "",
    "wrong": "x" * 43,
}


@pytest.mark.parametrize("sent", CSRF_CASES.values(), ids=CSRF_CASES.keys())
async def test_forms_without_the_csrf_token_are_refused(admin: Browser, sent: str) -> None:
    tasks_before = (await admin.get("/ui/tasks")).text.count('href="/ui/tasks/')
    values = {"serviceName": "csrf-victim", "owner": "team-a", "description": "d", "action": "create"}
    refused = await admin.submit("/ui/templates/default/python-service", values, csrf=sent)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    assert (await admin.get("/ui/tasks")).text.count('href="/ui/tasks/') == tasks_before, "no task was created"
    sign_out = await admin.submit("/ui/sign-out", {}, csrf=sent)
    assert sign_out.status_code == 403
    assert (await admin.get("/ui/")).status_code == 200, "still signed in"


async def test_sign_in_without_csrf_is_refused(anonymous: Browser) -> None:
    refused = await anonymous.submit("/ui/sign-in", {"token": ADMIN_TOKEN}, csrf="")
    assert refused.status_code == 403
    assert "blacktop_session" not in anonymous.client.cookies


async def test_a_viewer_is_refused_an_admin_action_with_a_page_naming_what_is_not_allowed(viewer: Browser) -> None:
    entity = await viewer.get("/ui/catalog/component/default/payment-service")
    assert entity.status_code == 200, "reading the catalog is open to every signed-in user"
    refused = await viewer.submit("/ui/catalog/component/default/payment-service/refresh", {})
    assert refused.status_code == 403
    assert "user:vera may read the catalog but not change it" in refused.text
    audit = await viewer.get("/ui/audit")
    assert audit.status_code == 403 and "user:vera may not read the audit trail" in audit.text
    home = await viewer.get("/ui/")
    assert home.status_code == 200, "the dashboard shows what a viewer may see and says what is hidden"
    assert "The audit trail is for platform admins." in home.text and "Claims you may not list" in home.text
    assert 'href="/ui/audit"' in home.text, "the navigation still offers the page; it answers 403 when opened"


async def test_rbac_decides_which_claims_a_viewer_sees(viewer: Browser, admin_api: httpx.AsyncClient) -> None:
    own = await viewer.get("/ui/infrastructure/databases.platform.company.io/orders-team/orders-db")
    assert own.status_code == 200, own.text
    created = await admin_api.post(
        "/apis/platform.company.io/v1alpha1/namespaces/payments/databases",
        json={"apiVersion": "platform.company.io/v1alpha1", "kind": "Database",
              "metadata": {"name": "pay-db", "namespace": "payments"},
              "spec": {"engine": "postgresql", "version": "16", "tier": "dev", "size": "small",
                       "owner": "payments"}},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    elsewhere = await viewer.get("/ui/infrastructure/databases.platform.company.io/payments/pay-db")
    assert elsewhere.status_code == 403
    assert "user:vera" in elsewhere.text and "payments" in elsewhere.text and "databases" in elsewhere.text
    listing = await viewer.get("/ui/infrastructure?namespace=orders-team")
    assert listing.status_code == 200 and "orders-db" in listing.text and "pay-db" not in listing.text


async def test_pages_carry_a_content_security_policy(admin: Browser) -> None:
    page = await admin.get("/ui/catalog")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
