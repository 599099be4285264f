"""Vault KV v2 semantics of the embedded store: versions, check-and-set, delete/undelete/destroy,
max versions, metadata, and KEK rotation keeping every version readable.

Test design: each test drives the service on the in-memory repository, which stores exactly what
a SQL adapter would (sealed bytes plus metadata), then asserts on what a Vault client would see.
"""

from __future__ import annotations

import os
import string
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import ConflictError, InputError, NotFoundError
from blacktop.secrets import crypto
from blacktop.secrets.adapters.memory import InMemorySecretVersionRepository
from blacktop.secrets.errors import (
    CheckAndSetConflict,
    SecretIntegrityError,
    SecretNotFound,
    SecretVersionUnavailable,
)
from blacktop.secrets.model import parse_secret_path
from blacktop.secrets.service import SecretStoreService

PATH = "secret/data/payments/database"


async def test_put_then_get_latest_and_version_n(service: SecretStoreService, clock: FrozenClock) -> None:
    first = await service.put(PATH, {"password": "one"}, actor="alice")
    clock.advance(timedelta(minutes=5))
    second = await service.put(PATH, {"password": "two"}, actor="bob")
    assert (first.version, second.version) == (1, 2)
    assert (await service.get(PATH)).data == {"password": "two"}
    assert (await service.get(PATH, version=1)).data == {"password": "one"}
    meta = await service.read_metadata("payments/database")
    assert meta.current_version == 2
    assert meta.created_time == clock.now() - timedelta(minutes=5)
    assert meta.updated_time == clock.now()
    assert meta.updated_by == "bob"
    assert meta.versions[1].created_by == "alice"


CAS_CASES = {
    "cas0-on-new-secret-writes": (None, 0, None),
    "cas0-on-existing-secret-conflicts": ({"a": "1"}, 0, "not to exist"),
    "cas-current-version-writes": ({"a": "1"}, 1, None),
    "cas-stale-version-conflicts": ({"a": "1"}, 5, "at version 1"),
}


@pytest.mark.parametrize(("existing", "cas", "error"), CAS_CASES.values(), ids=CAS_CASES.keys())
async def test_check_and_set(
    service: SecretStoreService, existing: dict[str, str] | None, cas: int, error: str | None
) -> None:
    if existing is not None:
        await service.put(PATH, existing, actor="alice")
    if error is None:
        await service.put(PATH, {"a": "2"}, actor="alice", cas=cas)
        assert (await service.get(PATH)).data == {"a": "2"}
    else:
        with pytest.raises(CheckAndSetConflict, match=error) as info:
            await service.put(PATH, {"a": "2"}, actor="alice", cas=cas)
        assert isinstance(info.value, ConflictError)


async def test_cas_required_refuses_blind_writes(service: SecretStoreService) -> None:
    await service.put(PATH, {"a": "1"}, actor="alice")
    await service.configure(PATH, actor="admin", cas_required=True)
    with pytest.raises(CheckAndSetConflict, match="requires check-and-set"):
        await service.put(PATH, {"a": "2"}, actor="alice")
    await service.put(PATH, {"a": "2"}, actor="alice", cas=1)


async def test_concurrent_writer_loses_at_commit(repo: InMemorySecretVersionRepository) -> None:
    keys = crypto.KeyRing(current=crypto.Kek(kek_id="k", key=b"k" * 32))
    one = SecretStoreService(repo, keyring=keys, clock=FrozenClock(), entropy=os.urandom)
    await one.put(PATH, {"a": "1"}, actor="a")
    row = await repo.get(parse_secret_path(PATH))
    assert row is not None
    with pytest.raises(CheckAndSetConflict):
        await repo.commit(row, expected_current_version=0)


async def test_soft_delete_undelete_and_destroy(service: SecretStoreService) -> None:
    for value in ("v1", "v2", "v3"):
        await service.put(PATH, {"k": value}, actor="alice")
    await service.delete(PATH, actor="alice")
    with pytest.raises(SecretVersionUnavailable, match="version 3 is deleted"):
        await service.get(PATH)
    assert (await service.read_metadata(PATH)).versions[3].deletion_time is not None
    await service.undelete(PATH, actor="alice", versions=[3])
    assert (await service.get(PATH)).data == {"k": "v3"}
    await service.destroy(PATH, actor="alice", versions=[1])
    with pytest.raises(SecretVersionUnavailable, match="version 1 is destroyed"):
        await service.get(PATH, version=1)
    await service.undelete(PATH, actor="alice", versions=[1])
    with pytest.raises(SecretVersionUnavailable, match="destroyed"):
        await service.get(PATH, version=1)
    meta = await service.read_metadata(PATH)
    assert meta.versions[1].destroyed
    assert (await service.get(PATH, version=2)).data == {"k": "v2"}


async def test_destroy_removes_ciphertext_from_storage(
    service: SecretStoreService, repo: InMemorySecretVersionRepository
) -> None:
    await service.put(PATH, {"k": "v"}, actor="alice")
    await service.destroy(PATH, actor="alice", versions=[1])
    row = await repo.get_version(parse_secret_path(PATH), 1)
    assert row is not None
    assert row.sealed is None


async def test_max_versions_purges_oldest(service: SecretStoreService) -> None:
    await service.put(PATH, {"k": "0"}, actor="alice")
    await service.configure(PATH, actor="admin", max_versions=3)
    for i in range(1, 6):
        await service.put(PATH, {"k": str(i)}, actor="alice")
    meta = await service.read_metadata(PATH)
    assert sorted(meta.versions) == [4, 5, 6]
    assert meta.oldest_version == 4
    with pytest.raises(SecretVersionUnavailable, match="no version 2"):
        await service.get(PATH, version=2)


async def test_missing_secret_and_metadata_delete(service: SecretStoreService) -> None:
    with pytest.raises(SecretNotFound) as info:
        await service.get("payments/nope")
    assert isinstance(info.value, NotFoundError)
    await service.put(PATH, {"k": "v"}, actor="alice")
    await service.delete_metadata(PATH)
    with pytest.raises(SecretNotFound):
        await service.read_metadata(PATH)


async def test_list_paths_by_prefix(service: SecretStoreService) -> None:
    for name in ("payments/db", "payments/stripe", "search/db", "payments-x/db"):
        await service.put(name, {"k": "v"}, actor="alice")
    assert [p.path for p in await service.list_paths("payments/")] == ["payments/db", "payments/stripe"]


BAD_INPUT = {
    "non-string-value": (PATH, {"k": 1}, "data.k"),
    "dot-dot-segment": ("secret/data/payments/../admin", {"k": "v"}, "path"),
    "empty-path": ("secret/data/", {"k": "v"}, "path"),
}


@pytest.mark.parametrize(("path", "data", "problem"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_bad_input_is_refused_with_field_paths(
    service: SecretStoreService, path: str, data: dict[str, object], problem: str
) -> None:
    with pytest.raises(InputError) as info:
        await service.put(path, data, actor="alice")  # type: ignore[arg-type]
    assert problem in [p.path for p in info.value.problems]


PATHS = {
    "vault-data-path": ("secret/data/payments/database", "secret", "payments/database"),
    "vault-metadata-path": ("secret/metadata/payments/database", "secret", "payments/database"),
    "mount-without-infix": ("secret/payments/database", "secret", "payments/database"),
    "bare-path": ("payments/database", "secret", "payments/database"),
    "other-mount": ("kv/data/team/x", "kv", "team/x"),
}


@pytest.mark.parametrize(("text", "mount", "path"), PATHS.values(), ids=PATHS.keys())
def test_parse_secret_path(text: str, mount: str, path: str) -> None:
    parsed = parse_secret_path(text)
    assert (parsed.mount, parsed.path) == (mount, path)


async def test_kek_rotation_keeps_every_version_readable(
    service: SecretStoreService, repo: InMemorySecretVersionRepository
) -> None:
    for i in range(4):
        await service.put(PATH, {"k": f"v{i}"}, actor="alice")
    await service.put("search/db", {"k": "s"}, actor="alice")
    await service.destroy(PATH, actor="alice", versions=[1])
    report = await service.rotate_kek(crypto.Kek(kek_id="kek-2", key=b"\x07" * 32))
    assert (report.rewrapped, report.skipped_destroyed) == (4, 1)
    for version in (2, 3, 4):
        assert (await service.get(PATH, version=version)).data == {"k": f"v{version - 1}"}
    # After rotation the old KEK can be dropped entirely.
    fresh = SecretStoreService(
        repo, keyring=crypto.KeyRing(current=service.keyring.current), clock=FrozenClock(), entropy=os.urandom
    )
    assert (await fresh.get("search/db")).data == {"k": "s"}
    assert (await service.rotate_kek(crypto.Kek(kek_id="kek-2", key=b"\x07" * 32))).rewrapped == 0


async def test_wrong_kek_fails_cleanly_at_service_level(repo: InMemorySecretVersionRepository) -> None:
    good = crypto.KeyRing(current=crypto.Kek(kek_id="kek-1", key=b"a" * 32))
    bad = crypto.KeyRing(current=crypto.Kek(kek_id="kek-1", key=b"b" * 32))
    await SecretStoreService(repo, keyring=good, clock=FrozenClock(), entropy=os.urandom).put(
        PATH, {"k": "v"}, actor="a"
    )
    with pytest.raises(SecretIntegrityError, match="secret secret/payments/database version 1"):
        await SecretStoreService(repo, keyring=bad, clock=FrozenClock(), entropy=os.urandom).get(PATH)


async def test_plaintext_never_reaches_the_repository(
    service: SecretStoreService, repo: InMemorySecretVersionRepository
) -> None:
    await service.put(PATH, {"password": "s3cr3t-plaintext-value"}, actor="alice")
    assert b"s3cr3t-plaintext-value" not in repo.raw_bytes()
    assert "s3cr3t" not in repr(await service.get(PATH))


class ReadingWhileRewrapping(InMemorySecretVersionRepository):
    """Reads every version through the service between individual re-wraps (no downtime)."""

    def __init__(self) -> None:
        super().__init__()
        self.service: SecretStoreService | None = None
        self.checks = 0

    async def replace_sealed(self, path: Any, version: int, sealed: crypto.SealedValue) -> None:
        assert self.service is not None
        for number in (1, 2, 3):
            assert (await self.service.get(PATH, version=number)).data == {"k": str(number)}
            self.checks += 1
        await super().replace_sealed(path, version, sealed)


async def test_versions_stay_readable_during_kek_rotation() -> None:
    repo = ReadingWhileRewrapping()
    keys = crypto.KeyRing(current=crypto.Kek(kek_id="old", key=b"o" * 32))
    service = SecretStoreService(repo, keyring=keys, clock=FrozenClock(), entropy=os.urandom)
    repo.service = service
    for number in (1, 2, 3):
        await service.put(PATH, {"k": str(number)}, actor="a")
    report = await service.rotate_kek(crypto.Kek(kek_id="new", key=b"n" * 32))
    assert report.rewrapped == 3
    assert repo.checks == 9
    # New writes during or after rotation use the new KEK.
    await service.put(PATH, {"k": "4"}, actor="a")
    newest = await repo.get_version(parse_secret_path(PATH), 4)
    assert newest is not None
    assert newest.sealed is not None
    assert newest.sealed.kek_id == "new"


SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "._@-", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_vault_data_paths_round_trip(segments: list[str]) -> None:
    path = "/".join(segments)
    parsed = parse_secret_path(f"secret/data/{path}")
    assert (parsed.mount, parsed.path) == ("secret", path)
    assert parse_secret_path(parsed.api_path) == parsed
