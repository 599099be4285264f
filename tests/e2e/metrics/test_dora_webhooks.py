"""DORA metrics end to end: webhook deliveries from GitHub and Argo CD, then the API, /metrics and the CLI.

Test design notes: a live server (``blacktop up`` in a thread) gets the design's catalog entry for
``payment-service`` (owner ``team-payments``, ``github.com/project-slug: acme-corp/payment-service``),
a developer binding for ``dana`` and a viewer binding for ``sam`` in namespace ``payments``. The
payload samples of the unit tests are posted over real HTTP with their timestamps moved so the
latest lands an hour ago (the server's clock is the wall clock). Expected values are computed by
hand from the samples: the workflow run shipped a commit 1h 32m 40s old, the Argo CD sync one 3h
old, and the deployment_status delivery is a failure.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.corpus import examples_dir
from tests.fixtures.platform import LiveServer, wait_until
from tests.unit.metrics.conftest import payload

NAMESPACE = "payments"
WEBHOOKS = f"/api/v1/metrics/namespaces/{NAMESPACE}/webhooks"
BINDINGS = f"/apis/tenancy.blacktop.dev/v1alpha1/namespaces/{NAMESPACE}/rolebindings"
LATEST = datetime(2026, 11, 22, 16, 5, 31, tzinfo=UTC)
"""The latest instant in the samples (the Argo CD sync's finish)."""
_ISO = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
_GO = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) \+0000 UTC$")


def shifted(value: Any, delta: timedelta) -> Any:
    """The sample with every timestamp moved by ``delta`` (RFC 3339 and Go's default format)."""
    if isinstance(value, dict):
        return {k: shifted(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, delta) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        moment = datetime.fromisoformat(value) + delta
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and (go := _GO.match(value)):
        moment = datetime.fromisoformat(go.group(1)).replace(tzinfo=UTC) + delta
        return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
    return value


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def basic(token: str) -> dict[str, str]:
    """GitHub's way: the token as the password in the webhook URL."""
    return {"Authorization": "Basic " + base64.b64encode(f"webhook:{token}".encode()).decode()}


def setup_team(admin: httpx.Client) -> tuple[str, str]:
    """The catalog entry, bindings and tokens; returns (developer token, viewer token)."""
    target = str(examples_dir() / "catalog-info-payment-service.yaml")
    registered = admin.post("/api/catalog/locations", json={"type": "file", "target": target})
    assert registered.status_code == 201, registered.text
    tokens = []
    for user, role in (("dana", "developer"), ("sam", "viewer")):
        body = {
            "apiVersion": "tenancy.blacktop.dev/v1alpha1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{user}-{role}"},
            "spec": {"role": role, "subjects": [{"kind": "User", "name": user}]},
        }
        assert admin.post(BINDINGS, json=body).status_code == 201
        issued = admin.post("/api/v1/tenancy/tokens", json={"user": user})
        assert issued.status_code == 201, issued.text
        tokens.append(str(issued.json()["token"]))
    return tokens[0], tokens[1]


def test_webhooks_feed_the_report_gauges_and_cli(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    delta = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) - LATEST
    admin = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {live_server.token}"}, timeout=30)
    dana, sam = setup_team(admin)
    run = shifted(payload("github-workflow-run-success.json"), delta)
    github = {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}

    # The service comes from the catalog's project slug; the token from basic auth.
    created = httpx.post(
        f"{live_server.url}{WEBHOOKS}/github?workflow=Deploy", json=run, headers={**github, **basic(dana)}
    )
    assert created.status_code == 201, created.text
    record = created.json()["record"]
    stored = admin.get(f"/apis/metrics.blacktop.dev/v1alpha1/namespaces/{NAMESPACE}/deployments/{record['name']}")
    assert stored.json()["spec"]["service"] == "component:default/payment-service"
    redelivered = httpx.post(
        f"{live_server.url}{WEBHOOKS}/github?workflow=Deploy", json=run, headers={**github, **basic(dana)}
    )
    assert (redelivered.status_code, redelivered.json()["result"]) == (200, "duplicate")
    assert redelivered.json()["record"] == record

    status = shifted(payload("github-deployment-status-failure.json"), delta)
    headers = {"X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": "8a1f0e3c-cc78-11e3-81ab-4c9367dc0958"}
    failed = httpx.post(
        f"{live_server.url}{WEBHOOKS}/github", json=status, headers={**headers, "Authorization": f"Bearer {dana}"}
    )
    assert failed.status_code == 201, failed.text
    argo = shifted(payload("argocd-sync-succeeded.json"), delta)
    synced = httpx.post(f"{live_server.url}{WEBHOOKS}/argocd", json=argo, headers={"Authorization": f"Bearer {dana}"})
    assert synced.status_code == 201, synced.text

    # Refusals: no token, a viewer, a bad payload (paths in the payload), a bad record (paths in the record).
    anonymous = httpx.post(f"{live_server.url}{WEBHOOKS}/argocd", json=argo)
    viewer = httpx.post(f"{live_server.url}{WEBHOOKS}/argocd", json=argo, headers={"Authorization": f"Bearer {sam}"})
    assert (anonymous.status_code, viewer.status_code) == (401, 403)
    broken = dict(argo, revision="not-a-sha", finishedAt="yesterday")
    bad = httpx.post(f"{live_server.url}{WEBHOOKS}/argocd", json=broken, headers={"Authorization": f"Bearer {dana}"})
    assert bad.status_code == 422
    assert sorted(p["path"] for p in bad.json()["problems"]) == ["finishedAt", "revision"]
    long_env = httpx.post(
        f"{live_server.url}{WEBHOOKS}/argocd?environment={'x' * 70}",
        json=dict(argo, deliveryId="another"),
        headers={"Authorization": f"Bearer {dana}"},
    )
    assert long_env.status_code == 422 and [p["path"] for p in long_env.json()["problems"]] == ["spec.environment"]
    unknown = httpx.post(f"{live_server.url}{WEBHOOKS}/gitlab", json=argo, headers={"Authorization": f"Bearer {dana}"})
    assert unknown.status_code == 422 and [p["path"] for p in unknown.json()["problems"]] == ["source"]

    report = admin.get("/api/v1/metrics/dora", params={"service": "payment-service", "window": "30d"})
    assert report.status_code == 200, report.text
    row = report.json()["services"][0]
    assert (row["service"], row["team"]) == ("component:default/payment-service", "group:default/team-payments")
    assert row["deploymentFrequency"] == {
        "status": "ok", "deployments": 2, "perDay": round(2 / 30, 4), "perWeek": round(14 / 30, 4), "band": "medium"
    }  # fmt: skip
    assert row["changeFailureRate"] == {"status": "ok", "deployments": 3, "failures": 1, "rate": 0.3333, "band": "low"}
    # 1h 32m 40s and 3h: the median is their mean, the nearest-rank p90 the larger.
    assert row["leadTimeForChanges"] == {
        "status": "ok", "changes": 2, "medianSeconds": (5560 + 10800) / 2, "p90Seconds": 10800.0, "band": "elite"
    }  # fmt: skip
    assert row["timeToRestore"]["status"] == "no data"
    assert admin.get("/api/v1/metrics/dora", params={"window": "2y"}).json()["problems"][0]["path"] == "window"

    series = (
        'blacktop_dora_change_failure_ratio{scope="service",service="component:default/payment-service",'
        'team="group:default/team-payments",window="30d"} 0.3333333333333333'
    )
    wait_until(lambda: series in admin.get("/metrics").text, timeout=10)
    scraped = admin.get("/metrics").text
    assert 'blacktop_dora_deployments_per_day{scope="organisation",service="",team="",window="30d"}' in scraped

    code, out, err = cli(live_server, capsys, "dora", "--service", "payment-service", "--window", "30d")
    assert code == 0, err
    assert "component:default/payment-service" in out and "33.3% 1/3 (low)" in out and "no data" in out
    code, out, _ = cli(live_server, capsys, "dora", "--team", "team-payments", "-o", "json")
    assert code == 0 and json.loads(out)["teams"][0]["team"] == "group:default/team-payments"
    code, out, err = cli(live_server, capsys, "get", "deployments", "-n", NAMESPACE, "-o", "wide")
    assert code == 0, err
    assert record["name"] in out and "component:default/payment-service" in out and "failed" in out
    code, out, err = cli(live_server, capsys, "dora", "--window", "2y")
    assert code == 2 and "window" in out + err
