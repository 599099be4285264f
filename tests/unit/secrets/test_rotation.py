"""Rotation with a controllable clock: a 24h-cadence token rotates, consumers see the new value
after their refresh, and the old version is readable through the grace period and not after.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from blacktop.kernel.clock import FrozenClock
from blacktop.kernel.errors import InputError
from blacktop.secrets import eso, refreshing, rotation, syncing
from blacktop.secrets.adapters.embedded import EmbeddedStoreReader
from blacktop.secrets.errors import SecretVersionUnavailable
from blacktop.secrets.generators import generate_password
from blacktop.secrets.service import SecretStoreService
from blacktop.secrets.templating import TemplateEngine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = rotation.SHORT_LIVED_TOKEN
TOKEN = eso.PasswordSpec(length=32, symbols=0)

CONSUMER = eso.parse_eso_document(
    {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "api-token", "namespace": "payments"},
        "spec": {
            "refreshInterval": "15m",
            "secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"},
            "data": [{"secretKey": "token", "remoteRef": {"key": "payments/api-token", "property": "token"}}],
        },
    }
)


def token() -> str:
    return generate_password(TOKEN, entropy=os.urandom)["password"].decode()


async def test_24h_token_rotates_consumers_follow_and_old_version_expires_after_grace(
    service: SecretStoreService, clock: FrozenClock
) -> None:
    assert isinstance(CONSUMER, eso.ExternalSecret)
    engine = TemplateEngine(clock=clock.now, entropy=os.urandom)
    reader = EmbeddedStoreReader(service)
    clock.set(T0)
    first = token()
    await service.put("payments/api-token", {"token": first}, actor="rotation")

    async def consumer_sync() -> bytes:
        fetched = await reader.fetch(syncing.plan_fetches(CONSUMER.spec))
        return syncing.compute_target(CONSUMER, fetched, engine=engine, entropy=os.urandom).data["token"]

    assert await consumer_sync() == first.encode()
    status = refreshing.synced(CONSUMER, now=clock.now())

    clock.advance(timedelta(hours=23, minutes=59))
    plan = rotation.plan_rotation(POLICY, await service.read_metadata("payments/api-token"), now=clock.now())
    assert not plan.rotate
    assert plan.requeue_after == timedelta(minutes=1)

    clock.advance(timedelta(minutes=1))
    plan = rotation.plan_rotation(POLICY, await service.read_metadata("payments/api-token"), now=clock.now())
    assert plan.rotate
    assert plan.next_rotation_at == T0 + timedelta(hours=24)
    second = token()
    assert second != first
    await service.put("payments/api-token", {"token": second}, actor="rotation")

    # The consumer is due on its own refresh cadence and then sees the new value.
    assert refreshing.should_refresh(CONSUMER, status, now=clock.now())
    assert await consumer_sync() == second.encode()

    # Within the grace period the old version stays readable.
    clock.advance(timedelta(minutes=59))
    assert (await service.get("payments/api-token", version=1)).data == {"token": first}
    plan = rotation.plan_rotation(POLICY, await service.read_metadata("payments/api-token"), now=clock.now())
    assert plan.expire_versions == ()
    assert plan.requeue_after == timedelta(minutes=1)

    # After it, the plan expires it and it can no longer be read.
    clock.advance(timedelta(minutes=1))
    plan = rotation.plan_rotation(POLICY, await service.read_metadata("payments/api-token"), now=clock.now())
    assert plan.expire_versions == (1,)
    assert not plan.rotate
    await service.destroy("payments/api-token", actor="rotation", versions=plan.expire_versions)
    with pytest.raises(SecretVersionUnavailable):
        await service.get("payments/api-token", version=1)
    assert (await service.get("payments/api-token")).data == {"token": second}


DUE = {
    "never-rotated": (None, T0, True),
    "one-second-before-cadence": (T0, T0 + timedelta(hours=24) - timedelta(seconds=1), False),
    "exactly-at-cadence": (T0, T0 + timedelta(hours=24), True),
    "long-overdue": (T0, T0 + timedelta(days=9), True),
}


@pytest.mark.parametrize(("last", "now", "due"), DUE.values(), ids=DUE.keys())
def test_is_due(last: datetime | None, now: datetime, due: bool) -> None:
    assert rotation.is_due(POLICY, last_rotated_at=last, now=now) is due


READABLE = {
    "current-version": (None, T0, True),
    "inside-grace": (T0, T0 + timedelta(minutes=59), True),
    "at-grace-end": (T0, T0 + timedelta(hours=1), False),
}


@pytest.mark.parametrize(("superseded", "now", "readable"), READABLE.values(), ids=READABLE.keys())
def test_version_readability_in_grace_period(superseded: datetime | None, now: datetime, readable: bool) -> None:
    assert rotation.is_version_readable(POLICY, superseded_at=superseded, now=now) is readable


def test_built_in_policies_match_the_design() -> None:
    assert rotation.BUILT_IN_POLICIES["service-account"].cadence == timedelta(days=90)
    assert rotation.BUILT_IN_POLICIES["short-lived-token"].cadence == timedelta(hours=24)


BAD_POLICIES = {
    "zero-cadence": (timedelta(0), timedelta(0), ["cadence"]),
    "grace-longer-than-cadence": (timedelta(hours=1), timedelta(hours=2), ["gracePeriod"]),
    "negative-grace": (timedelta(hours=1), timedelta(hours=-1), ["gracePeriod"]),
}


@pytest.mark.parametrize(("cadence", "grace", "paths"), BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
def test_invalid_policies_are_refused(cadence: timedelta, grace: timedelta, paths: list[str]) -> None:
    with pytest.raises(InputError) as info:
        rotation.RotationPolicy("p", cadence=cadence, grace_period=grace)
    assert [p.path for p in info.value.problems] == paths
