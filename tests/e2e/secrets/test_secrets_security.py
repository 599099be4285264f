"""Security properties of secret management, end to end through the running platform.

Test design: every test drives the real composition (SQLite state, write pipeline, engine with the
secrets controllers, HTTP API over ASGI). Plaintext values carry a canary string that is then
searched for in the raw database bytes, the log records, the audit trail and every listing. Team
isolation is checked for people (API) and for ExternalSecrets; key handling with a wrong KEK and
a flipped ciphertext byte must fail with an error naming the secret, never return garbage.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blacktop.bootstrap import Platform, build_platform, running
from tests.fixtures.platform import ADMIN_TOKEN, settings_for

from .conftest import ESO, PLATFORM_SECRETS, SHARED, add_team, client_for, eventually, ready_condition

CANARY = "PLAINTEXT-canary-7f3a9c"


async def seed_payments(admin: httpx.AsyncClient) -> None:
    values = {
        "payments/database": {"username": "pay_app", "password": f"{CANARY}-db", "host": "db.internal"},
        "payments/stripe": {"secret_key": f"{CANARY}-stripe"},
        "payments/auth": {"signing_key": f"{CANARY}-jwt"},
    }
    for path, data in values.items():
        response = await admin.post(f"/api/v1/secrets/data/{path}", json={"data": data})
        assert response.status_code == 201, response.text
    store = {"apiVersion": "external-secrets.io/v1beta1", "kind": "ClusterSecretStore",
             "metadata": {"name": "vault-backend"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post(f"{ESO}/clustersecretstores", json=store)).status_code == 201


async def apply_example(admin: httpx.AsyncClient) -> dict[str, Any]:
    example = yaml.safe_load((SHARED / "examples" / "externalsecret-payment-service.yaml").read_text())
    created = await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=example)
    assert created.status_code == 201, created.text

    async def synced() -> dict[str, Any] | None:
        obj = (await admin.get(f"{ESO}/namespaces/payments/externalsecrets/payment-service-secrets")).json()
        condition = ready_condition(obj)
        return obj if condition and condition["status"] == "True" else None

    synced_obj: dict[str, Any] = await eventually(synced)
    return synced_obj


def database_bytes(platform: Platform) -> bytes:
    folder = platform.settings.data_dir
    return b"".join(p.read_bytes() for p in sorted(folder.glob("state.db*")))


async def test_example_applies_unchanged_and_plaintext_stays_out_of_db_logs_audit_and_listings(
    secrets_platform: Platform, admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await seed_payments(admin)
    es = await apply_example(admin)
    assert es["status"]["refreshTime"] and es["status"]["syncedResourceVersion"]
    target = (await admin.get(PLATFORM_SECRETS.format(ns="payments") + "/payment-service-secrets")).json()
    assert target["spec"]["keys"] == ["DATABASE_URL", "JWT_SIGNING_KEY", "STRIPE_SECRET_KEY"]
    revealed = (await admin.get(f"/api/v1/secrets/data/{target['spec']['valueFrom']['path']}?reveal=true")).json()
    assert revealed["data"] == {
        "DATABASE_URL": f"postgresql://pay_app:{CANARY}-db@db.internal:5432/payments?sslmode=require",
        "STRIPE_SECRET_KEY": f"{CANARY}-stripe",
        "JWT_SIGNING_KEY": f"{CANARY}-jwt",
    }
    listings = [
        await admin.get("/api/v1/secrets/paths"),
        await admin.get("/api/v1/secrets/data/payments/database"),
        await admin.get("/api/v1/secrets/metadata/payments/database"),
        await admin.get(PLATFORM_SECRETS.format(ns="payments")),
        await admin.get("/apis/secrets.blacktop.dev/v1alpha1/secrets"),
        await admin.get(f"{ESO}/namespaces/payments/externalsecrets"),
    ]
    for response in listings:
        assert response.status_code == 200, response.text
        assert CANARY not in response.text, response.request.url
    audit = await admin.get("/api/v1/audit/records", params={"limit": 10000})
    assert CANARY not in audit.text
    verbs = {(r["verb"], r["name"]) for r in audit.json()["items"]}
    assert ("secret-put", "secret/data/payments/database") in verbs
    assert ("secret-reveal", "platform/data/payments/payment-service-secrets") in verbs
    assert ("secret-sync-read", "secret/data/payments/stripe") in verbs
    assert (await admin.post("/api/v1/audit/verify")).json()["ok"] is True
    assert CANARY.encode() not in database_bytes(secrets_platform)
    assert CANARY not in caplog.text


async def test_platform_secret_resources_refuse_inline_values(admin: httpx.AsyncClient) -> None:
    encoded = base64.b64encode(CANARY.encode()).decode()
    doc = {"apiVersion": "secrets.blacktop.dev/v1alpha1", "kind": "Secret", "metadata": {"name": "inline"},
           "data": {"password": encoded}, "stringData": {"token": CANARY}}  # fmt: skip
    response = await admin.post(PLATFORM_SECRETS.format(ns="payments"), json=doc)
    assert response.status_code == 422
    assert sorted(p["path"] for p in response.json()["problems"]) == ["data", "stringData"]
    audit = await admin.get("/api/v1/audit/records", params={"limit": 10000})
    assert CANARY not in audit.text


async def test_team_members_reach_only_their_prefix_through_the_api(admin: httpx.AsyncClient) -> None:
    await add_team(admin, "payments", ["alice"])
    await add_team(admin, "orders", ["bob"])
    await admin.post("/api/v1/secrets/data/orders/db", json={"data": {"password": f"{CANARY}-orders"}})
    alice = await client_for(admin, "alice")
    async with alice:
        own = await alice.post("/api/v1/secrets/data/payments/db", json={"data": {"password": "mine"}})
        assert own.status_code == 201, own.text
        assert (await alice.get("/api/v1/secrets/data/payments/db?reveal=true")).json()["data"] == {"password": "mine"}
        read = await alice.get("/api/v1/secrets/data/orders/db?reveal=true")
        described = await alice.get("/api/v1/secrets/data/orders/db")
        write = await alice.post("/api/v1/secrets/data/orders/db", json={"data": {"password": "overwritten"}})
        destroy = await alice.post("/api/v1/secrets/destroy/orders/db", json={"versions": [1]})
        listed = (await alice.get("/api/v1/secrets/paths")).json()["items"]
        kek = await alice.post("/api/v1/secrets/kek/rotate")
    assert [r.status_code for r in (read, described, write, destroy, kek)] == [403] * 5
    assert "team 'orders'" in read.json()["message"] and "user:alice" in read.json()["message"]
    assert CANARY not in read.text
    assert [i["path"] for i in listed] == ["secret/data/payments/db"]
    revealed = (await admin.get("/api/v1/secrets/data/orders/db?reveal=true")).json()
    assert revealed["data"] == {"password": f"{CANARY}-orders"}
    audit = (await admin.get("/api/v1/audit/records", params={"actor": "user:alice"})).json()["items"]
    denied = {(r["verb"], r["outcome"], r["code"]) for r in audit if r["name"] == "secret/data/orders/db"}
    assert ("secret-reveal", "denied", 403) in denied and ("secret-put", "denied", 403) in denied


async def test_viewers_list_but_never_read_values(admin: httpx.AsyncClient) -> None:
    await add_team(admin, "orders", ["vera"], role="viewer")
    await admin.post("/api/v1/secrets/data/orders/db", json={"data": {"password": CANARY}})
    vera = await client_for(admin, "vera")
    async with vera:
        listed = (await vera.get("/api/v1/secrets/paths")).json()["items"]
        described = await vera.get("/api/v1/secrets/data/orders/db")
        revealed = await vera.get("/api/v1/secrets/data/orders/db?reveal=true")
    assert [i["path"] for i in listed] == ["secret/data/orders/db"]
    assert described.status_code == 200 and described.json()["keys"] == ["password"]
    assert revealed.status_code == 403 and CANARY not in revealed.text


async def test_external_secret_pointing_at_another_team_fails_without_syncing(admin: httpx.AsyncClient) -> None:
    await admin.post("/api/v1/secrets/data/orders/db", json={"data": {"password": CANARY}})
    store = {"apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
             "metadata": {"name": "embedded"}, "spec": {"provider": {"blacktop": {}}}}  # fmt: skip
    assert (await admin.post("/apis/external-secrets.io/v1/clustersecretstores", json=store)).status_code == 201
    es = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
          "metadata": {"name": "steal", "namespace": "payments"},
          "spec": {"secretStoreRef": {"name": "embedded", "kind": "ClusterSecretStore"},
                   "data": [{"secretKey": "pw", "remoteRef": {"key": "secret/data/orders/db",
                                                              "property": "password"}}]}}  # fmt: skip
    assert (await admin.post(f"{ESO}/namespaces/payments/externalsecrets", json=es)).status_code == 201

    async def failed() -> dict[str, Any] | None:
        obj = (await admin.get(f"{ESO}/namespaces/payments/externalsecrets/steal")).json()
        return ready_condition(obj)

    condition = await eventually(failed)
    assert (condition["status"], condition["reason"]) == ("False", "SecretSyncedError")
    assert "access denied" in condition["message"] and "secret/data/orders/db" in condition["message"]
    assert "belongs to team 'orders'" in condition["message"]
    missing = await admin.get(PLATFORM_SECRETS.format(ns="payments") + "/steal")
    assert missing.status_code == 404
    paths = [i["path"] for i in (await admin.get("/api/v1/secrets/paths")).json()["items"]]
    assert paths == ["secret/data/orders/db"]


async def _restart_with(data_dir: Path, **secrets: object) -> tuple[Platform, httpx.AsyncClient]:
    built = await build_platform(settings_for(data_dir, secrets=secrets))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=built.app), base_url="http://blacktop",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )  # fmt: skip
    return built, client


async def test_embedded_kek_is_generated_outside_the_database_and_a_wrong_kek_fails_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    built, client = await _restart_with(data_dir)
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with client:
        assert (await client.post("/api/v1/secrets/data/payments/db", json={"data": {"pw": CANARY}})).status_code == 201
    await built.close()
    key_file = data_dir / "keys" / "kek-1.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (data_dir / "keys").stat().st_mode & 0o777 == 0o700
    key_text = key_file.read_text().strip()
    assert key_text.encode() not in b"".join(p.read_bytes() for p in data_dir.glob("state.db*"))

    wrong = base64.b64encode(b"w" * 32).decode()
    built, client = await _restart_with(data_dir, kek=f"kek-1:{wrong}", key_dir=str(tmp_path / "elsewhere"))
    async with client:
        response = await client.get("/api/v1/secrets/data/payments/db?reveal=true")
    await built.close()
    assert response.status_code == 500
    body = response.json()
    assert body["reason"] == "SecretIntegrityError"
    assert "secret secret/payments/db version 1" in body["message"] and "KEK is wrong" in body["message"]
    assert CANARY not in response.text

    built, client = await _restart_with(data_dir, kek=f"other:{wrong}", key_dir=str(tmp_path / "elsewhere"))
    async with client:
        response = await client.get("/api/v1/secrets/data/payments/db?reveal=true")
    await built.close()
    assert response.status_code == 500
    assert "'kek-1' is not in the key ring" in response.json()["message"]


async def test_flipped_ciphertext_byte_is_detected(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    built, client = await _restart_with(data_dir)
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with client:
        await client.post("/api/v1/secrets/data/payments/db", json={"data": {"pw": CANARY}})
        with sqlite3.connect(data_dir / "state.db") as raw:
            (ciphertext,) = raw.execute("SELECT ciphertext FROM secret_versions").fetchone()
            flipped = bytes([ciphertext[0] ^ 0x01]) + bytes(ciphertext[1:])
            raw.execute("UPDATE secret_versions SET ciphertext = ?", (flipped,))
        response = await client.get("/api/v1/secrets/data/payments/db?reveal=true")
        audit = await client.get("/api/v1/audit/records", params={"limit": 1000})
    await built.close()
    assert response.status_code == 500
    assert "ciphertext failed authentication" in response.json()["message"]
    failures = [r for r in audit.json()["items"] if r["verb"] == "secret-reveal"]
    assert [(r["outcome"], r["code"]) for r in failures] == [("error", 500)]


async def test_rotate_kek_rewraps_online_and_survives_restart_without_the_old_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    built, client = await _restart_with(data_dir)
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with client, running(built):
        for i in range(3):
            await client.post("/api/v1/secrets/data/payments/db", json={"data": {"pw": f"v{i}"}})
        report = (await client.post("/api/v1/secrets/kek/rotate")).json()
        assert (report["kekId"], report["rewrapped"], report["alreadyCurrent"]) == ("kek-2", 3, 0)
        assert (await client.get("/api/v1/secrets/data/payments/db?reveal=true&version=1")).json()["data"] == {
            "pw": "v0"
        }
    with sqlite3.connect(data_dir / "state.db") as raw:
        assert {r[0] for r in raw.execute("SELECT kek_id FROM secret_versions")} == {"kek-2"}
    (data_dir / "keys" / "kek-1.key").unlink()
    built, client = await _restart_with(data_dir)
    async with client:
        response = await client.get("/api/v1/secrets/data/payments/db?reveal=true&version=2")
    await built.close()
    assert response.json()["data"] == {"pw": "v1"}
    audit_ok = json.dumps(report)
    assert CANARY not in audit_ok
