"""Catalog ingestion through the HTTP API: the Backstage corpus, the design's payment-service and its
dark matter, incremental refresh, conflicts, orphans, git locations, processing errors, the audit
record per refresh and platform groups fed from catalog Groups and Users.

Expected relations are written from the spec sheet (section 7), not read back from blacktop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from .conftest import EXAMPLES, PAYMENT_SERVICE, CatalogApi, entity, location_status, register, write

ROOTS = (EXAMPLES / "all.yaml", EXAMPLES / "acme" / "org.yaml", EXAMPLES / "all-ai-resources.yaml")
REMOTE_DEFINITION_APIS = {"spotify", "wayback-archive", "wayback-search"}


async def _all_refs(client: httpx.AsyncClient) -> list[str]:
    """Entities that came from the corpus roots (other features register locations of their own)."""
    params: list[tuple[str, str | int | float | bool | None]] = [("fields", "kind,metadata.namespace,metadata.name")]
    params += [
        ("filter", f"metadata.annotations.backstage.io/managed-by-origin-location=file:{root}") for root in ROOTS
    ]
    items = (await client.get("/api/catalog/entities", params=params)).json()
    return sorted(f"{e['kind']}:{e['metadata']['namespace']}/{e['metadata']['name']}".lower() for e in items)


async def test_corpus_roots_ingest_every_local_entity_and_refuse_unlisted_hosts(catalog_api: CatalogApi) -> None:
    _, client = await catalog_api()
    errors = []
    for root in ROOTS:
        created = await register(client, root)
        errors += (await location_status(client, created["location"]["id"]))["errors"]
    refs = await _all_refs(client)
    # 67 entities are reachable; three APIs take their definition from GitHub, which is not an allowed host.
    assert len(refs) == 67 - 3 == len(set(refs))
    assert {"user:development/guest", "user:default/guest", "group:default/team-a"} <= set(refs)
    assert sorted(e["path"] for e in errors) == ["spec.definition"] * 3
    assert all("not in the catalog's allowed hosts" in e["message"] for e in errors)
    assert {e["document"].rsplit("/", 1)[1].removesuffix("-api.yaml") for e in errors} == REMOTE_DEFINITION_APIS
    assert all(e["line"] > 0 for e in errors)


async def test_served_entities_carry_relations_uid_etag_and_location_annotations(catalog_api: CatalogApi) -> None:
    _, client = await catalog_api()
    await register(client, EXAMPLES / "all.yaml")
    served = await entity(client, "component", "artist-lookup")
    assert served["metadata"]["uid"] and served["metadata"]["etag"]
    annotations = served["metadata"]["annotations"]
    assert (
        annotations["backstage.io/managed-by-location"]
        == f"file:{EXAMPLES / 'components' / 'artist-lookup-component.yaml'}"
    )
    assert annotations["backstage.io/managed-by-origin-location"] == f"file:{EXAMPLES / 'all.yaml'}"
    # artist-lookup: owner team-a, system artist-engagement-portal, dependsOn resource:artists-db and
    # component:wayback-archive-ingestion... as declared in its file (section 7 derivation).
    source = (EXAMPLES / "components" / "artist-lookup-component.yaml").read_text()
    assert "owner: team-a" in source
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in served["relations"]
    assert {"type": "partOf", "targetRef": "system:default/artist-engagement-portal"} in served["relations"]
    assert served["relations"] == sorted(served["relations"], key=lambda r: (r["type"], r["targetRef"]))
    # The reverse row is served on the target, emitted by the declaring entity.
    team = await client.get(
        "/api/catalog/entities", params={"filter": "kind=system,metadata.name=artist-engagement-portal"}
    )
    system = team.json()[0]
    assert {"type": "hasPart", "targetRef": "component:default/artist-lookup"} in system["relations"]
    by_uid = await client.get(f"/api/catalog/entities/by-uid/{served['metadata']['uid']}")
    assert by_uid.json() == served


PAYMENT_RELATIONS = [
    {"type": "consumesApi", "targetRef": "api:default/ledger-api"},
    {"type": "consumesApi", "targetRef": "api:default/stripe-api"},
    {"type": "dependsOn", "targetRef": "component:default/notification-service"},
    {"type": "dependsOn", "targetRef": "resource:default/orders-db"},
    {"type": "ownedBy", "targetRef": "group:default/team-payments"},
    {"type": "partOf", "targetRef": "system:default/commerce-platform"},
    {"type": "providesApi", "targetRef": "api:default/payment-api"},
]

PAYMENT_NEIGHBOURS = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-payments}
spec: {type: team, children: [], members: [ana]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ana}
spec: {memberOf: [team-payments]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: commerce-platform}
spec: {owner: team-payments}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: orders-db}
spec: {type: database, owner: team-payments, system: commerce-platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: notification-service}
spec: {type: service, lifecycle: production, owner: team-payments}
"""

APIS = "".join(
    f"""---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {{name: {name}}}
spec: {{type: openapi, lifecycle: production, owner: team-payments, definition: "openapi: 3.0.0"}}
"""
    for name in ("payment-api", "stripe-api", "ledger-api")
)


async def test_payment_service_relations_and_dark_matter_until_its_targets_exist(
    catalog_api: CatalogApi, tmp_path: Path
) -> None:
    _, client = await catalog_api()
    await register(client, PAYMENT_SERVICE)
    served = await entity(client, "component", "payment-service")
    assert served["relations"] == PAYMENT_RELATIONS

    # Other features register entities of their own (built-in templates); only payment-service's matter here.
    service = "component:default/payment-service"
    report = (await client.get("/api/v1/catalog/dark-matter")).json()
    assert service in report["withoutValidOwner"]
    assert report["missingOwners"]["group:default/team-payments"] == [service]
    dangling = {(d["type"], d["target"]) for d in report["danglingRelations"] if d["source"] == service}
    assert dangling == {(r["type"], r["targetRef"]) for r in PAYMENT_RELATIONS}

    neighbours = write(tmp_path / "org" / "neighbours.yaml", PAYMENT_NEIGHBOURS + APIS)
    await register(client, neighbours)
    report = (await client.get("/api/v1/catalog/dark-matter")).json()
    assert service not in report["withoutValidOwner"]
    assert "group:default/team-payments" not in report["missingOwners"]
    ours = {service, *(r["targetRef"] for r in PAYMENT_RELATIONS)}
    assert [d for d in report["danglingRelations"] if d["source"] in ours] == []

    impact = (await client.get("/api/v1/catalog/impact", params={"ref": "resource:orders-db"})).json()
    # An outage propagates provider -> API: payment-api goes down with payment-service.
    assert [(i["ref"], i["depth"]) for i in impact["items"]] == [
        ("component:default/payment-service", 1), ("api:default/payment-api", 2),
    ]  # fmt: skip
    needs = (
        await client.get(
            "/api/v1/catalog/impact", params={"ref": "component:payment-service", "direction": "dependencies"}
        )
    ).json()
    assert {i["ref"] for i in needs["items"]} == {
        "api:default/ledger-api", "api:default/stripe-api", "component:default/notification-service",
        "resource:default/orders-db",
    }  # fmt: skip


async def test_invalid_entities_are_rejected_naming_the_field_and_the_rest_ingests(
    catalog_api: CatalogApi, tmp_path: Path
) -> None:
    _, client = await catalog_api()
    root = write(
        tmp_path / "mixed.yaml",
        """apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: good}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: "bad name!"}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: no-lifecycle}
spec: {type: service, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: bad-ref}
spec: {type: service, lifecycle: production, owner: team-a, dependsOn: [db]}
""",
    )
    created = await register(client, root)
    assert [e["metadata"]["name"] for e in created["entities"]] == ["good"]
    errors = (await location_status(client, created["location"]["id"]))["errors"]
    assert [(e["path"], e["line"]) for e in errors] == [
        ("metadata.name", 8), ("spec.lifecycle", 14), ("spec.dependsOn[0]", 19),
    ]  # fmt: skip


async def test_a_changed_file_is_reprocessed_alone_and_visible_after_refresh(
    catalog_api: CatalogApi, tmp_path: Path
) -> None:
    _, client = await catalog_api()
    root = write(tmp_path / "root.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\n"
                 "spec: {targets: [./a.yaml, ./b.yaml]}\n")  # fmt: skip
    component = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {0}, description: {1}}}\n" \
        "spec: {{type: service, lifecycle: production, owner: team-a}}\n"  # fmt: skip
    write(tmp_path / "a.yaml", component.format("svc-a", "first"))
    write(tmp_path / "b.yaml", component.format("svc-b", "first"))
    created = await register(client, root)
    location_id = created["location"]["id"]
    assert (await location_status(client, location_id))["summary"]["written"] == 3

    write(tmp_path / "b.yaml", component.format("svc-b", "second searchable-marker"))
    summary = (await client.post("/api/catalog/refresh", json={"entityRef": "component:svc-b"})).json()
    assert (summary["files"], summary["changedFiles"], summary["written"]) == (3, 1, 1)
    assert (await entity(client, "component", "svc-b"))["metadata"]["description"] == "second searchable-marker"
    hits = (await client.get("/api/v1/catalog/search", params={"q": "searchable-mark"})).json()["items"]
    assert [h["ref"] for h in hits] == ["component:default/svc-b"]
    unchanged = (await client.post(f"/api/v1/catalog/locations/{location_id}/refresh")).json()
    assert (unchanged["changedFiles"], unchanged["written"]) == (0, 0)


@pytest.mark.parametrize("strategy", ["delete", "keep"])
async def test_orphans_are_deleted_or_kept_and_annotated(
    catalog_api: CatalogApi, tmp_path: Path, strategy: str
) -> None:
    _, client = await catalog_api(orphan_strategy=strategy)
    file = write(tmp_path / "two.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: stays}\n"
                 "spec: {type: service, lifecycle: production, owner: team-a}\n---\n"
                 "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: goes}\n"
                 "spec: {type: service, lifecycle: production, owner: team-a}\n")  # fmt: skip
    created = await register(client, file)
    file.write_text(file.read_text().split("---")[0])
    summary = (await client.post(f"/api/v1/catalog/locations/{created['location']['id']}/refresh")).json()
    orphans = await client.get(
        "/api/catalog/entities", params={"filter": "metadata.annotations.backstage.io/orphan=true"}
    )
    if strategy == "delete":
        assert summary["removed"] == 1
        assert (await client.get("/api/catalog/entities/by-name/component/default/goes")).status_code == 404
        assert orphans.json() == []
    else:
        assert summary["orphaned"] == 1
        kept = await entity(client, "component", "goes")
        assert kept["metadata"]["annotations"]["backstage.io/orphan"] == "true"
        assert [e["metadata"]["name"] for e in orphans.json()] == ["goes"]
        dark = (await client.get("/api/v1/catalog/dark-matter")).json()
        assert dark["orphans"] == ["component:default/goes"]


async def test_a_second_location_claiming_an_entity_is_reported_naming_both(
    catalog_api: CatalogApi, tmp_path: Path
) -> None:
    _, client = await catalog_api()
    body = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: shared, description: %s}\n" \
        "spec: {type: service, lifecycle: production, owner: team-a}\n"  # fmt: skip
    first = await register(client, write(tmp_path / "first.yaml", body % "first"))
    second = await register(client, write(tmp_path / "second.yaml", body % "second"))
    assert second["entities"] == []
    errors = (await location_status(client, second["location"]["id"]))["errors"]
    assert len(errors) == 1
    assert first["location"]["id"] in errors[0]["message"] and second["location"]["id"] in errors[0]["message"]
    assert (await entity(client, "component", "shared"))["metadata"]["description"] == "first"
    # Deleting the first location frees the ref; the second takes it on its next refresh.
    assert (await client.delete(f"/api/catalog/locations/{first['location']['id']}")).status_code == 204
    await client.post(f"/api/v1/catalog/locations/{second['location']['id']}/refresh")
    assert (await entity(client, "component", "shared"))["metadata"]["description"] == "second"
    by_entity = (await client.get("/api/catalog/locations/by-entity/component/default/shared")).json()
    assert by_entity["id"] == second["location"]["id"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True, capture_output=True,
    )  # fmt: skip


async def test_git_repository_location_with_branch_and_glob(catalog_api: CatalogApi, tmp_path: Path) -> None:
    platform, client = await catalog_api()
    repo = tmp_path / "repo"
    write(repo / "services" / "a" / "catalog-info.yaml", PAYMENT_SERVICE.read_text())
    write(repo / "README.md", "not a descriptor")
    _git(repo, "init", "--quiet", "--initial-branch=trunk")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "one")
    created = await register(client, f"{repo}#trunk:**/catalog-info.yaml", type_="git")
    assert [e["metadata"]["name"] for e in created["entities"]] == ["payment-service"]
    assert (platform.settings.data_dir / "catalog" / "git").is_dir()

    write(repo / "services" / "b" / "catalog-info.yaml", PAYMENT_NEIGHBOURS)
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "two")
    await client.post("/api/catalog/refresh", json={"entityRef": "component:payment-service"})
    assert (await entity(client, "group", "team-payments"))["spec"]["members"] == ["ana"]
    missing = await client.post("/api/catalog/locations", json={"type": "git", "target": f"{tmp_path}/nope#main"})
    assert missing.status_code == 201
    errors = (await location_status(client, missing.json()["location"]["id"]))["errors"]
    assert "could not fetch" in errors[0]["message"]


async def test_catalog_groups_and_users_become_platform_groups(catalog_api: CatalogApi, tmp_path: Path) -> None:
    _, client = await catalog_api()
    await register(client, write(tmp_path / "org.yaml", PAYMENT_NEIGHBOURS))
    group = (await client.get("/apis/tenancy.blacktop.dev/v1alpha1/groups/team-payments")).json()
    assert group["spec"]["members"] == ["ana"]
    assert group["metadata"]["labels"]["catalog.blacktop.dev/managed"] == "true"


async def test_each_refresh_appends_one_audit_record(catalog_api: CatalogApi, tmp_path: Path) -> None:
    _, client = await catalog_api(sync_groups=False)
    created = await register(client, PAYMENT_SERVICE)
    await client.post(f"/api/v1/catalog/locations/{created['location']['id']}/refresh")
    records = (await client.get("/api/v1/audit/records", params={"actor": "service:catalog"})).json()["items"]
    refreshes = [r for r in records if r["verb"] == "refresh" and r["name"] == created["location"]["id"]]
    assert [r["name"] for r in refreshes] == [created["location"]["id"]] * 2
    assert (await client.post("/api/v1/audit/verify")).json()["ok"] is True


async def test_a_deleted_entity_comes_back_when_its_location_still_emits_it(catalog_api: CatalogApi) -> None:
    _, client = await catalog_api(sync_groups=False)
    created = await register(client, PAYMENT_SERVICE)
    uid = (await entity(client, "component", "payment-service"))["metadata"]["uid"]
    assert (await client.delete(f"/api/catalog/entities/by-uid/{uid}")).status_code == 204
    assert (await client.get(f"/api/catalog/entities/by-uid/{uid}")).status_code == 404
    await client.post(f"/api/v1/catalog/locations/{created['location']['id']}/refresh")
    assert (await entity(client, "component", "payment-service"))["metadata"]["name"] == "payment-service"


OTHER_ROOTS = (
    "demo/catalog-info.yaml",
    "demo/examples/ai-resources.yaml",
    "demo/examples/mcp-server-api.yaml",
    "create-app/templates/default-app/examples/entities.yaml",
    "create-app/templates/default-app/examples/org.yaml",
)


@pytest.mark.parametrize("root", OTHER_ROOTS)
async def test_other_corpus_roots_ingest_without_problems(catalog_api: CatalogApi, root: str) -> None:
    _, client = await catalog_api(sync_groups=False)
    created = await register(client, EXAMPLES.parents[3] / root)
    assert created["entities"]
    errors = (await location_status(client, created["location"]["id"]))["errors"]
    # Only remote placeholder targets (demo.backstage.io) are refused: no host is allowed by default.
    assert all("not in the catalog's allowed hosts" in e["message"] for e in errors)


async def test_a_location_can_be_pointed_elsewhere_and_listed_by_query(catalog_api: CatalogApi, tmp_path: Path) -> None:
    _, client = await catalog_api(sync_groups=False)
    created = await register(client, PAYMENT_SERVICE)
    other = write(tmp_path / "other.yaml", PAYMENT_NEIGHBOURS)
    location_id = created["location"]["id"]
    moved = await client.put(f"/api/catalog/locations/{location_id}", json={"type": "file", "target": str(other)})
    assert moved.json() == {"id": location_id, "type": "file", "target": str(other)}
    assert (await client.get("/api/catalog/entities/by-name/component/default/payment-service")).status_code == 404
    assert (await entity(client, "group", "team-payments"))["spec"]["members"] == ["ana"]
    listed = (await client.post("/api/catalog/locations/by-query", json={"limit": 10})).json()
    assert listed["totalItems"] == len(listed["items"])
    assert {"id": location_id, "type": "file", "target": str(other)} in listed["items"]
