"""The local provider on a real PostgreSQL: isolation between teams, idempotency, drift repair, deletion.

Test design notes: two teams each get a database. Each role logs in to its own database with the
generated password from its connection secret and is refused by the other team's (CONNECT is
revoked from PUBLIC; the machine's server may trust 127.0.0.1, so the refusal tested is the
privilege, which holds whatever the authentication method). Drift is made by hand with admin SQL,
the way an operator would, and a second reconcile must repair exactly it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.adapters.postgres import PsycopgPostgresAdmin
from blacktop.resources.providers import LocalProvider, model, steps

from .conftest import managed, provider_for, team

pytestmark = pytest.mark.pg
NOW = datetime.now(UTC)
KIND = "PostgresDatabase"


class RecordingAdmin:
    """The real admin, remembering every plan it applied."""

    def __init__(self, admin: PsycopgPostgresAdmin) -> None:
        self.admin = admin
        self.plans: list[tuple[steps.PostgresStep, ...]] = []

    @property
    def endpoint(self) -> model.Endpoint:
        return self.admin.endpoint

    async def observe(self, spec: model.PostgresDatabaseSpec, *, password: str | None) -> model.ObservedPostgres:
        return await self.admin.observe(spec, password=password)

    async def apply(self, plan: Sequence[steps.PostgresStep]) -> None:
        self.plans.append(tuple(plan))
        await self.admin.apply(plan)


def admin_sql(url: str, statement: sql.Composable | str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)  # type: ignore[arg-type]
        return list(cur.fetchall()) if cur.description else []


def tenant_url(admin_url: str, secret: dict[str, str], database: str) -> str:
    """Connect as the tenant: the admin URL's host/port with the secret's credentials."""
    params = {k: str(v) for k, v in conninfo_to_dict(admin_url).items() if v is not None}
    params.update(user=secret["username"], password=secret["password"], dbname=database)
    return make_conninfo("", **params)


@pytest.fixture
async def recorder(pg_admin: PsycopgPostgresAdmin) -> RecordingAdmin:
    return RecordingAdmin(pg_admin)


@pytest.fixture
async def provider(recorder: RecordingAdmin, sink: InMemoryConnectionSecretSink) -> AsyncIterator[LocalProvider]:
    made: list[dict[str, Any]] = []
    provider = provider_for(sink, postgres=recorder)
    original = provider.reconcile

    async def tracking(kind: str, obj: Any, *, now: datetime) -> Any:
        made.append(obj)
        return await original(kind, obj, now=now)

    provider.reconcile = tracking  # type: ignore[method-assign]
    yield provider
    for obj in made:
        await provider.finalize(KIND, obj)


async def provision(provider: LocalProvider, obj: dict[str, Any]) -> None:
    outcome = await provider.reconcile(KIND, obj, now=NOW)
    assert outcome.ready, outcome.message
    obj["status"] = {"atProvider": dict(outcome.at_provider)}


async def test_each_role_connects_to_its_own_database_only(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, pg_admin_url: str
) -> None:
    a, b = managed(KIND, team()), managed(KIND, team())
    await provision(provider, a)
    await provision(provider, b)
    secret_a = dict(sink.secrets[model.SecretRef(a["metadata"]["namespace"], "db-conn")])
    secret_b = dict(sink.secrets[model.SecretRef(b["metadata"]["namespace"], "db-conn")])

    with psycopg.connect(tenant_url(pg_admin_url, secret_a, secret_a["database"])) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        conn.execute("INSERT INTO orders VALUES (1)")
        assert conn.execute("SELECT current_user, count(*) FROM orders").fetchone() == (secret_a["username"], 1)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(tenant_url(pg_admin_url, secret_a, secret_b["database"])).close()
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(tenant_url(pg_admin_url, secret_b, secret_a["database"])).close()

    flags = admin_sql(
        pg_admin_url,
        sql.SQL("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = {}").format(
            sql.Literal(secret_a["username"])
        ),
    )
    assert flags == [(False, False, False)]
    verifier = admin_sql(
        pg_admin_url,
        sql.SQL("SELECT rolpassword FROM pg_authid WHERE rolname = {}").format(sql.Literal(secret_a["username"])),
    )
    assert verifier[0][0].startswith("SCRAM-SHA-256$"), "the password reached the server already hashed"


async def test_second_reconcile_applies_nothing(provider: LocalProvider, recorder: RecordingAdmin) -> None:
    obj = managed(KIND, team())
    await provision(provider, obj)
    await provision(provider, obj)
    assert [type(s).__name__ for s in recorder.plans[0]] == ["CreateRole", "CreateDatabase", "RevokePublicConnect"]
    assert recorder.plans[1] == ()


async def test_drift_made_by_hand_is_repaired(
    provider: LocalProvider, recorder: RecordingAdmin, sink: InMemoryConnectionSecretSink, pg_admin_url: str
) -> None:
    obj = managed(KIND, team())
    await provision(provider, obj)
    name = obj["status"]["atProvider"]["role"]
    ident = sql.Identifier(name)
    admin_sql(pg_admin_url, sql.SQL("ALTER DATABASE {} OWNER TO postgres").format(ident))
    admin_sql(pg_admin_url, sql.SQL("DROP ROLE {}").format(ident))
    admin_sql(pg_admin_url, sql.SQL("GRANT CONNECT ON DATABASE {} TO PUBLIC").format(ident))

    await provision(provider, obj)
    assert [type(s).__name__ for s in recorder.plans[-1]] == ["CreateRole", "SetDatabaseOwner", "RevokePublicConnect"]
    secret = dict(sink.secrets[model.SecretRef(obj["metadata"]["namespace"], "db-conn")])
    with psycopg.connect(tenant_url(pg_admin_url, secret, secret["database"])) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)

    admin_sql(pg_admin_url, sql.SQL("ALTER ROLE {} PASSWORD 'set-by-hand' CREATEDB").format(ident))
    await provision(provider, obj)
    assert [type(s).__name__ for s in recorder.plans[-1]] == ["ConfigureRole", "SetRolePassword"]
    await provision(provider, obj)
    assert recorder.plans[-1] == ()


async def test_deletion_removes_database_role_and_secret(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, pg_admin_url: str
) -> None:
    obj = managed(KIND, team())
    await provision(provider, obj)
    name = obj["status"]["atProvider"]["role"]
    outcome = await provider.finalize(KIND, obj)
    assert outcome.finished
    assert (
        admin_sql(pg_admin_url, sql.SQL("SELECT 1 FROM pg_database WHERE datname = {}").format(sql.Literal(name))) == []
    )
    assert admin_sql(pg_admin_url, sql.SQL("SELECT 1 FROM pg_roles WHERE rolname = {}").format(sql.Literal(name))) == []
    assert sink.secrets == {}


async def test_rotation_changes_the_password_on_the_server_and_in_the_secret(
    provider: LocalProvider, sink: InMemoryConnectionSecretSink, pg_admin_url: str
) -> None:
    obj = managed(KIND, team())
    await provision(provider, obj)
    ref = model.SecretRef(obj["metadata"]["namespace"], "db-conn")
    before = dict(sink.secrets[ref])
    obj["metadata"]["annotations"] = {model.ROTATE_ANNOTATION: "1"}
    await provision(provider, obj)
    after = dict(sink.secrets[ref])
    assert after["password"] != before["password"]
    verifier = admin_sql(
        pg_admin_url,
        sql.SQL("SELECT rolpassword FROM pg_authid WHERE rolname = {}").format(sql.Literal(after["username"])),
    )[0][0]
    from blacktop.resources.adapters.postgres import verifier_matches

    assert verifier_matches(verifier, after["password"], role=after["username"])
    assert not verifier_matches(verifier, before["password"], role=after["username"])
