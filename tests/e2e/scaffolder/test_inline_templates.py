"""Running a template from a file, not the catalog: ``template run --file`` and ``POST /v2/tasks`` with ``template``.

Test design: the design's template file (unchanged, with the e2e test skeleton beside it, as
``test_golden_path`` does) runs end to end from the CLI and from the API on a live server, and
the same acceptance facts are checked (clone over HTTP, CI schema, catalog owner, Argo CD
Application). Durability: a platform without workers stores the inline task, stops, the template
folder is deleted, and a new platform on the same database runs the task from what it captured.
Bad input is refused before a task exists, with a 4xx (exit code 2 on the CLI) naming the problem.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blacktop.bootstrap import build_platform, running
from tests.corpus import examples_dir
from tests.fixtures.platform import ADMIN_TOKEN, LiveServer, settings_for

from .test_golden_path import VALUES, check_generated_service, cli, client, template_folder, wait_for_task
from .test_task_api import wait_status

TASKS = "/api/scaffolder/v2/tasks"


def inline_body(folder: Path, values: dict[str, Any]) -> dict[str, Any]:
    """What ``template run --file`` sends: the template and every file beside it."""
    template = folder / "template.yaml"
    files = [
        {
            "path": p.relative_to(folder).as_posix(),
            "base64Content": base64.b64encode(p.read_bytes()).decode(),
            "executable": bool(p.stat().st_mode & 0o100),
        }
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p != template
    ]
    return {"template": yaml.safe_load(template.read_text()), "values": values, "directoryContents": files}


def test_the_design_file_runs_inline_over_the_api(live_server: LiveServer, tmp_path: Path) -> None:
    folder = template_folder(tmp_path)
    with client(live_server) as http:
        created = http.post(TASKS, json=inline_body(folder, VALUES))
        assert created.status_code == 201, created.text
        shutil.rmtree(folder)  # the task captured the skeleton; the worker never reads the folder
        task = wait_for_task(http, created.json()["id"])
        assert (task["status"], task.get("error")) == ("completed", None), task
        info = task["spec"]["templateInfo"]
        assert info["entityRef"] == "template:default/microservice-golang"
        assert info["source"]["type"] == "inline" and info["source"]["files"] == 6
        assert len(info["source"]["sha256"]) == 64
        assert "skeleton" not in task["spec"], "captured files are stored, not served"
        events = http.get(f"{TASKS}/{task['id']}/events").json()
        assert events[0]["body"]["message"].startswith("Task created from the inline template")
        check_generated_service(live_server, http, tmp_path, "payments-api", executable="run.sh")


def test_the_design_file_runs_from_the_cli_with_file(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = template_folder(tmp_path)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({**VALUES, "serviceName": "ledger-api"}))
    code, out, err = cli(
        live_server, capsys, "template", "run", "--file", str(folder / "template.yaml"), "--values", str(values)
    )
    assert code == 0, out + err
    assert ": completed" in out and "the built-in git host" in out
    task_id = out.split()[1]
    code, out, _ = cli(live_server, capsys, "task", "logs", task_id)
    assert code == 0 and "Task created from the inline template template:default/microservice-golang" in out
    code, out, _ = cli(live_server, capsys, "task", "list")
    assert code == 0 and "template:default/microservice-golang (inline)" in out
    with client(live_server) as http:
        check_generated_service(live_server, http, tmp_path, "ledger-api", executable="run.sh")
    code, out, err = cli(live_server, capsys, "template", "run", "--file", str(folder), "--set", "serviceName=x1-y")
    assert code == 2 and "owner" in err and "description" in err, "a folder works too; values are still checked"


CLI_REFUSALS = {
    "missing-file": (
        ["--file", "{tmp}/nothing/template.yaml"],
        "template file {tmp}/nothing/template.yaml does not exist",
    ),
    "invalid-yaml": (["--file", "{tmp}/broken/template.yaml"], "is not valid YAML"),
    "not-a-mapping": (["--file", "{tmp}/list/template.yaml"], "must hold one Template entity"),
    "invalid-template": (["--file", "{tmp}/invalid/template.yaml"], "spec.type"),
    "name-and-file": (["microservice-golang", "--file", "{tmp}/invalid/template.yaml"], "not both"),
    "neither": ([], "name a catalog template or give --file"),
}


@pytest.mark.parametrize("case", CLI_REFUSALS.values(), ids=CLI_REFUSALS.keys())
def test_bad_template_files_are_refused_with_exit_code_2(
    case: tuple[list[str], str], live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in {
        "broken": "apiVersion: x\nspec: [unclosed\n",
        "list": "- a\n- b\n",
        "invalid": "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\n"
        "spec:\n  steps: [{id: a, action: debug:log}]\n",
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "template.yaml").write_text(text)
    args, wanted = case
    code, out, err = cli(live_server, capsys, "template", "run", *[a.format(tmp=tmp_path) for a in args])
    assert code == 2, out + err
    assert wanted.format(tmp=tmp_path) in err
    with client(live_server) as http:
        assert http.get(TASKS).json()["totalTasks"] == 0, "nothing was started"


def design(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((examples_dir() / "template-microservice-golang.yaml").read_text())
    document["spec"].update(changes)
    return document


def skeleton_entry(path: str, content: bytes = b"x") -> dict[str, Any]:
    return {"path": path, "base64Content": base64.b64encode(content).decode()}


API_REFUSALS: dict[str, tuple[dict[str, Any], int, list[str]]] = {
    "invalid-template": (
        {"template": {"apiVersion": "v1", "kind": "Template", "metadata": {}, "spec": {"steps": "no"}}},
        422,
        ["apiVersion", "metadata.name", "spec.type", "spec.steps"],
    ),
    "unknown-action": (
        {"template": design(steps=[{"id": "a", "action": "nope:nothing"}])},
        422,
        ["spec.steps[0].action"],
    ),
    "sandbox-escape": (
        {"template": design(steps=[{"id": "a", "action": "debug:log", "input": {"message": "${{ ''.__class__ }}"}}])},
        422,
        ["spec.steps[0].input.message"],
    ),
    "template-not-an-object": ({"template": "template.yaml"}, 422, ["template"]),
    "both-ref-and-template": ({"template": design(), "templateRef": "microservice-golang"}, 422, ["template"]),
    "bad-base64": (
        {"template": design(), "directoryContents": [{"path": "skeleton/a", "base64Content": "%%%"}]},
        422,
        ["directoryContents[0]"],
    ),
    "skeleton-escapes": (
        {"template": design(), "directoryContents": [skeleton_entry("../etc/passwd")]},
        422,
        ["directoryContents[0].path"],
    ),
    "values-invalid": (
        {"template": design(), "values": {"serviceName": "Bad!"}},
        422,
        ["description", "owner", "serviceName"],
    ),
    "too-many-files": (
        {"template": design(), "directoryContents": [skeleton_entry(f"skeleton/f{i}") for i in range(1001)]},
        413,
        [],
    ),
}


@pytest.mark.parametrize("case", API_REFUSALS.values(), ids=API_REFUSALS.keys())
async def test_bad_inline_requests_are_refused(
    case: tuple[dict[str, Any], int, list[str]], api: httpx.AsyncClient
) -> None:
    body, status, paths = case
    answer = await api.post(TASKS, json={"values": VALUES, **body})
    assert answer.status_code == status, answer.text
    assert sorted(p["path"] for p in answer.json().get("problems") or []) == sorted(paths)
    assert answer.json()["message"]
    assert (await api.get(TASKS)).json()["totalTasks"] == 0


async def test_invalid_yaml_in_the_request_body_is_a_4xx(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        TASKS, content=b"template: {apiVersion: [unclosed\n", headers={"Content-Type": "application/yaml"}
    )
    assert 400 <= answer.status_code < 500 and answer.json()["message"], answer.text


async def test_only_platform_admins_may_run_inline_templates(api: httpx.AsyncClient) -> None:
    issued = await api.post("/api/v1/tenancy/tokens", json={"user": "dana"})
    assert issued.status_code == 201, issued.text
    dana = {"Authorization": f"Bearer {issued.json()['token']}"}
    refused = await api.post(TASKS, json={"template": design(), "values": VALUES}, headers=dana)
    assert refused.status_code == 403
    assert "user:dana may not run an inline template" in refused.json()["message"]
    dry_run = await api.post("/api/scaffolder/v2/dry-run", json={"template": design(), "values": VALUES}, headers=dana)
    assert dry_run.status_code == 200, "dry runs stay open to everybody"


async def test_an_inline_task_survives_a_restart_without_its_folder(tmp_path: Path) -> None:
    folder = template_folder(tmp_path)
    body = inline_body(folder, VALUES)
    data_dir = tmp_path / "state"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    api_only = await build_platform(settings_for(data_dir, scaffolder={"workers": 0, "register_builtin": False}))
    await api_only.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with running(api_only):
        transport = httpx.ASGITransport(app=api_only.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as api:
            created = await api.post(TASKS, json=body)
            assert created.status_code == 201, created.text
            task_id = created.json()["id"]
            assert (await api.get(f"{TASKS}/{task_id}")).json()["status"] == "open"
    shutil.rmtree(folder)
    worker = await build_platform(settings_for(data_dir, scaffolder={"workers": 1, "register_builtin": False}))
    async with running(worker):
        transport = httpx.ASGITransport(app=worker.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as api:
            task = await wait_status(api, task_id, "completed", "failed")
            assert (task["status"], task.get("error")) == ("completed", None), task
            steps = (await api.get(f"{TASKS}/{task_id}")).json()["steps"]
            assert [s["status"] for s in steps] == ["completed"] * 4
    assert (data_dir / "git" / "acme-corp" / "payments-api.git").is_dir()
