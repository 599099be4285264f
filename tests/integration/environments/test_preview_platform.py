"""The design's PreviewEnvironment on a real platform: claims, GitOps files, readiness, deletion and expiry.

Test design notes: the platform is built as ``blacktop up`` builds it (SQLite state, every feature
wired) with the local provider on a real PostgreSQL (``BLACKTOP_TEST_PG_ADMIN_URL``, else
127.0.0.1:5432, else the provider's embedded server), and driven over its HTTP API like a user:
``POST /api/v1/platform/apply`` with the YAML (what ``blacktop apply -f`` sends) and the resource
endpoints. The catalog holds a ``notification-service`` Component so the service dependency
resolves. Each test uses a namespace with a random suffix (the provider's database names carry
it), and drops what a failure leaves on the server at the end.

Most tests apply the design's file with ``metadata.namespace`` set and its ``branch`` label
simplified; ``test_the_design_file_applies_unchanged`` applies it byte for byte (the kernel accepts
'/' in label values, such as this git branch, although Kubernetes does not).

Expiry uses a copy with ``ttl: 8s`` and real time: the controller requeues at the expiry instant
(no polling once Ready), deletes the preview through the pipeline (an audited ``delete`` by
``controller-manager``) and the finalizer deletes the claim and withdraws the files.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest
import yaml
from psycopg import sql

from blacktop.bootstrap import Platform, build_platform, running
from blacktop.environments import durations
from blacktop.kernel.clock import parse_timestamp
from blacktop.kernel.resources import find_condition
from blacktop.settings import Settings
from tests.corpus import examples_dir
from tests.fixtures.platform import ADMIN_TOKEN

pytestmark = [pytest.mark.pg, pytest.mark.slow]

DESIGN = examples_dir() / "preview-environment.yaml"
NAME = "pr-1234-payment-refactor"
GROUP_PATH = "/apis/platform.company.io/v1alpha1/namespaces/{ns}"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
WAIT = 60.0
CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: notification-service
  annotations:
    backstage.io/kubernetes-namespace: notifications
spec:
  type: service
  lifecycle: production
  owner: group:default/payments
"""
T = TypeVar("T")


def _pg_url() -> str | None:
    given = os.environ.get("BLACKTOP_TEST_PG_ADMIN_URL")
    if given:
        return given
    try:
        with psycopg.connect(LOCAL_PG, connect_timeout=3):
            return LOCAL_PG
    except psycopg.OperationalError:
        return None


def design_text(namespace: str, *, ttl: str | None = None) -> str:
    """The design's file with ``metadata.namespace`` added and the one invalid label value replaced."""
    text = DESIGN.read_text()
    text = text.replace("  name: pr-1234-payment-refactor\n", f"  name: {NAME}\n  namespace: {namespace}\n", 1)
    text = text.replace("    branch: feature/payment-refactor\n", "    branch: feature-payment-refactor\n", 1)
    if ttl is not None:
        text = text.replace("  ttl: 72h", f"  ttl: {ttl}", 1)
    return text


async def eventually(check: Callable[[], Awaitable[T | None]], *, what: str, patience: float = WAIT) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    """The whole platform on fresh SQLite state, the local provider on a real PostgreSQL."""
    data_dir = Path(tempfile.mkdtemp(prefix="blacktop-previews-"))
    url = _pg_url()
    providers: dict[str, Any] = {"postgres_url": url, "embedded": False} if url else {"embedded": True}
    built = await build_platform(Settings(data_dir=data_dir, bootstrap_token=ADMIN_TOKEN, providers=providers))
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    catalog_file = data_dir / "catalog-info.yaml"
    catalog_file.write_text(CATALOG)
    try:
        async with running(built):
            await built.wiring.services["catalog"].register("file", str(catalog_file))
            yield built
    finally:
        if url:
            _drop_server_objects(url, "pv\\_%")
        shutil.rmtree(data_dir, ignore_errors=True)


def _drop_server_objects(url: str, pattern: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,)).fetchall():
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        for (name,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)).fetchall():
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=platform.app)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as client:
        yield client


async def apply_yaml(api: httpx.AsyncClient, text: str) -> httpx.Response:
    """What ``blacktop apply -f`` does: the file's YAML to the apply endpoint."""
    return await api.post("/api/v1/platform/apply", content=text, headers={"Content-Type": "application/yaml"})


async def get(api: httpx.AsyncClient, namespace: str, plural: str, name: str) -> dict[str, Any] | None:
    response = await api.get(f"{GROUP_PATH.format(ns=namespace)}/{plural}/{name}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


async def wait_ready(api: httpx.AsyncClient, namespace: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        obj = await get(api, namespace, "previewenvironments", NAME)
        condition = find_condition(obj or {}, "Ready")
        return obj if condition is not None and condition["status"] == "True" else None

    try:
        return await eventually(ready, what="the preview to become Ready")
    except AssertionError:
        obj = await get(api, namespace, "previewenvironments", NAME)
        raise AssertionError(f"not Ready: {yaml.safe_dump((obj or {}).get('status'))}") from None


def gitops_files(platform: Platform, namespace: str) -> list[str]:
    repo = platform.wiring.gitops
    folder = f"previews/{namespace}/{NAME}"
    return [*repo.list_files(folder), *repo.list_files(f"argocd/applications/preview-{namespace}-{NAME}.yaml")]


async def test_the_design_preview_comes_up_and_goes_away_with_its_claim(
    platform: Platform, api: httpx.AsyncClient
) -> None:
    namespace = f"pv-{secrets.token_hex(3)}"
    response = await apply_yaml(api, design_text(namespace))
    assert response.status_code == 200, response.text
    obj = await wait_ready(api, namespace)
    status = obj["status"]

    created = parse_timestamp(obj["metadata"]["creationTimestamp"])
    assert parse_timestamp(status["expiresAt"]) == created + timedelta(hours=72)
    assert status["url"] == "https://pr-1234.preview.acme.io"
    assert status["namespace"] == f"preview-{namespace}-{NAME}"
    assert find_condition(obj, "Synced")["status"] == "True"  # type: ignore[index]
    assert all(c["observedGeneration"] == obj["metadata"]["generation"] for c in status["conditions"])
    by_name = {d["name"]: d for d in status["dependencies"]}
    assert by_name["notification-service"]["component"] == "component:default/notification-service"
    assert by_name["notification-service"]["host"] == "notification-service.notifications.svc.cluster.local"
    assert by_name["orders-db"]["fixture"]["seeded"] is False
    assert status["notifications"]["githubStatus"]["state"] == "success"
    assert status["notifications"]["slack"]["channel"] == "#payments-previews"

    claim = await get(api, namespace, "databases", f"{NAME}-orders-db")
    assert claim is not None
    assert find_condition(claim, "Ready")["status"] == "True"  # type: ignore[index]
    assert claim["metadata"]["ownerReferences"][0]["kind"] == "PreviewEnvironment"
    assert claim["metadata"]["ownerReferences"][0]["uid"] == obj["metadata"]["uid"]
    assert claim["metadata"]["annotations"]["environments.blacktop.dev/fixture"] == "seed-data-minimal"

    files = gitops_files(platform, namespace)
    folder = f"previews/{namespace}/{NAME}"
    assert sorted(files) == sorted(
        [
            f"argocd/applications/preview-{namespace}-{NAME}.yaml",
            f"{folder}/deployment-payment-service.yaml",
            f"{folder}/deployment-stripe-mock.yaml",
            f"{folder}/ingress-payment-service.yaml",
            f"{folder}/namespace-preview-{namespace}-{NAME}.yaml",
            f"{folder}/service-notification-service.yaml",
            f"{folder}/service-payment-service.yaml",
            f"{folder}/service-stripe-mock.yaml",
        ]
    )
    deployment = yaml.safe_load(platform.wiring.gitops.read(f"{folder}/deployment-payment-service.yaml"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/acme-corp/payment-service:abc123def"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert status["gitops"]["commit"] == platform.wiring.gitops.head()

    deleted = await api.delete(f"{GROUP_PATH.format(ns=namespace)}/previewenvironments/{NAME}")
    assert deleted.status_code in (200, 202), deleted.text

    async def gone() -> bool:
        preview = await get(api, namespace, "previewenvironments", NAME)
        claim = await get(api, namespace, "databases", f"{NAME}-orders-db")
        return preview is None and claim is None

    await eventually(gone, what="the preview and its Database claim to be deleted")
    assert gitops_files(platform, namespace) == []


async def test_an_expired_preview_is_deleted_with_its_claim(platform: Platform, api: httpx.AsyncClient) -> None:
    namespace = f"pv-{secrets.token_hex(3)}"
    response = await apply_yaml(api, design_text(namespace, ttl="8s"))
    assert response.status_code == 200, response.text
    obj = await wait_ready(api, namespace)
    assert await get(api, namespace, "databases", f"{NAME}-orders-db") is not None
    created = parse_timestamp(obj["metadata"]["creationTimestamp"])
    assert parse_timestamp(obj["status"]["expiresAt"]) == created + durations.parse_duration("8s")

    async def gone() -> bool:
        preview = await get(api, namespace, "previewenvironments", NAME)
        claim = await get(api, namespace, "databases", f"{NAME}-orders-db")
        return preview is None and claim is None

    await eventually(gone, what="the expired preview and its claim to be deleted", patience=8 + WAIT)
    assert platform.clock.now() >= parse_timestamp(obj["status"]["expiresAt"])
    assert gitops_files(platform, namespace) == []
    records = (await api.get("/api/v1/audit/records", params={"name": NAME, "namespace": namespace})).json()["items"]
    deletes = [r for r in records if r["verb"] == "delete" and r["kind"] == "PreviewEnvironment"]
    assert [(r["actor"], r["outcome"], r["message"]) for r in deletes] == [
        ("service:controller-manager", "allowed", "marked for deletion"),  # the expiry, through the pipeline
        ("service:controller-manager", "allowed", ""),  # the finalizer released once the claim was gone
    ]


BAD = {
    "ttl-in-words": (lambda t: t.replace("  ttl: 72h", "  ttl: 3 days"), ["spec.ttl"]),
    "ttl-too-long": (lambda t: t.replace("  ttl: 72h", "  ttl: 2000h"), ["spec.ttl"]),
    "cpu-and-type": (
        lambda t: t.replace('    cpu: "2"', "    cpu: two").replace("type: mock", "type: queue"),
        ["spec.dependencies[2].type", "spec.resources.cpu"],
    ),
    "duplicate-dependency": (
        lambda t: t.replace("name: stripe-mock", "name: orders-db"),
        ["spec.dependencies[0].name", "spec.dependencies[2].name"],
    ),
}


@pytest.mark.parametrize(("edit", "paths"), BAD.values(), ids=BAD.keys())
async def test_bad_input_is_a_4xx_naming_every_field(
    platform: Platform, api: httpx.AsyncClient, edit: Callable[[str], str], paths: list[str]
) -> None:
    response = await apply_yaml(api, edit(design_text("pv-bad")))
    assert response.status_code == 422, response.text
    body = response.json()
    reported = sorted({p["path"] for p in body["problems"]})
    assert reported == paths, body


async def test_the_design_file_applies_unchanged(platform: Platform, api: httpx.AsyncClient) -> None:
    response = await apply_yaml(api, DESIGN.read_text())
    assert response.status_code == 200, response.text
