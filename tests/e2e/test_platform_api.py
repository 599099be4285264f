"""The platform API end to end over ASGI: errors a person can act on, RBAC, watch, metrics, audit.

Test design: each test drives the real composition (SQLite store, pipeline, engine) through HTTP
the way a client would, and asserts on status codes and on the machine-readable error body.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

import httpx

from blacktop.bootstrap import Platform
from tests.fixtures.platform import ADMIN_TOKEN

POLICIES = "/apis/policy.blacktop.dev/v1alpha1/validatingpolicies"
GROUPS = "/apis/tenancy.blacktop.dev/v1alpha1/groups"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"


def group(name: str, members: list[str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "tenancy.blacktop.dev/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name, "labels": labels},
        "spec": {"members": members},
    }


def binding(name: str, role: str, group_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "tenancy.blacktop.dev/v1alpha1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "spec": {"role": role, "subjects": [{"kind": "Group", "name": group_name}]},
    }


async def token_for(api: httpx.AsyncClient, user: str) -> str:
    response = await api.post("/api/v1/tenancy/tokens", json={"user": user})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def test_missing_token_is_401_and_unknown_token_is_401(api: httpx.AsyncClient) -> None:
    anonymous = await api.get(GROUPS, headers={"Authorization": ""})
    forged = await api.get(GROUPS, headers={"Authorization": "Bearer bt_not-a-real-token-at-all-000000"})
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert anonymous.json()["reason"] == "Unauthorized"
    assert "token" in anonymous.json()["message"]


async def test_forbidden_names_verb_kind_and_namespace(api: httpx.AsyncClient) -> None:
    await api.post(GROUPS, json=group("viewers", ["vera"]))
    created = await api.post(BINDINGS.format(ns="orders-team"), json=binding("viewers", "viewer", "viewers"))
    assert created.status_code == 201, created.text
    vera = {"Authorization": f"Bearer {await token_for(api, 'vera')}"}
    listed = await api.get(BINDINGS.format(ns="orders-team"), headers=vera)
    assert listed.status_code == 200
    denied = await api.post(BINDINGS.format(ns="orders-team"), json=binding("sneaky", "admin", "viewers"), headers=vera)
    assert denied.status_code == 403
    message = denied.json()["message"]
    assert "user:vera" in message and "create" in message and "rolebindings" in message and "orders-team" in message
    elsewhere = await api.get(BINDINGS.format(ns="payments"), headers=vera)
    assert elsewhere.status_code == 403


async def test_schema_violations_list_every_field_path(api: httpx.AsyncClient) -> None:
    bad = binding("b", "owner", "g")
    bad["spec"]["subjects"] = [{"kind": "Robot"}]
    response = await api.post(BINDINGS.format(ns="team"), json=bad)
    assert response.status_code == 422
    paths = sorted(p["path"] for p in response.json()["problems"])
    assert paths == ["spec.role", "spec.subjects[0].kind", "spec.subjects[0].name"]


async def test_unknown_kind_suggests_the_closest(api: httpx.AsyncClient) -> None:
    response = await api.get("/apis/tenancy.blacktop.dev/v1alpha1/grups")
    assert response.status_code == 404
    assert "groups" in response.json()["message"]


async def test_billion_laughs_is_refused_quickly(api: httpx.AsyncClient) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = time.perf_counter()
    response = await api.post(
        "/api/v1/platform/apply", content="\n".join(lines), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 413
    assert "aliases" in response.json()["message"]
    assert time.perf_counter() - started < 5


async def test_multi_document_apply_is_all_or_nothing(api: httpx.AsyncClient) -> None:
    stream = "\n---\n".join(
        [json.dumps(group("first", ["a"])), json.dumps({"apiVersion": "tenancy.blacktop.dev/v1alpha1",
                                                        "kind": "Group", "metadata": {"name": "Bad Name"}})]
    )  # fmt: skip
    response = await api.post("/api/v1/platform/apply", content=stream, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422
    body = response.json()
    assert "nothing was applied" in body["message"]
    assert {p["document"] for p in body["problems"]} == {"request body#2 (line 3)"}
    assert (await api.get(f"{GROUPS}/first")).status_code == 404


async def test_stale_resource_version_is_409(api: httpx.AsyncClient) -> None:
    created = (await api.post(GROUPS, json=group("g1", ["a"]))).json()
    fresh = dict(created, spec={"members": ["a", "b"]})
    assert (await api.put(f"{GROUPS}/g1", json=fresh)).status_code == 200
    stale = dict(created, spec={"members": ["c"]})
    response = await api.put(f"{GROUPS}/g1", json=stale)
    assert response.status_code == 409
    assert "resourceVersion" in response.json()["message"]


async def test_label_selector_and_pagination(api: httpx.AsyncClient) -> None:
    for i in range(7):
        await api.post(GROUPS, json=group(f"g{i}", [], tier="gold" if i % 2 else "silver"))
    gold = (await api.get(GROUPS, params={"labelSelector": "tier in (gold)"})).json()["items"]
    assert [g["metadata"]["name"] for g in gold] == ["g1", "g3", "g5"]
    names, token = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"continue": token} if token else {})}
        page = (await api.get(GROUPS, params=params)).json()
        names += [g["metadata"]["name"] for g in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"g{i}" for i in range(7)]


async def test_policy_becomes_ready_and_refuses_writes(api: httpx.AsyncClient) -> None:
    policy = {
        "apiVersion": "policy.blacktop.dev/v1alpha1",
        "kind": "ValidatingPolicy",
        "metadata": {"name": "groups-need-members"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": ["tenancy.blacktop.dev"], "kinds": ["Group"]}]},
            "validations": [{"expression": "size(object.spec.members) > 0", "message": "a group needs members"}],
        },
    }
    assert (await api.post(POLICIES, json=policy)).status_code == 201
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = (await api.get(f"{POLICIES}/groups-need-members")).json().get("status") or {}
        if any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("policy never became Ready")
    refused = await api.post(GROUPS, json=group("empty", []))
    assert refused.status_code == 422
    assert "groups-need-members" in refused.json()["message"]
    assert (await api.post(GROUPS, json=group("full", ["x"]))).status_code == 201


async def test_bad_cel_is_refused_with_the_expression_path(api: httpx.AsyncClient) -> None:
    policy = {
        "apiVersion": "policy.blacktop.dev/v1alpha1",
        "kind": "ValidatingPolicy",
        "metadata": {"name": "broken"},
        "spec": {
            "matchConstraints": {"resourceRules": [{"kinds": ["Group"]}]},
            "validations": [{"expression": "object.spec.(", "message": "x"}],
        },
    }
    response = await api.post(POLICIES, json=policy)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["spec.validations[0].expression"]


async def test_watch_streams_events_from_a_resource_version(api: httpx.AsyncClient) -> None:
    first = (await api.post(GROUPS, json=group("w1", []))).json()
    await api.post(GROUPS, json=group("w2", []))
    await api.delete(f"{GROUPS}/w1")
    params = {"watch": "true", "resourceVersion": first["metadata"]["resourceVersion"], "timeoutSeconds": 2}
    seen = []
    async with api.stream("GET", GROUPS, params=params) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                seen.append((event["type"], event["object"]["metadata"]["name"]))
            if len(seen) == 2:
                break
    assert seen == [("ADDED", "w2"), ("DELETED", "w1")]


async def test_metrics_count_requests_and_reconciles(api: httpx.AsyncClient) -> None:
    await api.get(GROUPS)
    text = (await api.get("/metrics")).text
    assert 'blacktop_http_requests_total{code="200",method="GET",route="/apis/{group}/{version}/{plural}"}' in text
    assert "blacktop_reconcile_queue_depth" in text
    assert (await api.get("/metrics", headers={"Authorization": ""})).status_code == 401


async def test_health_and_openapi_are_served(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).json() == {"status": "ready"}
    spec = (await api.get("/openapi.json")).json()
    assert "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}" in spec["paths"]


async def test_finalizers_hold_deletion_until_cleared(api: httpx.AsyncClient) -> None:
    body = group("held", [])
    body["metadata"]["finalizers"] = ["example.com/cleanup"]
    await api.post(GROUPS, json=body)
    marked = (await api.delete(f"{GROUPS}/held")).json()
    assert marked["metadata"]["deletionTimestamp"]
    assert (await api.get(f"{GROUPS}/held")).status_code == 200
    cleared = await api.patch(
        f"{GROUPS}/held",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert cleared.status_code == 200
    assert (await api.get(f"{GROUPS}/held")).status_code == 404


async def test_audit_verify_names_a_row_edited_in_the_database(api: httpx.AsyncClient, platform: Platform) -> None:
    for i in range(4):
        await api.post(GROUPS, json=group(f"a{i}", []))
    assert (await api.post("/api/v1/audit/verify")).json()["ok"] is True
    records = (await api.get("/api/v1/audit/records", params={"kind": "Group"})).json()["items"]
    victim = records[2]["seq"]
    db_file = platform.settings.data_dir / "state.db"

    def tamper() -> int:
        with sqlite3.connect(db_file, timeout=30) as conn:
            return conn.execute("UPDATE audit_records SET actor = 'user:mallory' WHERE seq = ?", (victim,)).rowcount

    # In a thread: the platform shares this event loop and may hold the write lock across an await.
    changed = await asyncio.to_thread(tamper)
    assert changed == 1
    report = (await api.post("/api/v1/audit/verify")).json()
    assert report["ok"] is False
    assert report["firstBroken"]["seq"] == victim


async def test_audit_records_filter_by_actor_and_never_hold_objects(api: httpx.AsyncClient) -> None:
    await api.post(GROUPS, json=group("secretive", ["top-secret-member"]))
    records = (await api.get("/api/v1/audit/records", params={"actor": "user:admin"})).json()["items"]
    assert records and all(r["actor"] == "user:admin" for r in records)
    assert "top-secret-member" not in json.dumps(records)
    assert ADMIN_TOKEN not in json.dumps(records)
