"""LocalProvider on a fake PostgreSQL: provisioning, idempotency, drift, rotation, outages, deletion.

Test design notes: the fake keeps server state in dicts, so each test can change it "by hand"
between reconciles (drop a role, change a password, stop the server) and check the provider's
next reconcile repairs exactly that. The engine side (conditions, backoff) is covered in
``test_controllers``; real servers in ``tests/integration/resources/providers``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.providers import LocalProvider, Outcome, model

from .fakes import FakePostgres

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REF = model.SecretRef("team-a", "db-conn")


def db(**for_provider: Any) -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": "PostgresDatabase",
        "metadata": {"name": "db", "namespace": "team-a", "uid": "u-1"},
        "spec": {"forProvider": for_provider, "writeConnectionSecretToRef": {"name": "db-conn"}},
    }


@pytest.fixture
def server() -> FakePostgres:
    return FakePostgres()


@pytest.fixture
def sink() -> InMemoryConnectionSecretSink:
    return InMemoryConnectionSecretSink()


@pytest.fixture
def provider(server: FakePostgres, sink: InMemoryConnectionSecretSink) -> LocalProvider:
    counter = itertools.count(1)
    return LocalProvider(
        postgres=server, mysql=None, redis=None, secrets=sink,
        new_password=lambda: f"pw-{next(counter)}", rotation_cadences={"service-account": timedelta(days=90)},
    )  # fmt: skip


async def reconcile(provider: LocalProvider, obj: dict[str, Any], now: datetime = NOW) -> Outcome:
    outcome = await provider.reconcile("PostgresDatabase", obj, now=now)
    obj["status"] = {"atProvider": dict(outcome.at_provider)} if outcome.at_provider else obj.get("status", {})
    return outcome


async def test_provisions_role_and_database_and_publishes_the_password(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    outcome = await reconcile(provider, db())
    assert (outcome.ready, outcome.reason) == (True, "Available")
    assert server.roles["team_a__db"].password == "pw-1"
    assert server.databases["team_a__db"].owner == "team_a__db"
    assert server.databases["team_a__db"].public_connect is False
    secret = sink.secrets[REF]
    assert (secret["username"], secret["password"], secret["database"], secret["port"]) == (
        "team_a__db", "pw-1", "team_a__db", "5432",
    )  # fmt: skip
    assert outcome.at_provider["passwordChangedAt"] == "2026-11-26T12:00:00Z"


async def test_second_reconcile_changes_nothing(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    obj = db()
    first = await reconcile(provider, obj)
    second = await reconcile(provider, obj, NOW + timedelta(minutes=5))
    assert server.applied[-1] == ()
    assert sink.versions[REF] == 1
    assert second == first, "same outcome, so the engine writes no status"


async def test_role_dropped_by_hand_comes_back_with_the_stored_password(
    provider: LocalProvider, server: FakePostgres
) -> None:
    obj = db()
    await reconcile(provider, obj)
    del server.roles["team_a__db"]
    outcome = await reconcile(provider, obj)
    assert outcome.ready and server.roles["team_a__db"].password == "pw-1"


async def test_password_changed_by_hand_is_set_back(provider: LocalProvider, server: FakePostgres) -> None:
    obj = db()
    await reconcile(provider, obj)
    server.roles["team_a__db"].password = "guessed"
    await reconcile(provider, obj)
    assert server.roles["team_a__db"].password == "pw-1"


async def test_rotation_annotation_sets_a_new_password_on_server_and_in_the_secret_once(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    obj = db()
    await reconcile(provider, obj)
    obj["metadata"]["annotations"] = {model.ROTATE_ANNOTATION: "now-1"}
    later = NOW + timedelta(hours=1)
    outcome = await reconcile(provider, obj, later)
    assert server.roles["team_a__db"].password == sink.secrets[REF]["password"] == "pw-2"
    assert outcome.at_provider["rotatedFor"] == "now-1"
    assert outcome.at_provider["passwordChangedAt"] == "2026-11-26T13:00:00Z"
    await reconcile(provider, obj, later + timedelta(minutes=1))
    assert sink.secrets[REF]["password"] == "pw-2", "the same request does not rotate twice"


async def test_rotation_policy_rotates_on_its_cadence(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    obj = db(passwordRotationPolicy="service-account")
    first = await reconcile(provider, obj)
    assert first.requeue_after == timedelta(days=90)
    await reconcile(provider, obj, NOW + timedelta(days=30))
    assert sink.secrets[REF]["password"] == "pw-1"
    await reconcile(provider, obj, NOW + timedelta(days=90))
    assert server.roles["team_a__db"].password == sink.secrets[REF]["password"] == "pw-2"


async def test_unknown_rotation_policy_is_an_invalid_spec(provider: LocalProvider) -> None:
    outcome = await reconcile(provider, db(passwordRotationPolicy="weekly"))
    assert (outcome.ready, outcome.reason) == (False, "InvalidSpec")
    assert "service-account" in outcome.message


async def test_unreachable_server_is_a_retry_with_the_reason_and_recovers(
    provider: LocalProvider, server: FakePostgres
) -> None:
    server.down = True
    obj = db()
    down = await reconcile(provider, obj)
    assert (down.ready, down.reason, down.retry) == (False, "ServerUnreachable", True)
    assert "connection refused" in down.message
    server.down = False
    assert (await reconcile(provider, obj)).ready


async def test_database_of_someone_else_is_not_adopted(provider: LocalProvider, server: FakePostgres) -> None:
    from .fakes import Database

    server.databases["team_a__db"] = Database(owner="postgres", marker=None)
    outcome = await reconcile(provider, db())
    assert (outcome.ready, outcome.reason) == (False, "AlreadyExists")
    assert "team_a__db" not in server.roles


async def test_invalid_spec_is_reported_with_field_paths(provider: LocalProvider) -> None:
    outcome = await reconcile(provider, db(databaseName="team_b__steal"))
    assert (outcome.ready, outcome.reason, outcome.retry) == (False, "InvalidSpec", False)
    assert "spec.forProvider.databaseName" in outcome.message


async def test_kind_without_a_configured_server_says_how_to_configure_it(provider: LocalProvider) -> None:
    obj = db()
    obj["kind"] = "MySQLDatabase"
    outcome = await provider.reconcile("MySQLDatabase", obj, now=NOW)
    assert (outcome.ready, outcome.reason) == (False, "ServerNotConfigured")
    assert "BLACKTOP_PROVIDERS__MYSQL_URL" in outcome.message


async def test_finalize_drops_database_role_and_secret(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    obj = db()
    await reconcile(provider, obj)
    outcome = await provider.finalize("PostgresDatabase", obj)
    assert outcome.finished
    assert not server.roles and not server.databases and REF not in sink.secrets


async def test_finalize_with_orphan_policy_keeps_the_server_objects(
    provider: LocalProvider, server: FakePostgres, sink: InMemoryConnectionSecretSink
) -> None:
    obj = db()
    obj["spec"]["deletionPolicy"] = "Orphan"
    await reconcile(provider, obj)
    await provider.finalize("PostgresDatabase", obj)
    assert "team_a__db" in server.roles and "team_a__db" in server.databases
    assert REF not in sink.secrets


async def test_finalize_waits_while_the_server_is_down(provider: LocalProvider, server: FakePostgres) -> None:
    obj = db()
    await reconcile(provider, obj)
    server.down = True
    outcome = await provider.finalize("PostgresDatabase", obj)
    assert (outcome.finished, outcome.retry, outcome.reason) == (False, True, "ServerUnreachable")
