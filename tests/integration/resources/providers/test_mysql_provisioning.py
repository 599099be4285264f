"""The local provider on a real MariaDB: a user reads and writes its own database and nothing else.

Test design notes: two teams each get a database; the first team's user logs in with the
generated password, works in its own database, and is refused the other team's (``USE`` and a
qualified ``SELECT``). Wrong passwords are refused (MariaDB checks them on 127.0.0.1). Grants
added by hand on another database are revoked on the next reconcile; a user dropped, given another
password or stripped of its grant by hand is back on the next reconcile, with the password the
connection secret holds and its data untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pymysql
import pytest

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.mysql import PyMySQLAdmin
from blacktop.resources.providers import LocalProvider, model

from .conftest import managed, provider_for, team

pytestmark = pytest.mark.mariadb
NOW = datetime.now(UTC)
KIND = "MySQLDatabase"


@pytest.fixture
def provider(mysql_admin: PyMySQLAdmin, sink: InMemoryConnectionSecretSink) -> LocalProvider:
    return provider_for(sink, mysql=mysql_admin)


def connect(url: str, *, user: str, password: str, database: str | None = None) -> pymysql.Connection[Any]:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=user, password=password,
        database=database, connect_timeout=3, autocommit=True,
    )  # fmt: skip


def admin(url: str, statement: str) -> list[tuple[Any, ...]]:
    parts = urlsplit(url)
    with connect(url, user=parts.username or "root", password=parts.password or "") as conn, conn.cursor() as cur:
        cur.execute(statement)
        return list(cur.fetchall())


async def provision(provider: LocalProvider, obj: dict[str, Any], sink: InMemoryConnectionSecretSink) -> dict[str, str]:
    outcome = await provider.reconcile(KIND, obj, now=NOW)
    assert outcome.ready, outcome.message
    obj["status"] = {"atProvider": dict(outcome.at_provider)}
    return dict(sink.secrets[model.SecretRef(obj["metadata"]["namespace"], "db-conn")])


async def test_user_reads_its_own_database_and_cannot_read_another(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, mysql_admin_url: str
) -> None:
    a, b = managed(KIND, team()), managed(KIND, team())
    try:
        secret_a = await provision(provider, a, sink)
        secret_b = await provision(provider, b, sink)
        with connect(mysql_admin_url, user=secret_b["username"], password=secret_b["password"],
                     database=secret_b["database"]) as conn, conn.cursor() as cur:  # fmt: skip
            cur.execute("CREATE TABLE secrets (v varchar(20))")
            cur.execute("INSERT INTO secrets VALUES ('team-b only')")
        with connect(mysql_admin_url, user=secret_a["username"], password=secret_a["password"],
                     database=secret_a["database"]) as conn, conn.cursor() as cur:  # fmt: skip
            cur.execute("CREATE TABLE orders (id int)")
            cur.execute("INSERT INTO orders VALUES (1)")
            cur.execute("SELECT count(*) FROM orders")
            assert cur.fetchone() == (1,)
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cur.execute(f"SELECT * FROM `{secret_b['database']}`.secrets")
            assert refused.value.args[0] in {1142, 1044}, refused.value
            with pytest.raises(pymysql.err.OperationalError) as refused:
                cur.execute(f"USE `{secret_b['database']}`")
            assert refused.value.args[0] == 1044
            cur.execute("SHOW DATABASES")
            assert secret_b["database"] not in {r[0] for r in cur.fetchall()}
        with pytest.raises(pymysql.err.OperationalError) as refused:
            connect(mysql_admin_url, user=secret_a["username"], password="wrong").close()
        assert refused.value.args[0] == 1045
    finally:
        await provider.finalize(KIND, a)
        await provider.finalize(KIND, b)


async def test_grants_added_by_hand_elsewhere_are_revoked(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, mysql_admin_url: str
) -> None:
    a, b = managed(KIND, team()), managed(KIND, team())
    try:
        secret_a = await provision(provider, a, sink)
        secret_b = await provision(provider, b, sink)
        admin(mysql_admin_url, f"GRANT SELECT ON `{secret_b['database']}`.* TO '{secret_a['username']}'@'%'")
        admin(mysql_admin_url, f"GRANT PROCESS ON *.* TO '{secret_a['username']}'@'%'")
        await provision(provider, a, sink)
        grants = admin(mysql_admin_url, f"SHOW GRANTS FOR '{secret_a['username']}'@'%'")
        text = " ".join(g[0] for g in grants)
        assert secret_b["database"] not in text and "PROCESS" not in text
        assert f"`{secret_a['database']}`" in text
    finally:
        await provider.finalize(KIND, a)
        await provider.finalize(KIND, b)


async def test_deletion_removes_database_and_user(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, mysql_admin_url: str
) -> None:
    obj = managed(KIND, team())
    secret = await provision(provider, obj, sink)
    assert (await provider.finalize(KIND, obj)).finished
    assert admin(mysql_admin_url, f"SHOW DATABASES LIKE '{secret['database']}'") == []
    assert admin(mysql_admin_url, f"SELECT 1 FROM mysql.user WHERE User = '{secret['username']}'") == []
    assert sink.secrets == {}


def count_orders(url: str, secret: dict[str, str]) -> int:
    """Rows in the tenant's ``orders`` table, read as the tenant."""
    with connect(url, user=secret["username"], password=secret["password"],
                 database=secret["database"]) as conn, conn.cursor() as cur:  # fmt: skip
        cur.execute("SELECT count(*) FROM orders")
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


DRIFT_BY_HAND = {
    "user-dropped": "DROP USER '{user}'@'%'",
    "password-changed": "ALTER USER '{user}'@'%' IDENTIFIED BY 'set-by-hand'",
    "own-grant-revoked": "REVOKE ALL PRIVILEGES ON `{database}`.* FROM '{user}'@'%'",
}


@pytest.mark.parametrize("drift", DRIFT_BY_HAND.values(), ids=DRIFT_BY_HAND.keys())
async def test_user_broken_by_hand_comes_back_on_resync(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, mysql_admin_url: str, drift: str
) -> None:
    obj = managed(KIND, team())
    try:
        secret = await provision(provider, obj, sink)
        with connect(mysql_admin_url, user=secret["username"], password=secret["password"],
                     database=secret["database"]) as conn, conn.cursor() as cur:  # fmt: skip
            cur.execute("CREATE TABLE orders (id int)")
            cur.execute("INSERT INTO orders VALUES (1)")
        admin(mysql_admin_url, drift.format(user=secret["username"], database=secret["database"]))
        with pytest.raises(pymysql.err.OperationalError):
            count_orders(mysql_admin_url, secret)

        assert await provision(provider, obj, sink) == secret, "repaired with the password the secret holds"
        assert count_orders(mysql_admin_url, secret) == 1, "the user is back on its own database, data untouched"
        grants = " ".join(g[0] for g in admin(mysql_admin_url, f"SHOW GRANTS FOR '{secret['username']}'@'%'"))
        assert f"ALL PRIVILEGES ON `{secret['database']}`.*" in grants, grants
    finally:
        await provider.finalize(KIND, obj)
