"""Branch protection after publishing: the inputs publishers read, and the REST calls GitHub and GitLab get.

Test design notes: the publishers run against ``FakeHost`` (which records what it was asked); the
GitHub and GitLab adapters run against httpx's ``MockTransport``, as ``test_hosting`` does. Request
bodies are checked against JSON Schemas written from the hosts' documentation of "Update branch
protection" (``PUT /repos/{owner}/{repo}/branches/{branch}/protection``) and "Protect repository
branches" (``POST /projects/:id/protected_branches``), with ``additionalProperties: false`` so a
misspelt or invented key fails. The built-in host's enforcement runs on real git in
``tests/integration/scaffolder/test_builtin_branch_protection.py``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from blacktop.kernel.errors import NotAllowedError
from blacktop.scaffolder import (
    ActionContext,
    BranchProtection,
    HostedRepository,
    InMemoryWorkspace,
    InvalidActionInput,
    TemplateInfo,
    WorkspaceFile,
)
from blacktop.scaffolder.actions import validate_input
from blacktop.scaffolder.adapters.hosting import GitHubHost, GitLabHost, github_protection_body
from blacktop.scaffolder.publishing import PublishGithub, PublishGitlab, github_protection

from .fakes import FakeHost, FakeHosts
from .test_hosting import recorder

_USERS_TEAMS_APPS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: {"type": "array", "items": {"type": "string"}} for k in ("users", "teams", "apps")},
}
GITHUB_UPDATE_BRANCH_PROTECTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions"],
    "properties": {
        "required_status_checks": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["strict"],
            "properties": {
                "strict": {"type": "boolean"},
                "contexts": {"type": "array", "items": {"type": "string"}},
                "checks": {"type": "array"},
            },
        },
        "enforce_admins": {"type": ["boolean", "null"]},
        "required_pull_request_reviews": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "dismissal_restrictions": _USERS_TEAMS_APPS,
                "dismiss_stale_reviews": {"type": "boolean"},
                "require_code_owner_reviews": {"type": "boolean"},
                "required_approving_review_count": {"type": "integer", "minimum": 0, "maximum": 6},
                "require_last_push_approval": {"type": "boolean"},
                "bypass_pull_request_allowances": _USERS_TEAMS_APPS,
            },
        },
        "restrictions": {"anyOf": [{"type": "null"}, {**_USERS_TEAMS_APPS, "required": ["users", "teams"]}]},
        "required_linear_history": {"type": "boolean"},
        "allow_force_pushes": {"type": ["boolean", "null"]},
        "allow_deletions": {"type": "boolean"},
        "block_creations": {"type": "boolean"},
        "required_conversation_resolution": {"type": "boolean"},
        "lock_branch": {"type": "boolean"},
        "allow_fork_syncing": {"type": "boolean"},
    },
}
GITLAB_PROTECT_BRANCH = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "push_access_level": {"type": "integer"},
        "merge_access_level": {"type": "integer"},
        "unprotect_access_level": {"type": "integer"},
        "allow_force_push": {"type": "boolean"},
        "allowed_to_push": {"type": "array"},
        "allowed_to_merge": {"type": "array"},
        "allowed_to_unprotect": {"type": "array"},
        "code_owner_approval_required": {"type": "boolean"},
    },
}
REPO = HostedRepository("acme", "svc", "https://github.com/acme/svc.git", "https://github.com/acme/svc/blob/main", "x")
PUBLISH = {"repoUrl": "github.com?owner=acme&repo=svc", "defaultBranch": "main"}

INPUTS: dict[str, tuple[dict[str, Any], BranchProtection]] = {
    "backstage-defaults": ({}, BranchProtection(branch="main")),
    "every-option": (
        {
            "protectEnforceAdmins": False,
            "requireCodeOwnerReviews": True,
            "dismissStaleReviews": True,
            "requiredApprovingReviewCount": 2,
            "bypassPullRequestAllowances": {"users": ["release-bot"], "teams": ["sre"]},
            "requiredStatusCheckContexts": ["ci", "lint"],
            "requireBranchesToBeUpToDate": False,
            "requiredConversationResolution": True,
            "requiredCommitSigning": True,
        },
        BranchProtection(
            branch="main",
            enforce_admins=False,
            required_approving_review_count=2,
            require_code_owner_reviews=True,
            dismiss_stale_reviews=True,
            bypass_pull_request_allowances={"users": ("release-bot",), "teams": ("sre",)},
            required_status_check_contexts=("ci", "lint"),
            require_branches_to_be_up_to_date=False,
            required_conversation_resolution=True,
            required_commit_signing=True,
        ),
    ),
}


@pytest.mark.parametrize("case", INPUTS.values(), ids=INPUTS.keys())
async def test_publish_github_protects_the_default_branch_after_the_push(
    case: tuple[dict[str, Any], BranchProtection],
) -> None:
    given, wanted = case
    validate_input(PublishGithub(hosts=FakeHosts({})), {**PUBLISH, **given})
    assert github_protection(given, branch="main") == wanted
    host = FakeHost(label="the fake host")
    ctx = context({"README.md": "r"})
    await PublishGithub(hosts=FakeHosts({"github.com": host})).run(ctx, {**PUBLISH, **given})
    assert host.calls == [("protect_branch", "acme/svc", wanted)]
    assert ctx.logs[-1] == "Protected branch main on the fake host"


async def test_protect_default_branch_false_leaves_the_branch_alone_and_says_so() -> None:
    host = FakeHost()
    ctx = context({"README.md": "r"})
    await PublishGithub(hosts=FakeHosts({"github.com": host})).run(ctx, {**PUBLISH, "protectDefaultBranch": False})
    assert host.calls == [] and ctx.logs[-1] == "Branch main is left unprotected (protectDefaultBranch: false)"


async def test_dry_runs_say_which_protection_they_would_ask_for() -> None:
    host = FakeHost()
    ctx = context({"README.md": "r"}, dry_run=True)
    given = {**PUBLISH, "requireCodeOwnerReviews": True, "requiredStatusCheckContexts": ["ci"]}
    await PublishGithub(hosts=FakeHosts({"github.com": host})).run(ctx, given)
    assert host.calls == [] and host.repos == {}
    assert (
        ctx.logs[-1]
        == "Dry run: would then protect branch main (code owner reviews, admins included, status checks ci)"
    )


def test_protection_inputs_are_validated_before_the_step_runs() -> None:
    with pytest.raises(InvalidActionInput) as raised:
        validate_input(
            PublishGithub(hosts=FakeHosts({})),
            {**PUBLISH, "requiredApprovingReviewCount": 7, "bypassPullRequestAllowances": {"robots": ["x"]}},
        )
    assert sorted(p.path for p in raised.value.problems) == [
        "input.bypassPullRequestAllowances",
        "input.requiredApprovingReviewCount",
    ]


async def test_publish_gitlab_creates_then_protects_its_branches_in_order() -> None:
    host = FakeHost()
    ctx = context({"README.md": "r"})
    branches = [{"name": "main", "protect": True}, {"name": "develop", "create": True, "protect": True},
                {"name": "release", "create": True, "ref": "develop"}]  # fmt: skip
    given = {"repoUrl": "gitlab.com?owner=acme&repo=svc", "defaultBranch": "main", "branches": branches}
    await PublishGitlab(hosts=FakeHosts({"gitlab.com": host})).run(ctx, given)
    assert host.calls == [
        ("protect_branch", "acme/svc", BranchProtection(branch="main")),
        ("create_branch", "acme/svc", ("develop", "main")),
        ("protect_branch", "acme/svc", BranchProtection(branch="develop")),
        ("create_branch", "acme/svc", ("release", "develop")),
    ]
    dry = context({"README.md": "r"}, dry_run=True)
    await PublishGitlab(hosts=FakeHosts({"gitlab.com": FakeHost()})).run(dry, given)
    assert dry.logs[-1] == (
        "Dry run: would then protect branch main, create branch develop from main, protect branch develop, "
        "create branch release from develop"
    )


async def test_github_puts_the_documented_protection_body() -> None:
    path = "/repos/acme/svc/branches/main/protection"
    transport, seen = recorder({
        ("PUT", path): httpx.Response(200, json={}),
        ("POST", f"{path}/required_signatures"): httpx.Response(200, json={}),
    })  # fmt: skip
    host = GitHubHost(host="github.com", token="ghp_x", transport=transport)
    protection = INPUTS["every-option"][1]
    message = await host.protect_branch(REPO, protection)
    assert [(r.method, r.url.path) for r in seen] == [("PUT", path), ("POST", f"{path}/required_signatures")]
    body = json.loads(seen[0].content)
    jsonschema.Draft202012Validator(GITHUB_UPDATE_BRANCH_PROTECTION).validate(body)
    assert body == {
        "required_status_checks": {"strict": False, "contexts": ["ci", "lint"]},
        "enforce_admins": False,
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "required_approving_review_count": 2,
            "bypass_pull_request_allowances": {"users": ["release-bot"], "teams": ["sre"]},
        },
        "restrictions": None,
        "required_conversation_resolution": True,
    }
    assert seen[0].headers["authorization"] == "Bearer ghp_x"
    assert message == (
        "Protected branch main of acme/svc on GitHub at github.com: changes go through pull requests (2 approving "
        "review(s), code owner review, stale reviews dismissed); status checks ci, lint must pass; conversations "
        "must be resolved; commits must be signed; admins may bypass"
    )
    defaults = github_protection_body(BranchProtection(branch="main"))
    jsonschema.Draft202012Validator(GITHUB_UPDATE_BRANCH_PROTECTION).validate(defaults)
    assert defaults["enforce_admins"] is True and defaults["required_status_checks"] == {"strict": True, "contexts": []}


async def test_github_retries_once_when_the_new_branch_is_not_visible_yet() -> None:
    answers = [httpx.Response(404, json={"message": "Branch not found"}), httpx.Response(200, json={})]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    transport = httpx.MockTransport(lambda request: answers.pop(0))
    host = GitHubHost(host="github.com", token="t", transport=transport, sleep=sleep)
    assert (await host.protect_branch(REPO, BranchProtection(branch="main"))).startswith("Protected branch main")
    assert slept == [0.6] and answers == []


async def test_github_plans_without_branch_protection_are_reported_not_fatal() -> None:
    refusal = {"message": "Upgrade to GitHub Pro or make this repository public to enable this feature."}
    transport = httpx.MockTransport(lambda request: httpx.Response(403, json=refusal))
    host = GitHubHost(host="github.com", token="t", transport=transport)
    message = await host.protect_branch(REPO, BranchProtection(branch="main"))
    assert message.startswith("Branch main of acme/svc was NOT protected: GitHub offers branch protection")
    other = GitHubHost(host="github.com", token="t", transport=httpx.MockTransport(
        lambda request: httpx.Response(403, json={"message": "Must have admin rights"})))  # fmt: skip
    with pytest.raises(NotAllowedError, match="protect branch main of acme/svc"):
        await other.protect_branch(REPO, BranchProtection(branch="main"))


async def test_github_creates_a_branch_at_the_ref_s_commit() -> None:
    transport, seen = recorder({
        ("GET", "/repos/acme/svc/git/ref/heads/main"): httpx.Response(200, json={"object": {"sha": "abc123"}}),
        ("POST", "/repos/acme/svc/git/refs"): httpx.Response(201, json={}),
    })  # fmt: skip
    await GitHubHost(host="github.com", token="t", transport=transport).create_branch(REPO, "develop", ref="main")
    assert json.loads(seen[1].content) == {"ref": "refs/heads/develop", "sha": "abc123"}


async def test_gitlab_protects_and_creates_branches_through_the_documented_endpoints() -> None:
    transport, seen = recorder({
        ("POST", "/api/v4/projects/acme%2Fsvc/protected_branches"): httpx.Response(201, json={}),
        ("POST", "/api/v4/projects/acme%2Fsvc/repository/branches?branch=develop&ref=main"): httpx.Response(201),
    })  # fmt: skip
    host = GitLabHost(host="gitlab.example.com", token="glpat", transport=transport)
    message = await host.protect_branch(REPO, BranchProtection(branch="main", require_code_owner_reviews=True))
    body = json.loads(seen[0].content)
    jsonschema.Draft202012Validator(GITLAB_PROTECT_BRANCH).validate(body)
    assert body == {"name": "main", "allow_force_push": False, "code_owner_approval_required": True}
    assert message == (
        "Protected branch main of acme/svc on GitLab at gitlab.example.com: maintainers may push and merge, force "
        "pushes and deletion are refused, code owner approval required"
    )
    await host.create_branch(REPO, "develop", ref="main")
    assert dict(seen[1].url.params) == {"branch": "develop", "ref": "main"}


async def test_gitlab_keeps_the_protection_gitlab_already_gave_the_default_branch() -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(409, json={"message": "Protected branch 'main' already exists"})
    )
    message = await GitLabHost(host="gitlab.com", token="t", transport=transport).protect_branch(
        REPO, BranchProtection(branch="main")
    )
    assert "was already protected" in message


def context(files: dict[str, str], *, dry_run: bool = False) -> ActionContext:
    workspace = InMemoryWorkspace([WorkspaceFile(p, t.encode()) for p, t in files.items()])
    return ActionContext(workspace=workspace, is_dry_run=dry_run, template_info=TemplateInfo(entity_ref="t:d/x"))
