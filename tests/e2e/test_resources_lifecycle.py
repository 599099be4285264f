"""Self-service infrastructure end to end over ASGI: XRDs served at run time, claims composed and deleted.

Test design notes:

* The built-in profile is created at start, so the design's ``orders-db`` claim applies unchanged
  and ``databases`` are listed in ``orders-team`` (what ``blacktop get databases -n orders-team``
  reads).
* The lifecycle tests install a small XRD of their own whose Composition composes a kind every
  blacktop serves (a tenancy ``RoleBinding``, ready by ``readinessChecks: None``), so readiness,
  ownership, deletion order and protection are observable without the providers' kinds.
* Waiting polls the API with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.corpus import examples_dir

DATABASES = "/apis/platform.company.io/v1alpha1/namespaces/{ns}/databases"
XDATABASES = "/apis/platform.company.io/v1alpha1/xdatabases"
XRDS = "/apis/apiextensions.crossplane.io/v1/compositeresourcedefinitions"
COMPOSITIONS = "/apis/apiextensions.crossplane.io/v1/compositions"
POLICIES = "/apis/policy.blacktop.dev/v1alpha1/validatingpolicies"
WIDGETS = "/apis/test.blacktop.dev/v1alpha1/namespaces/{ns}/widgets"
XWIDGETS = "/apis/test.blacktop.dev/v1alpha1/xwidgets"
BINDINGS = "/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings"

WIDGET_XRD: dict[str, Any] = {
    "apiVersion": "apiextensions.crossplane.io/v1",
    "kind": "CompositeResourceDefinition",
    "metadata": {"name": "xwidgets.test.blacktop.dev"},
    "spec": {
        "group": "test.blacktop.dev",
        "names": {"kind": "XWidget", "plural": "xwidgets"},
        "claimNames": {"kind": "Widget", "plural": "widgets"},
        "defaultCompositionRef": {"name": "widget-binding"},
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "referenceable": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["team"],
                                "properties": {
                                    "team": {"type": "string"},
                                    "role": {"type": "string", "enum": ["viewer", "developer"], "default": "viewer"},
                                    "deletionProtection": {"type": "boolean"},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}
WIDGET_COMPOSITION: dict[str, Any] = {
    "apiVersion": "apiextensions.crossplane.io/v1",
    "kind": "Composition",
    "metadata": {"name": "widget-binding"},
    "spec": {
        "compositeTypeRef": {"apiVersion": "test.blacktop.dev/v1alpha1", "kind": "XWidget"},
        "resources": [
            {
                "name": "binding",
                "base": {
                    "apiVersion": "tenancy.blacktop.dev/v1alpha1",
                    "kind": "RoleBinding",
                    "spec": {"role": "viewer", "subjects": [{"kind": "Group", "name": "placeholder"}]},
                },
                "patches": [
                    {"fromFieldPath": "spec.team", "toFieldPath": "spec.subjects[0].name"},
                    {"fromFieldPath": "spec.role", "toFieldPath": "spec.role"},
                ],
                "readinessChecks": [{"type": "None"}],
            }
        ],
    },
}


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.blacktop.dev/v1alpha1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"team": "team-a", **spec},
    }


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met in {within}s; last: {last!r}")


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), {})


async def get(api: httpx.AsyncClient, path: str) -> dict[str, Any] | None:
    response = await api.get(path)
    return response.json() if response.status_code == 200 else None


async def remove_database(api: httpx.AsyncClient, name: str) -> None:
    """Lift the production tier's deletion protection, delete, and wait until the claim is gone."""
    path = f"{DATABASES.format(ns='orders-team')}/{name}"
    lifted = await api.patch(
        path, json={"spec": {"deletionProtection": False}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert lifted.status_code == 200, lifted.text
    assert (await api.delete(path)).status_code in (200, 202)

    async def gone() -> bool:
        return await get(api, path) is None

    await eventually(gone, within=30)


async def install_widgets(api: httpx.AsyncClient) -> None:
    for path, body in ((XRDS, WIDGET_XRD), (COMPOSITIONS, WIDGET_COMPOSITION)):
        response = await api.post(path, json=body)
        assert response.status_code == 201, response.text

    async def served() -> bool:
        revision = await get(api, f"{COMPOSITIONS}/widget-binding")
        listed = await api.get(WIDGETS.format(ns="team-a"))
        return listed.status_code == 200 and bool(revision and condition(revision, "Valid").get("status") == "True")

    await eventually(served)


async def ready_claim(api: httpx.AsyncClient, name: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        claim = await get(api, f"{WIDGETS.format(ns='team-a')}/{name}")
        return claim if claim and condition(claim, "Ready").get("status") == "True" else None

    found: dict[str, Any] = await eventually(ready)
    return found


async def test_design_database_claim_applies_unchanged_and_is_listed_in_its_namespace(
    api: httpx.AsyncClient,
) -> None:
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    created = await api.post(DATABASES.format(ns="orders-team"), json=claim)
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["size"] == "medium"
    listed = await api.get(DATABASES.format(ns="orders-team"))
    assert [i["metadata"]["name"] for i in listed.json()["items"]] == ["orders-db"]

    async def composed() -> dict[str, Any] | None:
        found = await get(api, f"{DATABASES.format(ns='orders-team')}/orders-db")
        selection = ((found or {}).get("status") or {}).get("compositionSelection")
        return found if selection and condition(found or {}, "Synced").get("status") == "True" else None

    stored = await eventually(composed)
    xr_name = stored["spec"]["resourceRef"]["name"]
    assert xr_name.startswith("orders-db-") and len(xr_name) == len("orders-db-") + 5
    xr = await get(api, f"{XDATABASES}/{xr_name}")
    assert xr is not None
    assert xr["spec"]["claimRef"] == {
        "apiVersion": "platform.company.io/v1alpha1",
        "kind": "Database",
        "name": "orders-db",
        "namespace": "orders-team",
    }
    assert xr["metadata"]["labels"]["crossplane.io/claim-name"] == "orders-db"
    selection = stored["status"]["compositionSelection"]
    assert selection["composition"] == "database-local.platform.company.io"
    assert "default of XRD" in selection["compositionReason"]
    assert selection["revisionNumber"] == 1
    await remove_database(api, "orders-db")


async def test_claims_are_validated_by_schema_and_by_the_xrd_cel_rules(api: httpx.AsyncClient) -> None:
    await eventually(lambda: get(api, f"{POLICIES}/xrd-xdatabases.platform.company.io"))
    base = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    bad_schema = {**base, "spec": {**base["spec"], "tier": "gold"}}
    bad_schema["spec"].pop("owner")
    refused = await api.post(DATABASES.format(ns="orders-team"), json=bad_schema)
    assert refused.status_code == 422
    assert sorted(p["path"] for p in refused.json()["problems"]) == ["spec.owner", "spec.tier"]
    bad_version = {**base, "spec": {**base["spec"], "version": "9"}}
    refused = await api.post(DATABASES.format(ns="orders-team"), json=bad_version)
    assert refused.status_code == 422, refused.text
    assert "postgresql versions are 14, 15, 16 and 17" in refused.text
    created = await api.post(DATABASES.format(ns="orders-team"), json=base)
    assert created.status_code == 201
    changed = await api.patch(
        f"{DATABASES.format(ns='orders-team')}/orders-db",
        json={"spec": {"engine": "mysql", "version": "8.0"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 422, changed.text
    assert "engine is immutable" in changed.text
    await remove_database(api, "orders-db")


async def test_claim_composes_owned_resources_and_deletion_removes_them(api: httpx.AsyncClient) -> None:
    await install_widgets(api)
    created = await api.post(WIDGETS.format(ns="team-a"), json=widget("w1", role="developer"))
    assert created.status_code == 201, created.text
    claim = await ready_claim(api, "w1")
    xr_name = claim["spec"]["resourceRef"]["name"]
    xr = await get(api, f"{XWIDGETS}/{xr_name}")
    assert xr is not None and condition(xr, "Ready")["reason"] == "Available"
    (ref,) = xr["spec"]["resourceRefs"]
    assert ref["kind"] == "RoleBinding" and ref["name"].startswith(f"{xr_name}-")
    binding = await get(api, f"{BINDINGS.format(ns='team-a')}/{ref['name']}")
    assert binding is not None
    assert binding["spec"] == {"role": "developer", "subjects": [{"kind": "Group", "name": "team-a"}]}
    assert binding["metadata"]["ownerReferences"] == [
        {"apiVersion": "test.blacktop.dev/v1alpha1", "blockOwnerDeletion": True, "controller": True,
         "kind": "XWidget", "name": xr_name, "uid": xr["metadata"]["uid"]}
    ]  # fmt: skip
    assert binding["metadata"]["annotations"]["crossplane.io/composition-resource-name"] == "binding"

    changed = await api.patch(
        f"{WIDGETS.format(ns='team-a')}/w1",
        json={"spec": {"role": "viewer"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 200

    async def updated() -> bool:
        found = await get(api, f"{BINDINGS.format(ns='team-a')}/{ref['name']}")
        return bool(found and found["spec"]["role"] == "viewer")

    await eventually(updated)
    assert (await api.delete(f"{WIDGETS.format(ns='team-a')}/w1")).status_code in (200, 202)

    async def gone() -> bool:
        claim_gone = await get(api, f"{WIDGETS.format(ns='team-a')}/w1") is None
        xr_gone = await get(api, f"{XWIDGETS}/{xr_name}") is None
        binding_gone = await get(api, f"{BINDINGS.format(ns='team-a')}/{ref['name']}") is None
        return claim_gone and xr_gone and binding_gone

    await eventually(gone)


async def test_deletion_protection_refuses_until_lifted(api: httpx.AsyncClient) -> None:
    await install_widgets(api)
    await api.post(WIDGETS.format(ns="team-a"), json=widget("kept", deletionProtection=True))
    await ready_claim(api, "kept")
    assert (await api.delete(f"{WIDGETS.format(ns='team-a')}/kept")).status_code in (200, 202)

    async def refused() -> dict[str, Any] | None:
        found = await get(api, f"{WIDGETS.format(ns='team-a')}/kept")
        return found if found and condition(found, "Ready").get("reason") == "DeletionProtected" else None

    pending = await eventually(refused)
    assert "spec.deletionProtection: false" in condition(pending, "Ready")["message"]
    lifted = await api.patch(
        f"{WIDGETS.format(ns='team-a')}/kept",
        json={"spec": {"deletionProtection": False}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert lifted.status_code == 200, lifted.text

    async def gone() -> bool:
        return await get(api, f"{WIDGETS.format(ns='team-a')}/kept") is None

    await eventually(gone)


async def test_xrd_removal_waits_for_its_instances_and_then_unserves_the_kinds(api: httpx.AsyncClient) -> None:
    await install_widgets(api)
    await api.post(WIDGETS.format(ns="team-a"), json=widget("w2"))
    await ready_claim(api, "w2")
    assert (await api.delete(f"{XRDS}/xwidgets.test.blacktop.dev")).status_code in (200, 202)

    async def refused() -> dict[str, Any] | None:
        found = await get(api, f"{XRDS}/xwidgets.test.blacktop.dev")
        return found if found and condition(found, "Established").get("reason") == "InstancesExist" else None

    pending = await eventually(refused)
    assert "Widget team-a/w2" in condition(pending, "Established")["message"]
    await api.delete(f"{WIDGETS.format(ns='team-a')}/w2")

    async def unserved() -> bool:
        xrd_gone = await get(api, f"{XRDS}/xwidgets.test.blacktop.dev") is None
        listing = await api.get(WIDGETS.format(ns="team-a"))
        return xrd_gone and listing.status_code == 404

    await eventually(unserved)


async def test_an_error_of_any_layer_is_surfaced_on_the_claim(api: httpx.AsyncClient) -> None:
    await install_widgets(api)
    await api.post(WIDGETS.format(ns="team-a"), json=widget("lost", compositionRef={"name": "no-such-composition"}))

    async def failed() -> dict[str, Any] | None:
        found = await get(api, f"{WIDGETS.format(ns='team-a')}/lost")
        return found if found and condition(found, "Synced").get("reason") == "CompositionNotFound" else None

    claim = await eventually(failed)
    synced = condition(claim, "Synced")
    assert synced["reason"] == "CompositionNotFound"
    assert "'no-such-composition'" in synced["message"] and "does not exist" in synced["message"]
    explained = await api.get("/api/v1/resources/explain/widgets/lost", params={"namespace": "team-a"})
    assert explained.status_code == 200
    assert "last error: CompositionNotFound" in explained.json()["text"]


async def test_plan_shows_changes_without_applying(api: httpx.AsyncClient, tmp_path: Path) -> None:
    await install_widgets(api)
    body = {"documents": [{"source": "w3.yaml:1", "object": widget("w3", role="developer")}]}
    planned = await api.post("/api/v1/resources/plan", json=body)
    assert planned.status_code == 200, planned.text
    (item,) = planned.json()["items"]
    assert [c["action"] for c in item["changes"]] == ["create"]
    assert "+    role: developer" in item["text"] or "+  role: developer" in item["text"]
    assert await get(api, f"{WIDGETS.format(ns='team-a')}/w3") is None
    refused = await api.post(
        "/api/v1/resources/plan", json={"documents": [{"source": "bad.yaml:1", "object": widget("w4", role="owner")}]}
    )
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["path"].startswith("bad.yaml:1")


async def test_cloud_composition_is_published_for_an_external_reconciler(api: httpx.AsyncClient) -> None:
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    claim["metadata"]["name"] = "orders-db-aws"
    claim["spec"]["compositionSelector"] = {"matchLabels": {"provider": "aws", "engine": "postgresql"}}
    assert (await api.post(DATABASES.format(ns="orders-team"), json=claim)).status_code == 201

    async def published() -> dict[str, Any] | None:
        found = await get(api, f"{DATABASES.format(ns='orders-team')}/orders-db-aws")
        return found if found and condition(found, "Ready").get("reason") == "ExternalReconciler" else None

    stored = await eventually(published)
    message = condition(stored, "Ready")["message"]
    assert "connection-secret, rds-instance, security-group" in message and "GitOps" in message
    assert stored["status"]["compositionSelection"]["composition"] == "database.platform.company.io"
    xr = await get(api, f"{XDATABASES}/{stored['spec']['resourceRef']['name']}")
    assert xr is not None
    assert [(r["name"], r["external"]) for r in xr["status"]["composedResources"]] == [
        ("rds-instance", True),
        ("security-group", True),
        ("connection-secret", True),
    ]
    await remove_database(api, "orders-db-aws")


async def test_plan_and_explain_are_authorized_per_namespace(api: httpx.AsyncClient) -> None:
    async def policy_ready() -> bool:
        found = await get(api, f"{POLICIES}/xrd-xdatabases.platform.company.io")
        return bool(found and condition(found, "Ready"))

    await eventually(policy_ready)

    async def token() -> httpx.Response | None:
        # A 503 says "retry": SQLite refuses the token store's read-then-write while another write commits.
        issued = await api.post("/api/v1/tenancy/tokens", json={"user": "mallory"})
        return issued if issued.status_code != 503 else None

    issued = await eventually(token)
    assert issued.status_code == 201, issued.text
    mallory = {"Authorization": f"Bearer {issued.json()['token']}"}
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    planned = await api.post(
        "/api/v1/resources/plan", json={"documents": [{"source": "c.yaml:1", "object": claim}]}, headers=mallory
    )
    assert planned.status_code == 403, planned.text
    explained = await api.get(
        "/api/v1/resources/explain/databases/orders-db", params={"namespace": "orders-team"}, headers=mallory
    )
    assert explained.status_code == 403
    assert "orders-team" in explained.json()["message"]


async def issue_token(api: httpx.AsyncClient, user: str) -> dict[str, str]:
    async def token() -> httpx.Response | None:
        # A 503 says "retry": SQLite refuses the token store's read-then-write while another write commits.
        issued = await api.post("/api/v1/tenancy/tokens", json={"user": user})
        return issued if issued.status_code != 503 else None

    issued = await eventually(token)
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['token']}"}


async def test_local_database_becomes_ready_with_a_connection_secret_only_its_team_reads(
    api: httpx.AsyncClient,
) -> None:
    for ns, user in (("orders-team", "olga"), ("payments", "pete")):
        await api.post(f"/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{ns}/rolebindings", json={
            "apiVersion": "tenancy.blacktop.dev/v1alpha1", "kind": "RoleBinding", "metadata": {"name": "devs"},
            "spec": {"role": "developer", "subjects": [{"kind": "User", "name": user}]}})  # fmt: skip
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    claim["spec"]["tier"] = "dev"
    assert (await api.post(DATABASES.format(ns="orders-team"), json=claim)).status_code == 201

    async def ready() -> dict[str, Any] | None:
        found = await get(api, f"{DATABASES.format(ns='orders-team')}/orders-db")
        return found if found and condition(found, "Ready").get("status") == "True" else None

    stored = await eventually(ready, within=60)
    published = stored["status"]["connectionDetails"]
    assert published["secretPath"] == "orders-team/connections/orders-db"
    assert published["keys"] == ["database", "host", "password", "port", "uri", "username"]
    olga, pete = await issue_token(api, "olga"), await issue_token(api, "pete")
    path = "/api/v1/secrets/data/orders-team/connections/orders-db"
    read = await api.get(path, params={"reveal": "true"}, headers=olga)
    assert read.status_code == 200, read.text
    assert read.json()["data"]["uri"].startswith(("postgresql://", "postgres://"))
    assert (await api.get(path, params={"reveal": "true"}, headers=pete)).status_code == 403
    assert (await api.delete(f"{DATABASES.format(ns='orders-team')}/orders-db")).status_code in (200, 202)

    async def gone() -> bool:
        return await get(api, f"{DATABASES.format(ns='orders-team')}/orders-db") is None

    await eventually(gone, within=30)


async def test_production_databases_are_deletion_protected_by_the_xrd_default(api: httpx.AsyncClient) -> None:
    claim = yaml.safe_load((examples_dir() / "database-orders-db.yaml").read_text())
    assert claim["spec"]["tier"] == "production" and "deletionProtection" not in claim["spec"]
    assert (await api.post(DATABASES.format(ns="orders-team"), json=claim)).status_code == 201
    path = f"{DATABASES.format(ns='orders-team')}/orders-db"

    async def finalized() -> bool:
        found = await get(api, path)
        return bool(found and found["metadata"].get("finalizers"))

    await eventually(finalized)
    assert (await api.delete(path)).status_code in (200, 202)

    async def refused() -> dict[str, Any] | None:
        found = await get(api, path)
        return found if found and condition(found, "Ready").get("reason") == "DeletionProtected" else None

    await eventually(refused)
    await remove_database(api, "orders-db")


async def test_a_composition_change_makes_a_revision_followed_by_automatic_claims_only(api: httpx.AsyncClient) -> None:
    await install_widgets(api)
    await api.post(WIDGETS.format(ns="team-a"), json=widget("auto"))
    await api.post(WIDGETS.format(ns="team-a"), json=widget("pinned", compositionUpdatePolicy="Manual"))
    for name in ("auto", "pinned"):
        await ready_claim(api, name)
    changed = copy.deepcopy(WIDGET_COMPOSITION)
    changed["spec"]["resources"][0]["patches"] = changed["spec"]["resources"][0]["patches"][:1]
    changed["spec"]["resources"][0]["base"]["spec"]["role"] = "admin"
    replaced = await api.put(f"{COMPOSITIONS}/widget-binding", json=changed)
    assert replaced.status_code == 200, replaced.text

    async def role_of(name: str) -> str | None:
        claim = await get(api, f"{WIDGETS.format(ns='team-a')}/{name}")
        xr = await get(api, f"{XWIDGETS}/{(claim or {})['spec']['resourceRef']['name']}")
        (ref,) = (xr or {})["spec"]["resourceRefs"]
        binding = await get(api, f"{BINDINGS.format(ns='team-a')}/{ref['name']}")
        return None if binding is None else str(binding["spec"]["role"])

    async def followed() -> bool:
        return await role_of("auto") == "admin"

    await eventually(followed)
    assert await role_of("pinned") == "viewer"
    pinned = await get(api, f"{WIDGETS.format(ns='team-a')}/pinned")
    assert pinned is not None and pinned["status"]["compositionSelection"]["revisionNumber"] == 1

    async def recorded() -> bool:
        auto = await get(api, f"{WIDGETS.format(ns='team-a')}/auto")
        return bool(auto and auto["status"]["compositionSelection"]["revisionNumber"] == 2)

    await eventually(recorded)
