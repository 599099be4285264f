"""The core group ("", ConfigMap) is served at Kubernetes' own ``/api/v1/namespaces/...`` paths (HTTP and CLI)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.fixtures.platform import LiveServer

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tpl"}, "data": {"greeting": "hi"}}
BASE = "/api/v1/namespaces/payments/configmaps"


async def test_a_config_map_is_created_read_listed_patched_and_deleted_at_the_core_paths(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(BASE, json=CONFIG_MAP)
    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["namespace"] == "payments"
    assert (await api.get(f"{BASE}/tpl")).json()["data"] == {"greeting": "hi"}
    assert [o["metadata"]["name"] for o in (await api.get(BASE)).json()["items"]] == ["tpl"]
    patched = await api.patch(
        f"{BASE}/tpl", json={"data": {"greeting": "hello"}}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert patched.status_code == 200 and patched.json()["data"] == {"greeting": "hello"}
    assert (await api.delete(f"{BASE}/tpl")).status_code == 200
    assert (await api.get(f"{BASE}/tpl")).status_code == 404


async def test_an_unknown_core_kind_is_a_404_naming_it(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/namespaces/payments/gadgets")
    assert response.status_code == 404
    assert "gadgets" in response.json()["message"]


def test_the_cli_gets_a_config_map(live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(yaml.safe_dump({**CONFIG_MAP, "metadata": {"name": "tpl", "namespace": "payments"}}))
    common = ["--server", live_server.url, "--token", live_server.token]
    assert run_app(build_app(serve=serve), [*common, "apply", "-f", str(manifest)]) == 0
    assert run_app(build_app(serve=serve), [*common, "get", "configmaps", "tpl", "-n", "payments", "-o", "json"]) == 0
    assert '"greeting": "hi"' in capsys.readouterr().out
