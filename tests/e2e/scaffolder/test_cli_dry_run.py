"""``blacktop template dry-run`` and ``blacktop task rollback`` from the command line against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.fixtures.platform import LiveServer

from .test_golden_path import VALUES, cli, template_folder


def test_dry_run_prints_the_tree_and_writes_it_without_side_effects(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = template_folder(tmp_path)
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    out = tmp_path / "out"
    code, stdout, stderr = cli(
        live_server, capsys, "template", "dry-run", str(folder / "template.yaml"), "--values", str(values),
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, stdout + stderr
    assert "microservice-golang (6 files)" in stdout
    for path in (".github/workflows/ci.yaml", "catalog-info.yaml", "deploy/helm/Chart.yaml", "run.sh"):
        assert path in stdout
    assert "would create repository acme-corp/payments-api on the built-in git host" in stdout
    assert "would commit argocd/applications/payments-api.yaml" in stdout
    assert yaml.safe_load((out / "catalog-info.yaml").read_text())["spec"]["owner"] == "team-a"
    assert os.access(out / "run.sh", os.X_OK)
    assert not (live_server.data_dir / "git" / "acme-corp").exists(), "a dry run publishes nothing"


def test_dry_run_reports_invalid_values_field_by_field(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = template_folder(tmp_path)
    code, _, stderr = cli(
        live_server, capsys, "template", "dry-run", str(folder / "template.yaml"), "--set", "serviceName=Bad Name",
        "--set", "tier=gold",
    )  # fmt: skip
    assert code == 2
    for field in ("serviceName", "owner", "description", "tier"):
        assert f"  - {field}" in stderr


def test_task_rollback_from_the_cli(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    code, out, err = cli(live_server, capsys, "template", "run", "microservice-golang", "-f", str(values))
    assert code == 0, out + err
    task_id = out.split()[1]
    assert (live_server.data_dir / "git" / "acme-corp" / "payments-api.git").is_dir()
    code, out, _ = cli(live_server, capsys, "task", "rollback", task_id)
    assert code == 0, out
    assert out.splitlines()[:3] == [
        "create-argocd-app: Removed Argo CD Application payments-api (argocd/applications/payments-api.yaml) from the "
        "GitOps repository",
        out.splitlines()[1],
        out.splitlines()[2],
    ]
    assert "register: Unregistered location" in out and "publish: Deleted repository acme-corp/payments-api" in out
    assert out.strip().endswith(f"task {task_id}: rollback completed")
    assert not (live_server.data_dir / "git" / "acme-corp" / "payments-api.git").exists()
    code, _, stderr = cli(live_server, capsys, "task", "cancel", "no-such-task")
    assert code == 1 and "does not exist" in stderr


def test_dry_run_of_a_built_in_template_by_name(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = [arg for k, v in VALUES.items() for arg in ("--set", f"{k}={v}")]
    out = tmp_path / "out"
    code, stdout, stderr = cli(
        live_server, capsys, "template", "dry-run", "microservice-golang", *sets, "--out", str(out)
    )
    assert code == 0, stdout + stderr
    assert "cmd/server/main.go" in stdout and (out / "deploy" / "helm" / "Chart.yaml").is_file()
    code, _, stderr = cli(live_server, capsys, "template", "dry-run", "no-such-template")
    assert code == 1 and "built-in templates are: microservice-golang, python-service" in stderr
