"""Local mode: the platform runs Debian's Prometheus with the generated scrape configs and rules.

Test design: local mode is switched on through ``observability.yaml`` in the data folder (it is off
by default, so no other test starts a Prometheus) on a free port, with a one-second rule
evaluation. The test applies the design's config and then asks the real Prometheus, over its API,
for the loaded rule groups and the scrape job, and asks blacktop for the SLO report, whose
objectives come from the generated ``slo:objective:ratio`` rules evaluated by that Prometheus.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from blacktop.bootstrap import Platform, build_platform, running
from tests.corpus import shared_dir
from tests.fixtures.platform import ADMIN_TOKEN, settings_for

from .test_observability_platform import CONFIGS, eventually, ready_config

DESIGN: dict[str, Any] = json.loads((shared_dir() / "examples" / "observability-payment-service.json").read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def local_platform(tmp_path: Path) -> AsyncIterator[tuple[Platform, str]]:
    assert shutil.which("prometheus"), "local mode needs Debian's prometheus package: apt-get install prometheus"
    data_dir = tmp_path / "state"
    data_dir.mkdir()
    port = free_port()
    (data_dir / "observability.yaml").write_text(
        f"local_prometheus:\n  enabled: true\n  port: {port}\n  evaluation_interval: 1s\n"
    )
    built = await build_platform(settings_for(data_dir))
    await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
    async with running(built):
        yield built, f"http://127.0.0.1:{port}"


async def prometheus_get(url: str, path: str) -> Any:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            response = await client.get(url + path)
        except httpx.HTTPError:
            return None
    return response.json() if response.status_code == 200 else None


async def test_local_prometheus_loads_generated_rules_and_reports_slos(
    local_platform: tuple[Platform, str],
) -> None:
    platform, prometheus = local_platform
    transport = httpx.ASGITransport(app=platform.app)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as api:
        assert (await api.get("/api/v1/observability/local")).json()["url"] == prometheus
        assert (await api.post(CONFIGS.format(ns="payments"), json=DESIGN)).status_code == 201
        await ready_config(api, "payments", "payment-service-observability")

        async def rule_groups() -> list[str]:
            body = await prometheus_get(prometheus, "/api/v1/rules")
            return [g["name"] for g in body["data"]["groups"]] if body else []

        groups = await eventually(rule_groups, seconds=30)
        assert any("payment-service" in name for name in groups)

        async def jobs() -> set[str]:
            body = await prometheus_get(prometheus, "/api/v1/targets")
            return {t["labels"]["job"] for t in body["data"]["activeTargets"]} if body else set()

        assert await eventually(jobs, seconds=30) == {"blacktop", "payment-service"}

        async def objectives() -> dict[str, Any] | None:
            report = (await api.get("/api/v1/observability/slo-report/payment-service")).json()
            lines = {line["slo"]: line["objective"] for line in report.get("slos", [])}
            return lines if all(v is not None for v in lines.values()) and len(lines) == 2 else None

        found = await eventually(objectives, seconds=30)
        assert found == pytest.approx({"availability": 0.999, "latency": 0.99})
