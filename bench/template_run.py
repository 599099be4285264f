"""Benchmark: a golden-path template run, from the API request to the component being in the catalog.

The built-in ``microservice-golang`` golden path (or, with ``--design-file``, the design's template
file unchanged with the small test skeleton under ``tests/e2e/scaffolder/skeleton``) runs through the
whole platform in one process on SQLite: ``POST /api/scaffolder/v2/tasks`` over ASGI, a worker
claims the task, renders the skeleton, creates the repository on the built-in git host and pushes
(git CLI), registers the location (the catalog clones the repository and ingests it), and commits
the Argo CD Application to the GitOps repository. Two times per run are recorded:

* ``registered``: request sent -> the ``register`` step has completed (the component is readable);
* ``completed``: request sent -> the task is completed (Argo CD app committed too).

The client polls the task every 10 ms, so times are accurate to about that. Target (issue 4):
p50 of ``registered`` under 2 s on the 2-core machine.

    .venv/bin/python -P bench/template_run.py               # 50 runs, 2 workers
    .venv/bin/python -P bench/template_run.py --runs 100 --workers 4
    .venv/bin/python -P bench/template_run.py --design-file

(``-P`` keeps ``bench/`` off ``sys.path``: ``bench/secrets.py`` would shadow the stdlib ``secrets``.)
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from blacktop.bootstrap import build_platform, running
from blacktop.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / ".." / "shared" / "examples" / "template-microservice-golang.yaml"
SKELETON = ROOT / "tests" / "e2e" / "scaffolder" / "skeleton"
TOKEN = "bt_bench-admin-token-0123456789abcdef"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def one_run(client: httpx.AsyncClient, name: str) -> tuple[float, float]:
    values = {"serviceName": name, "owner": "team-a", "description": "bench", "tier": "standard"}
    started = time.perf_counter()
    created = await client.post(
        "/api/scaffolder/v2/tasks", json={"templateRef": "template:default/microservice-golang", "values": values}
    )
    created.raise_for_status()
    task_id = created.json()["id"]
    registered = None
    while True:
        task = (await client.get(f"/api/scaffolder/v2/tasks/{task_id}")).json()
        steps = {s["id"]: s["status"] for s in task.get("steps", [])}
        if registered is None and steps.get("register") == "completed":
            registered = time.perf_counter() - started
        if task["status"] in ("completed", "failed", "cancelled"):
            if task["status"] != "completed":
                raise RuntimeError(f"task {task_id} ended {task['status']}: {task.get('error')}")
            done = time.perf_counter() - started
            return (registered if registered is not None else done), done
        await asyncio.sleep(0.01)


async def main(runs: int, workers: int, design_file: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="blacktop-bench-") as scratch:
        folder = Path(scratch) / "template"
        folder.mkdir()
        shutil.copyfile(TEMPLATE, folder / "template.yaml")
        shutil.copytree(SKELETON, folder / "skeleton")
        settings = Settings(
            data_dir=Path(scratch) / "state", bootstrap_token=TOKEN, engine={"enabled": False},
            scaffolder={"workers": workers, "register_builtin": not design_file},
        )  # fmt: skip
        platform = await build_platform(settings)
        await platform.tokens.ensure_bootstrap(TOKEN)
        async with running(platform):
            transport = httpx.ASGITransport(app=platform.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://blacktop", headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=60,
            ) as client:  # fmt: skip
                if design_file:
                    answer = await client.post(
                        "/api/catalog/locations", json={"type": "file", "target": str(folder / "template.yaml")}
                    )
                    answer.raise_for_status()
                await one_run(client, "warm-up")
                registered, completed = [], []
                for index in range(runs):
                    r, c = await one_run(client, f"svc-{index:03d}")
                    registered.append(r)
                    completed.append(c)
    which = "design file + test skeleton" if design_file else "built-in microservice-golang"
    print(f"template run ({which}), {runs} sequential runs, {workers} worker(s), SQLite, built-in git host")
    for label, values in (("request -> registered", registered), ("request -> completed", completed)):
        print(
            f"  {label:22s} p50 {statistics.median(values) * 1000:7.0f} ms"
            f"   p95 {percentile(values, 95) * 1000:7.0f} ms"
            f"   min {min(values) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--design-file", action="store_true", help="the design's file with the test skeleton")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.workers, args.design_file))
