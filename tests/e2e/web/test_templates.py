"""Golden paths from the portal: the form drawn from the JSON Schema, per-field errors, dry run, a real run.

Test design: the built-in ``python-service`` template (registered in the catalog at start) is
driven through the portal's form exactly as a browser posts it. Validation messages are compared
with what the task API answers for the same values, so the portal is shown to reuse the
scaffolder's validation rather than its own. The real run goes to completion and its task page,
event stream and output links are checked.
"""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import httpx

from .conftest import Browser

FORM = "/ui/templates/default/python-service"
GOOD = {"serviceName": "orders-api", "owner": "team-a", "description": "Takes orders", "tier": "critical"}


def field_html(page: str, name: str) -> str:
    found = re.search(rf'<div class="field[^"]*">\s*(?:(?!<div class="field).)*?name="{name}".*?</div>', page, re.S)
    assert found is not None, f"no field {name}"
    return found.group(0)


async def test_the_form_follows_the_schema(admin: Browser) -> None:
    page = await admin.get(FORM)
    assert page.status_code == 200
    text = page.text
    assert "<legend>Service Details</legend>" in text and "<legend>Observability</legend>" in text
    service = field_html(text, "serviceName")
    assert 'pattern="^[a-z][a-z0-9-]{2,30}$"' in service and "required" in service and "autofocus" in service
    assert '<label for="p-serviceName">Service Name' in service
    description = field_html(text, "description")
    assert 'maxlength="200"' in description
    tier = field_html(text, "tier")
    assert "<select" in tier and '<option value="standard" selected>' in tier
    assert all(f'<option value="{t}"' in tier for t in ("critical", "standard", "internal"))
    rate = field_html(text, "tracingSamplingRate")
    assert 'type="number"' in rate and 'min="0"' in rate and 'max="1"' in rate and 'value="0.1"' in rate
    assert "Lowercase letters, digits and dashes" in service, "description shown as help"
    assert 'name="csrf"' in text


async def test_the_owner_picker_offers_the_catalogs_groups(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    page = await admin.get(FORM)
    owner = field_html(page.text, "owner")
    offered = set(re.findall(r'<option value="([^"]+)">', owner))
    groups = (await admin_api.get("/api/catalog/entities", params={"filter": "kind=group"})).json()
    assert offered == {f"group:{g['metadata'].get('namespace', 'default')}/{g['metadata']['name']}" for g in groups}
    assert offered and 'list="p-owner-choices"' in owner


async def test_invalid_values_get_the_apis_messages_next_to_each_field(
    admin: Browser, admin_api: httpx.AsyncClient
) -> None:
    values: dict[str, Any] = {"serviceName": "Bad Name", "description": "x" * 201, "tracingSamplingRate": "2"}
    page = await admin.submit(FORM, {**values, "tier": "standard", "action": "create"})
    assert page.status_code == 422
    api = await admin_api.post(
        "/api/scaffolder/v2/tasks",
        json={"templateRef": "template:default/python-service",
              "values": {**values, "tracingSamplingRate": 2, "tier": "standard"}},
    )  # fmt: skip
    assert api.status_code == 422
    problems = api.json()["problems"]
    assert {p["path"] for p in problems} == {"serviceName", "owner", "description", "tracingSamplingRate"}
    for problem in problems:
        error = re.search(rf'id="p-{problem["path"]}-error"[^>]*>([^<]*)<', page.text)
        assert error is not None, problem
        assert html.unescape(error.group(1)) == problem["message"]
        assert 'aria-invalid="true"' in field_html(page.text, problem["path"])
    assert 'value="Bad Name"' in page.text, "what was typed is kept"
    assert (await admin.get("/ui/tasks")).text.count('href="/ui/tasks/') == 0, "no task was started"


async def test_dry_run_shows_the_file_tree_and_creates_nothing(admin: Browser, admin_api: httpx.AsyncClient) -> None:
    page = await admin.submit(FORM, {**GOOD, "action": "dry-run"})
    assert page.status_code == 200, page.text
    assert "status-completed" in page.text
    files = re.findall(r"<li><code>([^<]+)</code>", page.text)
    assert "catalog-info.yaml" in files and "Dockerfile" in files
    assert any(f.startswith("deploy/") for f in files)
    found = await admin_api.get("/api/catalog/entities/by-name/component/default/orders-api")
    assert found.status_code == 404, "a dry run registers nothing"


async def test_create_runs_the_template_to_completion_with_a_live_log(
    admin: Browser, admin_api: httpx.AsyncClient
) -> None:
    created = await admin.submit(FORM, {**GOOD, "action": "create"})
    assert created.status_code == 303
    task_path = created.headers["location"]
    assert re.fullmatch(r"/ui/tasks/[0-9a-f-]+", task_path)

    events: list[str] = []
    async with admin.client.stream("GET", f"{task_path}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    assert events[-1] == "completion" and "log" in events

    page = await admin.get(task_path)
    for _ in range(50):
        if 'id="task-status" aria-live="polite">completed<' in page.text:
            break
        await asyncio.sleep(0.1)
        page = await admin.get(task_path)
    assert 'aria-live="polite">completed<' in page.text, page.text
    assert 'href="/ui/catalog/component/default/orders-api"' in page.text, "output link to the new entity"
    assert "/git/acme-corp/orders-api.git" in page.text
    assert "fetch:template" in page.text
    entity = await admin_api.get("/api/catalog/entities/by-name/component/default/orders-api")
    assert entity.status_code == 200 and entity.json()["spec"]["owner"] == "team-a"
    tasks = await admin.get("/ui/tasks")
    assert task_path in tasks.text


async def test_templates_page_lists_the_builtin_golden_paths(admin: Browser) -> None:
    page = await admin.get("/ui/templates")
    assert 'href="/ui/templates/default/python-service"' in page.text
    assert 'href="/ui/templates/default/microservice-golang"' in page.text
