"""The actions that reach outside the workspace: publishers, catalog and Argo CD, against in-memory fakes.

Test design notes: each action runs through ``ActionContext`` as the runner calls it. The checks are
the behaviours a user relies on: where the repository went is said in the log, a dry run creates
nothing, ``undo`` removes exactly what the step created, the Argo CD Application is valid against
Argo CD's CRD schema, and every action's own example runs.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.scaffolder import (
    ActionContext,
    ActionRegistry,
    InMemoryWorkspace,
    InvalidActionInput,
    RunOptions,
    TemplateInfo,
    TemplateRenderer,
    WorkspaceFile,
    parse_template,
    run_template,
)
from blacktop.scaffolder.argocd import ArgoCdCreateApp, plan_application
from blacktop.scaffolder.cataloging import (
    CatalogFetch,
    CatalogRegister,
    CatalogWrite,
    catalog_info_url,
    main_entity_ref,
)
from blacktop.scaffolder.publishing import PublishGithub, PublishGitlab

from .fakes import FakeCatalog, FakeGitOps, FakeHost, FakeHosts


def context(files: dict[str, str] | None = None, *, dry_run: bool = False) -> ActionContext:
    workspace = InMemoryWorkspace([WorkspaceFile(p, t.encode()) for p, t in (files or {}).items()])
    return ActionContext(workspace=workspace, is_dry_run=dry_run,
                         template_info=TemplateInfo(entity_ref="template:default/svc"))  # fmt: skip


PUBLISH_INPUT = {"repoUrl": "github.com?owner=acme-corp&repo=svc", "defaultBranch": "main"}


async def test_publish_creates_pushes_and_says_where() -> None:
    host = FakeHost(label="the built-in git host (standing in for github.com)")
    action = PublishGithub(hosts=FakeHosts({"github.com": host}))
    ctx = context({"src/a.py": "a", "README.md": "r"})
    await action.run(ctx, PUBLISH_INPUT)
    assert sorted(host.repos["acme-corp/svc"]) == ["README.md", "src/a.py"]
    assert ctx.outputs["remoteUrl"] == "https://git.test/acme-corp/svc.git"
    assert ctx.outputs["repoContentsUrl"] == "https://git.test/acme-corp/svc/blob/main"
    assert ctx.outputs["created"] is True
    assert "Published 2 file(s) to the built-in git host (standing in for github.com)" in ctx.logs[-2]
    assert "git clone https://git.test/acme-corp/svc.git" in ctx.logs[-2]
    assert ctx.logs[-1] == "Protected branch main on the built-in git host (standing in for github.com)"


async def test_publish_dry_run_creates_nothing_and_says_what_it_would_do() -> None:
    host = FakeHost()
    ctx = context({"a": "a"}, dry_run=True)
    await PublishGitlab(hosts=FakeHosts({"gitlab.com": host})).run(
        ctx, {"repoUrl": "gitlab.com?owner=g&repo=r", "defaultBranch": "main"}
    )
    assert host.repos == {}
    assert ctx.logs == [
        "Dry run: would create repository g/r on the fake host (gitlab.com is mapped there) and push 1 file(s) "
        "to branch main: https://git.test/g/r.git"
    ]
    assert ctx.outputs["created"] is False


async def test_publish_source_path_publishes_only_that_folder() -> None:
    host = FakeHost()
    ctx = context({"app/main.go": "m", "docs/x.md": "d"})
    await PublishGithub(hosts=FakeHosts({"github.com": host})).run(ctx, {**PUBLISH_INPUT, "sourcePath": "app"})
    assert list(host.repos["acme-corp/svc"]) == ["main.go"]


CASES = {
    "unknown-host": ({"repoUrl": "git.example.com?owner=a&repo=b"}, NotFoundError, "no git integration"),
    "no-owner": ({"repoUrl": "github.com?repo=b"}, InvalidActionInput, "must name both owner and repo"),
    "empty-workspace": (PUBLISH_INPUT, InvalidActionInput, "nothing to publish"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_publish_refusals(case: tuple[dict[str, Any], type[Exception], str]) -> None:
    given, error, text = case
    files = {} if given is PUBLISH_INPUT else {"a": "a"}
    with pytest.raises(error, match=text):
        await PublishGithub(hosts=FakeHosts({"github.com": FakeHost()})).run(context(files), given)


async def test_publish_undo_deletes_only_a_repository_it_created() -> None:
    host = FakeHost()
    action = PublishGithub(hosts=FakeHosts({"github.com": host}))
    ctx = context({"a": "a"})
    await action.run(ctx, PUBLISH_INPUT)
    await action.undo(context(), PUBLISH_INPUT, {"created": False})
    assert "acme-corp/svc" in host.repos
    undo = context()
    await action.undo(undo, PUBLISH_INPUT, ctx.outputs)
    assert host.repos == {} and undo.logs == ["Deleted repository acme-corp/svc on the fake host"]


async def test_a_failed_push_still_records_the_created_repository_for_rollback() -> None:
    host = FakeHost(fail_push=True)
    ctx = context({"a": "a"})
    with pytest.raises(ConnectionError):
        await PublishGithub(hosts=FakeHosts({"github.com": host})).run(ctx, PUBLISH_INPUT)
    assert ctx.outputs["created"] is True and "acme-corp/svc" in host.repos


REGISTER_URLS = {
    "catalog-info-url": ({"catalogInfoUrl": "https://h/x.yaml"}, "https://h/x.yaml"),
    "contents-and-default-path": (
        {"repoContentsUrl": "https://h/r/blob/main"},
        "https://h/r/blob/main/catalog-info.yaml",
    ),
    "contents-and-path": ({"repoContentsUrl": "https://h/r/", "catalogInfoPath": "/a/b.yaml"}, "https://h/r/a/b.yaml"),
}


@pytest.mark.parametrize("case", REGISTER_URLS.values(), ids=REGISTER_URLS.keys())
def test_catalog_info_url(case: tuple[dict[str, Any], str]) -> None:
    assert catalog_info_url(case[0]) == case[1]


MAIN_REFS = {
    "component-first": (("api:default/a", "component:default/c"), "component:default/c"),
    "first-non-location": (("location:default/l", "api:default/a"), "api:default/a"),
    "none": (("location:default/l",), None),
}


@pytest.mark.parametrize("case", MAIN_REFS.values(), ids=MAIN_REFS.keys())
def test_main_entity_ref(case: tuple[tuple[str, ...], str | None]) -> None:
    assert main_entity_ref(case[0]) == case[1]


async def test_catalog_register_outputs_the_entity_and_undo_unregisters() -> None:
    catalog = FakeCatalog(refs_for_url={"https://h/r/catalog-info.yaml": ("component:default/svc",)})
    action = CatalogRegister(catalog=catalog)
    ctx = context()
    await action.run(ctx, {"repoContentsUrl": "https://h/r"})
    assert ctx.outputs == {"locationId": "loc-1", "catalogInfoUrl": "https://h/r/catalog-info.yaml",
                           "entityRef": "component:default/svc"}  # fmt: skip
    await action.undo(context(), {}, ctx.outputs)
    assert catalog.locations == {}


async def test_catalog_register_optional_tolerates_a_failure() -> None:
    ctx = context()
    await CatalogRegister(catalog=FakeCatalog()).run(ctx, {"catalogInfoUrl": "https://h/none", "optional": True})
    assert "continuing because optional is true" in ctx.logs[-1]
    with pytest.raises(NotFoundError):
        await CatalogRegister(catalog=FakeCatalog()).run(context(), {"catalogInfoUrl": "https://h/none"})


async def test_catalog_write_stamps_the_source_template() -> None:
    ctx = context()
    await CatalogWrite().run(ctx, {"entity": {"kind": "Component", "metadata": {"name": "svc"}}, "filePath": "c.yaml"})
    written = yaml.safe_load((await ctx.workspace.require("c.yaml")).content)
    assert written["metadata"]["annotations"] == {"backstage.io/source-template": "template:default/svc"}


async def test_catalog_fetch_one_many_and_optional() -> None:
    catalog = FakeCatalog(entities={"group:default/team-a": {"kind": "Group"}})
    ctx = context()
    await CatalogFetch(catalog=catalog).run(ctx, {"entityRef": "team-a", "defaultKind": "group"})
    assert ctx.outputs == {"entity": {"kind": "Group"}}
    ctx = context()
    await CatalogFetch(catalog=catalog).run(ctx, {"entityRefs": ["group:team-a", "group:nope"], "optional": True})
    assert ctx.outputs == {"entities": [{"kind": "Group"}, None]}
    with pytest.raises(NotFoundError, match="group:default/nope is not in the catalog"):
        await CatalogFetch(catalog=catalog).run(context(), {"entityRef": "group:nope"})


APP_INPUT = {"appName": "svc", "repoUrl": "https://git.test/acme-corp/svc.git", "path": "deploy/helm"}
APP_CASES = {
    "minimal": APP_INPUT,
    "everything": {
        **APP_INPUT,
        "namespace": "payments",
        "projectName": "team-a",
        "targetRevision": "main",
        "labels": {"team": "a"},
        "valueFiles": ["values-prod.yaml"],
    },
}


@pytest.mark.parametrize("given", APP_CASES.values(), ids=APP_CASES.keys())
def test_the_application_is_valid_against_argo_cd_s_crd_schema(given: dict[str, Any]) -> None:
    schema = json.loads(corpus_dir("k8s-crd-schemas", "argoproj.io", "application_v1alpha1.json").read_text())
    jsonschema.Draft7Validator(schema).validate(plan_application(given))


def test_application_names_must_be_dns_labels() -> None:
    with pytest.raises(InvalidActionInput, match="appName 'Svc_1' must be a lowercase DNS label"):
        plan_application({**APP_INPUT, "appName": "Svc_1"})


async def test_argocd_app_commits_once_refuses_a_different_app_and_undo_removes_it() -> None:
    gitops = FakeGitOps()
    action = ArgoCdCreateApp(gitops=gitops)
    ctx = context()
    await action.run(ctx, APP_INPUT)
    await action.run(context(), APP_INPUT)
    assert gitops.commits == 1, "writing the same Application again changes nothing"
    with pytest.raises(ConflictError, match="already exists in the GitOps repository"):
        await action.run(context(), {**APP_INPUT, "path": "other"})
    await action.undo(context(), APP_INPUT, ctx.outputs)
    assert gitops.files == {}


async def test_argocd_dry_run_commits_nothing() -> None:
    gitops = FakeGitOps()
    ctx = context(dry_run=True)
    await ArgoCdCreateApp(gitops=gitops).run(ctx, APP_INPUT)
    assert gitops.files == {} and "kind: Application" in ctx.logs[0]


def registry() -> ActionRegistry:
    catalog = FakeCatalog(refs_for_url={
        "http://127.0.0.1:7007/git/acme-corp/svc/blob/main/catalog-info.yaml": ("component:default/svc",)},
        entities={"group:default/team-a": {"kind": "Group"}})  # fmt: skip
    hosts = FakeHosts({"github.com": FakeHost(), "gitlab.com": FakeHost()})
    return ActionRegistry([
        PublishGithub(hosts=hosts), PublishGitlab(hosts=hosts), CatalogRegister(catalog=catalog), CatalogWrite(),
        CatalogFetch(catalog=catalog), ArgoCdCreateApp(gitops=FakeGitOps()),
    ])  # fmt: skip


EXAMPLES = {f"{a.id}-{i}": (a.id, e) for a in registry().list() for i, e in enumerate(a.examples)}


@pytest.mark.parametrize("case", EXAMPLES.values(), ids=EXAMPLES.keys())
async def test_every_platform_action_example_runs(case: Any) -> None:
    _, example = case
    template = parse_template(
        {
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": {"name": "example"},
            "spec": {"type": "service", "steps": [example.step]},
        }
    )
    workspace = InMemoryWorkspace([WorkspaceFile(p, t.encode()) for p, t in example.workspace.items()])
    result = await run_template(template, {}, registry=registry(), renderer=TemplateRenderer(), workspace=workspace,
                                options=RunOptions())  # fmt: skip
    assert (result.status, result.error) == ("completed", None)
