"""The local provider's PostgreSQL admin: psycopg 3 on a small pool of autocommit connections.

Observation is one catalog query per managed resource (role flags, ownership marks, the database's
ACL) plus, when the admin may read ``pg_authid``, a check of the stored SCRAM verifier against the
password the secret store holds. Passwords are sent to the server already hashed (a SCRAM-SHA-256
verifier computed here), so the plain text never appears in statements or server logs. Role
changes run in a transaction with their ownership mark; ``CREATE DATABASE`` cannot, so a database
is marked right after it is created (``planning`` accepts an unmarked database owned by our role).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from blacktop.resources.providers import errors, model, steps

SCRAM_ITERATIONS: Final = 4096

_OBSERVE: Final = """
SELECT
  r.oid IS NOT NULL,
  coalesce(r.rolcanlogin, false),
  coalesce(r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolbypassrls, false),
  coalesce(r.rolconnlimit, -1),
  shobj_description(r.oid, 'pg_authid'),
  d.oid IS NOT NULL,
  pg_get_userbyid(d.datdba),
  CASE WHEN d.oid IS NULL THEN false
       WHEN d.datacl IS NULL THEN true
       ELSE EXISTS (SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
  END,
  shobj_description(d.oid, 'pg_database')
FROM (SELECT 1) AS one
LEFT JOIN pg_roles r ON r.rolname = %(role)s
LEFT JOIN pg_database d ON d.datname = %(database)s
"""


def scram_verifier(password: str, *, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> str:
    """The ``SCRAM-SHA-256$...`` verifier PostgreSQL stores for ``password`` (ASCII passwords need no SASLprep)."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


def verifier_matches(verifier: str | None, password: str, *, role: str) -> bool:
    """Whether ``verifier`` (SCRAM-SHA-256 or md5, as in pg_authid) was made from ``password``."""
    if not verifier:
        return False
    if verifier.startswith("md5"):
        return hmac.compare_digest(verifier, "md5" + hashlib.md5((password + role).encode()).hexdigest())
    try:
        method, rest = verifier.split("$", 1)
        params, keys = rest.split("$", 1)
        iterations, salt = params.split(":", 1)
        stored_key = keys.split(":", 1)[0]
    except ValueError:
        return False
    if method != "SCRAM-SHA-256":
        return False
    expected = scram_verifier(password, salt=base64.b64decode(salt), iterations=int(iterations))
    return hmac.compare_digest(expected.split("$")[2].split(":")[0], stored_key)


def endpoint_of(admin_url: str, *, public_host: str | None = None) -> model.Endpoint:
    """Where tenants connect, read from the admin URL (host may be a Unix socket directory)."""
    params = conninfo_to_dict(admin_url)
    host = str(params.get("host") or "localhost").split(",")[0]
    port = int(str(params.get("port") or 5432).split(",")[0])
    return model.Endpoint(public_host or host, port)


def describe_server(admin_url: str) -> str:
    """The server's host:port for messages (never the credentials)."""
    endpoint = endpoint_of(admin_url)
    return f"PostgreSQL at {endpoint.host}:{endpoint.port}"


class PsycopgPostgresAdmin:
    """``ports.PostgresAdmin`` over psycopg, with at most ``pool_size`` admin connections."""

    def __init__(
        self, admin_url: str, *, pool_size: int = 4, connect_timeout: float = 3.0, public_host: str | None = None
    ) -> None:
        self._url = admin_url
        self._endpoint = endpoint_of(admin_url, public_host=public_host)
        self._where = describe_server(admin_url)
        self._timeout = connect_timeout
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(pool_size)
        self._can_read_verifiers: bool | None = None

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect."""
        return self._endpoint

    async def close(self) -> None:
        """Close the idle admin connections."""
        while self._idle:
            await self._idle.pop().close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True, connect_timeout=max(1, int(self._timeout))
                    )
                yield conn
            except psycopg.OperationalError as exc:
                if conn is not None:
                    await conn.close()
                conn = None
                raise errors.ServerUnreachable(f"{self._where} did not answer: {_first_line(exc)}") from exc
            except psycopg.Error as exc:
                raise errors.ServerRefused(f"{self._where} refused a statement: {_first_line(exc)}") from exc
            finally:
                if conn is not None and not conn.closed and conn.info.transaction_status.name == "IDLE":
                    self._idle.append(conn)
                elif conn is not None:
                    await conn.close()

    async def observe(self, spec: model.PostgresDatabaseSpec, *, password: str | None) -> model.ObservedPostgres:
        """One catalog read for the role and the database, plus the password check where allowed."""
        async with self._connection() as conn:
            cur = await conn.execute(_OBSERVE, {"role": spec.role, "database": spec.database})
            row = await cur.fetchone()
            assert row is not None
            matches: bool | None = None
            if row[0] and password is not None and await self._may_read_verifiers(conn):
                found = await (
                    await conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (spec.role,))
                ).fetchone()
                matches = verifier_matches(found[0] if found else None, password, role=spec.role)
        return model.ObservedPostgres(
            role_exists=bool(row[0]),
            role_can_login=bool(row[1]),
            role_is_privileged=bool(row[2]),
            connection_limit=int(row[3]),
            role_marker=row[4],
            password_matches=matches,
            database_exists=bool(row[5]),
            database_owner=row[6],
            public_can_connect=bool(row[7]),
            database_marker=row[8],
        )

    async def _may_read_verifiers(self, conn: psycopg.AsyncConnection[Any]) -> bool:
        if self._can_read_verifiers is None:
            cur = await conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = await cur.fetchone()
            self._can_read_verifiers = bool(row and row[0])
        return self._can_read_verifiers

    async def apply(self, plan: Sequence[steps.PostgresStep]) -> None:
        """Run each step's statements; role statements in one transaction with their mark."""
        if not plan:
            return
        async with self._connection() as conn:
            for step in plan:
                statements = _statements(step)
                if isinstance(step, steps.CreateDatabase | steps.DropDatabase):
                    for statement in statements:
                        await conn.execute(statement)
                else:
                    async with conn.transaction():
                        for statement in statements:
                            await conn.execute(statement)


def _password(password: str) -> sql.Composable:
    return sql.Literal(scram_verifier(password, salt=os.urandom(16)))


def _role_options(connection_limit: int) -> sql.Composable:
    return sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION CONNECTION LIMIT {}").format(
        sql.Literal(connection_limit)
    )


def _statements(step: steps.PostgresStep) -> list[sql.Composed]:
    ident = sql.Identifier
    match step:
        case steps.CreateRole(role=role, password=password, connection_limit=limit, marker=marker):
            return [
                sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(ident(role), _role_options(limit), _password(password)),
                sql.SQL("COMMENT ON ROLE {} IS {}").format(ident(role), sql.Literal(marker)),
            ]
        case steps.ConfigureRole(role=role, connection_limit=limit, marker=marker):
            return [
                sql.SQL("ALTER ROLE {} {}").format(ident(role), _role_options(limit)),
                sql.SQL("COMMENT ON ROLE {} IS {}").format(ident(role), sql.Literal(marker)),
            ]
        case steps.SetRolePassword(role=role, password=password):
            return [sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident(role), _password(password))]
        case steps.CreateDatabase(database=database, owner=owner, marker=marker):
            return [
                sql.SQL("CREATE DATABASE {} OWNER {}").format(ident(database), ident(owner)),
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident(database), sql.Literal(marker)),
            ]
        case steps.SetDatabaseOwner(database=database, owner=owner):
            return [sql.SQL("ALTER DATABASE {} OWNER TO {}").format(ident(database), ident(owner))]
        case steps.MarkDatabase(database=database, marker=marker):
            return [sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident(database), sql.Literal(marker))]
        case steps.RevokePublicConnect(database=database):
            return [sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(ident(database))]
        case steps.DropDatabase(database=database):
            return [sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident(database))]
        case steps.DropRole(role=role):
            return [sql.SQL("DROP ROLE IF EXISTS {}").format(ident(role))]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
