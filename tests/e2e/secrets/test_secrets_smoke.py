"""Smoke: the payment-service ExternalSecret syncs through the running platform; Owner targets go with it."""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from .conftest import ESO, PLATFORM_SECRETS, SHARED, eventually, ready_condition


async def test_payment_service_example_syncs(admin: httpx.AsyncClient) -> None:
    for path, data in {
        "payments/database": {"username": "pay_app", "password": "s3cr3t-db-pass", "host": "db.internal"},
        "payments/stripe": {"secret_key": "sk_live_abc"},
        "payments/auth": {"signing_key": "jwt-key-xyz"},
    }.items():
        response = await admin.post(f"/api/v1/secrets/data/{path}", json={"data": data})
        assert response.status_code == 201, response.text
    store = {"apiVersion": "external-secrets.io/v1beta1", "kind": "ClusterSecretStore",
             "metadata": {"name": "vault-backend"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/clustersecretstores", json=store)).status_code == 201
    example = yaml.safe_load((SHARED / "examples" / "externalsecret-payment-service.yaml").read_text())
    created = await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=example)
    assert created.status_code == 201, created.text

    async def synced() -> dict[str, Any] | None:
        obj = (await admin.get(f"{ESO}/namespaces/payments/externalsecrets/payment-service-secrets")).json()
        return ready_condition(obj)

    condition = await eventually(synced)
    assert condition["status"] == "True", condition
    target = (await admin.get(PLATFORM_SECRETS.format(ns="payments") + "/payment-service-secrets")).json()
    assert target["spec"]["keys"] == ["DATABASE_URL", "JWT_SIGNING_KEY", "STRIPE_SECRET_KEY"]
    revealed = (await admin.get(f"/api/v1/secrets/data/{target['spec']['valueFrom']['path']}?reveal=true")).json()
    assert revealed["data"]["DATABASE_URL"] == (
        "postgresql://pay_app:s3cr3t-db-pass@db.internal:5432/payments?sslmode=require"
    )


async def test_deleting_an_owner_external_secret_removes_its_target_and_stored_values(admin: httpx.AsyncClient) -> None:
    await admin.post("/api/v1/secrets/data/payments/db", json={"data": {"password": "pw"}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
             "metadata": {"name": "embedded", "namespace": "payments"},
             "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post("/apis/external-secrets.io/v1/namespaces/payments/secretstores", json=store)).is_success
    es = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
          "metadata": {"name": "db", "namespace": "payments"},
          "spec": {"refreshInterval": "0", "secretStoreRef": {"name": "embedded"},
                   "dataFrom": [{"extract": {"key": "payments/db"}}]}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=es)).status_code == 201
    target = PLATFORM_SECRETS.format(ns="payments") + "/db"

    async def target_exists() -> bool:
        return (await admin.get(target)).status_code == 200

    await eventually(target_exists)
    assert (await admin.get(target)).json()["spec"]["keys"] == ["password"]
    assert (await admin.delete(f"{ESO}/namespaces/payments/externalsecrets/db")).is_success

    async def gone() -> bool:
        listed = [i["path"] for i in (await admin.get("/api/v1/secrets/paths")).json()["items"]]
        return (await admin.get(target)).status_code == 404 and listed == ["secret/data/payments/db"]

    await eventually(gone)


async def test_store_conditions_name_unsupported_providers_and_the_untested_vault(admin: httpx.AsyncClient) -> None:
    base = "/apis/external-secrets.io/v1/clustersecretstores"
    vault = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": {"name": "vault"},
             "spec": {"provider": {"vault": {
                 "server": "https://vault.example:8200", "path": "secret",
                 "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}}}}}}  # fmt: skip
    aws = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore", "metadata": {"name": "aws"},
           "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "eu-west-1"}}}}  # fmt: skip
    for doc in (vault, aws):
        assert (await admin.post(base, json=doc)).status_code == 201

    async def conditions() -> list[dict[str, Any]] | None:
        found = [ready_condition((await admin.get(f"{base}/{name}")).json()) for name in ("vault", "aws")]
        return None if None in found else [c for c in found if c is not None]

    vault_ready, aws_ready = await eventually(conditions)
    assert (vault_ready["status"], vault_ready["reason"]) == ("True", "Valid")
    assert "untested against a real Vault" in vault_ready["message"]
    assert (aws_ready["status"], aws_ready["reason"]) == ("False", "InvalidProviderConfig")
    assert "provider 'aws' is not supported" in aws_ready["message"]
