"""What the local provider's managed resources ask for, and what it observes on the servers.

Desired state arrives as Crossplane-style managed resources (``spec.forProvider``,
``spec.writeConnectionSecretToRef``, ``spec.deletionPolicy``); this module turns those dicts into
frozen values, collecting every problem with its field path. Server names (databases, roles,
users, key prefixes) default to ``<namespace>__<name>``: two teams' ``orders-db`` must never land
on the same database, so the namespace is always part of the default, and a name too long for the
server is shortened with a digest rather than cut (a cut could collide).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from blacktop.kernel.errors import InputError, Problem

GROUP: Final = "local.blacktop.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
FINALIZER: Final = "local.blacktop.dev/provider"
ROTATE_ANNOTATION: Final = "local.blacktop.dev/rotate"
"""Set (or change) this annotation's value to rotate the credentials now."""
OWNER_MARKER_PREFIX: Final = "blacktop:"

POSTGRES_MAX_IDENTIFIER: Final = 63
MYSQL_MAX_DATABASE: Final = 64
MYSQL_MAX_USER: Final = 32
"""MySQL 8 allows 32 characters (MariaDB 80); the smaller bound keeps claims portable."""
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PREFIX = re.compile(r"^[A-Za-z0-9_:.\-]+$")


class DeletionPolicy(StrEnum):
    """What happens on the server when the managed resource is deleted (Crossplane's values)."""

    DELETE = "Delete"
    ORPHAN = "Orphan"


@dataclass(frozen=True, slots=True, order=True)
class SecretRef:
    """Where a managed resource's connection details are written: a namespaced secret name."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where tenants reach a server: a host name (or a Unix socket directory) and a port."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Common:
    """The fields every local managed resource has."""

    namespace: str
    name: str
    uid: str
    secret_ref: SecretRef
    deletion_policy: DeletionPolicy
    rotation_policy: str | None
    rotate_token: str | None

    @property
    def marker(self) -> str:
        """The ownership mark left on server objects, so another resource never adopts them."""
        return f"{OWNER_MARKER_PREFIX}{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class PostgresDatabaseSpec:
    """A PostgreSQL database owned by a login role of its own."""

    common: Common
    database: str
    role: str
    connection_limit: int


@dataclass(frozen=True, slots=True)
class MySQLDatabaseSpec:
    """A MariaDB/MySQL database and a user granted privileges on it only."""

    common: Common
    database: str
    user: str
    character_set: str


@dataclass(frozen=True, slots=True)
class RedisUserSpec:
    """A Redis ACL user confined to a key prefix (and channel prefix) and to safe commands."""

    common: Common
    user: str
    key_prefix: str


Spec = PostgresDatabaseSpec | MySQLDatabaseSpec | RedisUserSpec


@dataclass(frozen=True, slots=True)
class ObservedPostgres:
    """What the PostgreSQL server holds for one database and role."""

    role_exists: bool = False
    role_can_login: bool = False
    role_is_privileged: bool = False
    """SUPERUSER, CREATEDB, CREATEROLE or BYPASSRLS: more than a tenant role may have."""
    password_matches: bool | None = None
    """None when the server does not let the admin read password verifiers."""
    connection_limit: int = -1
    database_exists: bool = False
    database_owner: str | None = None
    public_can_connect: bool = False
    database_marker: str | None = None
    role_marker: str | None = None


@dataclass(frozen=True, slots=True)
class ObservedMySQL:
    """What the MariaDB/MySQL server holds for one database and user."""

    user_exists: bool = False
    password_matches: bool | None = None
    database_exists: bool = False
    has_database_grant: bool = False
    global_privileges: tuple[str, ...] = ()
    """Privileges granted ON *.* (must stay empty apart from USAGE)."""
    other_databases: tuple[str, ...] = ()
    """Databases other than its own on which the user holds privileges."""


@dataclass(frozen=True, slots=True)
class ObservedRedisUser:
    """What ``ACL GETUSER`` reports, reduced to what the provider decides on."""

    exists: bool = False
    enabled: bool = False
    password_matches: bool = False
    only_password: bool = False
    keys: str = ""
    channels: str = ""
    commands_match: bool = False
    """Whether the user's commands equal the safe set (as this server normalises it)."""


def default_identifier(namespace: str, name: str, *, limit: int) -> str:
    """``<namespace>__<name>`` as a lower-case SQL identifier of at most ``limit`` characters."""
    raw = team_prefix(namespace) + re.sub(r"[^a-z0-9_]", "_", name.lower())
    if len(raw) <= limit:
        return raw
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{raw[: limit - 9]}_{digest}"


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def team_prefix(namespace: str) -> str:
    """The prefix every server name a team chooses must start with (``orders-team`` -> ``orders_team__``).

    Namespaces are DNS labels (no ``_``), so mapping ``-`` to ``_`` and ending with ``__`` keeps
    teams apart; only a namespace holding ``--`` could reach into another's names, and
    PostgreSQL objects carry an ownership mark besides.
    """
    return re.sub(r"[^a-z0-9_]", "_", namespace.lower()) + "__"


def _identifier(value: object, *, default: str, limit: int, namespace: str, path: str, problems: list[Problem]) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not _IDENTIFIER.match(value) or len(value) > limit:
        problems.append(
            Problem(path=path, message=f"must be a lower-case identifier ([a-z_][a-z0-9_]*) of at most {limit} chars")
        )
        return default
    if not value.startswith(team_prefix(namespace)):
        problems.append(
            Problem(
                path=path,
                message=f"must start with {team_prefix(namespace)!r}: names on a shared server carry the namespace",
            )
        )
        return default
    return value


def _common(obj: Mapping[str, Any], problems: list[Problem]) -> Common:
    metadata = _mapping(obj.get("metadata"))
    spec = _mapping(obj.get("spec"))
    namespace = str(metadata.get("namespace") or "default")
    name = str(metadata.get("name") or "")
    ref = _mapping(spec.get("writeConnectionSecretToRef"))
    secret_name = ref.get("name", name)
    if not isinstance(secret_name, str) or not secret_name:
        problems.append(Problem(path="spec.writeConnectionSecretToRef.name", message="must be a non-empty string"))
        secret_name = name
    secret_namespace = ref.get("namespace", namespace)
    if secret_namespace != namespace:
        problems.append(
            Problem(
                path="spec.writeConnectionSecretToRef.namespace",
                message=f"must be the resource's own namespace {namespace!r}; secrets do not cross teams",
            )
        )
    policy = spec.get("deletionPolicy", DeletionPolicy.DELETE.value)
    if policy not in {p.value for p in DeletionPolicy}:
        problems.append(Problem(path="spec.deletionPolicy", message="must be Delete or Orphan"))
        policy = DeletionPolicy.DELETE.value
    rotation = _mapping(spec.get("forProvider")).get("passwordRotationPolicy")
    if rotation is not None and not isinstance(rotation, str):
        problems.append(Problem(path="spec.forProvider.passwordRotationPolicy", message="must be a policy name"))
        rotation = None
    token = _mapping(metadata.get("annotations")).get(ROTATE_ANNOTATION)
    return Common(
        namespace=namespace,
        name=name,
        uid=str(metadata.get("uid") or ""),
        secret_ref=SecretRef(namespace, secret_name),
        deletion_policy=DeletionPolicy(policy),
        rotation_policy=rotation,
        rotate_token=str(token) if token is not None else None,
    )


def _raise(kind: str, obj: Mapping[str, Any], problems: list[Problem]) -> None:
    if problems:
        metadata = _mapping(obj.get("metadata"))
        where = f"{metadata.get('namespace', 'default')}/{metadata.get('name', '?')}"
        raise InputError(f"{kind} {where} is invalid; fix the fields listed", problems=problems)


def parse_postgres(obj: Mapping[str, Any]) -> PostgresDatabaseSpec:
    """The desired PostgreSQL database of a ``PostgresDatabase``; ``InputError`` with every problem."""
    problems: list[Problem] = []
    common = _common(obj, problems)
    given = _mapping(_mapping(obj.get("spec")).get("forProvider"))
    default = default_identifier(common.namespace, common.name, limit=POSTGRES_MAX_IDENTIFIER)
    database = _identifier(
        given.get("databaseName"),
        default=default,
        limit=POSTGRES_MAX_IDENTIFIER,
        namespace=common.namespace,
        path="spec.forProvider.databaseName",
        problems=problems,
    )
    role = _identifier(
        given.get("roleName"), default=database, limit=POSTGRES_MAX_IDENTIFIER, namespace=common.namespace,
        path="spec.forProvider.roleName", problems=problems,
    )  # fmt: skip
    limit = given.get("connectionLimit", -1)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < -1:
        problems.append(Problem(path="spec.forProvider.connectionLimit", message="must be an integer >= -1"))
        limit = -1
    _raise("PostgresDatabase", obj, problems)
    return PostgresDatabaseSpec(common=common, database=database, role=role, connection_limit=limit)


def parse_mysql(obj: Mapping[str, Any]) -> MySQLDatabaseSpec:
    """The desired MariaDB/MySQL database of a ``MySQLDatabase``; ``InputError`` with every problem."""
    problems: list[Problem] = []
    common = _common(obj, problems)
    given = _mapping(_mapping(obj.get("spec")).get("forProvider"))
    database = _identifier(
        given.get("databaseName"),
        default=default_identifier(common.namespace, common.name, limit=MYSQL_MAX_DATABASE),
        limit=MYSQL_MAX_DATABASE,
        namespace=common.namespace,
        path="spec.forProvider.databaseName",
        problems=problems,
    )
    user = _identifier(
        given.get("username"),
        default=default_identifier(common.namespace, common.name, limit=MYSQL_MAX_USER),
        limit=MYSQL_MAX_USER,
        namespace=common.namespace,
        path="spec.forProvider.username",
        problems=problems,
    )
    charset = given.get("characterSet", "utf8mb4")
    if not isinstance(charset, str) or not _IDENTIFIER.match(charset):
        problems.append(Problem(path="spec.forProvider.characterSet", message="must be a character set name"))
        charset = "utf8mb4"
    _raise("MySQLDatabase", obj, problems)
    return MySQLDatabaseSpec(common=common, database=database, user=user, character_set=charset)


def parse_redis_user(obj: Mapping[str, Any]) -> RedisUserSpec:
    """The desired Redis ACL user of a ``RedisUser``; ``InputError`` with every problem."""
    problems: list[Problem] = []
    common = _common(obj, problems)
    given = _mapping(_mapping(obj.get("spec")).get("forProvider"))
    user = given.get("username", f"{common.namespace}.{common.name}")
    if not isinstance(user, str) or not _PREFIX.match(user) or not user.startswith(f"{common.namespace}."):
        problems.append(
            Problem(
                path="spec.forProvider.username",
                message=f"must start with '{common.namespace}.' and hold letters, digits, '_', '-', '.', ':' only",
            )
        )
        user = f"{common.namespace}.{common.name}"
    prefix = given.get("keyPrefix", f"{common.namespace}:{common.name}:")
    if (
        not isinstance(prefix, str)
        or not _PREFIX.match(prefix)
        or not prefix.endswith(":")
        or not prefix.startswith(f"{common.namespace}:")
    ):
        problems.append(
            Problem(
                path="spec.forProvider.keyPrefix",
                message=f"must start with '{common.namespace}:', end with ':' and hold letters, digits, "
                "'_', '-', '.', ':' only (e.g. '{common.namespace}:cache:')",
            )
        )
        prefix = f"{common.namespace}:{common.name}:"
    _raise("RedisUser", obj, problems)
    return RedisUserSpec(common=common, user=user, key_prefix=prefix)
