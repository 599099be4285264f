"""Pure planners of the local provider: observed server state in, the steps to converge out.

Each ``plan_*`` function compares what a server holds with what the managed resource asks for
and returns the missing steps, in an order that works on a live server (role before the database
it owns, database before revoking on it). An empty plan means in sync, which is what makes the
provider idempotent and lets a resync repair drift: a role dropped by hand is simply "missing"
the next time round. ``ownership_conflict_*`` refuse to take over server objects another
resource (or a person) made, and ``redis_rules`` is the one place that says what "safe commands"
means for a tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from . import model, steps

REDIS_COMMAND_RULES: Final = (
    "-@all",
    "+@connection",
    "+@read",
    "+@write",
    "+@keyspace",
    "+@transaction",
    "+@pubsub",
    "-@dangerous",
    "-@admin",
    "-@scripting",
    "-@blocking",
)
"""Data commands on the user's own keys and channels; nothing that administers, blocks or scripts."""


def plan_postgres(
    spec: model.PostgresDatabaseSpec, observed: model.ObservedPostgres, *, password: str, new_password: bool
) -> tuple[steps.PostgresStep, ...]:
    """The steps that give ``spec``'s role (with ``password``) its own database, closed to PUBLIC."""
    plan: list[steps.PostgresStep] = []
    marker = spec.common.marker
    if not observed.role_exists:
        plan.append(steps.CreateRole(spec.role, password, spec.connection_limit, marker))
    else:
        if (
            not observed.role_can_login
            or observed.role_is_privileged
            or observed.connection_limit != spec.connection_limit
            or observed.role_marker != marker
        ):
            plan.append(steps.ConfigureRole(spec.role, spec.connection_limit, marker))
        if new_password or observed.password_matches is False:
            plan.append(steps.SetRolePassword(spec.role, password))
    if not observed.database_exists:
        plan.append(steps.CreateDatabase(spec.database, spec.role, marker))
        plan.append(steps.RevokePublicConnect(spec.database))
        return tuple(plan)
    if observed.database_owner != spec.role:
        plan.append(steps.SetDatabaseOwner(spec.database, spec.role))
    if observed.database_marker != marker:
        plan.append(steps.MarkDatabase(spec.database, marker))
    if observed.public_can_connect:
        plan.append(steps.RevokePublicConnect(spec.database))
    return tuple(plan)


def ownership_conflict_postgres(spec: model.PostgresDatabaseSpec, observed: model.ObservedPostgres) -> str | None:
    """Why ``spec`` must not take over the server's role or database, or None when they are its own (or absent).

    A role is ours when it carries our mark. A database is ours when it carries our mark, or
    carries none while owned by our own role (created just before a crash, before it was marked).
    """
    marker = spec.common.marker
    role_ours = not observed.role_exists or observed.role_marker == marker
    if not role_ours:
        owner = _marked_by(observed.role_marker)
        return f"PostgreSQL role {spec.role!r} already exists and belongs to {owner}; choose another roleName"
    if observed.database_exists and observed.database_marker != marker:
        unmarked_but_ours = observed.database_marker is None and observed.database_owner == spec.role
        if not unmarked_but_ours:
            owner = _marked_by(observed.database_marker)
            return (
                f"PostgreSQL database {spec.database!r} already exists and belongs to {owner}; "
                "choose another databaseName"
            )
    return None


def _marked_by(marker: str | None) -> str:
    if marker and marker.startswith(model.OWNER_MARKER_PREFIX):
        return f"managed resource {marker.removeprefix(model.OWNER_MARKER_PREFIX)}"
    return "someone outside blacktop"


def plan_postgres_deletion(
    spec: model.PostgresDatabaseSpec, observed: model.ObservedPostgres
) -> tuple[steps.PostgresStep, ...]:
    """Drop the database, then the role, where they exist and are ``spec``'s own."""
    if ownership_conflict_postgres(spec, observed) is not None:
        return ()
    plan: list[steps.PostgresStep] = []
    if observed.database_exists:
        plan.append(steps.DropDatabase(spec.database))
    if observed.role_exists:
        plan.append(steps.DropRole(spec.role))
    return tuple(plan)


def plan_mysql(
    spec: model.MySQLDatabaseSpec, observed: model.ObservedMySQL, *, password: str, new_password: bool
) -> tuple[steps.MySQLStep, ...]:
    """The steps that give ``spec``'s user (with ``password``) every privilege on its database and nowhere else."""
    plan: list[steps.MySQLStep] = []
    if not observed.user_exists:
        plan.append(steps.CreateMySQLUser(spec.user, password))
    elif new_password or observed.password_matches is False:
        plan.append(steps.SetMySQLPassword(spec.user, password))
    if not observed.database_exists:
        plan.append(steps.CreateMySQLDatabase(spec.database, spec.character_set))
    if not observed.has_database_grant or not observed.user_exists:
        plan.append(steps.GrantMySQLDatabase(spec.database, spec.user))
    elsewhere = tuple(sorted(d for d in observed.other_databases if d != spec.database))
    global_privileges = any(p.upper() != "USAGE" for p in observed.global_privileges)
    if observed.user_exists and (elsewhere or global_privileges):
        plan.append(steps.RevokeMySQLElsewhere(spec.user, global_privileges, elsewhere))
    return tuple(plan)


def plan_mysql_deletion(spec: model.MySQLDatabaseSpec, observed: model.ObservedMySQL) -> tuple[steps.MySQLStep, ...]:
    """Drop the database, then the user, where they exist."""
    plan: list[steps.MySQLStep] = []
    if observed.database_exists:
        plan.append(steps.DropMySQLDatabase(spec.database))
    if observed.user_exists:
        plan.append(steps.DropMySQLUser(spec.user))
    return tuple(plan)


def redis_rules(spec: model.RedisUserSpec) -> tuple[str, ...]:
    """The ACL rules (after ``reset on >password``) confining the user to its prefix and safe commands."""
    return (f"~{spec.key_prefix}*", f"&{spec.key_prefix}*", *REDIS_COMMAND_RULES)


def plan_redis(
    spec: model.RedisUserSpec, observed: model.ObservedRedisUser, *, password: str, new_password: bool
) -> tuple[steps.RedisStep, ...]:
    """Redefine the ACL user when anything about it differs from the desired rules (or it is missing)."""
    in_sync = (
        observed.exists
        and observed.enabled
        and observed.password_matches
        and observed.only_password
        and not new_password
        and observed.keys == f"~{spec.key_prefix}*"
        and observed.channels == f"&{spec.key_prefix}*"
        and observed.commands_match
    )
    return () if in_sync else (steps.SetRedisUser(spec.user, password, redis_rules(spec)),)


def plan_redis_deletion(spec: model.RedisUserSpec, observed: model.ObservedRedisUser) -> tuple[steps.RedisStep, ...]:
    """Delete the ACL user if it exists."""
    return (steps.DeleteRedisUser(spec.user),) if observed.exists else ()


@dataclass(frozen=True, slots=True)
class PasswordDecision:
    """Whether to keep the stored password or set a new one, and why."""

    rotate: bool
    reason: str


def decide_password(
    *,
    stored: str | None,
    rotate_token: str | None,
    rotated_for: str | None,
    cadence: timedelta | None,
    changed_at: datetime | None,
    now: datetime,
) -> PasswordDecision:
    """Generate a password when none is stored, when a rotation was requested, or when the cadence is due."""
    if not stored:
        return PasswordDecision(True, "no password stored yet")
    if rotate_token is not None and rotate_token != rotated_for:
        return PasswordDecision(True, f"rotation requested ({model.ROTATE_ANNOTATION}={rotate_token})")
    if cadence is not None and (changed_at is None or now >= changed_at + cadence):
        return PasswordDecision(True, "the rotation policy's cadence is due")
    return PasswordDecision(False, "password current")


def next_rotation_in(*, cadence: timedelta | None, changed_at: datetime | None, now: datetime) -> timedelta | None:
    """How long until the cadence makes the password due, or None without a cadence."""
    if cadence is None or changed_at is None:
        return None
    return max(changed_at + cadence - now, timedelta(0))


def connection_details(
    *, endpoint: model.Endpoint, username: str, password: str, database: str | None = None, scheme: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    """The connection secret's keys (Crossplane's ``username``/``password``/``endpoint``/``port``, plus ``uri``)."""
    data = {
        "username": username,
        "password": password,
        "endpoint": endpoint.host,
        "host": endpoint.host,
        "port": str(endpoint.port),
    }
    if database is not None:
        data["database"] = database
    host = endpoint.host if not endpoint.host.startswith("/") else quote(endpoint.host, safe="")
    path = f"/{database}" if database is not None else ""
    data["uri"] = f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{endpoint.port}{path}"
    data.update(extra or {})
    return data


def exponential_delay(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """``base * 2**attempt``, at most ``cap`` (the retry delay after ``attempt`` failures in a row)."""
    seconds = base.total_seconds() * (2 ** min(attempt, 30))
    return min(timedelta(seconds=seconds), cap)


def status_fields(at_provider: Mapping[str, Any]) -> dict[str, Any]:
    """The status fields a provider writes besides conditions."""
    return {"atProvider": dict(at_provider)}
