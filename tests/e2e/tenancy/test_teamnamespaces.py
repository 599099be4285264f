"""The design's TeamNamespace end to end: applied unchanged over HTTP, provisioned, changed, deleted.

Test design: the real composition (SQLite store, pipeline, engine, GitOps repository) is driven
through the HTTP API the way ``blacktop apply -f`` does. Access is checked twice: with the tenancy
authorizer over the stored bindings (who may do what in the namespace), and with real tokens of
group members against the API. Manifests are read back from the platform's GitOps repository.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import yaml

from blacktop import tenancy
from blacktop.bootstrap import Platform
from blacktop.kernel import identity
from blacktop.kernel.kinds import Scope
from blacktop.kernel.ports import ListQuery
from blacktop.tenancy import teamnamespaces as tns
from tests.corpus import examples_dir

EXAMPLE = examples_dir() / "team-namespace-payments.yaml"
TNS = "/apis/platform.company.io/v1alpha1/teamnamespaces"
GROUPS = "/apis/tenancy.blacktop.dev/v1alpha1/groups"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"
FOLDER = "tenancy/teamnamespaces/payments-production"
WORKLOAD = tenancy.KindTarget(group="platform.company.io", kind="Database", scope=Scope.NAMESPACED)


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {within}s (last: {last!r})")


async def apply_yaml(api: httpx.AsyncClient, text: str) -> httpx.Response:
    return await api.post("/api/v1/platform/apply", content=text, headers={"Content-Type": "application/yaml"})


async def ready_at(api: httpx.AsyncClient, generation: int) -> dict[str, Any] | None:
    response = await api.get(f"{TNS}/payments-production")
    obj: dict[str, Any] = response.json()
    status = obj.get("status") or {}
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    ready = conditions.get("Ready", {})
    if status.get("observedGeneration") == generation and ready.get("status") == "True":
        return obj
    return None


async def stored_bindings(platform: Platform, namespace: str) -> list[dict[str, Any]]:
    page = await platform.store.list(ListQuery(group="tenancy.blacktop.dev", kind="RoleBinding", namespace=namespace))
    return page.items


async def bindings_snapshot(platform: Platform) -> tenancy.Bindings:
    rbs = await platform.store.list(ListQuery(group="tenancy.blacktop.dev", kind="RoleBinding"))
    groups = await platform.store.list(ListQuery(group="tenancy.blacktop.dev", kind="Group"))
    return tenancy.compile_bindings(role_bindings=rbs.items, groups=groups.items)


def member(name: str) -> identity.Caller:
    return identity.Caller(name=name, groups=frozenset({identity.SYSTEM_GROUP_AUTHENTICATED}))


async def add_groups(api: httpx.AsyncClient) -> None:
    for name, members in (("payments-leads", ["lee"]), ("payments-engineers", ["dana"]),
                          ("payments-stakeholders", ["sam"])):  # fmt: skip
        body = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "Group", "metadata": {"name": name},
                "spec": {"members": members}}  # fmt: skip
        assert (await api.post(GROUPS, json=body)).status_code == 201


async def token_for(api: httpx.AsyncClient, user: str) -> dict[str, str]:
    response = await api.post("/api/v1/tenancy/tokens", json={"user": user})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def test_design_example_applies_unchanged_and_provisions_the_namespace(
    api: httpx.AsyncClient, platform: Platform
) -> None:
    await add_groups(api)
    applied = await apply_yaml(api, EXAMPLE.read_text())
    assert applied.status_code == 200, applied.text
    assert applied.json()["results"][0]["kind"] == "TeamNamespace"

    obj = await eventually(lambda: ready_at(api, 1))
    status = obj["status"]
    assert status["namespace"] == "payments-production"
    assert status["bindings"] == 3
    assert status["quota"] == "cpu=32, memory=64Gi, pods=100, services=20, persistentvolumeclaims=10"
    assert status["gitops"]["path"] == FOLDER and status["gitops"]["commit"] == platform.wiring.gitops.head()
    assert {c["type"]: c["status"] for c in status["conditions"]} == {"Ready": "True", "Synced": "True"}
    assert all(c["observedGeneration"] == 1 for c in status["conditions"])

    bindings = {b["metadata"]["name"]: b for b in await stored_bindings(platform, "payments-production")}
    assert {n: (b["spec"]["role"], b["spec"]["subjects"]) for n, b in bindings.items()} == {
        "team-admins": ("admin", [{"kind": "Group", "name": "payments-leads"}]),
        "team-developers": ("developer", [{"kind": "Group", "name": "payments-engineers"}]),
        "team-viewers": ("viewer", [{"kind": "Group", "name": "payments-stakeholders"}]),
    }
    assert all(b["metadata"]["ownerReferences"][0]["uid"] == obj["metadata"]["uid"] for b in bindings.values())

    snapshot = await bindings_snapshot(platform)
    dana, sam, lee = member("dana"), member("sam"), member("lee")
    assert tenancy.authorize(dana, "create", WORKLOAD, "payments-production", snapshot).allowed
    assert not tenancy.authorize(dana, "create", WORKLOAD, "orders-production", snapshot).allowed
    assert not tenancy.authorize(sam, "create", WORKLOAD, "payments-production", snapshot).allowed
    assert tenancy.authorize(sam, "list", WORKLOAD, "payments-production", snapshot).allowed
    rolebindings = platform.kinds.require("tenancy.blacktop.dev", "RoleBinding")
    assert tenancy.authorize(lee, "create", rolebindings, "payments-production", snapshot).allowed
    assert not tenancy.authorize(dana, "create", rolebindings, "payments-production", snapshot).allowed

    files = platform.wiring.gitops.list_files(FOLDER)
    assert sorted(f.rsplit("/", 1)[1] for f in files) == sorted([
        "namespace.yaml", "resourcequota-team-quota.yaml", "limitrange-team-limits.yaml",
        "networkpolicy-default-deny.yaml", "networkpolicy-allow-dns.yaml", "networkpolicy-allow-0.yaml",
        "networkpolicy-allow-1.yaml", "rolebinding-team-admins.yaml", "rolebinding-team-developers.yaml",
        "rolebinding-team-viewers.yaml", "configmap-team-dashboard.yaml",
    ])  # fmt: skip
    namespace = yaml.safe_load(platform.wiring.gitops.read(f"{FOLDER}/namespace.yaml"))
    assert {k: namespace["metadata"]["labels"][k] for k in ("team", "environment", "tier")} == {
        "team": "payments", "environment": "production", "tier": "critical"}  # fmt: skip


async def test_developer_token_gets_developer_rights_in_the_namespace_only(
    api: httpx.AsyncClient, platform: Platform
) -> None:
    await add_groups(api)
    assert (await apply_yaml(api, EXAMPLE.read_text())).status_code == 200
    await eventually(lambda: ready_at(api, 1))
    dana = await token_for(api, "dana")

    async def can_list_bindings() -> bool:
        return (await api.get(BINDINGS.format(ns="payments-production"), headers=dana)).status_code == 200

    assert await eventually(can_list_bindings)
    assert (await api.get(BINDINGS.format(ns="orders-production"), headers=dana)).status_code == 403
    sneaky = {"apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding", "metadata": {"name": "me"},
              "spec": {"role": "admin", "subjects": [{"kind": "User", "name": "dana"}]}}  # fmt: skip
    refused = await api.post(BINDINGS.format(ns="payments-production"), json=sneaky, headers=dana)
    assert refused.status_code == 403, "developers read bindings but may not grant themselves admin"


async def test_changed_subjects_are_synced_and_removed_lists_lose_their_binding(
    api: httpx.AsyncClient, platform: Platform
) -> None:
    document = yaml.safe_load(EXAMPLE.read_text())
    assert (await apply_yaml(api, EXAMPLE.read_text())).status_code == 200
    await eventually(lambda: ready_at(api, 1))
    changed = copy.deepcopy(document)
    changed["spec"]["rbac"] = {"admins": [{"group": "payments-leads"}, {"user": "alice"}],
                               "developers": [{"group": "payments-engineers"}]}  # fmt: skip
    changed["spec"]["networkPolicies"] = changed["spec"]["networkPolicies"][:1]
    assert (await apply_yaml(api, yaml.safe_dump(changed))).status_code == 200
    obj = await eventually(lambda: ready_at(api, 2))
    assert obj["status"]["bindings"] == 2
    bindings = {
        b["metadata"]["name"]: b["spec"]["subjects"] for b in await stored_bindings(platform, "payments-production")
    }
    assert bindings == {
        "team-admins": [{"kind": "Group", "name": "payments-leads"}, {"kind": "User", "name": "alice"}],
        "team-developers": [{"kind": "Group", "name": "payments-engineers"}],
    }
    files = {f.rsplit("/", 1)[1] for f in platform.wiring.gitops.list_files(FOLDER)}
    assert "rolebinding-team-viewers.yaml" not in files and "networkpolicy-allow-1.yaml" not in files
    admins = yaml.safe_load(platform.wiring.gitops.read(f"{FOLDER}/rolebinding-team-admins.yaml"))
    assert [s["name"] for s in admins["subjects"]] == ["payments-leads", "alice"]


async def test_deletion_removes_bindings_and_manifests(api: httpx.AsyncClient, platform: Platform) -> None:
    assert (await apply_yaml(api, EXAMPLE.read_text())).status_code == 200
    await eventually(lambda: ready_at(api, 1))
    assert platform.wiring.gitops.list_files(FOLDER)
    assert (await api.delete(f"{TNS}/payments-production")).status_code in (200, 202)

    async def gone() -> bool:
        return (await api.get(f"{TNS}/payments-production")).status_code == 404

    await eventually(gone)
    assert await stored_bindings(platform, "payments-production") == []
    assert platform.wiring.gitops.list_files(FOLDER) == []


BAD_CASES = {
    "request-above-limit": (("limitRanges", "defaultRequest", "cpu"), "4", ["spec.limitRanges.defaultRequest.cpu"]),
    "limit-above-max": (("limitRanges", "defaultLimit", "memory"), "32Gi", ["spec.limitRanges.defaultLimit.memory"]),
    "not-a-quantity": (("resourceQuotas", "memory"), "64GB", ["spec.resourceQuotas.memory"]),
    "unknown-tier": (("tier",), "platinum", ["spec.tier"]),
}


async def test_bad_input_is_a_422_naming_each_field(api: httpx.AsyncClient) -> None:
    for case, (path, value, want) in BAD_CASES.items():
        document = yaml.safe_load(EXAMPLE.read_text())
        node = document["spec"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        response = await api.post(TNS, json=document)
        assert response.status_code == 422, (case, response.text)
        assert sorted({p["path"] for p in response.json()["problems"]}) == want, (case, response.json())
    both = yaml.safe_load(EXAMPLE.read_text())
    both["spec"]["rbac"]["viewers"] = [{"group": "a", "user": "b"}]
    response = await api.post(TNS, json=both)
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["spec.rbac.viewers[0]"]


def test_kind_is_registered_with_its_design_group() -> None:
    assert tns.TEAM_NAMESPACE.api_version() == "platform.company.io/v1alpha1"
