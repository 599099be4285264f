"""Cancel and roll back a task from its portal page, as ``POST /api/scaffolder/v2/tasks/{id}/cancel`` and
``/rollback`` do it.

Test design notes: templates are written to ``tmp_path`` and registered through the API;
``debug:wait`` keeps a task running while the test acts on it, and ``fetch:plain`` of a folder that
does not exist makes a task fail after a ``catalog:register`` step whose undo removes the location,
so a rollback is seen in the catalog. Refusals are compared with what the API answers the same
caller for the same action on an identical task, so the portal is shown to apply the API's rule
rather than its own.
"""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blacktop.bootstrap import Platform
from blacktop.scaffolder import ScaffolderService, Task

from .conftest import Browser, browser_for, issue_token

TASKS = "/api/scaffolder/v2/tasks"
WAIT = [{"id": "wait", "action": "debug:wait", "input": {"seconds": 60}}]
BROKEN = [{"id": "broken", "action": "fetch:plain", "input": {"url": "./missing"}}]


def write_template(folder: Path, name: str, steps: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": name, "title": name},
        "spec": {"type": "service", "parameters": [{"properties": {"name": {"type": "string"}}}], "steps": steps},
    }
    (folder / "template.yaml").write_text(yaml.safe_dump(document))
    return folder / "template.yaml"


async def register(api: httpx.AsyncClient, path: Path) -> None:
    answer = await api.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
    assert answer.status_code == 201, answer.text


async def start(api: httpx.AsyncClient, name: str) -> str:
    answer = await api.post(TASKS, json={"templateRef": f"template:default/{name}", "values": {"name": "x"}})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def wait_status(api: httpx.AsyncClient, task_id: str, *wanted: str) -> dict[str, Any]:
    for _ in range(400):
        task: dict[str, Any] = (await api.get(f"{TASKS}/{task_id}")).json()
        if task["status"] in wanted:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {wanted}")


async def stored(platform: Platform, task_id: str) -> Task:
    """The task as the scaffolder holds it (``cancel_requested`` is not in the API's task body)."""
    service: ScaffolderService = platform.app.state.services.extra["scaffolder"]
    return await service.require_task(task_id)


def action_forms(page: str) -> list[str]:
    """The task actions the page offers, by the path their form posts to."""
    return re.findall(r'<form method="post" action="/ui/tasks/[0-9a-f-]+/(cancel|rollback)"', page)


async def running_task(api: httpx.AsyncClient, tmp_path: Path) -> str:
    if not (tmp_path / "waiter" / "template.yaml").exists():
        await register(api, write_template(tmp_path / "waiter", "portal-waiter", WAIT))
    task_id = await start(api, "portal-waiter")
    await wait_status(api, task_id, "processing")
    return task_id


async def failed_task(api: httpx.AsyncClient, tmp_path: Path) -> str:
    if not (tmp_path / "broken" / "template.yaml").exists():
        await register(api, write_template(tmp_path / "broken", "portal-broken", BROKEN))
    task_id = await start(api, "portal-broken")
    await wait_status(api, task_id, "failed")
    return task_id


async def test_cancel_stops_a_running_task_and_then_offers_a_rollback(
    demo: Platform, admin: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    task_id = await running_task(admin_api, tmp_path)
    page = await admin.get(f"/ui/tasks/{task_id}")
    assert action_forms(page.text) == ["cancel"], "a running task can be cancelled, not rolled back"
    assert f'name="csrf" value="{admin.csrf}"' in page.text

    done = await admin.submit(f"/ui/tasks/{task_id}/cancel", {})
    assert done.status_code == 303 and done.headers["location"] == f"/ui/tasks/{task_id}?done=cancel"
    asked = await stored(demo, task_id)
    assert asked.status == "cancelled" or asked.cancel_requested
    task = await wait_status(admin_api, task_id, "cancelled", "completed", "failed")
    assert task["status"] == "cancelled"

    page = await admin.get(done.headers["location"])
    assert "The task was cancelled." in page.text
    assert 'aria-live="polite">cancelled<' in page.text
    assert action_forms(page.text) == ["rollback"], "a cancelled task can be rolled back, not cancelled again"


async def test_rollback_undoes_what_a_failed_task_did(
    admin: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    descriptor = tmp_path / "svc" / "catalog-info.yaml"
    descriptor.parent.mkdir()
    descriptor.write_text(yaml.safe_dump({
        "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
        "metadata": {"name": "portal-rollback-svc"}, "spec": {"type": "service", "owner": "team-a", "lifecycle": "x"},
    }))  # fmt: skip
    steps = [{"id": "register", "action": "catalog:register", "input": {"catalogInfoUrl": descriptor.as_uri()}}]
    await register(admin_api, write_template(tmp_path / "t", "portal-half-done", steps + BROKEN))
    task_id = await start(admin_api, "portal-half-done")
    task = await wait_status(admin_api, task_id, "failed", "completed")
    assert task["status"] == "failed", task
    entity = "/api/catalog/entities/by-name/component/default/portal-rollback-svc"
    assert (await admin_api.get(entity)).status_code == 200, "the first step registered the component"
    page = await admin.get(f"/ui/tasks/{task_id}")
    assert action_forms(page.text) == ["rollback"], "a failed task cannot be cancelled"

    done = await admin.submit(f"/ui/tasks/{task_id}/rollback", {})
    assert done.status_code == 303 and done.headers["location"] == f"/ui/tasks/{task_id}?done=rollback"
    assert (await admin_api.get(f"{TASKS}/{task_id}")).json()["rollback"] == "completed"
    assert (await admin_api.get(entity)).status_code == 404, "the rollback unregistered the location"
    page = await admin.get(done.headers["location"])
    assert "Rollback completed" in page.text and 'id="task-rollback">completed<' in page.text
    assert "register: Unregistered location" in page.text, "the log shows what each undo did"
    assert action_forms(page.text) == [], "nothing is left to cancel or roll back"


CSRF_CASES = {"missing": "", "wrong": "x" * 43}


@pytest.mark.parametrize("sent", CSRF_CASES.values(), ids=CSRF_CASES.keys())
async def test_task_actions_without_the_csrf_token_are_refused_before_anything_runs(
    demo: Platform, admin: Browser, admin_api: httpx.AsyncClient, tmp_path: Path, sent: str
) -> None:
    running, failed = await running_task(admin_api, tmp_path), await failed_task(admin_api, tmp_path)
    for task_id, action in ((running, "cancel"), (failed, "rollback")):
        refused = await admin.submit(f"/ui/tasks/{task_id}/{action}", {}, csrf=sent)
        assert refused.status_code == 403 and "CSRF" in refused.text, action
    kept = await stored(demo, running)
    assert kept.status == "processing" and not kept.cancel_requested, "the task was not cancelled"
    assert (await stored(demo, failed)).rollback is None, "nothing was rolled back"
    events = (await admin_api.get(f"{TASKS}/{failed}/events")).json()
    assert not [e for e in events if e["type"] == "rollback"]
    await admin_api.post(f"{TASKS}/{running}/cancel")


async def test_without_a_session_the_actions_lead_to_sign_in_as_the_api_answers_401(
    demo: Platform, anonymous: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    failed = await failed_task(admin_api, tmp_path)
    async with browser_for(demo) as nobody:
        assert (await nobody.post(f"{TASKS}/{failed}/rollback")).status_code == 401
    refused = await anonymous.submit(f"/ui/tasks/{failed}/rollback", {})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/ui/sign-in?next=")
    assert (await stored(demo, failed)).rollback is None


async def test_another_user_is_refused_alike_by_the_portal_and_the_api(
    demo: Platform, viewer: Browser, admin_api: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Vera (a viewer in orders-team, not the task's creator) acts on an admin's tasks through both doors.

    Only a task's creator or a platform admin may cancel it or roll it back, so both doors refuse her
    with the same 403 and leave the tasks alone. Each door gets its own identical task, so the first
    answer cannot change the second.
    """
    token = await issue_token(admin_api, "vera")
    async with browser_for(demo) as vera_api:
        vera_api.headers["Authorization"] = f"Bearer {token}"
        for make, action in ((running_task, "cancel"), (failed_task, "rollback")):
            through_api, through_portal = await make(admin_api, tmp_path), await make(admin_api, tmp_path)
            api_answer = await vera_api.post(f"{TASKS}/{through_api}/{action}")
            portal_answer = await viewer.submit(f"/ui/tasks/{through_portal}/{action}", {})
            assert api_answer.status_code == 403, (action, api_answer.text)
            if api_answer.status_code == 200:
                assert portal_answer.status_code == 303, (action, portal_answer.text)
            else:
                assert portal_answer.status_code == api_answer.status_code, (action, portal_answer.text)
                # The same refusal, naming each door's own task.
                expected = api_answer.json()["message"].replace(through_api, through_portal)
                assert expected in html.unescape(portal_answer.text)
            api_task, portal_task = await stored(demo, through_api), await stored(demo, through_portal)
            assert portal_task.cancel_requested is api_task.cancel_requested, action
            assert portal_task.rollback == api_task.rollback, action
            for task_id in (through_api, through_portal):  # free the workers for the next round
                await admin_api.post(f"{TASKS}/{task_id}/cancel")
                await wait_status(admin_api, task_id, "cancelled", "completed", "failed")
