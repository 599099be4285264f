"""``blacktop observability …`` against a live server, and offline.

Test design: commands run in-process through ``run_app`` (the console script's entry) against a
real HTTP server in a thread; the server's render and the offline render of the same file must
agree file for file, and both must match what the controller committed to the GitOps repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from blacktop.integrations import GitRepositories
from tests.corpus import shared_dir
from tests.fixtures.platform import LiveServer, wait_until

DESIGN = shared_dir() / "examples" / "observability-payment-service.json"
FOLDER = "observability/payments/payment-service"


def cli(server: LiveServer | None, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    prefix = ["--server", server.url, "--token", server.token] if server else ["--server", "http://127.0.0.1:9"]
    code = run_app(build_app(serve=serve), [*prefix, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_render_from_the_server_equals_offline_render_and_the_gitops_repo(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(live_server, capsys, "apply", "-f", str(DESIGN))
    assert code == 0, err

    def ready() -> bool:
        _, text, _ = cli(live_server, capsys, "get", "obsconfig", "payment-service-observability", "-n", "payments",
                         "-o", "yaml")  # fmt: skip
        status = yaml.safe_load(text).get("status") or {}
        return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))

    wait_until(ready, timeout=20)
    server_out, offline_out = tmp_path / "server", tmp_path / "offline"
    code, out, err = cli(live_server, capsys, "observability", "render", "payment-service-observability",
                         "-n", "payments", "--out", str(server_out))  # fmt: skip
    assert code == 0, err
    assert f"{FOLDER}/rules.yml" in out
    code, _, err = cli(None, capsys, "observability", "render", "-f", str(DESIGN), "--out", str(offline_out))
    assert code == 0, err
    assert tree(server_out) == tree(offline_out)
    gitops = GitRepositories(live_server.data_dir / "git").get("platform/gitops", create=False)
    assert {p: gitops.read(p).decode() for p in gitops.list_files(FOLDER)} == tree(server_out)


def test_offline_render_prints_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(None, capsys, "observability", "render", "-f", str(DESIGN))
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("# --- ")]
    assert f"# --- {FOLDER}/prometheusrule.yaml ---" in headers
    assert len(headers) == 9


def test_offline_render_of_an_invalid_file_names_file_line_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads(DESIGN.read_text())
    bad["spec"]["alerts"]["channels"] = ["payments-alerts"]
    path = tmp_path / "bad.yaml"
    path.write_text("# a comment\n" + yaml.safe_dump(bad))
    code, _, err = cli(None, capsys, "observability", "render", "-f", str(path))
    assert code == 2
    assert f"{path}:2" in err and "spec.alerts.channels[0]" in err


def test_slo_report_without_a_prometheus_says_how_to_configure_one(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(live_server, capsys, "observability", "slo-report", "payment-service")
    assert code == 1
    assert "no Prometheus is configured" in err and "prometheus_url" in err


def test_local_and_sync_commands(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(live_server, capsys, "observability", "local")
    assert code == 0 and "no local Prometheus: local mode is off" in out
    code, out, _ = cli(live_server, capsys, "observability", "sync")
    assert code == 0 and "0 applied, 0 deleted" in out
