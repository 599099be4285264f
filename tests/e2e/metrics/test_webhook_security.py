"""Webhook secrets and the recorder role, end to end over the platform's HTTP API.

Test design notes: one platform (engine included) serves namespace ``payments``, where ``robo`` is
bound as ``recorder`` (the machine identity a team gives its CI or webhook) and ``dana`` as
``developer``. Deliveries are the unit tests' payload samples, posted as exact bytes so the GitHub
signature covers what the server reads. Each refusal is checked for its status, its message and
that no record was stored; afterwards the audit trail (read through the audit API), every response
body and every log record are searched for the secret value, which must appear nowhere.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from blacktop.bootstrap import Platform
from blacktop.metrics import signatures
from tests.unit.metrics.conftest import payload

NAMESPACE = "payments"
WEBHOOKS = "/api/v1/metrics/namespaces/{ns}/webhooks"
DEPLOYMENTS = "/apis/metrics.blacktop.dev/v1alpha1/namespaces/{ns}/deployments"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"
SECRET = "whsec-7Jq2-never-shown-Xk93pLm0"
ARGO_SECRET = "argo-shared-5b1c-never-shown-77aa"


def client_for(platform: Platform, token: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=platform.app)
    return httpx.AsyncClient(
        transport=transport, base_url="http://blacktop", headers={"Authorization": f"Bearer {token}"}
    )


async def bind_with_token(admin: httpx.AsyncClient, user: str, role: str, namespace: str = NAMESPACE) -> str:
    """A RoleBinding of ``user`` as ``role`` in ``namespace``, and a token of ``user``."""
    binding = {
        "apiVersion": "tenancy.blacktop.dev/v1alpha1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{user}-{role}"},
        "spec": {"role": role, "subjects": [{"kind": "User", "name": user}]},
    }
    created = await admin.post(BINDINGS.format(ns=namespace), json=binding)
    assert created.status_code == 201, created.text
    for _ in range(20):  # SQLite may be briefly locked by a controller write (see tests/e2e/secrets/conftest.py)
        issued = await admin.post("/api/v1/tenancy/tokens", json={"user": user})
        if issued.status_code != 503:
            break
        await asyncio.sleep(0.1)
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


def github_delivery(delivery_id: str) -> tuple[bytes, dict[str, str]]:
    """The workflow-run sample as exact bytes, with GitHub's event headers."""
    body = json.dumps(payload("github-workflow-run-success.json"), indent=2).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": delivery_id}
    return body, headers


def argo_delivery(delivery_id: str) -> bytes:
    return json.dumps({**payload("argocd-sync-succeeded.json"), "deliveryId": delivery_id}).encode()


async def stored_names(admin: httpx.AsyncClient, namespace: str = NAMESPACE) -> set[str]:
    listed = await admin.get(DEPLOYMENTS.format(ns=namespace))
    assert listed.status_code == 200, listed.text
    return {item["metadata"]["name"] for item in listed.json()["items"]}


async def test_signed_deliveries_only_once_a_secret_is_configured(
    platform: Platform, api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []
    robo = client_for(platform, await bind_with_token(api, "robo", "recorder"))
    github = WEBHOOKS.format(ns=NAMESPACE) + "/github?workflow=Deploy"
    argocd = WEBHOOKS.format(ns=NAMESPACE) + "/argocd"

    # No secret configured: the token alone is enough, as before.
    body, headers = github_delivery("delivery-unsigned-before-secret")
    accepted = await robo.post(github, content=body, headers=headers)
    responses.append(accepted)
    assert accepted.status_code == 201, accepted.text
    accepted_argo = await robo.post(argocd, content=argo_delivery("argo-before-secret"))
    responses.append(accepted_argo)
    assert accepted_argo.status_code == 201, accepted_argo.text

    for source, value in (("github", SECRET), ("argocd", ARGO_SECRET)):
        put = await api.post(f"/api/v1/secrets/data/{NAMESPACE}/webhooks/{source}", json={"data": {"secret": value}})
        assert put.status_code == 201, put.text
    before = await stored_names(api)

    # A secret is configured: missing, malformed and wrong proofs are 401s and store nothing.
    body, headers = github_delivery("delivery-refused")
    refusals = {
        "github-unsigned": (github, body, headers, "has no X-Hub-Signature-256 header"),
        "github-wrong-secret": (
            github, body, {**headers, "X-Hub-Signature-256": signatures.compute_github_signature(body, "guess")},
            "does not match the body",
        ),
        "github-tampered-body": (
            github, body.replace(b"success", b"failure"),
            {**headers, "X-Hub-Signature-256": signatures.compute_github_signature(body, SECRET)},
            "does not match the body",
        ),
        "github-sha1": (github, body, {**headers, "X-Hub-Signature-256": "sha1=" + "0" * 40}, "must read"),
        "argocd-no-header": (argocd, argo_delivery("argo-refused"), {}, "has no X-Blacktop-Webhook-Secret header"),
        "argocd-wrong-header": (
            argocd, argo_delivery("argo-refused"), {"X-Blacktop-Webhook-Secret": SECRET}, "does not match",
        ),
    }  # fmt: skip
    for name, (url, content, sent_headers, says) in refusals.items():
        refused = await robo.post(url, content=content, headers=sent_headers)
        responses.append(refused)
        assert refused.status_code == 401, (name, refused.text)
        assert refused.json()["reason"] == "Unauthorized" and says in refused.json()["message"], name
        assert f"secret/{NAMESPACE}/webhooks/" in refused.json()["message"] or "must read" in says, name
    assert await stored_names(api) == before

    # Valid proofs are recorded; the recorder may read its record back, so a redelivery is a duplicate.
    signed = {**headers, "X-Hub-Signature-256": signatures.compute_github_signature(body, SECRET)}
    created = await robo.post(github, content=body, headers=signed)
    redelivered = await robo.post(github, content=body, headers=signed)
    shared = await robo.post(
        argocd, content=argo_delivery("argo-ok"), headers={"X-Blacktop-Webhook-Secret": ARGO_SECRET}
    )
    responses += [created, redelivered, shared]
    assert created.status_code == 201, created.text
    assert (redelivered.status_code, redelivered.json()["result"]) == (200, "duplicate")
    assert shared.status_code == 201, shared.text
    assert await stored_names(api) == before | {created.json()["record"]["name"], shared.json()["record"]["name"]}

    # Another namespace without a secret still accepts unsigned deliveries (from its own developer).
    dana = client_for(platform, await bind_with_token(api, "dana", "developer", "search"))
    body, headers = github_delivery("delivery-search")
    elsewhere = await dana.post(WEBHOOKS.format(ns="search") + "/github", content=body, headers=headers)
    responses.append(elsewhere)
    assert elsewhere.status_code == 201, elsewhere.text

    # Each secret read is audited as the webhook service identity, never with the value.
    audit = await api.get("/api/v1/audit/records", params={"actor": "service:dora-webhooks"})
    assert audit.status_code == 200, audit.text
    reads = audit.json()["items"]
    assert reads and {r["verb"] for r in reads} == {"secret-reveal"}
    assert {r["namespace"] for r in reads} == {NAMESPACE, "search"}
    assert {(r["outcome"], r["code"]) for r in reads if r["namespace"] == "search"} == {("rejected", 404)}
    assert any(r["outcome"] == "allowed" and r["name"].endswith(f"{NAMESPACE}/webhooks/github") for r in reads)
    everything = (await api.get("/api/v1/audit/records", params={"limit": 10000})).text
    for value in (SECRET, ARGO_SECRET):
        assert value not in everything
        assert value not in caplog.text
        assert all(value not in r.text for r in responses)
    await robo.aclose()
    await dana.aclose()


async def test_a_recorder_only_records_in_its_own_namespace(platform: Platform, api: httpx.AsyncClient) -> None:
    robo = client_for(platform, await bind_with_token(api, "robo", "recorder"))
    await bind_with_token(api, "owner", "admin", "search")
    put = await api.post(f"/api/v1/secrets/data/{NAMESPACE}/webhooks/github", json={"data": {"secret": SECRET}})
    assert put.status_code == 201, put.text
    body, headers = github_delivery("recorder-own")
    signed = {**headers, "X-Hub-Signature-256": signatures.compute_github_signature(body, SECRET)}

    created = await robo.post(WEBHOOKS.format(ns=NAMESPACE) + "/github", content=body, headers=signed)
    assert created.status_code == 201, created.text
    incident = {
        "apiVersion": "metrics.blacktop.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": "inc-1"},
        "spec": {"service": "payment-service", "environment": "production", "openedAt": "2026-11-24T11:00:00Z"},
    }
    recorded = await robo.post(f"/apis/metrics.blacktop.dev/v1alpha1/namespaces/{NAMESPACE}/incidents", json=incident)
    assert recorded.status_code == 201, recorded.text

    denied: dict[str, httpx.Response] = {
        "another-namespace": await robo.post(
            WEBHOOKS.format(ns="search") + "/argocd", content=argo_delivery("recorder-elsewhere")
        ),
        "read-its-webhook-secret": await robo.get(
            f"/api/v1/secrets/data/{NAMESPACE}/webhooks/github", params={"reveal": "true"}
        ),
        "list-records": await robo.get(DEPLOYMENTS.format(ns=NAMESPACE)),
        "delete-a-record": await robo.delete(DEPLOYMENTS.format(ns=NAMESPACE) + "/" + created.json()["record"]["name"]),
        "create-a-rolebinding": await robo.post(
            BINDINGS.format(ns=NAMESPACE),
            json={
                "apiVersion": "tenancy.blacktop.dev/v1alpha1",
                "kind": "RoleBinding",
                "metadata": {"name": "escalate"},
                "spec": {"role": "admin", "subjects": [{"kind": "User", "name": "robo"}]},
            },
        ),
        "create-a-platform-secret": await robo.post(
            f"/apis/secrets.blacktop.dev/v1alpha1/namespaces/{NAMESPACE}/secrets",
            json={"apiVersion": "secrets.blacktop.dev/v1alpha1", "kind": "Secret", "metadata": {"name": "x"}},
        ),
    }
    for name, response in denied.items():
        assert response.status_code == 403, (name, response.text)
        assert "user:robo may not" in response.json()["message"], name
        assert SECRET not in response.text
    await robo.aclose()


async def test_an_outsider_learns_nothing_of_another_namespaces_webhook_secret(
    platform: Platform, api: httpx.AsyncClient
) -> None:
    """Without the right to record in a namespace, a delivery there is a 403 whether or not a secret is set,
    and the namespace's secret is never read on the outsider's behalf."""
    robo = client_for(platform, await bind_with_token(api, "robo", "recorder"))
    await bind_with_token(api, "owner", "admin", "search")
    put = await api.post("/api/v1/secrets/data/search/webhooks/github", json={"data": {"secret": SECRET}})
    assert put.status_code == 201, put.text
    body, headers = github_delivery("outsider")

    answers = {
        "no signature": await robo.post(WEBHOOKS.format(ns="search") + "/github", content=body, headers=headers),
        "wrong signature": await robo.post(
            WEBHOOKS.format(ns="search") + "/github",
            content=body,
            headers={**headers, "X-Hub-Signature-256": signatures.compute_github_signature(body, "guess")},
        ),
    }
    for name, response in answers.items():
        assert response.status_code == 403, (name, response.text)
        assert "user:robo may not" in response.json()["message"], name
    reads = (await api.get("/api/v1/audit/records", params={"actor": "service:dora-webhooks", "limit": 1000})).json()
    assert not [r for r in reads["items"] if r.get("namespace") == "search"], "the secret was read for an outsider"
    await robo.aclose()
