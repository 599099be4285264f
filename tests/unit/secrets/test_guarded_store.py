"""The guarded store: every call authorized by path and audited with path, version and outcome, never a value.

Test design: the real ``SecretStoreService`` on the in-memory repository, fake grant source and
audit log (plain lists); each test checks both the result and the exact audit entries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import InputError, NotAllowedError
from blacktop.kernel.identity import Caller
from blacktop.secrets import SecretStoreService, crypto, errors, eso, guarding
from blacktop.secrets.adapters.memory import InMemorySecretVersionRepository
from blacktop.tenancy import Grant

ALICE = Caller(name="alice")
ROOT = Caller(name="root")
VALUE = "hunter2-do-not-log"


class Grants:
    async def grants(self, caller: Caller) -> Sequence[Grant]:
        if caller is ROOT:
            return [Grant("platform-admin", None, "test")]
        return [Grant("developer", "payments", "RoleBinding payments/devs")]


class Audit:
    def __init__(self) -> None:
        self.entries: list[guarding.SecretAuditEntry] = []

    async def record(self, entry: guarding.SecretAuditEntry) -> None:
        self.entries.append(entry)

    async def record_many(self, entries: Sequence[guarding.SecretAuditEntry]) -> None:
        self.entries.extend(entries)

    def rows(self) -> list[tuple[str, str, str, int | None, str, int]]:
        return [(e.caller.ref, e.action, e.path, e.version, e.outcome, e.code) for e in self.entries]


@pytest.fixture
def audit() -> Audit:
    return Audit()


@pytest.fixture
def guarded(audit: Audit) -> guarding.GuardedSecretStore:
    keyring = crypto.KeyRing(current=crypto.Kek("k1", b"k" * 32))
    store = SecretStoreService(
        InMemorySecretVersionRepository(), keyring=keyring, clock=FrozenClock(), entropy=os.urandom
    )
    return guarding.GuardedSecretStore(store, grants=Grants(), audit=audit)


async def test_writes_reads_and_reveals_are_audited_without_values(
    guarded: guarding.GuardedSecretStore, audit: Audit
) -> None:
    await guarded.put(ALICE, "r1", "payments/db", {"password": VALUE})
    described = await guarded.describe(ALICE, "r2", "payments/db")
    revealed = await guarded.reveal(ALICE, "r3", "payments/db")
    assert described.keys == ("password",)
    assert revealed.data == {"password": VALUE}
    assert audit.rows() == [
        ("user:alice", "put", "secret/data/payments/db", 1, "allowed", 200),
        ("user:alice", "describe", "secret/data/payments/db", 1, "allowed", 200),
        ("user:alice", "reveal", "secret/data/payments/db", 1, "allowed", 200),
    ]
    assert VALUE not in repr(audit.entries) and VALUE not in repr(revealed)


async def test_denials_and_failures_are_audited_too(guarded: guarding.GuardedSecretStore, audit: Audit) -> None:
    with pytest.raises(NotAllowedError, match="team 'orders'"):
        await guarded.reveal(ALICE, "r1", "orders/db")
    with pytest.raises(errors.SecretNotFound):
        await guarded.reveal(ALICE, "r2", "payments/missing")
    with pytest.raises(NotAllowedError, match="platform-admin only"):
        await guarded.rotate_kek(ALICE, "r3", crypto.Kek("k2", b"2" * 32))
    assert [(a, p, o, c) for _, a, p, _, o, c in audit.rows()] == [
        ("reveal", "secret/data/orders/db", "denied", 403),
        ("reveal", "secret/data/payments/missing", "rejected", 404),
        ("rotate-kek", "*", "denied", 403),
    ]


async def test_listing_leaves_out_paths_the_caller_may_not_see(guarded: guarding.GuardedSecretStore) -> None:
    await guarded.put(ROOT, "r", "payments/db", {"k": "v"})
    await guarded.put(ROOT, "r", "orders/db", {"k": "v"})
    assert [str(p) for p in await guarded.list(ALICE, "r", "")] == ["secret/payments/db"]
    assert len(await guarded.list(ROOT, "r", "")) == 2


async def test_rotate_regenerates_one_key_and_keeps_the_others(guarded: guarding.GuardedSecretStore) -> None:
    await guarded.put(ALICE, "r", "payments/api", {"token": "old", "user": "svc"})
    meta = await guarded.rotate(
        ALICE, "r", "payments/api", key="token", spec=eso.PasswordSpec(length=30, symbols=0), entropy=os.urandom
    )
    current = await guarded.reveal(ALICE, "r", "payments/api")
    assert meta.version == 2 and current.data["user"] == "svc"
    assert len(current.data["token"]) == 30 and current.data["token"] != "old"


async def test_undelete_and_destroy_need_versions(guarded: guarding.GuardedSecretStore) -> None:
    await guarded.put(ALICE, "r", "payments/db", {"k": "v"})
    with pytest.raises(InputError, match="destroy needs the versions"):
        await guarded.destroy(ALICE, "r", "payments/db", versions=[])


def test_password_spec_reports_every_problem() -> None:
    with pytest.raises(errors.ManifestError) as caught:
        guarding.password_spec({"length": 0, "encoding": "rot13"})
    assert sorted(p.path for p in caught.value.problems) == ["password.encoding", "password.length"]
