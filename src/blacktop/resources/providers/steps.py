"""The steps the local provider asks a server's admin adapter to perform.

Each step is one idempotent statement's worth of intent (create the role, set its password,
revoke CONNECT from PUBLIC, ...). ``planning`` chooses them from what was observed; the adapters
turn them into SQL or Redis commands. Keeping them as values makes plans comparable in tests and
visible in status messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class CreateRole:
    """Create a login role with ``password`` and no privileges beyond logging in."""

    role: str
    password: str = field(repr=False)
    connection_limit: int
    marker: str


@dataclass(frozen=True, slots=True)
class ConfigureRole:
    """Make an existing role a plain login role again (LOGIN, no SUPERUSER/CREATEDB/CREATEROLE/BYPASSRLS)."""

    role: str
    connection_limit: int
    marker: str


@dataclass(frozen=True, slots=True)
class SetRolePassword:
    """Set the role's password."""

    role: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CreateDatabase:
    """Create a database owned by ``owner``."""

    database: str
    owner: str
    marker: str


@dataclass(frozen=True, slots=True)
class SetDatabaseOwner:
    """Give an existing database to ``owner``."""

    database: str
    owner: str


@dataclass(frozen=True, slots=True)
class RevokePublicConnect:
    """Revoke CONNECT (and TEMPORARY) on the database from PUBLIC, so only its owner gets in."""

    database: str


@dataclass(frozen=True, slots=True)
class MarkDatabase:
    """Leave the ownership mark on a database created before the mark could be set."""

    database: str
    marker: str


@dataclass(frozen=True, slots=True)
class DropDatabase:
    """Drop the database, ending its sessions."""

    database: str


@dataclass(frozen=True, slots=True)
class DropRole:
    """Drop the role."""

    role: str


PostgresStep: TypeAlias = (
    CreateRole | ConfigureRole | SetRolePassword | CreateDatabase | SetDatabaseOwner | MarkDatabase
    | RevokePublicConnect | DropDatabase | DropRole
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CreateMySQLUser:
    """Create ``'user'@'%'`` identified by ``password``."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SetMySQLPassword:
    """Set the user's password."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CreateMySQLDatabase:
    """Create the database with a default character set."""

    database: str
    character_set: str


@dataclass(frozen=True, slots=True)
class GrantMySQLDatabase:
    """Grant every privilege on ``database``.* (and nothing else) to the user."""

    database: str
    user: str


@dataclass(frozen=True, slots=True)
class RevokeMySQLElsewhere:
    """Revoke the user's privileges on ``*.*`` and on the listed other databases."""

    user: str
    global_privileges: bool
    databases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DropMySQLDatabase:
    """Drop the database."""

    database: str


@dataclass(frozen=True, slots=True)
class DropMySQLUser:
    """Drop the user."""

    user: str


MySQLStep: TypeAlias = (
    CreateMySQLUser | SetMySQLPassword | CreateMySQLDatabase | GrantMySQLDatabase | RevokeMySQLElsewhere
    | DropMySQLDatabase | DropMySQLUser
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SetRedisUser:
    """(Re)define the ACL user from scratch: ``reset``, ``on``, the password, then ``rules``."""

    user: str
    password: str = field(repr=False)
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeleteRedisUser:
    """Delete the ACL user (its connections are closed by Redis)."""

    user: str


RedisStep: TypeAlias = SetRedisUser | DeleteRedisUser
