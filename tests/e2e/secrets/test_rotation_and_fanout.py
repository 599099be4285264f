"""Rotation on a frozen clock and ClusterExternalSecret fan-out, through the running engine.

Test design: the platform runs on a ``FrozenClock`` and its engine resyncs every 0.2s, so moving
the clock forward is all it takes for controllers to see time pass; nothing sleeps for real
hours. A 24h-cadence (short-lived token) rotation is followed through: the consumer ExternalSecret
(refreshInterval 1h) picks the new value up on its next refresh, the superseded version stays
readable through the 1h grace period and is destroyed after it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from blacktop.kernel.clock import FrozenClock

from .conftest import ESO, PLATFORM_SECRETS, eventually, ready_condition

ROTATIONS = "/apis/secrets.blacktop.dev/v1alpha1/namespaces/payments/secretrotations"


async def _target_value(admin: httpx.AsyncClient, namespace: str, name: str, key: str) -> str | None:
    found = await admin.get(PLATFORM_SECRETS.format(ns=namespace) + f"/{name}")
    if found.status_code != 200:
        return None
    path = found.json()["spec"]["valueFrom"]["path"]
    revealed = await admin.get(f"/api/v1/secrets/data/{path}?reveal=true")
    value = revealed.json().get("data", {}).get(key)
    return None if value is None else str(value)


async def test_short_lived_token_rotates_consumers_refresh_and_grace_period_ends(
    admin: httpx.AsyncClient, clock: FrozenClock
) -> None:
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
             "metadata": {"name": "embedded", "namespace": "payments"},
             "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post("/apis/external-secrets.io/v1/namespaces/payments/secretstores", json=store)).is_success
    rotation = {"apiVersion": "secrets.blacktop.dev/v1alpha1", "kind": "SecretRotation",
                "metadata": {"name": "api-token"},
                "spec": {"path": "secret/data/payments/api-token", "key": "token", "policy": "short-lived-token",
                         "password": {"length": 40, "symbols": 0}}}  # fmt: skip
    assert (await admin.post(ROTATIONS, json=rotation)).status_code == 201
    consumer = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                "metadata": {"name": "api-client", "namespace": "payments"},
                "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "embedded"},
                         "data": [{"secretKey": "API_TOKEN",
                                   "remoteRef": {"key": "payments/api-token", "property": "token"}}]}}  # fmt: skip

    async def rotation_status() -> dict[str, Any]:
        return dict((await admin.get(f"{ROTATIONS}/api-token")).json().get("status") or {})

    first = await eventually(lambda: _version_is(rotation_status, 1))
    assert first["policy"]["cadence"] == "1 day, 0:00:00" and first["conditions"][0]["reason"] == "Rotated"
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=consumer)).status_code == 201
    old = await eventually(lambda: _target_value(admin, "payments", "api-client", "API_TOKEN"))
    assert len(old) == 40

    clock.advance(timedelta(hours=24))
    await eventually(lambda: _version_is(rotation_status, 2))
    new = (await admin.get("/api/v1/secrets/data/payments/api-token?reveal=true")).json()["data"]["token"]
    assert new != old

    clock.advance(timedelta(minutes=30))
    within_grace = await admin.get("/api/v1/secrets/data/payments/api-token?reveal=true&version=1")
    assert within_grace.status_code == 200 and within_grace.json()["data"]["token"] == old

    clock.advance(timedelta(minutes=31))

    async def consumer_has_new() -> bool:
        return bool(await _target_value(admin, "payments", "api-client", "API_TOKEN") == new)

    await eventually(consumer_has_new)

    async def old_destroyed() -> bool:
        response = await admin.get("/api/v1/secrets/data/payments/api-token?reveal=true&version=1")
        return response.status_code == 404 and "destroyed" in response.json()["message"]

    await eventually(old_destroyed)
    es = (await admin.get(f"{ESO}/namespaces/payments/externalsecrets/api-client")).json()
    assert (ready_condition(es) or {}).get("status") == "True"
    assert es["status"]["refreshTime"] >= "2026-01-02T00:00:00Z"


async def _version_is(status: Any, version: int) -> dict[str, Any] | None:
    current = await status()
    return current if current.get("currentVersion") == version else None


async def test_cluster_external_secret_fans_out_to_namespaces_with_shared_values(admin: httpx.AsyncClient) -> None:
    await admin.post("/api/v1/secrets/data/shared/registry", json={"data": {"auth": "registry-credential"}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
             "metadata": {"name": "embedded"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post("/apis/external-secrets.io/v1/clustersecretstores", json=store)).status_code == 201
    ces = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret",
           "metadata": {"name": "registry"},
           "spec": {"namespaces": ["payments", "orders"], "refreshTime": "1m",
                    "externalSecretSpec": {
                        "secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"},
                        "target": {"name": "registry-auth"},
                        "data": [{"secretKey": "auth",
                                  "remoteRef": {"key": "shared/registry", "property": "auth"}}]}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/clusterexternalsecrets", json=ces)).status_code == 201
    for namespace in ("orders", "payments"):

        async def synced(ns: str = namespace) -> str | None:
            return await _target_value(admin, ns, "registry-auth", "auth")

        assert await eventually(synced) == "registry-credential"
    status = (await admin.get(f"{ESO}/clusterexternalsecrets/registry")).json()["status"]
    assert status["provisionedNamespaces"] == ["orders", "payments"]
    assert (await admin.delete(f"{ESO}/clusterexternalsecrets/registry")).is_success

    async def stamped_gone() -> bool:
        return not (await admin.get("/apis/external-secrets.io/v1beta1/externalsecrets")).json()["items"]

    await eventually(stamped_gone)


async def test_a_namespace_selector_matches_the_labels_of_team_namespaces(admin: httpx.AsyncClient) -> None:
    """``namespaceSelector`` selects by the labels a TeamNamespace gives its namespace (team, environment, tier)."""
    await admin.post("/api/v1/secrets/data/shared/ca", json={"data": {"pem": "ca-bundle"}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
             "metadata": {"name": "embedded-ca"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post("/apis/external-secrets.io/v1/clustersecretstores", json=store)).status_code == 201
    for name, environment in (("payments-production", "production"), ("payments-staging", "staging")):
        team_ns = {"apiVersion": "platform.company.io/v1alpha1", "kind": "TeamNamespace", "metadata": {"name": name},
                   "spec": {"team": "payments", "environment": environment}}  # fmt: skip
        created = await admin.post("/apis/platform.company.io/v1alpha1/teamnamespaces", json=team_ns)
        assert created.status_code == 201, created.text
    ces = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret",
           "metadata": {"name": "production-ca"},
           "spec": {"namespaceSelectors": [{"matchLabels": {"team": "payments", "environment": "production"}}],
                    "refreshTime": "1m",
                    "externalSecretSpec": {
                        "secretStoreRef": {"name": "embedded-ca", "kind": "ClusterSecretStore"},
                        "target": {"name": "ca"},
                        "data": [{"secretKey": "pem",
                                  "remoteRef": {"key": "shared/ca", "property": "pem"}}]}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/clusterexternalsecrets", json=ces)).status_code == 201

    async def synced() -> str | None:
        return await _target_value(admin, "payments-production", "ca", "pem")

    assert await eventually(synced) == "ca-bundle"
    status = (await admin.get(f"{ESO}/clusterexternalsecrets/production-ca")).json()["status"]
    assert status["provisionedNamespaces"] == ["payments-production"], "staging's environment label differs"
