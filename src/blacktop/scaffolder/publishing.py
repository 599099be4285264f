"""``publish:github`` and ``publish:gitlab``: create a repository for the workspace and push it.

Which host a ``repoUrl`` such as ``github.com?owner=acme-corp&repo=svc`` really lands on is the
deployment's choice (``RepositoryHosts``): in the embedded default ``github.com`` and
``gitlab.com`` map to the built-in git host, so templates written for GitHub run offline; with a
token configured they map to the real host. Because that choice is invisible in the template,
the step log always says plainly which host received the repository and its clone URL.

After the push ``publish:github`` protects the default branch (``protectDefaultBranch``, on by
default as in Backstage, with its ``protectEnforceAdmins``, ``requireCodeOwnerReviews``,
``requiredStatusCheckContexts``, ``requiredApprovingReviewCount``, ``bypassPullRequestAllowances``,
... inputs) and ``publish:gitlab`` creates and protects the ``branches`` it is given. Each host
enforces what it can, and the step log repeats the host's own account of what is enforced and
what is not (the built-in host has no pull requests, so it refuses force pushes and deletion only).

Dry runs resolve the host and log what would be created without creating or pushing anything.
Publishing is not repeatable (a second run would find the repository taken); ``undo`` deletes the
repository this step created, and only that one (the ``created`` output guards it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import paths
from .actions import ActionContext, ActionExample, TemplateAction
from .errors import InvalidActionInput
from .filters import FilterError, RepoUrlParser
from .ports import BranchProtection, HostedRepository, RepositoryHost, RepositoryHosts, WorkspaceFile

_REPO_URL: Final = {
    "type": "string",
    "title": "Repository location",
    "description": "host?owner=<owner>&repo=<name>, as the RepoUrlPicker writes it",
}
_STRINGS: Final = {"type": "array", "items": {"type": "string"}}
_GITHUB_PROTECTION: Final[Mapping[str, Any]] = {
    "protectDefaultBranch": {"type": "boolean", "default": True, "description": "Protect the default branch"},
    "protectEnforceAdmins": {"type": "boolean", "default": True, "description": "Apply the protection to admins"},
    "requireCodeOwnerReviews": {"type": "boolean", "default": False, "description": "Require a code owner's review"},
    "dismissStaleReviews": {"type": "boolean", "default": False, "description": "Dismiss approvals on new commits"},
    "requiredApprovingReviewCount": {"type": "integer", "minimum": 0, "maximum": 6,
                                     "description": "Approving reviews a pull request needs (GitHub's default: 1)"},
    "bypassPullRequestAllowances": {
        "type": "object", "additionalProperties": False,
        "properties": {"users": _STRINGS, "teams": _STRINGS, "apps": _STRINGS},
        "description": "Who may push without a pull request",
    },
    "requiredStatusCheckContexts": {**_STRINGS, "description": "Status checks that must pass before merging"},
    "requireBranchesToBeUpToDate": {"type": "boolean", "default": True,
                                    "description": "Branches must be up to date with the base before merging"},
    "requiredConversationResolution": {"type": "boolean", "default": False,
                                       "description": "Conversations must be resolved before merging"},
    "requiredCommitSigning": {"type": "boolean", "default": False, "description": "Commits must be signed"},
}  # fmt: skip
_GITLAB_BRANCHES: Final[Mapping[str, Any]] = {
    "type": "array",
    "description": "Branches to create and/or protect after the push",
    "items": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "protect": {"type": "boolean", "default": False},
            "create": {"type": "boolean", "default": False},
            "ref": {"type": "string", "description": "Where a created branch starts (default: defaultBranch)"},
        },
    },
}
_OUTPUT: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        "remoteUrl": {"type": "string", "description": "Clone URL of the new repository"},
        "repoContentsUrl": {"type": "string", "description": "Browse URL of the default branch's files"},
        "commitHash": {"type": "string", "description": "The pushed commit"},
        "host": {"type": "string", "description": "Which git host received the repository"},
        "created": {"type": "boolean", "description": "Whether this step created the repository"},
    },
}


def _input_schema(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["repoUrl"],
        "properties": {
            "repoUrl": _REPO_URL,
            "description": {"type": "string", "title": "Repository description"},
            "defaultBranch": {"type": "string", "title": "Default branch", "default": "master"},
            "repoVisibility": {"type": "string", "enum": ["private", "public", "internal"]},
            "sourcePath": {"type": "string", "title": "Folder of the workspace to publish (default: all of it)"},
            "gitCommitMessage": {"type": "string", "default": "initial commit"},
            "gitAuthorName": {"type": "string", "default": "Scaffolder"},
            "gitAuthorEmail": {"type": "string", "default": "scaffolder@blacktop.local"},
            "token": {"type": "string", "title": "Token for the host (overrides the integration's)"},
            **extra,
        },
    }


class _Publish(TemplateAction):
    """Shared behaviour of the publishers; subclasses set ``flavour`` and the schema."""

    flavour: str = ""
    output_schema: Mapping[str, Any] = _OUTPUT
    supports_dry_run = True
    repeatable = False

    def __init__(self, *, hosts: RepositoryHosts, repo_hosts: Mapping[str, str] | None = None) -> None:
        self._hosts = hosts
        self._parse = RepoUrlParser(dict(repo_hosts or {}), strict=False)

    def _owner_and_name(self, repo_url: str) -> tuple[str, str, str]:
        try:
            parsed = self._parse(repo_url)
        except FilterError as exc:
            raise InvalidActionInput(f"{self.id}: {exc}") from exc
        owner = parsed.get("owner") or parsed.get("project") or parsed.get("organization") or ""
        name = parsed.get("repo", "")
        if not owner or not name:
            raise InvalidActionInput(
                f"{self.id}: repoUrl {repo_url!r} must name both owner and repo, e.g. github.com?owner=acme&repo=svc"
            )
        return parsed["host"], owner, name

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Create the repository and push the workspace (only log the plan in a dry run)."""
        host_name, owner, name = self._owner_and_name(str(input["repoUrl"]))
        branch = str(input.get("defaultBranch") or "master")
        host = self._hosts.resolve(host_name, expected=self.flavour)
        files = await _files_to_publish(ctx, input.get("sourcePath"))
        if ctx.is_dry_run:
            planned = host.locate(owner, name, default_branch=branch)
            ctx.log(
                f"Dry run: would create repository {owner}/{name} on {planned.host_label} ({host_name} is mapped "
                f"there) and push {len(files)} file(s) to branch {branch}: {planned.remote_url}"
            )
            plan = self.planned_branches(input, branch=branch)
            if plan:
                ctx.log(f"Dry run: would then {plan}")
            _outputs(ctx, planned, commit="0" * 40, created=False)
            return
        token_note = " with the step's token" if input.get("token") else ""
        ctx.log(f"Creating repository {owner}/{name} on {host.locate(owner, name, default_branch=branch).host_label}")
        repository = await host.create(
            owner,
            name,
            description=str(input.get("description") or ""),
            visibility=str(input.get("repoVisibility") or "private"),
            default_branch=branch,
        )
        # From here on the repository exists: record it first so a failed push can still be rolled back.
        ctx.output("created", True)
        ctx.output("remoteUrl", repository.remote_url)
        commit = await host.push(
            repository,
            files,
            branch=branch,
            message=str(input.get("gitCommitMessage") or "initial commit"),
            author=str(input.get("gitAuthorName") or "Scaffolder"),
            email=str(input.get("gitAuthorEmail") or "scaffolder@blacktop.local"),
        )
        ctx.log(
            f"Published {len(files)} file(s) to {repository.host_label}{token_note}: repository {owner}/{name}, "
            f"branch {branch}, commit {commit[:12]}; clone it with: git clone {repository.remote_url}"
        )
        ctx.output("commitHash", commit)
        await self.after_push(ctx, input, host, repository, branch=branch)
        _outputs(ctx, repository, commit=commit, created=True)

    async def after_push(
        self, ctx: ActionContext, input: Mapping[str, Any], host: RepositoryHost, repository: HostedRepository, *,
        branch: str,
    ) -> None:  # fmt: skip
        """Branch settings once the repository has its first commit (each publisher its own)."""

    def planned_branches(self, input: Mapping[str, Any], *, branch: str) -> str:
        """What ``after_push`` would do, for the dry-run log ("" when nothing)."""
        return ""

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        """Delete the repository this step created (nothing when it created none)."""
        if not outputs.get("created"):
            ctx.log("Nothing to undo: this step created no repository")
            return
        host_name, owner, name = self._owner_and_name(str(input["repoUrl"]))
        host = self._hosts.resolve(host_name, expected=self.flavour)
        existed = await host.delete(owner, name)
        label = host.locate(owner, name, default_branch=str(input.get("defaultBranch") or "master")).host_label
        ctx.log(f"Deleted repository {owner}/{name} on {label}" if existed else f"Repository {owner}/{name} was gone")


def _outputs(ctx: ActionContext, repository: HostedRepository, *, commit: str, created: bool) -> None:
    ctx.output("remoteUrl", repository.remote_url)
    ctx.output("repoContentsUrl", repository.contents_url)
    ctx.output("commitHash", commit)
    ctx.output("host", repository.host_label)
    ctx.output("created", created)


async def _files_to_publish(ctx: ActionContext, source_path: Any) -> list[WorkspaceFile]:
    """The workspace files under ``sourcePath`` (all by default), with paths relative to it."""
    root = paths.normalize_path(str(source_path or ""), what="sourcePath")
    files = []
    for file in await ctx.workspace.snapshot():
        if not paths.is_within(file.path, root) or file.path == root:
            continue
        relative = file.path[len(root) + 1 :] if root else file.path
        files.append(WorkspaceFile(relative, file.content, file.executable, file.symlink))
    if not files and not ctx.is_dry_run:
        raise InvalidActionInput(
            f"nothing to publish: the workspace has no files under {root or '.'!r}; add a fetch step before publishing"
        )
    return files


class PublishGithub(_Publish):
    """``publish:github``: create a GitHub repository (or one on the host github.com maps to) and push."""

    id = "publish:github"
    flavour = "github"
    description = "Initializes a git repository of the workspace and publishes it to GitHub (or the mapped host)."
    input_schema: Mapping[str, Any] = _input_schema(
        {
            **_GITHUB_PROTECTION,
            "access": {"type": "string"},
            "homepage": {"type": "string"},
            "topics": {"type": "array", "items": {"type": "string"}},
        }
    )
    examples = (
        ActionExample(
            description="Publish the workspace as acme-corp/svc",
            step={
                "id": "publish",
                "action": "publish:github",
                "input": {"repoUrl": "github.com?owner=acme-corp&repo=svc", "defaultBranch": "main"},
            },
            workspace={"README.md": "# svc\n"},
        ),
    )

    async def after_push(
        self, ctx: ActionContext, input: Mapping[str, Any], host: RepositoryHost, repository: HostedRepository, *,
        branch: str,
    ) -> None:  # fmt: skip
        """Protect the default branch unless ``protectDefaultBranch`` is false."""
        if input.get("protectDefaultBranch", True) is False:
            ctx.log(f"Branch {branch} is left unprotected (protectDefaultBranch: false)")
            return
        ctx.log(await host.protect_branch(repository, github_protection(input, branch=branch)))

    def planned_branches(self, input: Mapping[str, Any], *, branch: str) -> str:
        """The protection the step would ask for."""
        if input.get("protectDefaultBranch", True) is False:
            return ""
        return f"protect branch {branch} ({_describe(github_protection(input, branch=branch))})"


def github_protection(input: Mapping[str, Any], *, branch: str) -> BranchProtection:
    """``publish:github``'s protection inputs (Backstage's names and defaults) as a ``BranchProtection``."""
    bypass = input.get("bypassPullRequestAllowances")
    count = input.get("requiredApprovingReviewCount")
    return BranchProtection(
        branch=branch,
        enforce_admins=bool(input.get("protectEnforceAdmins", True)),
        required_approving_review_count=int(count) if count is not None else None,
        require_code_owner_reviews=bool(input.get("requireCodeOwnerReviews", False)),
        dismiss_stale_reviews=bool(input.get("dismissStaleReviews", False)),
        bypass_pull_request_allowances={k: tuple(v) for k, v in bypass.items()} if bypass else None,
        required_status_check_contexts=tuple(input.get("requiredStatusCheckContexts") or ()),
        require_branches_to_be_up_to_date=bool(input.get("requireBranchesToBeUpToDate", True)),
        required_conversation_resolution=bool(input.get("requiredConversationResolution", False)),
        required_commit_signing=bool(input.get("requiredCommitSigning", False)),
    )


def _describe(protection: BranchProtection) -> str:
    asked = []
    if protection.required_approving_review_count is not None:
        asked.append(f"{protection.required_approving_review_count} approving review(s)")
    flags = {
        "code owner reviews": protection.require_code_owner_reviews,
        "stale reviews dismissed": protection.dismiss_stale_reviews,
        "conversation resolution": protection.required_conversation_resolution,
        "signed commits": protection.required_commit_signing,
        "admins included": protection.enforce_admins,
    }
    asked += [name for name, on in flags.items() if on]
    if protection.required_status_check_contexts:
        asked.append("status checks " + ", ".join(protection.required_status_check_contexts))
    return ", ".join(asked) or "defaults"


class PublishGitlab(_Publish):
    """``publish:gitlab``: create a GitLab project (or one on the host gitlab.com maps to) and push."""

    id = "publish:gitlab"
    flavour = "gitlab"
    description = "Initializes a git repository of the workspace and publishes it to GitLab (or the mapped host)."
    input_schema: Mapping[str, Any] = _input_schema(
        {
            "setUserAsOwner": {"type": "boolean"},
            "topics": {"type": "array", "items": {"type": "string"}},
            "branches": _GITLAB_BRANCHES,
        }
    )
    examples = (
        ActionExample(
            description="Publish the workspace as group/svc",
            step={
                "id": "publish",
                "action": "publish:gitlab",
                "input": {"repoUrl": "gitlab.com?owner=group&repo=svc", "defaultBranch": "main"},
            },
            workspace={"README.md": "# svc\n"},
        ),
    )

    async def after_push(
        self, ctx: ActionContext, input: Mapping[str, Any], host: RepositoryHost, repository: HostedRepository, *,
        branch: str,
    ) -> None:  # fmt: skip
        """Create and protect the ``branches`` entries, in order (Backstage's ``publish:gitlab``)."""
        for entry in input.get("branches") or ():
            name = str(entry["name"])
            if entry.get("create"):
                ref = str(entry.get("ref") or branch)
                await host.create_branch(repository, name, ref=ref)
                ctx.log(f"Created branch {name} from {ref}")
            if entry.get("protect"):
                ctx.log(await host.protect_branch(repository, BranchProtection(branch=name)))

    def planned_branches(self, input: Mapping[str, Any], *, branch: str) -> str:
        """The branches the step would create and protect."""
        plans = []
        for entry in input.get("branches") or ():
            if entry.get("create"):
                plans.append(f"create branch {entry['name']} from {entry.get('ref') or branch}")
            if entry.get("protect"):
                plans.append(f"protect branch {entry['name']}")
        return ", ".join(plans)
