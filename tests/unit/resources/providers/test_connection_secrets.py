"""Connection details in the platform secret store, and read back for the claim lifecycle.

Test design notes: the sink runs on the real secret-store service over its in-memory repository,
so encryption, versioning and deletion are the store's own. A rotation must be a new version
(the previous password stays in the version history), and deletion removes every version.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.resources import providers
from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.providers import SecretStoreConnectionSink, SinkDetailsReader, model
from blacktop.secrets import SecretStoreService, crypto
from blacktop.secrets.adapters.memory import InMemorySecretVersionRepository

REF = model.SecretRef("orders-team", "orders-db-conn")


@pytest.fixture
def store() -> SecretStoreService:
    keyring = crypto.KeyRing(current=crypto.Kek(kek_id="kek-1", key=bytes(range(32))))
    return SecretStoreService(
        InMemorySecretVersionRepository(), keyring=keyring, clock=FrozenClock(), entropy=os.urandom
    )


async def test_details_are_versioned_in_the_store_under_the_team(store: SecretStoreService) -> None:
    sink = SecretStoreConnectionSink(store)
    assert await sink.get(REF) is None
    await sink.put(REF, {"username": "u", "password": "one"}, owner="PostgresDatabase/orders-team/db")
    await sink.put(REF, {"username": "u", "password": "two"}, owner="PostgresDatabase/orders-team/db")
    assert await sink.get(REF) == {"username": "u", "password": "two"}
    path = providers.secret_path(REF)
    assert path == "orders-team/managed/orders-db-conn"
    assert (await store.get(path, version=1)).data["password"] == "one", "the previous password stays in history"
    await sink.delete(REF)
    await sink.delete(REF)
    assert await sink.get(REF) is None


def local(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": "PostgresDatabase",
        "metadata": {"name": "db", "namespace": "orders-team"},
        "spec": spec,
    }


async def test_details_reader_finds_what_a_local_resource_published() -> None:
    sink = InMemoryConnectionSecretSink()
    reader = SinkDetailsReader(sink)
    resource = local(writeConnectionSecretToRef={"name": "orders-db-conn"})
    assert await reader.fetch(resource) is None
    await sink.put(REF, {"password": "p", "port": "5432"}, owner="x")
    assert await reader.fetch(resource) == {"password": b"p", "port": b"5432"}
    assert await reader.fetch({"apiVersion": "rds.aws.upbound.io/v1beta1", "kind": "Instance"}) is None


def test_the_owning_team_may_read_the_details_and_another_team_may_not() -> None:
    from blacktop import tenancy
    from blacktop.kernel.identity import Caller
    from blacktop.secrets import access, parse_secret_path

    path = parse_secret_path(providers.secret_path(REF))
    alice = Caller("alice")
    own = [tenancy.Grant(role="developer", namespace="orders-team", source="test")]
    other = [tenancy.Grant(role="developer", namespace="payments", source="test")]
    assert access.decide(alice, access.SecretOperation.READ, path, own).allowed
    assert not access.decide(alice, access.SecretOperation.READ, path, other).allowed
