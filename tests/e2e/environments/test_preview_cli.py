"""``blacktop apply -f`` with the design's PreviewEnvironment, then ``get`` and ``delete``, against a live server.

Test design notes: the commands run through the real Typer app and HTTP client against ``blacktop
up`` in a thread. One test applies the design's file unchanged; the others a copy with
``metadata.namespace`` added and the ``branch`` label simplified. A bad TTL exits 2 and names
``spec.ttl`` with a hint on how to write one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.corpus import examples_dir
from tests.fixtures.platform import LiveServer, wait_until

DESIGN = examples_dir() / "preview-environment.yaml"
NAME = "pr-1234-payment-refactor"


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def storable_copy(tmp_path: Path, namespace: str, *, ttl: str = "72h") -> Path:
    text = DESIGN.read_text()
    text = text.replace(f"  name: {NAME}\n", f"  name: {NAME}\n  namespace: {namespace}\n", 1)
    text = text.replace("    branch: feature/payment-refactor\n", "    branch: feature-payment-refactor\n", 1)
    text = text.replace("  ttl: 72h", f"  ttl: {ttl}", 1)
    path = tmp_path / f"preview-{namespace}-{ttl.replace(' ', '_')}.yaml"
    path.write_text(text)
    return path


def test_apply_get_and_delete_the_design_preview(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(live_server, capsys, "apply", "-f", str(storable_copy(tmp_path, "previews")))
    assert code == 0, err
    assert f"{NAME}" in out and "created" in out

    def listed() -> dict[str, object] | None:
        code, out, _ = cli(live_server, capsys, "get", "previewenvironments", NAME, "-n", "previews", "-o", "json")
        found = json.loads(out) if code == 0 else None
        return found if found and (found.get("status") or {}).get("url") else None

    wait_until(listed, timeout=20)
    code, out, _ = cli(live_server, capsys, "get", "previews", "-n", "previews")
    assert code == 0 and NAME in out

    code, out, err = cli(live_server, capsys, "apply", "-f", str(storable_copy(tmp_path, "previews", ttl="3 days")))
    assert code == 2
    assert "spec.ttl" in out + err and "use a Go duration such as 72h" in out + err

    code, out, err = cli(live_server, capsys, "delete", "previewenvironments", NAME, "-n", "previews")
    assert code == 0, err


def test_the_design_file_applies_unchanged(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(live_server, capsys, "apply", "-f", str(DESIGN))
    assert code == 0, err
