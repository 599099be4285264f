"""Benchmark: secret reads per second, and the time to sync 1,000 ExternalSecrets, one process.

Reads are timed three ways on the same store, so the cost of each layer shows:

* ``store``: ``SecretStoreService.get`` on the SQL repository (one SELECT of the secret row, one of
  the version row, unwrap the data key, AES-256-GCM decrypt);
* ``guarded``: ``GuardedSecretStore.reveal`` as the API calls it: path-prefix access check from the
  RBAC snapshot plus one hash-chained audit record written per read;
* ``http``: ``GET /api/v1/secrets/data/<path>?reveal=true`` over ASGI with token authentication.

The sync phase starts the whole platform (engine included), stores the secrets, creates one
ClusterSecretStore and N ExternalSecrets (each reading 3 keys of its team's secret and rendering a
template), and measures from the first create until every ExternalSecret reports Ready=True.

    .venv/bin/python bench/secrets_sync.py                          # SQLite, 2,000 reads, 1,000 ExternalSecrets
    .venv/bin/python bench/secrets_sync.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named secrets.py; run as a script its folder comes first on sys.path and would shadow
# the standard library's ``secrets`` module, so the folder is dropped before anything imports it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from blacktop.apiserver import RequestContext  # noqa: E402
from blacktop.bootstrap import build_platform, running  # noqa: E402
from blacktop.kernel.identity import service_caller  # noqa: E402
from blacktop.secrets import GuardedSecretStore, SecretStoreService  # noqa: E402
from blacktop.settings import Settings  # noqa: E402

TOKEN = "bt_bench-admin-token-0123456789abcdef"
ADMIN = service_caller("bench")


def _es(index: int) -> dict[str, Any]:
    team = f"team-{index % 20}"
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": f"app-{index}", "namespace": team},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"},
            "target": {"template": {"data": {"DATABASE_URL": "postgresql://{{ .user }}:{{ .pass }}@{{ .host }}/db"}}},
            "data": [
                {"secretKey": key, "remoteRef": {"key": f"secret/data/{team}/database", "property": prop}}
                for key, prop in (("user", "username"), ("pass", "password"), ("host", "host"))
            ],
        },
    }


async def _reads(store: SecretStoreService, guarded: GuardedSecretStore, client: httpx.AsyncClient, n: int) -> None:
    path = "team-0/database"
    start = time.perf_counter()
    for _ in range(n):
        await store.get(path)
    raw = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n):
        await guarded.reveal(ADMIN, f"bench-{i}", path)
    audited = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(n):
        response = await client.get(f"/api/v1/secrets/data/{path}?reveal=true")
        assert response.status_code == 200, response.text
    http = n / (time.perf_counter() - start)
    print(f"reads/s: store {raw:,.0f}   guarded+audited {audited:,.0f}   http (ASGI) {http:,.0f}   ({n} reads each)")


async def _sync(platform: Any, count: int, give_up_after: float) -> None:
    ctx = RequestContext(caller=ADMIN, request_id="bench")
    store = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
             "metadata": {"name": "embedded"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    await platform.resources.apply(ctx, [("store", store)])
    info = platform.kinds.require("external-secrets.io", "ExternalSecret")
    start = time.perf_counter()
    for offset in range(0, count, 250):
        batch = [(f"es-{i}", _es(i)) for i in range(offset, min(count, offset + 250))]
        await platform.resources.apply(ctx, batch)
    created = time.perf_counter() - start
    ready = 0
    while time.perf_counter() - start < give_up_after:
        ready = 0
        token: str | None = None
        while True:
            page = await platform.resources.list(ctx, info, None, limit=1000, continue_token=token)
            for obj in page.items:
                conditions = (obj.get("status") or {}).get("conditions") or []
                ready += any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            token = page.continue_token
            if not token:
                break
        if ready == count:
            break
        await asyncio.sleep(0.25)
    elapsed = time.perf_counter() - start
    print(f"sync {count} ExternalSecrets: created in {created:.1f}s, all Ready=True after {elapsed:.1f}s "
          f"({count / elapsed:,.0f}/s); {ready}/{count} ready")  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        overrides: dict[str, Any] = {"data_dir": Path(folder), "bootstrap_token": TOKEN}
        if args.database_url:
            overrides["database_url"] = args.database_url
        overrides["engine"] = {"workers": args.workers}
        platform = await build_platform(Settings(**overrides))
        await platform.tokens.ensure_bootstrap(TOKEN)
        guarded = platform.wiring.services["secrets"]
        assert isinstance(guarded, GuardedSecretStore)
        for team in range(20):
            data = {"username": f"app{team}", "password": os.urandom(12).hex(), "host": "db.internal"}
            await guarded.put(ADMIN, "seed", f"team-{team}/database", data)
        transport = httpx.ASGITransport(app=platform.app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with running(platform), httpx.AsyncClient(transport=transport, base_url="http://b", headers=headers) as c:
            print(f"database: {platform.settings.database_url.split('@')[-1]}   engine workers: {args.workers}")
            await _reads(guarded.store, guarded, c, args.reads)
            await _sync(platform, args.external_secrets, args.timeout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--external-secrets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
