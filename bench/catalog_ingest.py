"""Catalog ingestion benchmark: a synthetic organisation in a git repository, ingested through the API.

Usage::

    .venv/bin/python bench/catalog_ingest.py 20000 [100000 ...] [--queries 200] [--database-url URL]

For each N it generates N entities with ``/work/shared/bench/gen_catalog.py`` (``GEN_CATALOG`` to
override) into a fresh git repository, starts the whole platform in-process on a fresh SQLite
database (or ``--database-url``), then measures over HTTP (ASGI, bearer token, the real routes):

- full ingestion: ``POST /api/catalog/locations`` of ``git:<repo>#main:root.yaml`` until it answers
  (the registration call returns once every entity is stored and indexed);
- changed file to visible: one component's description is changed and committed, then
  ``POST /api/catalog/refresh`` and ``GET`` by-name / full-text search until both show the change;
- by-query filter, full-text search and facets: p50/p95 over ``--queries`` requests each, and the
  first (cold) request of each filter and facet shape;
- peak memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of this process (platform included);
- CPU seconds of the ingestion and the machine's load average, since the machine is shared.

Results print as JSON lines; ``docs/benchmarks.md`` quotes them.
"""

from __future__ import annotations

import sys

# Run as ``python bench/catalog_ingest.py``, this folder is sys.path[0]; sibling scripts (bench/secrets.py)
# would shadow standard modules, so drop it before importing anything else.
if sys.path and sys.path[0] == __import__("os").path.dirname(__import__("os").path.abspath(__file__)):
    sys.path.pop(0)

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from blacktop.bootstrap import build_platform, running
from blacktop.settings import EngineSettings, Settings

TOKEN = "bt_bench-admin-token-0123456789abcdef"
GEN = Path(os.environ.get("GEN_CATALOG", "/work/shared/bench/gen_catalog.py"))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repository(n: int, where: Path) -> tuple[Path, dict[str, Any]]:
    """Generate N entities into a git repository; return it and the generator's manifest."""
    repo = where / f"org-{n}"
    subprocess.run([sys.executable, str(GEN), str(n), str(repo)], check=True, capture_output=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "add", ".")
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "--quiet", "-m", "org")
    manifest = json.loads((repo / "manifest.json").read_text())
    return repo, manifest


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/max in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    """One request and its wall time."""
    started = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response


async def run(
    n: int, *, queries: int, database_url: str | None, keep: bool, no_engine: bool, other_observers: bool
) -> dict[str, Any]:
    """Benchmark one catalog size."""
    work = Path(tempfile.mkdtemp(prefix=f"catalog-bench-{n}-"))
    started = time.perf_counter()
    repo, manifest = make_repository(n, work)
    generated = time.perf_counter() - started
    # The catalog needs no reconcile engine; other features' controllers would only add noise.
    overrides: dict[str, Any] = {
        "data_dir": work / "state", "bootstrap_token": TOKEN, "engine": EngineSettings(enabled=not no_engine),
    }  # fmt: skip
    if database_url:
        overrides["database_url"] = database_url
    (work / "state").mkdir()
    (work / "state" / "catalog.yaml").write_text("refresh_interval_seconds: null\n")
    platform = await build_platform(Settings(**overrides))
    await platform.tokens.ensure_bootstrap(TOKEN)
    if not other_observers:
        # Measure the catalog itself: its own observers (audit record, platform groups) stay; other
        # features' reactions to a refresh (e.g. observability's zero-config sync) are theirs to measure.
        service = platform.wiring.services["catalog"]
        service.observers[:] = [o for o in service.observers if type(o).__module__ == "blacktop.wiring.catalog"]
        # Likewise other features' periodic readers of the whole catalog: the DORA gauges reload every
        # component on start and every minute (at 100,000 entities ~800 MiB and seconds of stall).
        gauges = platform.wiring.services.get("metrics.gauges")
        platform.wiring.startup[:] = [s for s in platform.wiring.startup if getattr(s, "__self__", None) is not gauges]
    result: dict[str, Any] = {"n": n, "generate_s": round(generated, 1), "database": platform.db.dialect.name}
    async with running(platform):
        transport = httpx.ASGITransport(app=platform.app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers, timeout=900) as api:
            cpu = time.process_time()
            load = os.getloadavg()[0]
            elapsed, response = await timed(
                api, "POST", "/api/catalog/locations", json={"type": "git", "target": f"{repo}#main:root.yaml"}
            )
            result["ingest_cpu_s"] = round(time.process_time() - cpu, 2)
            result["load_avg_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            location = response.json()["location"]["id"]
            status = (await api.get(f"/api/v1/catalog/locations/{location}")).json()
            result["ingest_s"] = round(elapsed, 2)
            result["ingest_summary"] = status["summary"]
            result["ingest_errors"] = len(status["errors"])
            total = (await api.get("/api/catalog/entities/by-query", params={"limit": 1})).json()["totalItems"]
            result["entities_served"] = total
            result["change_visible"] = await change_to_visible(api, repo, manifest)
            result["no_change_refresh_s"] = round(
                (await timed(api, "POST", f"/api/v1/catalog/locations/{location}/refresh"))[0], 3
            )
            result.update(await query_latencies(api, manifest, queries))
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


async def change_to_visible(api: httpx.AsyncClient, repo: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Change one component's description, commit, request a refresh and wait until API and search show it."""
    name = manifest["sample_component_names"][0]
    marker = f"zebracorn{random.randrange(10**6)}"
    for part in sorted(repo.glob("part-*.yaml")):  # noqa: ASYNC240 - the edit is not measured
        text = part.read_text()
        anchor = f"  name: {name}\n"
        if anchor in text:
            head, tail = text.split(anchor, 1)
            line_end = tail.index("\n", tail.index("  description: "))
            start = tail.index("  description: ")
            tail = tail[:start] + f'  description: "changed {marker} for the benchmark"' + tail[line_end:]
            part.write_text(head + anchor + tail)
            break
    _git(repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "--quiet", "-am", "change")
    started = time.perf_counter()
    await api.post("/api/catalog/refresh", json={"entityRef": f"component:default/{name}"})
    refreshed = time.perf_counter() - started
    api_seen = search_seen = None
    while api_seen is None or search_seen is None:
        now = time.perf_counter() - started
        if now > 60:
            break
        if api_seen is None:
            entity = (await api.get(f"/api/catalog/entities/by-name/component/default/{name}")).json()
            if marker in entity["metadata"].get("description", ""):
                api_seen = now
        if search_seen is None:
            hits = (await api.get("/api/v1/catalog/search", params={"q": marker})).json()["items"]
            if any(h["name"] == name for h in hits):
                search_seen = time.perf_counter() - started
    return {
        "refresh_call_s": round(refreshed, 3),
        "visible_in_api_s": round(api_seen, 3) if api_seen is not None else None,
        "visible_in_search_s": round(search_seen, 3) if search_seen is not None else None,
    }


async def query_latencies(api: httpx.AsyncClient, manifest: dict[str, Any], queries: int) -> dict[str, Any]:
    """p50/p95 of by-query filters, full-text search and facets."""
    rnd = random.Random(7)
    teams = [f"team-{i}" for i in range(10, 60)]
    names = manifest["sample_component_names"]
    filters = [
        lambda: {"filter": f"kind=component,spec.owner={rnd.choice(teams)}", "limit": 20},
        lambda: {"filter": "kind=api,spec.lifecycle=production", "limit": 20},
        lambda: {"filter": f"relations.ownedby=group:default/{rnd.choice(teams)}", "limit": 20},
        lambda: {"filter": [f"metadata.name={rnd.choice(names)}", f"metadata.name={rnd.choice(names)}"]},
        lambda: {"filter": "kind=component,spec.type=website,metadata.tags=go", "limit": 20,
                 "orderField": "metadata.name,asc"},
    ]  # fmt: skip
    terms = ["payments", "checkout serv", "ledger", "invent", "auth api", "python", "notif", "sys-0004"]
    facets = [
        {"facet": ["kind"]},
        {"facet": ["spec.type", "spec.lifecycle"], "filter": "kind=component"},
        {"facet": ["spec.owner"], "filter": f"kind=api,spec.owner={teams[0]}"},
    ]
    out: dict[str, Any] = {}
    # The first request of each shape after the last write computes everything (totals, facets and
    # pages are kept per store write generation afterwards): reported apart as the cold figures.
    out["filter_cold_ms"] = [
        round((await timed(api, "GET", "/api/catalog/entities/by-query", params=f()))[0] * 1000, 2) for f in filters
    ]
    out["facets_cold_ms"] = [
        round((await timed(api, "GET", "/api/catalog/entity-facets", params=f))[0] * 1000, 2) for f in facets
    ]
    samples: list[float] = []
    for i in range(queries):
        samples.append(
            (await timed(api, "GET", "/api/catalog/entities/by-query", params=filters[i % len(filters)]()))[0]
        )
    out["filter"] = percentiles(samples)
    samples = []
    for i in range(queries):
        samples.append((await timed(api, "GET", "/api/v1/catalog/search", params={"q": terms[i % len(terms)]}))[0])
    out["search"] = percentiles(samples)
    samples = []
    for i in range(max(queries // 4, 10)):
        samples.append((await timed(api, "GET", "/api/catalog/entity-facets", params=facets[i % len(facets)]))[0])
    out["facets"] = percentiles(samples)
    return out


def main() -> None:
    """Run the benchmark for each size given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository and database")
    parser.add_argument("--with-engine", action="store_true", help="also run the reconcile engine in-process")
    parser.add_argument(
        "--other-observers",
        action="store_true",
        help="keep other features' refresh observers (observability sync) and catalog readers (DORA gauges)",
    )
    args = parser.parse_args()
    for n in args.sizes:
        result = asyncio.run(
            run(
                n,
                queries=args.queries,
                database_url=args.database_url,
                keep=args.keep,
                no_engine=not args.with_engine,
                other_observers=args.other_observers,
            )
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
