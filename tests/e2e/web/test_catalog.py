"""The catalog pages and the dashboard over live data: search, filters, entity page, escaping.

Test design: the demo catalog (the design's payment-service and its neighbours) is what the
pages must show; the numbers and refs are cross-checked against the HTTP API's answers, so the
portal is shown to present the same data rather than a copy.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from .conftest import Browser

EVIL = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: evil-widget
  title: "<img src=x onerror=alert(1)>"
  description: "<script>alert('xss')</script> & more"
  annotations:
    example.com/note: "<script>alert('annotation')</script>"
  links:
    - url: "javascript:alert(document.cookie)"
      title: Click me
    - url: "https://example.com/runbook"
      title: Runbook
spec:
  type: service
  lifecycle: experimental
  owner: team-a
"""


def entity_links(html: str) -> list[str]:
    return re.findall(r'href="/ui/catalog/([^/"]+/[^/"]+/[^/"?]+)"', html)


async def test_search_ranks_demo_entities_and_links_to_them(admin: Browser) -> None:
    page = await admin.get("/ui/catalog", params={"q": "payment"})
    assert page.status_code == 200
    links = entity_links(page.text)
    assert links[0] == "component/default/payment-service", "the best match comes first"
    assert "best match first" in page.text


async def test_filters_narrow_the_table_like_the_api(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    page = await admin.get("/ui/catalog", params={"kind": "component"})
    expected = (await admin_api.get("/api/catalog/entities", params={"filter": "kind=component"})).json()
    shown = {link.split("/")[-1] for link in entity_links(page.text) if link.startswith("component/")}
    assert shown == {e["metadata"]["name"] for e in expected}
    assert f"{len(expected)} entit" in page.text
    selected = re.search(r'<option value="([^"]+)" selected>', page.text)
    assert selected is not None and selected.group(1).lower() == "component"


async def test_pages_of_the_catalog_cover_every_match_once(
    admin: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("\n---\n".join(
        f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: bulk-{i:02d}}}\n"
        "spec: {type: library, lifecycle: experimental, owner: team-a}"
        for i in range(40)
    ))  # fmt: skip
    created = await admin_api.post("/api/catalog/locations", json={"type": "file", "target": str(many)})
    assert created.status_code == 201, created.text
    expected = {e["metadata"]["name"] for e in (await admin_api.get(
        "/api/catalog/entities", params={"filter": "kind=component"})).json()}  # fmt: skip
    seen: list[str] = []
    pages = 0
    path: str | None = "/ui/catalog?kind=component"
    while path is not None:
        page = await admin.get(path)
        pages += 1
        seen += [link.split("/")[-1] for link in entity_links(page.text) if link.startswith("component/")]
        found = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        path = "/ui/catalog" + found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(expected), "every component once, across pages"
    assert pages == -(-len(expected) // 25)
    assert seen == sorted(seen), "ordered by name"


async def test_entity_page_shows_relations_impact_and_scorecard(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    page = await admin.get("/ui/catalog/component/default/payment-service")
    assert page.status_code == 200
    served = (await admin_api.get("/api/catalog/entities/by-name/component/default/payment-service")).json()
    for relation in served["relations"]:
        kind, rest = relation["targetRef"].split(":", 1)
        assert f'href="/ui/catalog/{kind}/{rest}"' in page.text, relation
    impact = (await admin_api.get("/api/v1/catalog/impact", params={"ref": "component:default/payment-service",
                                                                     "direction": "dependencies"})).json()  # fmt: skip
    for node in impact["items"]:
        assert node["ref"] in page.text
    scores = (await admin_api.get("/api/v1/catalog/scores", params={"ref": "component:payment-service"})).json()
    for failed in scores["items"][0]["failed"]:
        assert failed["id"] in page.text
    assert "Scorecard" in page.text and "Impact" in page.text


async def test_unknown_entity_is_a_404_page(admin: Browser) -> None:
    page = await admin.get("/ui/catalog/component/default/no-such-thing")
    assert page.status_code == 404
    assert "no-such-thing" in page.text and "<h1>Not found" in page.text


async def test_markup_in_entity_data_is_escaped_and_script_links_are_not_links(
    admin: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    descriptor = tmp_path / "evil.yaml"
    descriptor.write_text(EVIL)
    created = await admin_api.post("/api/catalog/locations", json={"type": "file", "target": str(descriptor)})
    assert created.status_code == 201, created.text
    pages = [
        await admin.get("/ui/catalog/component/default/evil-widget"),
        await admin.get("/ui/catalog", params={"q": "evil"}),
        await admin.get("/ui/catalog", params={"kind": "component"}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; &amp; more" in page.text
    entity = pages[0].text
    assert "&lt;script&gt;alert(&#39;annotation&#39;)&lt;/script&gt;" in entity
    assert 'href="javascript:' not in entity
    assert 'href="https://example.com/runbook"' in entity


async def test_dashboard_counts_match_the_api(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    home = await admin.get("/ui/")
    total = len((await admin_api.get("/api/catalog/entities")).json())
    completeness = (await admin_api.get("/api/v1/catalog/scores")).json()["completeness"]["percent"]
    assert re.search(rf'id="entity-count">{total}<', home.text)
    assert f'id="completeness">{completeness:.1f}%<' in home.text
    assert "Recent audit events" in home.text and "user:admin" in home.text


async def test_static_assets_ship_with_the_package(anonymous: Browser) -> None:
    css = await anonymous.get("/ui/static/portal.css")
    js = await anonymous.get("/ui/static/portal.js")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert js.status_code == 200 and "EventSource" in js.text
