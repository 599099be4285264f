"""All 17 corpus templates (and the design's own) through ``POST /v2/dry-run``: which complete, and why the others stop.

Test design notes: the corpus holds the templates but none of their skeleton folders (it copies
data files only), so each template is dry-run as the CLI does it, with the files beside it
uploaded, plus a one-file stub skeleton where its ``fetch:*`` step points at a local folder the
corpus lacks. Each row states the outcome: ``completed``, or the reason the run stops, which is
always an action blacktop does not ship (named) or a skeleton that is not local. The dry-run must
never create anything: the built-in git host holds no repository afterwards.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from blacktop.bootstrap import Platform, build_platform, running
from tests.fixtures.platform import ADMIN_TOKEN, settings_for
from tests.unit.scaffolder.test_corpus_parameters import CASES


@dataclass(frozen=True)
class Expected:
    outcome: str
    """``completed``, or a text the run's error contains."""
    stub: str | None = None
    """A local skeleton folder the corpus lacks, given one stub file."""


EXPECTED = {
    "accordion-demo": Expected("completed"),
    "bui-kitchen-sink-demo": Expected("completed"),
    "conditional-output-demo": Expected("completed"),
    "conditional-parameters-demo": Expected("completed"),
    "longrunning-wait-action": Expected("template action 'stress:waitWorkflow' is not registered"),
    "notifications-demo": Expected("template action 'notification:send' is not registered"),
    "create-app-example": Expected("template action 'notification:send' is not registered", stub="content"),
    "demo-template": Expected("input.token: False is not of type 'string'", stub="skeleton"),
    "clean-architecture-app": Expected("completed", stub="skeleton"),
    "create-react-app": Expected("completed", stub="skeleton"),
    "docs-template": Expected("completed", stub="skeleton"),
    "docs-template-cookiecutter": Expected("template action 'fetch:cookiecutter' is not registered"),
    "gitlab-merge-request": Expected(
        "template action 'publish:gitlab:merge-request' is not registered", stub="template"
    ),
    "pull-request": Expected("is remote; this reader only serves uploaded files", stub="template"),
    "rails-demo": Expected("template action 'fetch:rails' is not registered"),
    "react-ssr-template": Expected("completed", stub="skeleton"),
    "springboot-grpc-template": Expected("completed", stub="skeleton"),
    "design-microservice-golang": Expected("completed", stub="skeleton"),
}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    settings = settings_for(tmp_path / "state", engine={"enabled": False}, scaffolder={"workers": 0})
    built = await build_platform(settings)
    async with running(built):
        transport = httpx.ASGITransport(app=built.app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        await built.tokens.ensure_bootstrap(ADMIN_TOKEN)
        async with httpx.AsyncClient(transport=transport, base_url="http://blacktop", headers=headers) as client:
            yield built, client


def test_every_corpus_template_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
async def test_corpus_template_dry_run(name: str, api: tuple[Platform, httpx.AsyncClient]) -> None:
    platform, client = api
    case, expected = CASES[name], EXPECTED[name]
    uploads = [
        {"path": p.relative_to(case.path.parent).as_posix(), "base64Content": base64.b64encode(p.read_bytes()).decode()}
        for p in sorted(case.path.parent.rglob("*"))
        if p.is_file() and p != case.path
    ]
    if expected.stub:
        uploads.append({"path": f"{expected.stub}/README.md", "base64Content": base64.b64encode(b"stub\n").decode()})
    body = {"template": yaml.safe_load(case.path.read_text()), "values": case.valid, "directoryContents": uploads}

    answer = await client.post("/api/scaffolder/v2/dry-run", json=body)

    assert answer.status_code == 200, answer.text
    result = answer.json()
    if expected.outcome == "completed":
        assert (result["status"], result["error"]) == ("completed", None)
    else:
        assert result["status"] == "failed" and expected.outcome in result["error"]
    if expected.stub and expected.outcome == "completed":
        assert [f["path"] for f in result["directoryContents"]] == ["README.md"]
    assert platform.wiring.git.names() == ["platform/gitops"], "a dry run creates no repository"
    assert platform.wiring.gitops.head() is None, "a dry run commits nothing to the GitOps repository"


async def test_dry_run_of_a_publishing_template_says_where_it_would_publish(
    api: tuple[Platform, httpx.AsyncClient],
) -> None:
    _, client = api
    case = CASES["create-react-app"]
    body = {
        "template": yaml.safe_load(case.path.read_text()),
        "values": case.valid,
        "directoryContents": [{"path": "skeleton/README.md", "base64Content": base64.b64encode(b"hi\n").decode()}],
    }
    result = (await client.post("/api/scaffolder/v2/dry-run", json=body)).json()
    publish = [e["body"]["message"] for e in result["log"] if e["body"]["stepId"] == "publish"]
    assert len(publish) == 2 and publish[0].startswith(
        "Dry run: would create repository acme/svc on the built-in git host"
    )
    assert publish[1] == "Dry run: would then protect branch master (admins included)", "Backstage's default"
    register = [e["body"]["message"] for e in result["log"] if e["body"]["stepId"] == "register"]
    assert register == ["Skipping catalog:register in dry run: it does not support dry runs; outputs are examples"]
