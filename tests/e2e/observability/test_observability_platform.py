"""Observability end to end: the design's config and catalog services through the real platform.

Test design: the whole composition (SQLite store, write pipeline, engine, catalog, GitOps
repository) runs in-process; tests drive it over HTTP (ASGI) and read the outputs back from the
GitOps repository with its own ``read``/``list_files``, the way Argo CD would see them. Rules files
taken from the repository go through Debian's ``promtool check rules``; the design's outputs must
equal the golden files the unit tests pin (with the version label normalised).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from blacktop import __version__
from blacktop.bootstrap import Platform
from tests.corpus import shared_dir

CONFIGS = "/apis/platform.company.io/v1alpha1/namespaces/{ns}/observabilityconfigs"
DESIGN: dict[str, Any] = json.loads((shared_dir() / "examples" / "observability-payment-service.json").read_text())
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "observability" / "payment-service"
FOLDER = "observability/payments/payment-service"


async def eventually(check: Callable[[], Any], *, seconds: float = 20.0) -> Any:
    """Poll an async or sync check until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == type_), None)


async def ready_config(api: httpx.AsyncClient, namespace: str, name: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        response = await api.get(f"{CONFIGS.format(ns=namespace)}/{name}")
        if response.status_code != 200:
            return None
        obj: dict[str, Any] = response.json()
        ready = condition(obj, "Ready")
        fresh = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"].get("generation")
        return obj if ready and ready["status"] == "True" and fresh else None

    found: dict[str, Any] = await eventually(check)
    return found


def repo_text(platform: Platform, path: str) -> str:
    return platform.wiring.gitops.read(path).decode()


def promtool_check(rules: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "rules.yml"
    path.write_text(rules)
    return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, check=False)


async def test_design_config_publishes_every_output_to_gitops(
    platform: Platform, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    created = await api.post(CONFIGS.format(ns="payments"), json=DESIGN)
    assert created.status_code == 201, created.text
    obj = await ready_config(api, "payments", "payment-service-observability")
    synced = condition(obj, "Synced")
    assert synced is not None and synced["status"] == "True" and synced["reason"] == "Committed"
    outputs = obj["status"]["outputs"]
    repo = platform.wiring.gitops
    assert outputs["commit"] == repo.head()
    assert sorted(f["path"] for f in outputs["files"]) == repo.list_files(FOLDER)
    names = sorted(p.rsplit("/", 1)[1] for p in repo.list_files(FOLDER))
    assert names == sorted([*(p.name for p in GOLDEN.iterdir()), "source.json"])
    for golden in sorted(GOLDEN.iterdir()):
        published = repo_text(platform, f"{FOLDER}/{golden.name}").replace(__version__, "golden")
        assert published == golden.read_text(), golden.name
    checked = promtool_check(repo_text(platform, f"{FOLDER}/rules.yml"), tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    rule = yaml.safe_load(repo_text(platform, f"{FOLDER}/prometheusrule.yaml"))
    assert (rule["kind"], rule["metadata"]["namespace"]) == ("PrometheusRule", "payments")


async def test_render_endpoint_matches_what_was_published(platform: Platform, api: httpx.AsyncClient) -> None:
    await api.post(CONFIGS.format(ns="payments"), json=DESIGN)
    await ready_config(api, "payments", "payment-service-observability")
    body = await api.get("/api/v1/observability/namespaces/payments/configs/payment-service-observability/outputs")
    files = body.json()["files"]
    assert files == {path: repo_text(platform, path) for path in platform.wiring.gitops.list_files(FOLDER)}


async def test_deleting_the_config_removes_its_outputs(platform: Platform, api: httpx.AsyncClient) -> None:
    await api.post(CONFIGS.format(ns="payments"), json=DESIGN)
    await ready_config(api, "payments", "payment-service-observability")
    assert (await api.delete(f"{CONFIGS.format(ns='payments')}/payment-service-observability")).status_code == 200

    async def gone() -> bool:
        response = await api.get(f"{CONFIGS.format(ns='payments')}/payment-service-observability")
        return response.status_code == 404 and not platform.wiring.gitops.list_files("observability")

    await eventually(gone)


async def test_a_second_config_for_the_same_service_is_not_ready(api: httpx.AsyncClient) -> None:
    await api.post(CONFIGS.format(ns="payments"), json=DESIGN)
    await ready_config(api, "payments", "payment-service-observability")
    copy = json.loads(json.dumps(DESIGN))
    copy["metadata"]["name"] = "copy"
    await api.post(CONFIGS.format(ns="payments"), json=copy)

    async def refused() -> bool:
        obj = (await api.get(f"{CONFIGS.format(ns='payments')}/copy")).json()
        ready = condition(obj, "Ready")
        return bool(ready and ready["status"] == "False" and ready["reason"] == "ServiceConflict")

    await eventually(refused)


CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
  annotations:
    slack.com/channel: {channel}
    pagerduty.com/service-id: PAYMENTS-ONCALL
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payment-api
  annotations:
    grafana/dashboard-selector: "tags @> 'payments'"
spec:
  type: service
  lifecycle: production
  owner: payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-site
spec:
  type: website
  lifecycle: production
  owner: payments
"""

CRITICAL_LEDGER = """\
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  labels:
    tier: critical
spec:
  type: service
  lifecycle: production
  owner: payments
"""


async def register(api: httpx.AsyncClient, path: Path) -> str:
    response = await api.post("/api/catalog/locations", json={"type": "file", "target": str(path)})
    assert response.status_code == 201, response.text
    location_id: str = response.json()["location"]["id"]
    return location_id


async def test_catalog_service_gets_observability_with_zero_config(
    platform: Platform, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(CATALOG.format(channel="payments-alerts") + CRITICAL_LEDGER)
    location = await register(api, catalog)
    obj = await ready_config(api, "payments", "payment-api")
    assert obj["metadata"]["labels"]["observability.blacktop.dev/managed-by"] == "catalog"
    assert obj["spec"]["alerts"]["channels"] == ["#payments-alerts", "pagerduty:PAYMENTS-ONCALL"]
    assert obj["spec"]["alerts"]["slo"]["availability"] == 0.999
    ledger = await ready_config(api, "payments", "ledger")
    assert ledger["spec"]["alerts"]["slo"]["availability"] == 0.9999
    listed = (await api.get("/apis/platform.company.io/v1alpha1/observabilityconfigs")).json()["items"]
    assert sorted(o["metadata"]["name"] for o in listed) == ["ledger", "payment-api"]  # not the website
    folder = "observability/payments/payment-api"
    routing = yaml.safe_load(repo_text(platform, f"{folder}/alertmanager.yaml"))
    assert "#payments-alerts" in json.dumps(routing)
    assert "payments" in json.loads(repo_text(platform, f"{folder}/dashboard.json"))["dashboard"]["tags"]

    # The team moves its alerts to another channel: the routing follows after a catalog refresh.
    catalog.write_text(CATALOG.format(channel="payments-oncall") + CRITICAL_LEDGER)
    assert (await api.post(f"/api/v1/catalog/locations/{location}/refresh")).status_code == 200
    await eventually(lambda: "#payments-oncall" in repo_text(platform, f"{folder}/alertmanager.yaml"))

    # The ledger leaves the catalog: its config and its outputs go.
    catalog.write_text(CATALOG.format(channel="payments-oncall"))
    assert (await api.post(f"/api/v1/catalog/locations/{location}/refresh")).status_code == 200

    async def ledger_gone() -> bool:
        response = await api.get(f"{CONFIGS.format(ns='payments')}/ledger")
        return response.status_code == 404 and not platform.wiring.gitops.list_files("observability/payments/ledger")

    await eventually(ledger_gone)
    assert platform.wiring.gitops.list_files(folder)


async def test_hand_written_config_replaces_the_generated_one(
    platform: Platform, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(CATALOG.format(channel="payments-alerts"))
    await register(api, catalog)
    await ready_config(api, "payments", "payment-api")
    own = json.loads(json.dumps(DESIGN))
    own["metadata"]["name"] = "payment-api-observability"
    own["spec"]["service"] = "payment-api"
    assert (await api.post(CONFIGS.format(ns="payments"), json=own)).status_code == 201
    obj = await ready_config(api, "payments", "payment-api-observability")
    assert (await api.get(f"{CONFIGS.format(ns='payments')}/payment-api")).status_code == 404
    source = json.loads(repo_text(platform, "observability/payments/payment-api/source.json"))
    assert source["name"] == "payment-api-observability"
    assert obj["status"]["outputs"]["folder"] == "observability/payments/payment-api"
    sync = (await api.get("/api/v1/observability/catalog-sync")).json()
    assert sync["last"]["skipped"] == ["payment-api"]


@pytest.mark.parametrize(
    ("change", "problem_path"),
    [
        pytest.param({"alerts": {"channels": ["payments"]}}, "spec.alerts.channels[0]", id="channel-without-hash"),
        pytest.param({"metrics": {"port": 0}}, "spec.metrics.port", id="port-zero"),
    ],
)
async def test_invalid_configs_are_refused_with_field_paths(
    api: httpx.AsyncClient, change: dict[str, Any], problem_path: str
) -> None:
    bad = json.loads(json.dumps(DESIGN))
    for key, value in change.items():
        bad["spec"][key] = value
    response = await api.post(CONFIGS.format(ns="payments"), json=bad)
    assert response.status_code == 422
    assert problem_path in [p["path"] for p in response.json()["problems"]]
