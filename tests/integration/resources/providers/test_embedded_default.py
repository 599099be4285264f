"""``blacktop up`` with nothing configured: the local provider starts embedded PostgreSQL and Redis on first use.

Test design notes: ``build_provider`` gets the default ``ProvidersSettings`` (no URLs, embedded on)
and a data directory of its own (outside pytest's 0700 tmp tree, which pgserver's unprivileged
user cannot enter). Nothing starts until the first reconcile; then a PostgresDatabase and a
RedisUser become Ready, and the tenant logs in over the Unix socket with its connection secret.
MySQLDatabase says plainly that it needs a configured server.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import redis

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.providers import model
from blacktop.settings import ProvidersSettings
from blacktop.wiring.providers import build_provider

from .conftest import managed

pytestmark = [pytest.mark.pg, pytest.mark.redis, pytest.mark.slow]


async def test_embedded_servers_start_on_first_use_and_provision() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="blacktop-embedded-"))
    sink = InMemoryConnectionSecretSink()
    provider, closers = build_provider(ProvidersSettings(), data_dir=data_dir, sink=sink)
    now = datetime.now(UTC)
    try:
        assert not (data_dir / "providers").exists(), "nothing starts before a resource needs it"
        db = managed("PostgresDatabase", "laptop", "orders")
        outcome = await provider.reconcile("PostgresDatabase", db, now=now)
        assert outcome.ready, outcome.message
        secret = dict(sink.secrets[model.SecretRef("laptop", "orders-conn")])
        assert secret["host"].startswith(str(data_dir)), "the embedded server listens on a Unix socket in data_dir"
        with psycopg.connect(
            host=secret["host"], port=secret["port"], user=secret["username"], password=secret["password"],
            dbname=secret["database"],
        ) as conn:  # fmt: skip
            assert conn.execute("SELECT current_user").fetchone() == (secret["username"],)

        cache = managed("RedisUser", "laptop", "cache")
        outcome = await provider.reconcile("RedisUser", cache, now=now)
        assert outcome.ready, outcome.message
        secret = dict(sink.secrets[model.SecretRef("laptop", "cache-conn")])
        client = redis.Redis(unix_socket_path=secret["host"], username=secret["username"], password=secret["password"])
        client.set(secret["keyPrefix"] + "k", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("elsewhere")
        client.close()

        mysql = await provider.reconcile("MySQLDatabase", managed("MySQLDatabase", "laptop", "m"), now=now)
        assert (mysql.ready, mysql.reason) == (False, "ServerNotConfigured")
        assert "no embedded one" in mysql.message
    finally:
        for close in closers:
            await close()
        shutil.rmtree(data_dir, ignore_errors=True)
