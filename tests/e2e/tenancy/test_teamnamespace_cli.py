"""``blacktop apply -f`` with the design's TeamNamespace file, unchanged, against a live server.

Test design: the CLI runs in-process (``run_app``) against real HTTP; the file is passed by its
path in ``../shared/examples`` (never copied), then ``blacktop wait`` and ``get -o yaml`` read the
provisioned status, and a bad copy shows the CLI exits 2 naming the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.corpus import examples_dir
from tests.fixtures.platform import LiveServer

EXAMPLE = examples_dir() / "team-namespace-payments.yaml"


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_apply_file_unchanged_then_wait_for_ready(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = cli(live_server, capsys, "apply", "-f", str(EXAMPLE))
    assert (code, out.strip()) == (0, "teamnamespace.platform.company.io/payments-production created"), err
    code, out, err = cli(live_server, capsys, "wait", "teamnamespaces/payments-production", "--for",
                         "condition=Ready", "--timeout", "30s")  # fmt: skip
    assert code == 0, (out, err)
    code, out, _ = cli(live_server, capsys, "get", "tns", "payments-production", "-o", "yaml")
    status = yaml.safe_load(out)["status"]
    assert (status["namespace"], status["bindings"]) == ("payments-production", 3)

    bad = yaml.safe_load(EXAMPLE.read_text())
    bad["spec"]["limitRanges"]["defaultRequest"]["memory"] = "8Gi"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    code, _, err = cli(live_server, capsys, "apply", "-f", str(path))
    assert code == 2
    assert "spec.limitRanges.defaultRequest.memory" in err and "8Gi" in err
