"""Benchmark: regenerating observability outputs for 2,000 catalog services after a catalog change.

Two levels, both on one process:

* ``core`` (default): the pure path with in-memory adapters. 2,000 service Components owned by
  40 teams are turned into ObservabilityConfigs (``compute_catalog_configs``), every output is
  rendered and "committed" (``OutputPublisher`` over ``InMemoryOutputRepository``); then two catalog
  changes are timed end to end (derive, sync plan, re-render, commit the changed files):
  one team's Slack channel (50 services) and every team's channel (all 2,000 services).
* ``--platform``: the real composition on SQLite: a catalog file location with the same entities
  is registered, the catalog sync applies the configs through the write pipeline, the engine's
  controller renders and commits each to the bare GitOps repository. Timed: from registering
  the location until every config is published, then from the catalog refresh after every team's
  channel changed until every config's new generation is published.

    .venv/bin/python -P bench/observability_regen.py                   # core, 2,000 services
    .venv/bin/python -P bench/observability_regen.py --platform        # also the whole platform
    .venv/bin/python -P bench/observability_regen.py --services 500 --teams 10 --platform

(``-P``: do not put ``bench/`` first on the import path, where a script could shadow a stdlib module.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from blacktop.observability import defaulting, model, publishing
from blacktop.observability.memory import InMemoryCatalogReader, InMemoryConfigObjects, InMemoryOutputRepository
from blacktop.observability.syncing import CatalogSync


def entities(services: int, teams: int, *, channel_suffix: str = "alerts") -> list[dict[str, Any]]:
    """``teams`` Groups with alert channels and ``services`` service Components spread over them."""
    out: list[dict[str, Any]] = []
    for t in range(teams):
        out.append({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": f"team-{t}", "annotations": {
                "slack.com/channel": f"team-{t}-{channel_suffix}", "pagerduty.com/service-id": f"PD{t:04d}"}},
            "spec": {"type": "team", "children": []},
        })  # fmt: skip
    tiers = ["critical", "standard", "internal"]
    for s in range(services):
        out.append({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": f"svc-{s}", "labels": {"tier": tiers[s % 3]}},
            "spec": {"type": "service", "lifecycle": "production", "owner": f"team-{s % teams}"},
        })  # fmt: skip
    return out


class Timer:
    """Prints one result line per phase: wall time, and this process's CPU time since the last line.

    The CPU column tells the cost on a shared machine, where wall time includes waiting for a core
    (git runs in child processes, whose CPU is not counted here).
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, str]] = []
        self._cpu = time.process_time()

    def record(self, name: str, seconds: float, note: str = "") -> None:
        cpu, self._cpu = time.process_time() - self._cpu, time.process_time()
        self.rows.append((name, seconds, note))
        print(f"{name:<58} {seconds:8.2f} s wall {cpu:8.2f} s cpu  {note}", flush=True)

    def mark(self) -> None:
        """Start the CPU count of the next line here."""
        self._cpu = time.process_time()


async def publish_changed(
    sync: CatalogSync,
    configs: InMemoryConfigObjects,
    publisher: publishing.OutputPublisher,
    status: dict[tuple[str, str], publishing.OutputsStatus],
) -> tuple[int, int]:
    """One sync, then the controller's work for every config the sync wrote; (configs, files written)."""
    result = await sync.sync()
    files = 0
    for key in result.applied:
        namespace, name = key.split("/", 1)
        config = model.parse_observability_config(configs.objects[(namespace, name)])
        before = len(publisher.repository.commits)  # type: ignore[attr-defined]
        status[(namespace, name)] = await publisher.publish(config, status.get((namespace, name)))
        commits = publisher.repository.commits  # type: ignore[attr-defined]
        files += sum(len(c[2]) for c in commits[before:])
    return len(result.applied), files


async def core(services: int, teams: int, timer: Timer) -> None:
    catalog = InMemoryCatalogReader(entities(services, teams))
    timer.mark()
    started = time.perf_counter()
    desired = defaulting.compute_catalog_configs(await catalog.list_entities(kinds=["Component", "Group"]))
    timer.record(f"core: derive {services} configs from the catalog", time.perf_counter() - started)
    assert len(desired.configs) == services, desired.problems[:3]

    configs = InMemoryConfigObjects()
    repo = InMemoryOutputRepository()
    publisher = publishing.OutputPublisher(repo)
    sync = CatalogSync(catalog, configs)
    status: dict[tuple[str, str], publishing.OutputsStatus] = {}
    timer.mark()
    started = time.perf_counter()
    count, files = await publish_changed(sync, configs, publisher, status)
    timer.record(f"core: first sync + render + commit ({count} services)", time.perf_counter() - started,
                 f"{files} files")  # fmt: skip

    team = catalog.entities[0]
    team["metadata"]["annotations"]["slack.com/channel"] = "team-0-oncall"
    timer.mark()
    started = time.perf_counter()
    count, files = await publish_changed(sync, configs, publisher, status)
    timer.record("core: one team's Slack channel changed", time.perf_counter() - started,
                 f"{count} services, {files} files")  # fmt: skip

    catalog.entities[:] = entities(services, teams, channel_suffix="pager")
    timer.mark()
    started = time.perf_counter()
    count, files = await publish_changed(sync, configs, publisher, status)
    timer.record("core: every team's Slack channel changed", time.perf_counter() - started,
                 f"{count} services, {files} files")  # fmt: skip

    started = time.perf_counter()
    count, files = await publish_changed(sync, configs, publisher, status)
    timer.record("core: sync with nothing changed", time.perf_counter() - started, f"{count} services")


POLL_SECONDS = 3.0
"""How often the platform phase counts published configs (its timings are accurate to this)."""


def write_catalog(path: Path, services: int, teams: int, suffix: str) -> None:
    path.write_text(yaml.safe_dump_all(entities(services, teams, channel_suffix=suffix)))


async def platform(services: int, teams: int, timer: Timer) -> None:
    import httpx

    from blacktop.bootstrap import build_platform, running
    from blacktop.settings import EngineSettings, Settings

    token = "bt_bench-admin-token-0123456789abcdef"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        catalog_file = root / "catalog" / "catalog-info.yaml"
        catalog_file.parent.mkdir()
        write_catalog(catalog_file, services, teams, "alerts")
        settings = Settings(
            data_dir=root / "state", bootstrap_token=token, engine=EngineSettings(workers=8, resync_seconds=3600)
        )
        built = await build_platform(settings)
        await built.tokens.ensure_bootstrap(token)
        async with running(built):
            transport = httpx.ASGITransport(app=built.app)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://b", headers=headers, timeout=600) as api:
                timer.mark()
                started = time.perf_counter()
                created = await api.post("/api/catalog/locations", json={"type": "file", "target": str(catalog_file)})
                assert created.status_code == 201, created.text
                location = created.json()["location"]["id"]
                await until_published(api, services, generation=1)
                files = len(built.wiring.gitops.list_files("observability"))
                took = time.perf_counter() - started
                timer.record(f"platform: register catalog → {services} configs published", took, f"{files} files")

                write_catalog(catalog_file, services, teams, "pager")
                timer.mark()
                started = time.perf_counter()
                refreshed = await api.post(f"/api/v1/catalog/locations/{location}/refresh")
                assert refreshed.status_code == 200, refreshed.text
                await until_published(api, services, generation=2)
                timer.record("platform: every team's channel changed → republished", time.perf_counter() - started,
                             f"{services} services")  # fmt: skip
                sample = built.wiring.gitops.read("observability/team-0/svc-0/alertmanager.yaml").decode()
                assert "#team-0-pager" in sample


async def until_published(api: Any, services: int, *, generation: int) -> None:
    """Poll the configs until ``services`` of them have published ``generation``."""
    while True:
        done = 0
        token = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if token:
                params["continue"] = token
            page = (await api.get("/apis/platform.company.io/v1alpha1/observabilityconfigs", params=params)).json()
            for obj in page["items"]:
                status = obj.get("status") or {}
                published = status.get("observedGeneration") == generation == obj["metadata"]["generation"]
                if published and status.get("outputs"):
                    done += 1
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                break
        if done >= services:
            return
        # Listing 2,000 configs costs CPU the platform needs; a coarse poll keeps the measurement honest.
        await asyncio.sleep(POLL_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--platform", action="store_true", help="also run the whole platform (SQLite, git)")
    args = parser.parse_args()
    timer = Timer()
    asyncio.run(core(args.services, args.teams, timer))
    if args.platform:
        asyncio.run(platform(args.services, args.teams, timer))
    print(json.dumps({name: round(seconds, 3) for name, seconds, _ in timer.rows}))


if __name__ == "__main__":
    main()
