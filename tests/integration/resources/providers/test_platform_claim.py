"""The design's Database claim through the whole platform on the local provider, to a working secret.

Test design notes: the platform is built as ``blacktop up`` builds it (SQLite state, every feature
wired), with the local provider pointed at the test PostgreSQL. The design's ``orders-db`` claim is
applied with only its namespace changed (so parallel runs never share server objects); it must
become Ready, compose a ``PostgresDatabase`` in the claim's namespace, and its connection secret in
the secret store must log in to the provisioned database. Server objects are dropped at the end
(the claim's tier is production, so deletion protection keeps the claim itself).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from blacktop.apiserver import RequestContext
from blacktop.bootstrap import build_platform, running
from blacktop.kernel.identity import service_caller
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import ResourceKey, find_condition
from blacktop.settings import Settings
from tests.corpus import examples_dir

pytestmark = [pytest.mark.pg, pytest.mark.slow]


async def test_design_claim_becomes_ready_with_a_working_connection_secret(pg_admin_url: str) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="blacktop-claim-"))
    namespace = f"orders-{secrets.token_hex(3)}"
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    claim["metadata"]["namespace"] = namespace
    settings = Settings(data_dir=data_dir, providers={"postgres_url": pg_admin_url, "embedded": False})
    platform = await build_platform(settings)
    try:
        async with running(platform):
            ctx = RequestContext(caller=service_caller("test"), request_id="claim")
            await asyncio.sleep(0.5)
            await platform.resources.apply(ctx, [("database-orders-db.yaml", claim)])
            key = ResourceKey("platform.company.io", "Database", namespace, "orders-db")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                obj = await platform.store.get(key)
                ready = find_condition(obj or {}, "Ready")
                published = ((obj or {}).get("status") or {}).get("connectionDetails") or {}
                if ready is not None and ready["status"] == "True" and published.get("secretPath"):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the claim did not become Ready: {obj and obj.get('status')}")
            composed = await platform.store.list(ListQuery(group="local.blacktop.dev", kind="PostgresDatabase"))
            mine = [o for o in composed.items if o["metadata"].get("namespace") == namespace]
            assert len(mine) == 1, "one PostgresDatabase composed, in the claim's namespace"
            store = platform.wiring.services["secrets"].store
            path = obj["status"]["connectionDetails"]["secretPath"]  # type: ignore[index]
            secret = (await store.get(path)).data
            params = {k: str(v) for k, v in conninfo_to_dict(pg_admin_url).items() if v is not None}
            params.update(user=secret["username"], password=secret["password"], dbname=secret["database"])
            with psycopg.connect(make_conninfo("", **params)) as conn:
                assert conn.execute("SELECT current_database()").fetchone() == (secret["database"],)
    finally:
        pattern = namespace.replace("-", r"\_") + r"\_\_%"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall():
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            for (name,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)).fetchall():
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        shutil.rmtree(data_dir, ignore_errors=True)
