"""The CLI against a live server: the quick start flow, atomic multi-file apply, exit codes, CRD export.

Test design: commands run in-process through ``run_app`` (the same entry the console script uses)
against a real HTTP server in a thread, so flags, config resolution, HTTP and error mapping are all
exercised; output is captured from the process's stdout/stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from blacktop.bootstrap import serve
from blacktop.cli import build_app, run_app
from tests.fixtures.platform import LiveServer, wait_until

POLICY = """\
apiVersion: policy.blacktop.dev/v1alpha1
kind: ValidatingPolicy
metadata:
  name: members-required
spec:
  matchConstraints:
    resourceRules:
      - kinds: [Group]
  validations:
    - expression: "size(object.spec.members) > 0"
      message: a group needs at least one member
"""


def cli(server: LiveServer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(build_app(serve=serve), ["--server", server.url, "--token", server.token, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_apply_then_get_shows_the_object_with_status(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(POLICY)
    code, out, _ = cli(live_server, capsys, "apply", "-f", str(manifest))
    assert (code, out.strip()) == (0, "validatingpolicy.policy.blacktop.dev/members-required created")

    def ready() -> bool:
        _, text, _ = cli(live_server, capsys, "get", "validatingpolicies", "members-required", "-o", "yaml")
        status = yaml.safe_load(text).get("status") or {}
        return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))

    wait_until(ready)
    code, out, _ = cli(live_server, capsys, "wait", "vpol/members-required", "--for", "condition=Ready")
    assert code == 0 and "condition met" in out
    code, out, _ = cli(live_server, capsys, "get", "vpol")
    assert code == 0 and "members-required" in out and "True" in out


def test_invalid_document_in_a_directory_applies_nothing_and_names_file_and_line(
    live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "apiVersion: tenancy.blacktop.dev/v1alpha1\nkind: Group\nmetadata:\n  name: ok-group\nspec:\n  members: [a]\n"
    )
    (tmp_path / "b.yaml").write_text(
        "# a comment first\n---\napiVersion: tenancy.blacktop.dev/v1alpha1\nkind: RoleBinding\n"
        "metadata:\n  name: rb\n  namespace: team\nspec:\n  role: superuser\n  subjects: []\n"
    )
    code, _, err = cli(live_server, capsys, "apply", "-f", str(tmp_path))
    assert code == 2
    assert "nothing was applied" in err
    assert f"{tmp_path / 'b.yaml'}:3" in err and "spec.role" in err
    code, _, err = cli(live_server, capsys, "get", "groups", "ok-group")
    assert code == 1 and "not found" in err


def test_unknown_kind_and_unreachable_server_are_clear(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(live_server, capsys, "get", "grups")
    assert code == 1 and "did you mean" in err and "groups" in err
    code = run_app(build_app(serve=serve), ["--server", "http://127.0.0.1:9", "--token", "x", "kinds"])
    assert code == 1
    assert "cannot reach the blacktop server" in capsys.readouterr().err


def test_audit_list_and_verify(live_server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(POLICY)
    cli(live_server, capsys, "apply", "-f", str(manifest))
    code, out, _ = cli(live_server, capsys, "audit", "list", "--actor", "user:admin", "-o", "json")
    records = json.loads(out)
    assert code == 0 and [r["verb"] for r in records] == ["create"]
    code, out, _ = cli(live_server, capsys, "audit", "verify")
    assert code == 0 and "intact" in out


def test_tokens_for_other_users_and_whoami(live_server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(live_server, capsys, "token", "create", "--user", "dana", "--group", "payments-engineers")
    token = out.splitlines()[0].strip()
    assert code == 0 and token.startswith("bt_")
    code = run_app(build_app(serve=serve), ["--server", live_server.url, "--token", token, "whoami"])
    assert code == 0 and "user:dana" in capsys.readouterr().out


def _crd_validator() -> jsonschema.Draft7Validator:
    import kubernetes_validate
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / "v1.37.0-local-strict"
    definitions = Resource.from_contents(json.loads((base / "_definitions.json").read_text()), DRAFT7)
    registry = Registry().with_resource("/api/_definitions.json", definitions)
    schema = json.loads((base / "customresourcedefinition-apiextensions-v1.json").read_text())
    return jsonschema.Draft7Validator(schema, registry=registry)


def test_crds_export_validates_against_the_kubernetes_crd_schema(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(live_server, capsys, "crds")
    documents = [d for d in yaml.safe_load_all(out) if d]
    assert code == 0 and {d["spec"]["names"]["kind"] for d in documents} >= {"Group", "RoleBinding", "ValidatingPolicy"}
    validator = _crd_validator()
    for document in documents:
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == [], document["metadata"]["name"]
