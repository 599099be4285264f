"""``blacktop get databases``, ``blacktop plan`` and ``blacktop explain`` against a live server.

Test design notes: the design's ``orders-db`` manifest is applied as it is written, by path; the
commands run through the real Typer app and HTTP client. Plan runs before apply (nothing is
created), explain after (the tree names the default local Composition and why it was chosen).
The claim is removed at the end (lifting the production tier's deletion protection first), so
nothing provisioned outlives the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.corpus import examples_dir
from tests.fixtures.platform import LiveServer, wait_until

CLAIM = examples_dir() / "database-orders-db.yaml"


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_get_explain_and_delete_the_design_database(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(live_server, capsys, "plan", "-f", str(CLAIM))
    assert code == 0, err
    assert out.startswith("Plan for Database orders-team/orders-db:")
    assert "+ create    PostgresDatabase orders-team/orders-db-" in out
    assert "1 to create, 0 to change, 0 to delete, 0 unchanged." in out
    code, out, _ = cli(live_server, capsys, "get", "databases", "-n", "orders-team")
    assert code == 0 and "No databases" in out

    code, out, err = cli(live_server, capsys, "apply", "-f", str(CLAIM))
    assert code == 0, err
    code, out, _ = cli(live_server, capsys, "get", "databases", "-n", "orders-team")
    assert code == 0 and "orders-db" in out

    def explained() -> str | None:
        code, out, _ = cli(live_server, capsys, "explain", "databases/orders-db", "-n", "orders-team")
        wanted = "composition: database-local.platform.company.io (default of XRD 'xdatabases.platform.company.io')"
        return out if code == 0 and wanted in out else None

    wait_until(explained, timeout=20)
    code, out, _ = cli(live_server, capsys, "explain", "databases/orders-db", "-n", "orders-team")
    assert "spec.forProvider.connectionLimit <- patch 3 (FromCompositeFieldPath spec.size)" in out
    code, out, _ = cli(live_server, capsys, "explain", "databases", "orders-db", "-n", "orders-team", "-o", "json")
    tree = json.loads(out)
    assert tree["claim"]["name"] == "orders-db" and tree["composite"]["resources"][0]["template"] == "database"

    patch = tmp_path / "unprotect.yaml"
    patch.write_text(CLAIM.read_text().replace("  alerts:", "  deletionProtection: false\n  alerts:"))
    assert cli(live_server, capsys, "apply", "-f", str(patch))[0] == 0
    code, _, err = cli(live_server, capsys, "delete", "databases", "orders-db", "-n", "orders-team")
    assert code == 0, err

    def gone() -> bool:
        code, out, _ = cli(live_server, capsys, "get", "databases", "-n", "orders-team")
        return code == 0 and "No databases" in out

    wait_until(gone, timeout=30)


def test_plan_refuses_a_claim_breaking_its_xrd_with_every_problem(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLAIM.read_text().replace('version: "16"', 'version: "9"').replace("size: medium", "size: huge"))
    code, out, err = cli(live_server, capsys, "plan", "-f", str(bad))
    assert code == 2
    assert "spec.size" in out + err
