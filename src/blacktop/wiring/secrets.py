"""Wiring secret management into the platform: key ring, SQL storage, access, audit, kinds, controllers, API.

The key-encryption key (KEK) never lives in the state database. It comes from, in order:
``BLACKTOP_SECRETS__KEK`` (``<id>:<base64>``), ``BLACKTOP_SECRETS__KEK_FILE``, or, as the embedded
default, a file under ``<data_dir>/keys`` that is generated on first start (mode 0600, directory
0700) and announced in the log, because whoever copies the database must not get the key with it.
Every ``*.key`` file in the key directory is loaded as well (retired KEKs), so versions wrapped by
an older KEK stay readable until ``rotate-kek`` re-wraps them.

Access and audit: every API call goes through :class:`secrets.guarding.GuardedSecretStore`, whose
grants come from the platform's RBAC snapshot (RoleBindings per team namespace, platform admins)
and whose audit entries are appended to the same hash-chained trail as resource writes.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from blacktop import secrets, tenancy
from blacktop.api.routes import secrets as secrets_routes
from blacktop.apiserver.adapters import HashChainAudit, RbacAuthorizer
from blacktop.kernel.clock import Clock
from blacktop.kernel.identity import Caller
from blacktop.kernel.ports import ResourceStore
from blacktop.secrets import crypto, guarding
from blacktop.secrets import kinds as secret_kinds
from blacktop.secrets.adapters.keyfiles import read_kek_file
from blacktop.settings import Settings
from blacktop.store.secrets import SqlSecretVersionRepository

from . import Wiring
from . import secrets_sync as sync

log = logging.getLogger("blacktop.secrets")

CURRENT_POINTER = "current"
"""The file in the key directory naming the current KEK id (the embedded default)."""
_KEY_FILE = re.compile(r"^kek-(\d+)\.key$")


@dataclass
class KeyDirectory:
    """Generated KEK files (``kek-<n>.key``, mode 0600) and the pointer to the current one."""

    path: Path

    def files(self) -> list[Path]:
        """Every KEK file in the directory."""
        return sorted(self.path.glob("*.key")) if self.path.is_dir() else []

    def generate(self, *, entropy: crypto.Entropy = os.urandom) -> Path:
        """Write a new KEK file with the next number; returns its path."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.path.chmod(0o700)
        numbers = [int(m.group(1)) for f in self.files() if (m := _KEY_FILE.match(f.name))]
        target = self.path / f"kek-{max(numbers, default=0) + 1}.key"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(entropy(crypto.KEY_BYTES)).decode() + "\n")
        return target

    def current_id(self) -> str | None:
        """The id the pointer names, or None."""
        pointer = self.path / CURRENT_POINTER
        return pointer.read_text(encoding="ascii").strip() if pointer.is_file() else None

    def set_current(self, kek_id: str) -> None:
        """Point at ``kek_id`` (written atomically)."""
        temporary = self.path / (CURRENT_POINTER + ".tmp")
        temporary.write_text(kek_id + "\n", encoding="ascii")
        temporary.chmod(0o600)
        temporary.replace(self.path / CURRENT_POINTER)


@dataclass(frozen=True)
class KeySource:
    """Where the ring came from, for messages and for ``rotate-kek``."""

    ring: crypto.KeyRing
    directory: KeyDirectory
    description: str
    generated: bool


def load_keyring(settings: Settings) -> KeySource:
    """The key ring from the environment, a KEK file, or the generated embedded default."""
    config = settings.secrets
    directory = KeyDirectory(config.key_dir or settings.data_dir / "keys")
    retired = [read_kek_file(p) for p in config.retired_kek_files]
    generated = False
    if config.kek:
        kek_id, sep, text = config.kek.partition(":")
        if not sep:
            raise ValueError("BLACKTOP_SECRETS__KEK must read '<kek-id>:<base64 of 32 bytes>'")
        current = crypto.parse_kek(kek_id, text)
        description = "the BLACKTOP_SECRETS__KEK environment variable"
    elif config.kek_file is not None:
        current = read_kek_file(config.kek_file)
        description = f"the KEK file {config.kek_file}"
    else:
        if directory.current_id() is None:
            created = directory.generate()
            directory.set_current(created.stem)
            generated = True
            log.warning(
                "generated the secret store's key-encryption key in %s (mode 0600), outside the state database; "
                "back it up apart from database backups: without it no secret can be read",
                created,
            )
        current_id = directory.current_id()
        current = read_kek_file(directory.path / f"{current_id}.key")
        description = f"the key directory {directory.path}"
    others = [read_kek_file(p) for p in directory.files() if p.stem != current.kek_id]
    keep = {k.kek_id: k for k in [*retired, *others] if k.kek_id != current.kek_id}
    ring = crypto.KeyRing(current=current, retired=tuple(keep.values()))
    return KeySource(ring=ring, directory=directory, description=description, generated=generated)


class RbacGrants:
    """Grants of a caller from the platform's RBAC snapshot (RoleBindings, ClusterRoleBindings, Groups)."""

    def __init__(self, rbac: RbacAuthorizer) -> None:
        self._rbac = rbac

    async def grants(self, caller: Caller) -> Sequence[tenancy.Grant]:
        """Every role ``caller`` holds."""
        expanded = await self._rbac.expand(caller)
        return tenancy.rbac.grants_of(expanded, await self._rbac.bindings())


class AuditTrailLog:
    """Appends secret audit entries to the platform's hash-chained audit trail; values never reach it."""

    def __init__(self, store: ResourceStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._audit = HashChainAudit()

    async def record(self, entry: guarding.SecretAuditEntry) -> None:
        """Append one record: ``secret-<action>`` on the path, with version and outcome."""
        await self.record_many([entry])

    async def record_many(self, entries: Sequence[guarding.SecretAuditEntry]) -> None:
        """Append the records in one transaction (a sync's reads and write cost one commit)."""
        if not entries:
            return
        async with self._store.transaction() as tx:
            previous = await tx.last_audit()
            for entry in entries:
                subject = {"path": entry.path, "version": entry.version}
                record = self._audit.build(
                    previous, time=self._clock.now(), caller=entry.caller, verb=f"secret-{entry.action}",
                    kind=None, group=secret_kinds.GROUP, kind_name="SecretPath", namespace=entry.team or None,
                    name=entry.path, outcome=entry.outcome, code=entry.code, request_id=entry.request_id,
                    message=entry.message, old=None, new=subject if entry.outcome == "allowed" else None,
                )  # fmt: skip
                await tx.append_audit(record)
                previous = record


class KekRotation:
    """``rotate-kek``: generate a new KEK file in the key directory, re-wrap every data key, point at it."""

    def __init__(self, guarded: guarding.GuardedSecretStore, source: KeySource) -> None:
        self._guarded = guarded
        self._source = source

    async def rotate(self, caller: Caller, request_id: str) -> dict[str, object]:
        """Rotate online: readers keep working because the old KEK stays in the ring."""
        created = self._source.directory.generate()
        try:
            new = read_kek_file(created)
            report = await self._guarded.rotate_kek(caller, request_id, new)
        except BaseException:
            created.unlink(missing_ok=True)
            raise
        self._source.directory.set_current(new.kek_id)
        note = ""
        if "directory" not in self._source.description:
            note = (
                f"the KEK is configured by {self._source.description}; point BLACKTOP_SECRETS__KEK_FILE at {created} "
                "before the next restart"
            )
        return {
            "kekId": new.kek_id,
            "keyFile": str(created),
            "rewrapped": report.rewrapped,
            "alreadyCurrent": report.already_current,
            "skippedDestroyed": report.skipped_destroyed,
            "note": note,
        }


def wire(w: Wiring) -> None:
    """Register the secret store, its access rules and audit, the ESO and platform kinds, controllers and API."""
    source = load_keyring(w.settings)
    repository = SqlSecretVersionRepository(w.db)
    store = secrets.SecretStoreService(repository, keyring=source.ring, clock=w.clock, entropy=os.urandom)
    rbac = RbacAuthorizer(w.store)
    w.resources.add_listener(rbac.on_write)
    audit_log = AuditTrailLog(w.store, w.clock)
    guarded = guarding.GuardedSecretStore(store, grants=RbacGrants(rbac), audit=audit_log)
    w.add_kinds(secret_kinds.KINDS)
    runtime = sync.SecretsRuntime(
        store=store, guarded=guarded, resources=w.resources, clock=w.clock, audit=audit_log, entropy=os.urandom
    )
    w.controllers.extend(runtime.controllers())
    w.services["secrets"] = guarded
    w.services["secrets.kek"] = KekRotation(guarded, source)
    w.services["secrets.runtime"] = runtime
    w.routers.append(secrets_routes.router)
