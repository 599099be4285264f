"""Durable tasks: a worker killed with SIGKILL mid-task, resumed or failed by another; rollback.

Test design: the platform in the test process serves the API side only (no workers), so it
decides exactly when a worker runs; the worker that gets killed is a separate process on the same
database (``worker_process.py``), on SQLite and on PostgreSQL. After the kill the task is still held by the dead worker
until its lease (1 s) expires; the test's runner then claims it. The step records and the event log
show what happened: finished steps were not run again, a repeatable interrupted step was repeated,
a non-repeatable one failed the task with a message naming it. Rollback runs each step's undo
newest first and the repository, the catalog location and the Argo CD app are gone afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from blacktop.bootstrap import Platform, build_platform, running
from blacktop.kernel.errors import NotFoundError
from blacktop.kernel.identity import service_caller
from blacktop.scaffolder.service import ScaffolderService
from tests.corpus import REPO_ROOT, examples_dir
from tests.fixtures.platform import settings_for
from tests.integration.scaffolder.slow_actions import SlowOnce

pytestmark = pytest.mark.slow

LEASE_SECONDS = 1.0
SKELETON = {
    "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\n"
    "spec:\n  type: service\n  lifecycle: experimental\n  owner: team-a\n"
}
E2E_SKELETON = Path(__file__).resolve().parents[2] / "e2e" / "scaffolder" / "skeleton"


def template(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": name},
        "spec": {
            "type": "service",
            "parameters": [{"required": ["name"], "properties": {"name": {"type": "string"}}}],
            "steps": steps,
        },
    }


FETCH = {
    "id": "fetch",
    "action": "fetch:template",
    "input": {"url": "./skeleton", "values": {"name": "${{ parameters.name }}"}},
}
PUBLISH = {
    "id": "publish",
    "action": "publish:github",
    "input": {"repoUrl": "github.com?owner=acme-corp&repo=${{ parameters.name }}", "defaultBranch": "main"},
}
REGISTER = {
    "id": "register",
    "action": "catalog:register",
    "input": {"repoContentsUrl": "${{ steps.publish.output.repoContentsUrl }}"},
}


def write_template(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True)
    (folder / "template.yaml").write_text(yaml.safe_dump(document))
    for path, text in SKELETON.items():
        (folder / "skeleton" / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / "skeleton" / path).write_text(text)
    return folder / "template.yaml"


async def platform_on(tmp_path: Path, database_url: str | None) -> Platform:
    """The platform without scaffolder workers (and without the engine), on SQLite in ``tmp_path`` or PostgreSQL."""
    extra: dict[str, Any] = {"database_url": database_url} if database_url else {}
    settings = settings_for(
        tmp_path / "state",
        engine={"enabled": False},
        scaffolder={"workers": 0, "lease_seconds": LEASE_SECONDS, "register_builtin": False},
        **extra,
    )
    return await build_platform(settings)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def api_only(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Platform]:
    """The API side of the platform on SQLite and on PostgreSQL (the killed worker shares its database)."""
    url = str(request.getfixturevalue("migrated_postgres_url")) if request.param == "postgres" else None
    built = await platform_on(tmp_path, url)
    async with running(built):
        yield built


@pytest.fixture
async def sqlite_only(tmp_path: Path) -> AsyncIterator[Platform]:
    """The API side of the platform on SQLite."""
    built = await platform_on(tmp_path, None)
    async with running(built):
        yield built


def scaffolder(platform: Platform) -> ScaffolderService:
    found = platform.wiring.services["scaffolder"]
    assert isinstance(found, ScaffolderService)
    return found


async def start_task(platform: Platform, template_file: Path, name: str, values: dict[str, Any]) -> str:
    await platform.wiring.services["catalog"].register("file", str(template_file))
    task = await scaffolder(platform).create_task(
        f"template:default/{name}", values, user={"ref": "user:default/tester"}, created_by="user:default/tester"
    )
    return task.id


def start_worker(platform: Platform) -> subprocess.Popen[str]:
    args = [str(platform.settings.data_dir), str(LEASE_SECONDS), platform.settings.database_url]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.scaffolder.worker_process", *args],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


async def kill_when_running(platform: Platform, task_id: str, worker: subprocess.Popen[str], step_index: int) -> None:
    """SIGKILL the worker once it is inside step ``step_index``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        steps = await scaffolder(platform).store.steps(task_id)
        if len(steps) > step_index and steps[step_index].status == "processing":
            await asyncio.sleep(0.3)  # well inside the action
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            return
        await asyncio.sleep(0.05)
    worker.kill()
    raise AssertionError(f"the worker never reached step {step_index}")


async def take_over(platform: Platform, task_id: str) -> None:
    """Run the task in this process once the dead worker's lease has expired."""
    runner = scaffolder(platform).runner
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if await runner.run_once() == task_id:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the interrupted task was never claimed again")


async def messages(platform: Platform, task_id: str) -> list[str]:
    return [str(e.body.get("message")) for e in await scaffolder(platform).store.events(task_id)]


async def test_a_killed_worker_s_task_resumes_after_the_last_completed_step(api_only: Platform, tmp_path: Path) -> None:
    wait = {"id": "wait", "action": "debug:wait", "input": {"seconds": 2}}
    name = f"resumable-{uuid.uuid4().hex[:8]}"
    template_file = write_template(tmp_path / "resumable", template(name, [FETCH, wait, PUBLISH]))
    task_id = await start_task(api_only, template_file, name, {"name": "resumed-svc"})
    worker = start_worker(api_only)
    await kill_when_running(api_only, task_id, worker, step_index=1)
    interrupted = await scaffolder(api_only).store.get(task_id)
    assert interrupted is not None and (interrupted.status, interrupted.claimed_by) != ("processing", None)

    await take_over(api_only, task_id)

    task = await scaffolder(api_only).store.get(task_id)
    assert task is not None and (task.status, task.error) == ("completed", None)
    steps = await scaffolder(api_only).store.steps(task_id)
    assert [s.status for s in steps] == ["completed", "completed", "completed"]
    log = await messages(api_only, task_id)
    assert log.count("Beginning step fetch:template") == 1, "a completed step is not run again"
    assert log.count("Beginning step debug:wait") == 2, "the interrupted, repeatable step runs again"
    assert any("took the task over after 1 finished step(s)" in m for m in log)
    assert any("safe to repeat, so it runs again" in m for m in log)
    assert api_only.wiring.git.exists("acme-corp/resumed-svc")


async def test_a_killed_worker_s_non_repeatable_step_fails_the_task_and_rollback_cleans_up(
    api_only: Platform, tmp_path: Path
) -> None:
    slow = {"id": "charge", "action": "test:slow-once", "input": {"seconds": 5}}
    name = f"once-{uuid.uuid4().hex[:8]}"
    template_file = write_template(tmp_path / "once", template(name, [FETCH, PUBLISH, slow, REGISTER]))
    scaffolder(api_only).registry.add(SlowOnce())
    task_id = await start_task(api_only, template_file, name, {"name": "once-svc"})
    worker = start_worker(api_only)
    await kill_when_running(api_only, task_id, worker, step_index=2)

    await take_over(api_only, task_id)

    task = await scaffolder(api_only).store.get(task_id)
    assert task is not None and task.status == "failed" and task.error is not None
    assert "step 'charge' (test:slow-once)" in task.error and "not safe to repeat" in task.error
    assert f"blacktop task rollback {task_id}" in task.error
    steps = await scaffolder(api_only).store.steps(task_id)
    assert [s.status for s in steps] == ["completed", "completed", "failed", "skipped"]
    assert api_only.wiring.git.exists("acme-corp/once-svc")

    rolled = await scaffolder(api_only).rollback(task_id, caller=service_caller("test"))

    assert rolled.rollback == "completed"
    assert not api_only.wiring.git.exists("acme-corp/once-svc"), "undo of publish deleted the repository"
    log = await messages(api_only, task_id)
    assert any(m.startswith("Deleted repository acme-corp/once-svc on the built-in git host") for m in log)
    assert any("Step fetch (fetch:template) has no undo" in m for m in log)


async def test_rollback_undoes_argocd_catalog_and_repository_newest_first(
    sqlite_only: Platform, tmp_path: Path
) -> None:
    api_only = sqlite_only
    folder = tmp_path / "golang"
    folder.mkdir()
    shutil.copyfile(examples_dir() / "template-microservice-golang.yaml", folder / "template.yaml")
    shutil.copytree(E2E_SKELETON, folder / "skeleton")
    values = {"serviceName": "undo-me", "owner": "team-a", "description": "to be rolled back"}
    task_id = await start_task(api_only, folder / "template.yaml", "microservice-golang", values)
    assert await scaffolder(api_only).runner.run_once() == task_id
    done = await scaffolder(api_only).store.get(task_id)
    assert done is not None and done.status == "completed", done
    catalog = api_only.wiring.services["catalog"]
    assert (await catalog.require_entity("component:default/undo-me")).document["spec"]["owner"] == "team-a"
    assert "argocd/applications/undo-me.yaml" in api_only.wiring.gitops.list_files()

    rolled = await scaffolder(api_only).rollback(task_id, caller=service_caller("test"))

    assert rolled.rollback == "completed"
    assert "argocd/applications/undo-me.yaml" not in api_only.wiring.gitops.list_files()
    with pytest.raises(NotFoundError):
        await catalog.require_entity("component:default/undo-me")
    assert not api_only.wiring.git.exists("acme-corp/undo-me")
    order = [e.body.get("stepId") for e in await scaffolder(api_only).store.events(task_id) if e.type == "rollback"]
    assert [s for s in dict.fromkeys(order) if s] == ["create-argocd-app", "register", "publish", "scaffold"]
    assert [s.status for s in await scaffolder(api_only).store.steps(task_id)] == ["completed"] + ["undone"] * 3
