"""The local provider's reconcile use cases: observe a server, plan, apply, publish credentials.

``LocalProvider.reconcile`` takes a managed resource (``PostgresDatabase``, ``MySQLDatabase`` or
``RedisUser``) and returns an ``Outcome``: the conditions and ``status.atProvider`` to record and
when to look again. It never raises for a server problem: an unreachable server becomes
``Outcome.retry`` with reason ``ServerUnreachable``, which the engine adapter turns into a
Ready=False condition and an exponential backoff. Credentials: the password lives in the
connection secret (through ``ConnectionSecretSink``); the server is made to agree with it on every
reconcile, and a rotation sets the new password on the server first and then in the secret, so a
failure in between is repaired by the next reconcile (which sees the mismatch).

This module imports no IO library: everything outside arrives through ``ports``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Generic, Protocol, TypeVar

from blacktop.kernel.clock import format_timestamp, parse_timestamp
from blacktop.kernel.errors import InputError, Problem

from . import errors, model, planning, ports

POSTGRES_KIND: Final = "PostgresDatabase"
MYSQL_KIND: Final = "MySQLDatabase"
REDIS_KIND: Final = "RedisUser"
LOCAL_KINDS: Final = (POSTGRES_KIND, MYSQL_KIND, REDIS_KIND)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconcile decided: Ready or not (with a reason), what to record, when to look again.

    ``retry`` marks a transient failure (a server down or refusing) that deserves backoff;
    ``finished`` is False while a deletion still has work left.
    """

    ready: bool
    reason: str
    message: str
    at_provider: Mapping[str, Any] = field(default_factory=dict)
    requeue_after: timedelta | None = None
    retry: bool = False
    finished: bool = True


class _Admin(Protocol):
    @property
    def endpoint(self) -> model.Endpoint: ...


S = TypeVar("S", model.PostgresDatabaseSpec, model.MySQLDatabaseSpec, model.RedisUserSpec)
Obs = TypeVar("Obs", model.ObservedPostgres, model.ObservedMySQL, model.ObservedRedisUser)


@dataclass(frozen=True)
class _Driver(Generic[S, Obs]):
    """How one kind is parsed, observed, planned and described; the flow around it is shared."""

    server: str
    parse: Callable[[Mapping[str, Any]], S]
    observe: Callable[[S, str | None], Awaitable[Obs]]
    apply: Callable[[Any], Awaitable[None]]
    plan: Callable[..., tuple[Any, ...]]
    plan_deletion: Callable[[S, Obs], tuple[Any, ...]]
    conflict: Callable[[S, Obs], str | None]
    details: Callable[[S, model.Endpoint, str], dict[str, str]]
    at_provider: Callable[[S, model.Endpoint], dict[str, Any]]
    endpoint: Callable[[], model.Endpoint]
    """Read after the first call to the server: an embedded server knows its address once started."""


def _no_conflict(spec: Any, observed: Any) -> str | None:
    return None


class LocalProvider:
    """Provisions local managed resources on the configured servers; any server may be absent (None)."""

    def __init__(
        self,
        *,
        postgres: ports.PostgresAdmin | None,
        mysql: ports.MySQLAdmin | None,
        redis: ports.RedisAdmin | None,
        secrets: ports.ConnectionSecretSink,
        new_password: Callable[[], str],
        rotation_cadences: Mapping[str, timedelta],
        recheck_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self._postgres = postgres
        self._mysql = mysql
        self._redis = redis
        self._secrets = secrets
        self._new_password = new_password
        self._cadences = dict(rotation_cadences)
        self._recheck = recheck_after

    def _driver(self, kind: str) -> _Driver[Any, Any] | str:
        """The driver of ``kind``, or why there is none (the server is not configured)."""
        if kind == POSTGRES_KIND:
            if self._postgres is None:
                return "no PostgreSQL server is configured; set BLACKTOP_PROVIDERS__POSTGRES_URL"
            pg = self._postgres
            return _Driver(
                server="PostgreSQL",
                parse=model.parse_postgres,
                observe=lambda spec, password: pg.observe(spec, password=password),
                apply=pg.apply,
                plan=planning.plan_postgres,
                plan_deletion=planning.plan_postgres_deletion,
                conflict=planning.ownership_conflict_postgres,
                details=lambda spec, ep, pw: planning.connection_details(
                    endpoint=ep, username=spec.role, password=pw, database=spec.database, scheme="postgresql"
                ),
                at_provider=lambda spec, ep: {"database": spec.database, "role": spec.role},
                endpoint=lambda: pg.endpoint,
            )
        if kind == MYSQL_KIND:
            if self._mysql is None:
                return (
                    "no MariaDB/MySQL server is configured (there is no embedded one); "
                    "set BLACKTOP_PROVIDERS__MYSQL_URL"
                )
            my = self._mysql
            return _Driver(
                server="MariaDB/MySQL",
                parse=model.parse_mysql,
                observe=lambda spec, password: my.observe(spec, password=password),
                apply=my.apply,
                plan=planning.plan_mysql,
                plan_deletion=planning.plan_mysql_deletion,
                conflict=_no_conflict,
                details=lambda spec, ep, pw: planning.connection_details(
                    endpoint=ep, username=spec.user, password=pw, database=spec.database, scheme="mysql"
                ),
                at_provider=lambda spec, ep: {"database": spec.database, "username": spec.user},
                endpoint=lambda: my.endpoint,
            )
        if kind == REDIS_KIND:
            if self._redis is None:
                return "no Redis server is configured; set BLACKTOP_PROVIDERS__REDIS_URL"
            rd = self._redis
            return _Driver(
                server="Redis",
                parse=model.parse_redis_user,
                observe=lambda spec, password: rd.observe(spec, password=password),
                apply=rd.apply,
                plan=planning.plan_redis,
                plan_deletion=planning.plan_redis_deletion,
                conflict=_no_conflict,
                details=lambda spec, ep, pw: planning.connection_details(
                    endpoint=ep, username=spec.user, password=pw, scheme="redis", extra={"keyPrefix": spec.key_prefix}
                ),
                at_provider=lambda spec, ep: {"username": spec.user, "keyPrefix": spec.key_prefix},
                endpoint=lambda: rd.endpoint,
            )
        raise InputError(f"kind {kind!r} is not served by the local provider", problems=[Problem("kind", kind)])

    async def reconcile(self, kind: str, obj: Mapping[str, Any], *, now: datetime) -> Outcome:
        """Bring the server in line with ``obj`` and publish its connection details."""
        driver = self._driver(kind)
        if isinstance(driver, str):
            return Outcome(False, "ServerNotConfigured", driver, requeue_after=self._recheck)
        try:
            spec = driver.parse(obj)
        except InputError as exc:
            details = "; ".join(p.describe() for p in exc.problems)
            return Outcome(False, "InvalidSpec", f"{exc} ({details})")
        try:
            return await self._converge(driver, spec, obj, kind=kind, now=now)
        except (errors.ServerUnreachable, errors.ServerRefused) as exc:
            return Outcome(False, exc.reason, str(exc), retry=True)

    async def _converge(
        self, driver: _Driver[Any, Any], spec: Any, obj: Mapping[str, Any], *, kind: str, now: datetime
    ) -> Outcome:
        common: model.Common = spec.common
        recorded = dict((obj.get("status") or {}).get("atProvider") or {})
        cadence = self._cadence(common)
        if isinstance(cadence, str):
            return Outcome(False, "InvalidSpec", cadence)
        changed_at = _timestamp(recorded.get("passwordChangedAt"))
        stored = await self._secrets.get(common.secret_ref)
        decision = planning.decide_password(
            stored=(stored or {}).get("password"),
            rotate_token=common.rotate_token,
            rotated_for=recorded.get("rotatedFor"),
            cadence=cadence,
            changed_at=changed_at,
            now=now,
        )
        password = self._new_password() if decision.rotate else str((stored or {})["password"])
        observed = await driver.observe(spec, password)
        conflict = driver.conflict(spec, observed)
        if conflict is not None:
            return Outcome(False, errors.OwnershipConflict.reason, conflict, requeue_after=self._recheck)
        plan = driver.plan(spec, observed, password=password, new_password=decision.rotate)
        await driver.apply(plan)
        endpoint = driver.endpoint()
        details = driver.details(spec, endpoint, password)
        if dict(stored or {}) != details:
            await self._secrets.put(common.secret_ref, details, owner=f"{kind}/{common.namespace}/{common.name}")
        if decision.rotate or changed_at is None:
            changed_at = now
        at_provider = {
            **driver.at_provider(spec, endpoint),
            "endpoint": endpoint.host,
            "port": endpoint.port,
            "connectionSecret": str(common.secret_ref),
            "passwordChangedAt": format_timestamp(changed_at),
        }
        if common.rotate_token is not None:
            at_provider["rotatedFor"] = common.rotate_token
        # The message stays the same from one reconcile to the next, so an in-sync resync writes nothing.
        message = f"{driver.server} {_describe(spec)} is ready; connection details in secret {common.secret_ref}"
        requeue = planning.next_rotation_in(cadence=cadence, changed_at=changed_at, now=now)
        return Outcome(True, "Available", message, at_provider, requeue_after=requeue)

    def _cadence(self, common: model.Common) -> timedelta | str | None:
        if common.rotation_policy is None:
            return None
        cadence = self._cadences.get(common.rotation_policy)
        if cadence is None:
            known = ", ".join(sorted(self._cadences)) or "none"
            return (
                f"spec.forProvider.passwordRotationPolicy: unknown rotation policy {common.rotation_policy!r} "
                f"(known: {known})"
            )
        return cadence

    async def finalize(self, kind: str, obj: Mapping[str, Any]) -> Outcome:
        """Remove what the resource made on the server (unless ``deletionPolicy: Orphan``) and its secret."""
        driver = self._driver(kind)
        if isinstance(driver, str):
            return Outcome(False, "Deleting", f"nothing to remove: {driver}")
        try:
            spec = driver.parse(obj)
        except InputError:
            return Outcome(False, "Deleting", "the spec is invalid, so nothing was ever provisioned")
        common: model.Common = spec.common
        try:
            if common.deletion_policy is model.DeletionPolicy.DELETE:
                observed = await driver.observe(spec, None)
                await driver.apply(driver.plan_deletion(spec, observed))
            await self._secrets.delete(common.secret_ref)
        except (errors.ServerUnreachable, errors.ServerRefused) as exc:
            return Outcome(False, exc.reason, f"cannot delete yet: {exc}", retry=True, finished=False)
        return Outcome(False, "Deleting", f"{driver.server} {_describe(spec)} removed")


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _describe(spec: Any) -> str:
    match spec:
        case model.PostgresDatabaseSpec(database=database, role=role):
            return f"database {database!r} (role {role!r})"
        case model.MySQLDatabaseSpec(database=database, user=user):
            return f"database {database!r} (user {user!r})"
        case model.RedisUserSpec(user=user, key_prefix=prefix):
            return f"ACL user {user!r} (keys {prefix}*)"
    return "resource"
