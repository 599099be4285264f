"""The secret store as people and tools reach it: every call authorized by path and audited.

:class:`GuardedSecretStore` wraps :class:`service.SecretStoreService` for the HTTP API, the CLI
(through the API) and controllers. Each call asks :mod:`.access` whether the caller may perform the
operation on the path, performs it, and appends one audit entry (path, version, actor, outcome,
never a value) through the :class:`SecretAuditLog` port, which the composition root implements
over the platform's hash-chained audit trail. Denied and failed calls are audited too.

Reading values is a distinct operation (``reveal``): a plain ``describe`` returns key names and
metadata only, so a listing can never leak a value by accident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import ValidationError

from blacktop import tenancy
from blacktop.kernel.errors import BlacktopError, InputError, NotAllowedError, Problem
from blacktop.kernel.identity import Caller

from . import access, crypto, errors, eso, generators, model
from .service import RewrapReport, SecretStoreService

T = TypeVar("T")

_CODES = {"Invalid": 422, "Forbidden": 403, "NotFound": 404, "Conflict": 409, "ServiceUnavailable": 503}


@dataclass(frozen=True, slots=True)
class SecretAuditEntry:
    """One audited secret operation; ``message`` names versions and outcomes, never values."""

    caller: Caller
    request_id: str
    action: str
    path: str
    team: str
    version: int | None
    outcome: str
    code: int
    message: str


class SecretAuditLog(Protocol):
    """Appends secret audit entries to the platform's audit trail."""

    async def record(self, entry: SecretAuditEntry) -> None:
        """Append ``entry``."""
        ...

    async def record_many(self, entries: Sequence[SecretAuditEntry]) -> None:
        """Append ``entries`` in order, in one transaction where the trail allows it."""
        ...


class GrantSource(Protocol):
    """The roles a caller holds (from RoleBindings, ClusterRoleBindings and Groups)."""

    async def grants(self, caller: Caller) -> Sequence[tenancy.Grant]:
        """Every grant of ``caller``."""
        ...


@dataclass(frozen=True, slots=True)
class SecretDescription:
    """What ``describe`` shows: the version's metadata and its key names, no values."""

    path: model.SecretPath
    version: model.VersionMetadata
    keys: tuple[str, ...]


class GuardedSecretStore:
    """Authorized, audited access to the KV store."""

    def __init__(self, store: SecretStoreService, *, grants: GrantSource, audit: SecretAuditLog) -> None:
        self.store = store
        self._grants = grants
        self._audit = audit

    async def put(
        self, caller: Caller, request_id: str, path: str, data: Mapping[str, str], *, cas: int | None = None
    ) -> model.VersionMetadata:
        """Write a new version."""
        where = model.parse_secret_path(path)
        return await self._run(
            caller, request_id, "put", where, access.SecretOperation.WRITE,
            lambda: self.store.put(where, data, actor=caller.ref, cas=cas), version_of=lambda m: m.version,
        )  # fmt: skip

    async def reveal(
        self, caller: Caller, request_id: str, path: str, *, version: int | None = None
    ) -> model.SecretVersion:
        """Read the values of a version (audited as ``reveal``)."""
        where = model.parse_secret_path(path)
        return await self._run(
            caller, request_id, "reveal", where, access.SecretOperation.READ,
            lambda: self.store.get(where, version=version), version_of=lambda v: v.metadata.version,
        )  # fmt: skip

    async def describe(
        self, caller: Caller, request_id: str, path: str, *, version: int | None = None
    ) -> SecretDescription:
        """Key names and metadata of a version, without values."""
        where = model.parse_secret_path(path)

        async def run() -> SecretDescription:
            found = await self.store.get(where, version=version)
            return SecretDescription(path=where, version=found.metadata, keys=tuple(sorted(found.data)))

        return await self._run(
            caller, request_id, "describe", where, access.SecretOperation.LIST, run,
            version_of=lambda d: d.version.version,
        )  # fmt: skip

    async def metadata(self, caller: Caller, request_id: str, path: str) -> model.SecretMetadata:
        """Versions and timestamps (Vault's metadata endpoint)."""
        where = model.parse_secret_path(path)
        return await self._run(
            caller, request_id, "read-metadata", where, access.SecretOperation.LIST,
            lambda: self.store.read_metadata(where), version_of=lambda m: m.current_version,
        )  # fmt: skip

    async def list(self, caller: Caller, request_id: str, prefix: str = "") -> list[model.SecretPath]:
        """Paths under ``prefix`` the caller may list (others are left out, not refused)."""
        grants = await self._grants.grants(caller)
        found = await self.store.list_paths(prefix)
        visible = [p for p in found if access.decide(caller, access.SecretOperation.LIST, p, grants).allowed]
        return visible

    async def delete(self, caller: Caller, request_id: str, path: str, *, versions: Iterable[int] = ()) -> None:
        """Soft-delete versions (the latest when none given)."""
        where = model.parse_secret_path(path)
        numbers = list(versions)
        await self._run(
            caller, request_id, "delete", where, access.SecretOperation.WRITE,
            lambda: self.store.delete(where, actor=caller.ref, versions=numbers), note=_versions(numbers),
        )  # fmt: skip

    async def undelete(self, caller: Caller, request_id: str, path: str, *, versions: Iterable[int]) -> None:
        """Restore soft-deleted versions."""
        where = model.parse_secret_path(path)
        numbers = _required_versions(versions, "undelete")
        await self._run(
            caller, request_id, "undelete", where, access.SecretOperation.WRITE,
            lambda: self.store.undelete(where, actor=caller.ref, versions=numbers), note=_versions(numbers),
        )  # fmt: skip

    async def destroy(self, caller: Caller, request_id: str, path: str, *, versions: Iterable[int]) -> None:
        """Permanently remove versions' ciphertext."""
        where = model.parse_secret_path(path)
        numbers = _required_versions(versions, "destroy")
        await self._run(
            caller, request_id, "destroy", where, access.SecretOperation.DESTROY,
            lambda: self.store.destroy(where, actor=caller.ref, versions=numbers), note=_versions(numbers),
        )  # fmt: skip

    async def rotate(
        self, caller: Caller, request_id: str, path: str, *, key: str, spec: eso.PasswordSpec, entropy: crypto.Entropy
    ) -> model.VersionMetadata:
        """Regenerate ``key`` with a Password generator spec and write it as the new current version."""
        where = model.parse_secret_path(path)

        async def run() -> model.VersionMetadata:
            current = await self.store.get(where)
            fresh = generators.generate_password(spec, entropy=entropy)["password"].decode()
            data = {**current.data, key: fresh}
            return await self.store.put(where, data, actor=caller.ref, cas=current.metadata.version)

        return await self._run(
            caller, request_id, "rotate", where, access.SecretOperation.WRITE, run, version_of=lambda m: m.version
        )

    async def rotate_kek(self, caller: Caller, request_id: str, new: crypto.Kek) -> RewrapReport:
        """Re-wrap every data key under ``new`` (platform admins only)."""
        grants = await self._grants.grants(caller)
        is_admin = any(g.namespace is None and g.role == tenancy.rbac.PLATFORM_ADMIN for g in grants)
        entry = SecretAuditEntry(caller, request_id, "rotate-kek", "*", "", None, "allowed", 200, "")
        if not is_admin:
            message = f"{caller.ref} may not rotate the key-encryption key (platform-admin only)"
            await self._audit.record(_with(entry, outcome="denied", code=403, message=message))
            raise NotAllowedError(message)
        try:
            report = await self.store.rotate_kek(new)
        except BlacktopError as exc:
            await self._audit.record(_with(entry, outcome="error", code=_code(exc), message=str(exc)[:300]))
            raise
        message = f"re-wrapped {report.rewrapped} data key(s) under KEK {new.kek_id!r}"
        await self._audit.record(_with(entry, message=message))
        return report

    async def _run(
        self,
        caller: Caller,
        request_id: str,
        action: str,
        where: model.SecretPath,
        operation: access.SecretOperation,
        call: Callable[[], Awaitable[T]],
        *,
        version_of: Callable[[T], int] | None = None,
        note: str = "",
    ) -> T:
        grants = await self._grants.grants(caller)
        decision = access.decide(caller, operation, where, grants)
        entry = SecretAuditEntry(
            caller, request_id, action, where.api_path, access.team_of(where), None, "allowed", 200, note
        )
        if not decision.allowed:
            await self._audit.record(_with(entry, outcome="denied", code=403, message=decision.message[:300]))
            raise NotAllowedError(decision.message)
        try:
            result = await call()
        except BlacktopError as exc:
            code = _code(exc)
            outcome = "rejected" if code < 500 else "error"
            await self._audit.record(_with(entry, outcome=outcome, code=code, message=str(exc)[:300]))
            raise
        version = version_of(result) if version_of is not None else None
        await self._audit.record(_with(entry, version=version, message=note or _versions([version] if version else [])))
        return result


def password_spec(raw: Mapping[str, object] | None, *, where: str = "password") -> eso.PasswordSpec:
    """A Password generator spec from JSON, or :class:`errors.ManifestError` listing every problem."""
    try:
        return eso.PasswordSpec.model_validate(dict(raw or {}))
    except ValidationError as exc:
        problems = [
            Problem(path=f"{where}.{'.'.join(str(p) for p in e['loc'])}", message=e["msg"]) for e in exc.errors()
        ]
        raise errors.ManifestError("the Password generator spec is invalid", problems=problems) from None


def _with(entry: SecretAuditEntry, **changes: object) -> SecretAuditEntry:
    values = {name: getattr(entry, name) for name in SecretAuditEntry.__slots__}
    values.update(changes)
    return SecretAuditEntry(**values)


def _code(exc: BlacktopError) -> int:
    return _CODES.get(exc.reason, 500)


def _versions(numbers: Iterable[int | None]) -> str:
    shown = [str(n) for n in numbers if n is not None]
    return f"version {', '.join(shown)}" if shown else ""


def _required_versions(versions: Iterable[int], action: str) -> list[int]:
    numbers = list(versions)
    if not numbers:
        raise InputError(
            f"{action} needs the versions to act on", problems=[Problem(path="versions", message="name at least one")]
        )
    return numbers
