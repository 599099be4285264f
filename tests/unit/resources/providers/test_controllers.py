"""The engine side of the local provider: conditions, status, backoff on an unreachable server.

Test design notes: the controllers run on the fake PostgreSQL and the plans they return are
applied by hand (status copied onto the object), as the engine would. What matters is the
sequence an operator sees: Ready=False with the reason once, then retries spaced by the engine's
backoff (TemporaryFailure with a doubling delay) without rewriting status, then Ready=True.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blacktop import engine
from blacktop.kernel.errors import TemporaryFailure
from blacktop.kernel.resources import ResourceKey, find_condition
from blacktop.resources.adapters.memory import InMemoryConnectionSecretSink
from blacktop.resources.providers import LocalProvider, model
from blacktop.wiring.providers import ProviderControllers, new_password

from .fakes import FakePostgres

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def db() -> dict[str, Any]:
    return {
        "apiVersion": model.API_VERSION,
        "kind": "PostgresDatabase",
        "metadata": {
            "name": "db",
            "namespace": "team-a",
            "uid": "u-1",
            "generation": 1,
            "finalizers": [model.FINALIZER],
        },
        "spec": {"forProvider": {}},
    }


def ctx(attempt: int = 0) -> engine.ReconcileContext:
    return engine.ReconcileContext(
        key=ResourceKey(model.GROUP, "PostgresDatabase", "team-a", "db"), now=NOW, attempt=attempt
    )


def applied(obj: dict[str, Any], plan: engine.Plan) -> dict[str, Any]:
    for action in plan.actions:
        assert isinstance(action, engine.SetStatus)
        obj = {**obj, "status": dict(action.status)}
    return obj


@pytest.fixture
def server() -> FakePostgres:
    return FakePostgres()


@pytest.fixture
def controllers(server: FakePostgres) -> ProviderControllers:
    counter = itertools.count(1)
    provider = LocalProvider(
        postgres=server, mysql=None, redis=None, secrets=InMemoryConnectionSecretSink(),
        new_password=lambda: f"pw-{next(counter)}", rotation_cadences={},
    )  # fmt: skip
    return ProviderControllers(provider, retry_base=timedelta(seconds=1), retry_cap=timedelta(seconds=30))


def test_one_controller_per_local_kind_with_the_finalizer(controllers: ProviderControllers) -> None:
    found = {(c.kind, c.finalizer) for c in controllers.controllers()}
    assert found == {(k, model.FINALIZER) for k in ("PostgresDatabase", "MySQLDatabase", "RedisUser")}


async def test_unreachable_server_reports_once_then_backs_off_then_recovers(
    controllers: ProviderControllers, server: FakePostgres
) -> None:
    server.down = True
    obj = db()
    plan = await controllers.reconcile("PostgresDatabase", obj, ctx())
    obj = applied(obj, plan)
    ready = find_condition(obj, "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", "ServerUnreachable")
    assert "connection refused" in ready["message"]
    assert find_condition(obj, "Synced")["reason"] == "ReconcileError"  # type: ignore[index]
    assert plan.requeue_after == timedelta(seconds=1)

    delays = []
    for attempt in range(1, 7):
        with pytest.raises(TemporaryFailure) as raised:
            await controllers.reconcile("PostgresDatabase", obj, ctx(attempt))
        delays.append(raised.value.delay.total_seconds())
    assert delays == [2, 4, 8, 16, 30, 30]

    server.down = False
    obj = applied(obj, await controllers.reconcile("PostgresDatabase", obj, ctx(7)))
    ready = find_condition(obj, "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == ("True", "Available")
    assert find_condition(obj, "Synced")["status"] == "True"  # type: ignore[index]
    assert obj["status"]["atProvider"]["database"] == "team_a__db"
    assert await controllers.reconcile("PostgresDatabase", obj, ctx()) == engine.Plan(), "in sync: nothing to write"


async def test_finalize_keeps_the_finalizer_while_the_server_is_down(
    controllers: ProviderControllers, server: FakePostgres
) -> None:
    obj = applied(db(), await controllers.reconcile("PostgresDatabase", db(), ctx()))
    server.down = True
    waiting = await controllers.finalize("PostgresDatabase", obj, ctx())
    assert waiting.requeue_after is not None, "a requeue tells the engine the clean-up is not finished"
    server.down = False
    assert await controllers.finalize("PostgresDatabase", obj, ctx()) == engine.Plan()
    assert server.roles == {} and server.databases == {}


def test_generated_passwords_are_long_and_url_safe() -> None:
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) == 32 and p.isalnum() for p in passwords)
