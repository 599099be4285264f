"""The rest of the Backstage task API over ASGI: actions, parameter schema, event stream, cancel, rollback.

Test design: one platform per test with the real workers; templates use ``debug:wait`` where a
task must still be running when the test acts on it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from blacktop.bootstrap import Platform


def write_template(folder: Path, steps: list[dict[str, Any]], name: str = "waiter") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": name, "title": "Waiter"},
        "spec": {
            "type": "service",
            "parameters": [{"title": "Basics", "required": ["name"], "properties": {"name": {"type": "string"}}}],
            "steps": steps,
            "output": {"text": [{"title": "done", "content": "made ${{ parameters.name }}"}]},
        },
    }
    (folder / "template.yaml").write_text(yaml.safe_dump(document))
    return folder / "template.yaml"


async def register(api: httpx.AsyncClient, path: Path) -> None:
    answer = await api.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
    assert answer.status_code == 201, answer.text


async def wait_status(api: httpx.AsyncClient, task_id: str, *wanted: str) -> dict[str, Any]:
    for _ in range(300):
        task: dict[str, Any] = (await api.get(f"/api/scaffolder/v2/tasks/{task_id}")).json()
        if task["status"] in wanted:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {wanted}")


async def test_actions_and_parameter_schema(api: httpx.AsyncClient, tmp_path: Path) -> None:
    actions = {a["id"]: a for a in (await api.get("/api/scaffolder/v2/actions")).json()}
    assert {"publish:github", "publish:gitlab", "catalog:register", "catalog:write", "catalog:fetch",
            "argocd:create-app", "fetch:template", "debug:wait"} <= set(actions)  # fmt: skip
    assert actions["argocd:create-app"]["schema"]["input"]["required"] == ["appName", "repoUrl", "path"]
    await register(
        api, write_template(tmp_path / "t", [{"id": "log", "action": "debug:log", "input": {"message": "hi"}}])
    )
    schema = (await api.get("/api/scaffolder/v2/templates/default/template/waiter/parameter-schema")).json()
    assert schema["title"] == "Waiter" and schema["steps"][0]["schema"]["required"] == ["name"]
    missing = await api.get("/api/scaffolder/v2/templates/default/template/nope/parameter-schema")
    assert missing.status_code == 404
    extensions = (await api.get("/api/scaffolder/v2/templating-extensions")).json()
    assert {"parseRepoUrl", "parseEntityRef", "pick", "projectSlug"} <= set(extensions["filters"])


async def test_the_event_stream_ends_with_completion_and_the_task_lists(api: httpx.AsyncClient, tmp_path: Path) -> None:
    steps = [{"id": "log", "action": "debug:log", "input": {"message": "hello ${{ parameters.name }}"}}]
    await register(api, write_template(tmp_path / "t", steps))
    task_id = (
        await api.post("/api/scaffolder/v2/tasks", json={"templateRef": "waiter", "values": {"name": "x"}})
    ).json()["id"]
    async with api.stream("GET", f"/api/scaffolder/v2/tasks/{task_id}/eventstream") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        raw = "".join([chunk async for chunk in stream.aiter_text()])
    frames = [f for f in raw.split("\n\n") if f.strip()]
    kinds = [f.splitlines()[0] for f in frames]
    assert kinds[-1] == "event: completion"
    completion = json.loads(frames[-1].splitlines()[1][len("data: ") :])
    assert completion["body"]["output"]["text"][0]["content"] == "made x"
    assert any("hello x" in f for f in frames)
    page = (await api.get("/api/scaffolder/v2/tasks", params={"status": "completed"})).json()
    assert page["totalTasks"] == 1 and page["tasks"][0]["id"] == task_id
    later = (await api.get(f"/api/scaffolder/v2/tasks/{task_id}/events", params={"after": 10**9})).json()
    assert later == []


async def test_cancel_stops_a_running_task(api: httpx.AsyncClient, platform: Platform, tmp_path: Path) -> None:
    steps = [{"id": "wait", "action": "debug:wait", "input": {"seconds": 60}}]
    await register(api, write_template(tmp_path / "t", steps))
    task_id = (
        await api.post("/api/scaffolder/v2/tasks", json={"templateRef": "waiter", "values": {"name": "x"}})
    ).json()["id"]
    await wait_status(api, task_id, "processing")
    answer = (await api.post(f"/api/scaffolder/v2/tasks/{task_id}/cancel")).json()
    assert answer == {"status": "processing", "cancelRequested": True}
    task = await wait_status(api, task_id, "cancelled", "completed", "failed")
    assert task["status"] == "cancelled"


async def test_rollback_over_the_api_and_its_refusals(api: httpx.AsyncClient, tmp_path: Path) -> None:
    steps = [
        {
            "id": "write",
            "action": "catalog:write",
            "input": {"entity": {"kind": "Component", "metadata": {"name": "x"}}},
        }
    ]
    await register(api, write_template(tmp_path / "t", steps))
    task_id = (
        await api.post("/api/scaffolder/v2/tasks", json={"templateRef": "waiter", "values": {"name": "x"}})
    ).json()["id"]
    await wait_status(api, task_id, "completed")
    answer = await api.post(f"/api/scaffolder/v2/tasks/{task_id}/rollback")
    assert answer.json() == {"status": "completed", "rollback": "completed"}
    events = (await api.get(f"/api/scaffolder/v2/tasks/{task_id}/events")).json()
    assert "Step write (catalog:write) has no undo; what it did is left as is" in [e["body"]["message"] for e in events]
    assert (await api.post("/api/scaffolder/v2/tasks/nope/rollback")).status_code == 404
    assert (await api.post("/api/scaffolder/v2/tasks", json={"values": {}})).status_code == 422
