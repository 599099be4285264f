"""The ``SecretVersionRepository`` contract on the SQL adapter, on SQLite and on PostgreSQL.

Test design: the contract tests of ``tests/unit/secrets/test_repository_contract.py`` are imported
here and run again with the ``repository`` fixture replaced by the SQL adapter on both engines
(migrated with the real Alembic chain), plus the SQL-only cases: custom metadata and destroyed
versions round-trip, LIKE wildcards in prefixes are literal, the whole KV service runs on it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from blacktop import store
from blacktop.kernel.clock import FrozenClock
from blacktop.secrets import CheckAndSetConflict, SecretStoreService, SecretVersionUnavailable, crypto, model, ports
from blacktop.store.secrets import SqlSecretVersionRepository
from tests.unit.secrets.test_repository_contract import (  # noqa: F401 - re-run the contract here
    KEYS,
    PATH,
    row,
    test_commit_creates_then_checks_expected_version,
    test_purge_and_listing,
    test_read_returns_the_secret_with_current_or_named_version,
    test_replace_sealed_and_delete,
    version,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
async def repository(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlSecretVersionRepository]:
    sqlite = f"sqlite:///{tmp_path / 'state.db'}"
    url = sqlite if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    engine = store.build_engine(url)
    await store.migrate(engine)
    repo = SqlSecretVersionRepository(engine)
    for path in await repo.list_paths(""):
        await repo.delete(path)
    yield repo
    await engine.dispose()


async def test_custom_metadata_and_destroyed_versions_round_trip(repository: SqlSecretVersionRepository) -> None:
    secret = replace(row(1), custom_metadata=(("owner", "team-a"), ("rotate", "daily")))
    await repository.commit(secret, expected_current_version=None, versions=[version(1)])
    destroyed = replace(version(1), sealed=None, metadata=replace(version(1).metadata, destroyed=True))
    await repository.commit(secret, expected_current_version=1, versions=[destroyed])
    got = await repository.get(PATH)
    assert got == secret
    stored = await repository.get_version(PATH, 1)
    assert stored is not None
    assert (stored.sealed, stored.metadata.destroyed) == (None, True)


async def test_prefix_wildcards_are_literal(repository: SqlSecretVersionRepository) -> None:
    for text in ("team_a/db", "teamXa/db", "team_a2/db"):
        where = model.parse_secret_path(text)
        await repository.commit(replace(row(1), path=where), expected_current_version=None)
    assert [str(p) for p in await repository.list_paths("team_a")] == ["secret/team_a/db"]
    assert [str(p) for p in await repository.list_paths("team%")] == []


async def test_version_rows_keep_only_ciphertext(repository: SqlSecretVersionRepository) -> None:
    service = SecretStoreService(repository, keyring=KEYS, clock=FrozenClock(), entropy=os.urandom)
    await service.put("team-a/db", {"password": "hunter2-plaintext"}, actor="alice")
    stored = await repository.get_version(model.parse_secret_path("team-a/db"), 1)
    assert stored is not None and stored.sealed is not None
    assert b"hunter2-plaintext" not in stored.sealed.ciphertext
    assert (await service.get("team-a/db")).data == {"password": "hunter2-plaintext"}


async def test_kv_service_semantics_on_sql(repository: SqlSecretVersionRepository) -> None:
    clock = FrozenClock()
    service = SecretStoreService(repository, keyring=KEYS, clock=clock, entropy=os.urandom)
    for i in range(12):
        await service.put("team-a/api", {"token": f"t{i}"}, actor="alice")
    meta = await service.read_metadata("team-a/api")
    assert (meta.current_version, meta.oldest_version, sorted(meta.versions)[0]) == (12, 3, 3)
    with pytest.raises(CheckAndSetConflict):
        await service.put("team-a/api", {"token": "x"}, actor="alice", cas=3)
    await service.delete("team-a/api", actor="alice", versions=[12])
    with pytest.raises(SecretVersionUnavailable, match="deleted"):
        await service.get("team-a/api")
    await service.undelete("team-a/api", actor="alice", versions=[12])
    assert (await service.get("team-a/api")).data == {"token": "t11"}
    await service.destroy("team-a/api", actor="alice", versions=[11])
    with pytest.raises(SecretVersionUnavailable, match="destroyed"):
        await service.get("team-a/api", version=11)
    report = await service.rotate_kek(crypto.Kek(kek_id="k2", key=b"2" * 32))
    assert (report.rewrapped, report.skipped_destroyed) == (9, 1)
    rows = await repository.list_versions(model.parse_secret_path("team-a/api"))
    assert {r.sealed.kek_id for r in rows if r.sealed is not None} == {"k2"}
    assert (await service.get("team-a/api", version=5)).data == {"token": "t4"}


async def test_concurrent_first_writes_conflict(repository: SqlSecretVersionRepository) -> None:
    await repository.commit(row(1), expected_current_version=None, versions=[version(1)])
    with pytest.raises(CheckAndSetConflict):
        await repository.commit(row(1), expected_current_version=None, versions=[version(1)])
    assert isinstance(await repository.get(PATH), ports.StoredSecret)
