"""The built-in git host with a stock git client: clone, push as an admin, refused push for others.

Test design: repositories are created through the platform (a template run publishes one) and then
used with ``git`` exactly as a developer would, over HTTP on a live server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from tests.fixtures.platform import LiveServer

from .test_golden_path import VALUES, client, wait_for_task


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false",
           "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@x", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@x"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


def url_for(server: LiveServer, token: str, repo: str) -> str:
    return server.url.replace("http://", f"http://dev:{token}@") + f"/git/{repo}.git"


def test_admins_push_and_other_users_only_clone(live_server: LiveServer, tmp_path: Path) -> None:
    with client(live_server) as http:
        task_id = http.post("/api/scaffolder/v2/tasks", json={"templateRef": "microservice-golang", "values": VALUES})
        assert wait_for_task(http, task_id.json()["id"])["status"] == "completed"
        issued = http.post("/api/v1/tenancy/tokens", json={"user": "bob", "description": "reader"})
        assert issued.status_code == 201, issued.text
        reader = issued.json()["token"]
        raw = http.get("/git/acme-corp/payments-api/blob/main/catalog-info.yaml")
        assert raw.status_code == 200 and "name: payments-api" in raw.text

    checkout = tmp_path / "work"
    assert (
        git("clone", "--quiet", url_for(live_server, reader, "acme-corp/payments-api"), str(checkout)).returncode == 0
    )
    (checkout / "NOTES.md").write_text("notes\n")
    assert git("add", "NOTES.md", cwd=checkout).returncode == 0
    assert git("commit", "--quiet", "-m", "notes", cwd=checkout).returncode == 0
    refused = git("push", "--quiet", "origin", "main", cwd=checkout)
    assert refused.returncode != 0 and "403" in refused.stderr

    admin_url = url_for(live_server, live_server.token, "acme-corp/payments-api")
    pushed = git("push", "--quiet", admin_url, "main", cwd=checkout)
    assert pushed.returncode == 0, pushed.stderr
    # The design template asks for protectDefaultBranch: even an admin cannot rewrite or delete main.
    assert git("commit", "--quiet", "--amend", "-m", "rewritten", cwd=checkout).returncode == 0
    forced = git("push", "--force", admin_url, "main", cwd=checkout)
    assert forced.returncode != 0 and "branch main is protected; force pushes" in forced.stderr
    deleted = git("push", admin_url, ":main", cwd=checkout)
    assert deleted.returncode != 0 and "branch main is protected; it cannot be deleted" in deleted.stderr
    assert git("reset", "--quiet", "--hard", "HEAD@{1}", cwd=checkout).returncode == 0
    fresh = tmp_path / "fresh"
    assert git("clone", "--quiet", "--depth", "1", admin_url, str(fresh)).returncode == 0
    assert (fresh / "NOTES.md").read_text() == "notes\n"
    assert (
        httpx.get(f"{live_server.url}/git/acme-corp/payments-api.git/info/refs?service=git-upload-pack").status_code
        == 401
    )
