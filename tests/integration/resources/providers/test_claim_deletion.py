"""Deleting a claim on the local provider removes what it made on MariaDB and Redis.

Test design notes: the platform is built as ``blacktop up`` builds it (SQLite state, every feature
wired), with the local provider pointed at the test MariaDB and Redis. A ``Database`` claim with
engine mysql and a ``Cache`` claim (both tier dev, so no deletion protection) are applied in a
namespace of their own; each must become Ready with a connection secret that logs in. Deleting
the claims must then remove, through the composite and the composed resources' finalizers, the
MariaDB database and user and the Redis ACL user: the same credentials no longer log in. Whatever
a failure leaves behind is removed by name prefix at the end.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pymysql
import pytest
import redis

from blacktop.apiserver import RequestContext
from blacktop.bootstrap import Platform, build_platform, running
from blacktop.kernel.identity import service_caller
from blacktop.kernel.ports import ListQuery
from blacktop.kernel.resources import ResourceKey, find_condition
from blacktop.settings import Settings

pytestmark = [pytest.mark.mariadb, pytest.mark.redis, pytest.mark.slow]
GROUP = "platform.company.io"
WAIT = 60.0


def claim(kind: str, namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"tier": "dev", "owner": namespace, **spec},
    }


def mysql_connect(url: str, *, user: str, password: str, database: str | None = None) -> pymysql.Connection[Any]:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=user, password=password,
        database=database, connect_timeout=3, autocommit=True,
    )  # fmt: skip


def mysql_rows(url: str, statement: str, args: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    parts = urlsplit(url)
    with mysql_connect(url, user=parts.username or "root", password=parts.password or "") as conn, conn.cursor() as cur:
        cur.execute(statement, args)
        return list(cur.fetchall())


async def ready_secret(platform: Platform, key: ResourceKey) -> dict[str, str]:
    """Wait until the claim is Ready with a published connection secret, and read that secret."""
    deadline = time.monotonic() + WAIT
    obj: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        obj = await platform.store.get(key)
        ready = find_condition(obj or {}, "Ready")
        path = (((obj or {}).get("status") or {}).get("connectionDetails") or {}).get("secretPath")
        if ready is not None and ready["status"] == "True" and path:
            store = platform.wiring.services["secrets"].store
            return {k: str(v) for k, v in (await store.get(path)).data.items()}
        await asyncio.sleep(0.1)
    raise AssertionError(f"claim {key} did not become Ready: {obj and obj.get('status')}")


async def composed(platform: Platform, kind: str, namespace: str) -> list[dict[str, Any]]:
    found = await platform.store.list(ListQuery(group="local.blacktop.dev", kind=kind))
    return [o for o in found.items if o["metadata"].get("namespace") == namespace]


def remove_leftovers(namespace: str, *, mysql_url: str, redis_url: str) -> None:
    prefix = namespace.replace("-", "_") + "__"
    like = prefix.replace("_", "\\_") + "%"
    for (name,) in mysql_rows(mysql_url, "SHOW DATABASES LIKE %s", (like,)):
        mysql_rows(mysql_url, f"DROP DATABASE `{name}`")
    for (name,) in mysql_rows(mysql_url, "SELECT User FROM mysql.user WHERE User LIKE %s", (like,)):
        mysql_rows(mysql_url, "DROP USER %s@'%%'", (name,))
    admin = redis.Redis.from_url(redis_url)
    for raw in admin.acl_users():
        user = raw.decode() if isinstance(raw, bytes) else str(raw)
        if user.startswith(f"{namespace}."):
            admin.acl_deluser(user)
    keys = list(admin.scan_iter(f"{namespace}:*"))
    if keys:
        admin.delete(*keys)
    admin.close()


async def test_deleting_the_claims_removes_the_database_the_user_and_the_acl_user(
    mysql_admin_url: str, redis_admin_url: str
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="blacktop-claim-deletion-"))
    namespace = f"del-{secrets.token_hex(3)}"
    settings = Settings(
        data_dir=data_dir,
        providers={"mysql_url": mysql_admin_url, "redis_url": redis_admin_url, "embedded": False},
    )
    platform = await build_platform(settings)
    ctx = RequestContext(caller=service_caller("test"), request_id="claim-deletion")
    try:
        async with running(platform):
            deadline = time.monotonic() + WAIT
            while platform.kinds.get(GROUP, "Cache") is None or platform.kinds.get(GROUP, "Database") is None:
                assert time.monotonic() < deadline, "the built-in profile's claim kinds were never served"
                await asyncio.sleep(0.05)
            await platform.resources.apply(
                ctx,
                [
                    ("orders-db", claim("Database", namespace, "orders-db", engine="mysql", version="8.0")),
                    ("sessions", claim("Cache", namespace, "sessions")),
                ],
            )
            db_secret = await ready_secret(platform, ResourceKey(GROUP, "Database", namespace, "orders-db"))
            cache_secret = await ready_secret(platform, ResourceKey(GROUP, "Cache", namespace, "sessions"))

            (database,) = await composed(platform, "MySQLDatabase", namespace)
            (acl_user,) = await composed(platform, "RedisUser", namespace)
            db_name = database["status"]["atProvider"]["database"]
            key_prefix = acl_user["status"]["atProvider"]["keyPrefix"]
            with mysql_connect(mysql_admin_url, user=db_secret["username"], password=db_secret["password"],
                               database=db_name) as conn, conn.cursor() as cur:  # fmt: skip
                cur.execute("CREATE TABLE orders (id int)")
            tenant = redis.Redis.from_url(
                redis_admin_url, username=cache_secret["username"], password=cache_secret["password"]
            )
            tenant.set(key_prefix + "k", "v")
            tenant.close()

            for kind, name in (("Database", "orders-db"), ("Cache", "sessions")):
                await platform.resources.delete(
                    ctx, platform.kinds.require(GROUP, kind), namespace=namespace, name=name
                )
            deadline = time.monotonic() + WAIT
            while await composed(platform, "MySQLDatabase", namespace) or await composed(
                platform, "RedisUser", namespace
            ):
                assert time.monotonic() < deadline, "the composed resources were never finalized"
                await asyncio.sleep(0.1)

        assert mysql_rows(mysql_admin_url, "SHOW DATABASES LIKE %s", (db_name,)) == []
        assert mysql_rows(mysql_admin_url, "SELECT 1 FROM mysql.user WHERE User = %s", (db_secret["username"],)) == []
        with pytest.raises(pymysql.err.OperationalError) as refused:
            mysql_connect(mysql_admin_url, user=db_secret["username"], password=db_secret["password"]).close()
        assert refused.value.args[0] in {1045, 1698}, refused.value  # access denied (1698: MariaDB, unknown user)
        admin = redis.Redis.from_url(redis_admin_url)
        assert admin.acl_getuser(cache_secret["username"]) is None
        admin.close()
        gone = redis.Redis.from_url(
            redis_admin_url, username=cache_secret["username"], password=cache_secret["password"]
        )
        with pytest.raises(redis.exceptions.AuthenticationError):
            gone.ping()
        gone.close()
    finally:
        remove_leftovers(namespace, mysql_url=mysql_admin_url, redis_url=redis_admin_url)
        shutil.rmtree(data_dir, ignore_errors=True)
