"""The local provider's MariaDB/MySQL admin: PyMySQL (pure Python, well kept) run in worker threads.

PyMySQL is synchronous, so each observation or plan runs in one ``asyncio.to_thread`` call on a
pooled connection, pinged before it is reused (one that died with a server restart is replaced, so
only a server that stays away is reported unreachable). The user is always ``'name'@'%'``. On
MariaDB the password is sent already hashed (``IDENTIFIED BY PASSWORD '*...'``), so the plain text
never appears in statements or the general log; MySQL 8 no longer accepts that form, so there the
password is sent as a literal.
Grants are read from ``information_schema`` so drift (a revoked grant, an extra one on another
database or on ``*.*``) is seen and repaired.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Final, TypeVar
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

from blacktop.resources.providers import errors, model, steps

T = TypeVar("T")
DATABASE_PRIVILEGES: Final = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX"})
_UNREACHABLE_CODES: Final = frozenset({2002, 2003, 2006, 2013, 2055})


def native_password_hash(password: str) -> str:
    """``mysql_native_password``'s stored form: ``*`` + upper-case hex SHA1(SHA1(password))."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def quote_identifier(name: str) -> str:
    """A back-quoted MySQL identifier."""
    return "`" + name.replace("`", "``") + "`"


class PyMySQLAdmin:
    """``ports.MySQLAdmin`` over PyMySQL; ``admin_url`` is ``mysql://user:password@host:port/``."""

    def __init__(self, admin_url: str, *, connect_timeout: float = 3.0, public_host: str | None = None) -> None:
        parts = urlsplit(admin_url)
        if parts.scheme not in {"mysql", "mariadb", "mysql+pymysql"}:
            raise ValueError(f"the MySQL admin URL must start with mysql:// (got {parts.scheme}://)")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 3306
        self._user = unquote(parts.username or "root")
        self._password = unquote(parts.password or "")
        self._timeout = connect_timeout
        self._endpoint = model.Endpoint(public_host or self._host, self._port)
        self._where = f"MariaDB/MySQL at {self._host}:{self._port}"
        self._idle: list[pymysql.connections.Connection[pymysql.cursors.Cursor]] = []
        self._lock = threading.Lock()
        self._is_mariadb: bool | None = None

    @property
    def endpoint(self) -> model.Endpoint:
        """Where tenants connect."""
        return self._endpoint

    async def close(self) -> None:
        """Close the idle admin connections."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _cursor(self) -> Iterator[pymysql.cursors.Cursor]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        try:
            if conn is not None and not _answers(conn):
                # The pooled connection died (a server restart, wait_timeout) although the server may be
                # back: open a fresh one, so only a server that stays away is reported unreachable.
                conn = None
            if conn is None:
                conn = pymysql.connect(
                    host=self._host, port=self._port, user=self._user, password=self._password,
                    connect_timeout=self._timeout, read_timeout=30, write_timeout=30, autocommit=True,
                )  # fmt: skip
            with conn.cursor() as cur:
                yield cur
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            if conn is not None:
                conn.close()
            conn = None
            if code in _UNREACHABLE_CODES:
                raise errors.ServerUnreachable(f"{self._where} did not answer: {exc.args[-1]}") from exc
            raise errors.ServerRefused(f"{self._where} refused a statement: {exc.args[-1]}") from exc
        except pymysql.err.MySQLError as exc:
            raise errors.ServerRefused(f"{self._where} refused a statement: {exc.args[-1]}") from exc
        finally:
            if conn is not None:
                with self._lock:
                    self._idle.append(conn)

    async def _run(self, work: Callable[[pymysql.cursors.Cursor], T]) -> T:
        def run() -> T:
            with self._cursor() as cur:
                return work(cur)

        return await asyncio.to_thread(run)

    async def observe(self, spec: model.MySQLDatabaseSpec, *, password: str | None) -> model.ObservedMySQL:
        """Read the user, its password hash, the database and the user's grants."""

        def work(cur: pymysql.cursors.Cursor) -> model.ObservedMySQL:
            grantee = f"'{spec.user}'@'%'"
            cur.execute("SELECT authentication_string, plugin FROM mysql.user WHERE User = %s AND Host = %s",
                        (spec.user, "%"))  # fmt: skip
            user = cur.fetchone()
            cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (spec.database,))
            database_exists = cur.fetchone() is not None
            cur.execute(
                "SELECT table_schema, privilege_type FROM information_schema.schema_privileges WHERE grantee = %s",
                (grantee,),
            )
            by_database: dict[str, set[str]] = {}
            for schema, privilege in cur.fetchall():
                by_database.setdefault(str(schema).replace("\\_", "_"), set()).add(str(privilege))
            cur.execute("SELECT privilege_type FROM information_schema.user_privileges WHERE grantee = %s", (grantee,))
            global_privileges = tuple(sorted(str(r[0]) for r in cur.fetchall()))
            matches: bool | None = None
            if user is not None and password is not None and str(user[1] or "") in {"", "mysql_native_password"}:
                matches = str(user[0] or "") == native_password_hash(password)
            return model.ObservedMySQL(
                user_exists=user is not None,
                password_matches=matches,
                database_exists=database_exists,
                has_database_grant=by_database.get(spec.database, set()) >= DATABASE_PRIVILEGES,
                global_privileges=global_privileges,
                other_databases=tuple(sorted(d for d in by_database if d != spec.database)),
            )

        return await self._run(work)

    async def apply(self, plan: Sequence[steps.MySQLStep]) -> None:
        """Run each step's statements in order."""
        if not plan:
            return

        def work(cur: pymysql.cursors.Cursor) -> None:
            if self._is_mariadb is None:
                cur.execute("SELECT VERSION()")
                row = cur.fetchone()
                self._is_mariadb = "mariadb" in str(row[0] if row else "").lower()
            for step in plan:
                for statement, args in _statements(step, mariadb=self._is_mariadb):
                    cur.execute(statement, args)

        await self._run(work)


def _answers(conn: pymysql.connections.Connection[pymysql.cursors.Cursor]) -> bool:
    """Whether a pooled connection still answers a ping; one that does not is closed."""
    try:
        conn.ping()
    except pymysql.err.MySQLError:
        with contextlib.suppress(pymysql.err.MySQLError):
            conn.close()
        return False
    return True


def _identified(password: str, *, mariadb: bool) -> tuple[str, str]:
    if mariadb:
        return "IDENTIFIED BY PASSWORD %s", native_password_hash(password)
    return "IDENTIFIED BY %s", password


def _statements(step: steps.MySQLStep, *, mariadb: bool) -> list[tuple[str, tuple[str, ...]]]:
    match step:
        case steps.CreateMySQLUser(user=user, password=password):
            clause, secret = _identified(password, mariadb=mariadb)
            return [(f"CREATE USER %s@'%%' {clause}", (user, secret))]
        case steps.SetMySQLPassword(user=user, password=password):
            clause, secret = _identified(password, mariadb=mariadb)
            return [(f"ALTER USER %s@'%%' {clause}", (user, secret))]
        case steps.CreateMySQLDatabase(database=database, character_set=charset):
            return [(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)} CHARACTER SET {charset}", ())]
        case steps.GrantMySQLDatabase(database=database, user=user):
            return [(f"GRANT ALL PRIVILEGES ON {quote_identifier(database)}.* TO %s@'%%'", (user,))]
        case steps.RevokeMySQLElsewhere(user=user, global_privileges=global_privileges, databases=databases):
            statements: list[tuple[str, tuple[str, ...]]] = [
                (f"REVOKE ALL PRIVILEGES ON {quote_identifier(d)}.* FROM %s@'%%'", (user,)) for d in databases
            ]
            if global_privileges:
                statements.append(("REVOKE ALL PRIVILEGES ON *.* FROM %s@'%%'", (user,)))
            return statements
        case steps.DropMySQLDatabase(database=database):
            return [(f"DROP DATABASE IF EXISTS {quote_identifier(database)}", ())]
        case steps.DropMySQLUser(user=user):
            return [("DROP USER IF EXISTS %s@'%%'", (user,))]
