"""Contract of ``SecretVersionRepository``: any adapter (in-memory now, SQL later) must pass it.

Add a SQL adapter by adding a fixture param; nothing else changes. The contract pins the atomic
``commit`` check, purge, re-wrap swap and prefix listing the service relies on.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from blacktop.secrets import crypto, model, ports
from blacktop.secrets.adapters.keyfiles import keyring_from_files
from blacktop.secrets.adapters.memory import InMemorySecretVersionRepository
from blacktop.secrets.errors import CheckAndSetConflict

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PATH = model.parse_secret_path("team-a/db")
KEYS = crypto.KeyRing(current=crypto.Kek(kek_id="k1", key=b"1" * 32))


@pytest.fixture(params=["memory"])
def repository(request: pytest.FixtureRequest) -> ports.SecretVersionRepository:
    assert request.param == "memory"
    return InMemorySecretVersionRepository()


def row(current: int) -> ports.StoredSecret:
    return ports.StoredSecret(
        path=PATH,
        current_version=current,
        oldest_version=1,
        max_versions=10,
        cas_required=False,
        created_time=T0,
        updated_time=T0,
        updated_by="a",
    )


def version(number: int) -> ports.StoredVersion:
    sealed = crypto.seal(b"x", aad=crypto.associated_data(str(PATH), number), keyring=KEYS, entropy=os.urandom)
    return ports.StoredVersion(
        path=PATH, metadata=model.VersionMetadata(version=number, created_time=T0, created_by="a"), sealed=sealed
    )


async def test_commit_creates_then_checks_expected_version(repository: ports.SecretVersionRepository) -> None:
    await repository.commit(row(1), expected_current_version=None, versions=[version(1)])
    with pytest.raises(CheckAndSetConflict):
        await repository.commit(row(2), expected_current_version=None, versions=[version(2)])
    with pytest.raises(CheckAndSetConflict):
        await repository.commit(row(2), expected_current_version=7, versions=[version(2)])
    assert await repository.get_version(PATH, 2) is None
    await repository.commit(row(2), expected_current_version=1, versions=[version(2)])
    stored = await repository.get(PATH)
    assert stored is not None
    assert stored.current_version == 2


async def test_purge_and_listing(repository: ports.SecretVersionRepository) -> None:
    await repository.commit(row(3), expected_current_version=None, versions=[version(1), version(2), version(3)])
    await repository.commit(row(3), expected_current_version=3, purge_versions=[1])
    assert [v.metadata.version for v in await repository.list_versions(PATH)] == [2, 3]
    other = model.parse_secret_path("team-b/db")
    await repository.commit(
        ports.StoredSecret(
            path=other,
            current_version=1,
            oldest_version=1,
            max_versions=10,
            cas_required=False,
            created_time=T0,
            updated_time=T0,
            updated_by="a",
        ),
        expected_current_version=None,
    )
    assert await repository.list_paths("team-a") == [PATH]
    assert len(await repository.list_paths("")) == 2


async def test_replace_sealed_and_delete(repository: ports.SecretVersionRepository) -> None:
    await repository.commit(row(1), expected_current_version=None, versions=[version(1)])
    fresh = version(1).sealed
    assert fresh is not None
    await repository.replace_sealed(PATH, 1, fresh)
    got = await repository.get_version(PATH, 1)
    assert got is not None
    assert got.sealed == fresh
    await repository.delete(PATH)
    assert await repository.get(PATH) is None
    assert await repository.list_versions(PATH) == []


def test_kek_files_are_read_by_stem_and_must_be_private(tmp_path: Path) -> None:
    current = tmp_path / "kek-2026.key"
    current.write_text("MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=\n")
    current.chmod(0o600)
    ring = keyring_from_files(current)
    assert (ring.current.kek_id, ring.current.key) == ("kek-2026", b"1" * 32)
    current.chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        keyring_from_files(current)


async def test_read_returns_the_secret_with_current_or_named_version(repository: ports.SecretVersionRepository) -> None:
    assert await repository.read(PATH, None) is None
    await repository.commit(row(2), expected_current_version=None, versions=[version(1), version(2)])
    found = await repository.read(PATH, None)
    assert found is not None and found[0].current_version == 2
    direct = await repository.get_version(PATH, 2)
    assert found[1] is not None and direct is not None
    assert (found[1].metadata.version, found[1].sealed) == (2, direct.sealed)
    older = await repository.read(PATH, 1)
    assert older is not None and older[1] is not None and older[1].metadata.version == 1
    missing = await repository.read(PATH, 7)
    assert missing is not None and missing[1] is None
