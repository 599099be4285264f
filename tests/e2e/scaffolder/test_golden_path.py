"""The design's ``microservice-golang`` template end to end, from the API and from the CLI.

Test design: a live platform (real sockets, SQLite) runs the built-in ``microservice-golang``
golden path (registered in the catalog at start), and, separately, the design's template file
unchanged with a small test skeleton beside it (built-ins off, since both are named
``microservice-golang``). The acceptance facts are checked where a user would see them: the
repository is cloned with ``git clone`` over HTTP from the built-in git host, its CI file is
validated against the GitHub Actions workflow schema, the component is read back from the catalog
with its owner, and the Argo CD Application is cloned from the GitOps repository and validated
against Argo CD's CRD schema.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.corpus import corpus_dir, examples_dir
from tests.fixtures.platform import LiveServer

SKELETON = Path(__file__).resolve().parent / "skeleton"
VALUES = {"serviceName": "payments-api", "owner": "team-a", "description": "Takes payments", "tier": "critical"}


def template_folder(tmp_path: Path) -> Path:
    """The design's template file, unchanged, with the test skeleton beside it."""
    folder = tmp_path / "microservice-golang"
    folder.mkdir()
    shutil.copyfile(examples_dir() / "template-microservice-golang.yaml", folder / "template.yaml")
    shutil.copytree(SKELETON, folder / "skeleton")
    return folder


def client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)


def register(http: httpx.Client, folder: Path) -> None:
    created = http.post("/api/catalog/locations", json={"type": "file", "target": str(folder / "template.yaml")})
    assert created.status_code == 201, created.text


def wait_for_task(http: httpx.Client, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = http.get(f"/api/scaffolder/v2/tasks/{task_id}").json()
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def git_clone(
    server: LiveServer, repo: str, dest: Path, *, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    auth = f"blacktop:{token}@" if token else ""
    url = server.url.replace("http://", f"http://{auth}") + f"/git/{repo}.git"
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}
    return subprocess.run(
        ["git", "clone", "--quiet", url, str(dest)], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.fixture
def design_server(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> LiveServer:
    """A live server without the built-in templates, for the design's own template file."""
    monkeypatch.setenv("BLACKTOP_SCAFFOLDER__REGISTER_BUILTIN", "false")
    server: LiveServer = request.getfixturevalue("live_server")
    return server


def check_generated_service(
    server: LiveServer, http: httpx.Client, tmp_path: Path, name: str, *, executable: str | None = None
) -> None:
    checkout = tmp_path / f"clone-{name}"
    cloned = git_clone(server, f"acme-corp/{name}", checkout, token=server.token)
    assert cloned.returncode == 0, cloned.stderr
    descriptor = yaml.safe_load((checkout / "catalog-info.yaml").read_text())
    assert descriptor["metadata"]["name"] == name
    if executable:
        assert os.access(checkout / executable, os.X_OK), "the executable bit survives rendering and publishing"
    assert "replicaCount: 3" in (checkout / "deploy/helm/values.yaml").read_text(), "tier critical"
    workflow_schema = json.loads(corpus_dir("github", "github-workflow.json").read_text())
    workflow = yaml.safe_load((checkout / ".github/workflows/ci.yaml").read_text())
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub reads YAML 1.2
    jsonschema.Draft7Validator(workflow_schema).validate(workflow)

    entity = http.get(f"/api/catalog/entities/by-name/component/default/{name}")
    assert entity.status_code == 200, entity.text
    assert entity.json()["spec"]["owner"] == "team-a"

    gitops = tmp_path / f"gitops-{name}"
    cloned = git_clone(server, "platform/gitops", gitops, token=server.token)
    assert cloned.returncode == 0, cloned.stderr
    application = yaml.safe_load((gitops / "argocd/applications" / f"{name}.yaml").read_text())
    crd_schema = json.loads(corpus_dir("k8s-crd-schemas", "argoproj.io", "application_v1alpha1.json").read_text())
    jsonschema.Draft7Validator(crd_schema).validate(application)
    assert (application["apiVersion"], application["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert application["spec"]["source"] == {
        "repoURL": f"{server.url}/git/acme-corp/{name}.git",
        "path": "deploy/helm",
        "targetRevision": "HEAD",
    }


def run_over_the_api(server: LiveServer, http: httpx.Client, values: dict[str, Any]) -> dict[str, Any]:
    created = http.post(
        "/api/scaffolder/v2/tasks", json={"templateRef": "template:default/microservice-golang", "values": values}
    )
    assert created.status_code == 201, created.text
    task = wait_for_task(http, created.json()["id"])
    assert (task["status"], task.get("error")) == ("completed", None)
    assert [s["status"] for s in task["steps"]] == ["completed"] * 4
    messages = [e["body"]["message"] for e in http.get(f"/api/scaffolder/v2/tasks/{task['id']}/events").json()]
    published = [m for m in messages if m.startswith("Published")]
    assert published and "the built-in git host" in published[0] and "standing in for github.com" in published[0]
    assert f"git clone {server.url}/git/acme-corp/{values['serviceName']}.git" in published[0]
    return task


def test_the_built_in_golden_path_runs_end_to_end_over_the_api(live_server: LiveServer, tmp_path: Path) -> None:
    with client(live_server) as http:
        task = run_over_the_api(live_server, http, VALUES)
        assert task["output"]["links"][0]["url"] == f"{live_server.url}/git/acme-corp/payments-api.git"
        check_generated_service(live_server, http, tmp_path, "payments-api")


def test_the_design_file_runs_unchanged_with_a_test_skeleton(design_server: LiveServer, tmp_path: Path) -> None:
    with client(design_server) as http:
        register(http, template_folder(tmp_path))
        run_over_the_api(design_server, http, VALUES)
        check_generated_service(design_server, http, tmp_path, "payments-api", executable="run.sh")


def test_the_built_in_git_host_needs_a_token_and_refuses_unknown_repositories(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with client(live_server) as http:
        task_id = http.post(
            "/api/scaffolder/v2/tasks", json={"templateRef": "microservice-golang", "values": VALUES}
        ).json()["id"]
        assert wait_for_task(http, task_id)["status"] == "completed"
    anonymous = git_clone(live_server, "acme-corp/payments-api", tmp_path / "anon")
    assert anonymous.returncode != 0
    wrong_token = git_clone(live_server, "acme-corp/payments-api", tmp_path / "wrong", token="bt_not-a-real-token")
    assert wrong_token.returncode != 0
    missing = git_clone(live_server, "acme-corp/nothing-here", tmp_path / "missing", token=live_server.token)
    assert missing.returncode != 0 and "not found" in missing.stderr.lower()


def test_the_same_name_twice_fails_at_publish_and_says_so(live_server: LiveServer, tmp_path: Path) -> None:
    with client(live_server) as http:
        body = {"templateRef": "microservice-golang", "values": VALUES}
        assert (
            wait_for_task(http, http.post("/api/scaffolder/v2/tasks", json=body).json()["id"])["status"] == "completed"
        )
        second = wait_for_task(http, http.post("/api/scaffolder/v2/tasks", json=body).json()["id"])
        assert second["status"] == "failed"
        assert "acme-corp/payments-api already exists" in second["error"]["message"]
        assert [s["status"] for s in second["steps"]] == ["completed", "failed", "skipped", "skipped"]


def test_invalid_values_are_refused_field_by_field(live_server: LiveServer, tmp_path: Path) -> None:
    with client(live_server) as http:
        bad = {"serviceName": "X!", "description": "d" * 201, "tier": "gold"}
        answer = http.post("/api/scaffolder/v2/tasks", json={"templateRef": "microservice-golang", "values": bad})
        assert answer.status_code == 422
        assert sorted(p["path"] for p in answer.json()["problems"]) == ["description", "owner", "serviceName", "tier"]


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_design_template_runs_end_to_end_from_the_cli(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(live_server, capsys, "template", "list")
    assert code == 0 and "microservice-golang" in out and "python-service" in out and "platform-team" in out
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({k: v for k, v in VALUES.items() if k != "serviceName"}))
    code, out, err = cli(
        live_server, capsys, "template", "run", "microservice-golang", "--values", str(values),
        "--set", "serviceName=ledger-api",
    )  # fmt: skip
    assert code == 0, out + err
    assert ": completed" in out and "publish" in out and "the built-in git host" in out
    task_id = out.split()[1]
    code, out, _ = cli(live_server, capsys, "task", "list")
    assert code == 0 and task_id in out and "completed" in out
    code, out, _ = cli(live_server, capsys, "task", "logs", task_id)
    assert code == 0 and "Run completed with status: completed" in out
    with client(live_server) as http:
        check_generated_service(live_server, http, tmp_path, "ledger-api")
