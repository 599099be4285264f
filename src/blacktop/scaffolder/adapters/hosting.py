"""Real git hosts for the publishers: GitHub and GitLab through their REST APIs, pushed to with git.

``GitHubHost`` creates ``POST /orgs/{owner}/repos`` (falling back to ``POST /user/repos`` when
the owner is the token's user), deletes with ``DELETE /repos/{owner}/{repo}`` and, after the push,
protects the default branch with ``PUT /repos/{owner}/{repo}/branches/{branch}/protection`` (the
body Backstage's ``publish:github`` sends; retried once when GitHub does not see the new branch
yet, and skipped with a warning where the plan lacks branch protection). ``GitLabHost`` resolves
the namespace, creates ``POST /projects``, deletes ``DELETE /projects/{id}``, creates branches
with ``POST /projects/{id}/repository/branches`` and protects them with
``POST /projects/{id}/protected_branches``. Both push over HTTPS with the token in a header.
These adapters follow the hosts' documented APIs but are not exercised against the real services
in blacktop's tests (they run offline); the built-in host is. ``ConfiguredRepositoryHosts`` maps
host names to whichever adapter the deployment chose.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from blacktop.kernel.errors import ConflictError, NotAllowedError, NotFoundError, UnavailableError

from ..ports import BranchProtection, HostedRepository, RepositoryHost, WorkspaceFile
from .gitpush import basic_auth_header, push_files


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    detail = response.text[:300]
    if response.status_code in (401, 403):
        raise NotAllowedError(f"{what}: the host refused the token (HTTP {response.status_code}): {detail}")
    if response.status_code == 404:
        raise NotFoundError(f"{what}: not found (HTTP 404): {detail}")
    if response.status_code in (409, 422):
        raise ConflictError(f"{what}: the host refused it, most likely it exists already: {detail}")
    raise UnavailableError(f"{what}: the host answered HTTP {response.status_code}: {detail}")


def github_protection_body(protection: BranchProtection) -> dict[str, Any]:
    """The body of GitHub's "update branch protection" request, as Backstage's ``publish:github`` sends it."""
    reviews: dict[str, Any] = {
        "dismiss_stale_reviews": protection.dismiss_stale_reviews,
        "require_code_owner_reviews": protection.require_code_owner_reviews,
    }
    if protection.required_approving_review_count is not None:
        reviews["required_approving_review_count"] = protection.required_approving_review_count
    if protection.bypass_pull_request_allowances:
        reviews["bypass_pull_request_allowances"] = {
            key: list(values) for key, values in protection.bypass_pull_request_allowances.items()
        }
    return {
        "required_status_checks": {
            "strict": protection.require_branches_to_be_up_to_date,
            "contexts": list(protection.required_status_check_contexts),
        },
        "enforce_admins": protection.enforce_admins,
        "required_pull_request_reviews": reviews,
        "restrictions": None,
        "required_conversation_resolution": protection.required_conversation_resolution,
    }


def describe_github_protection(protection: BranchProtection) -> str:
    """What GitHub enforces for ``protection``, as one clause for the task log."""
    count = protection.required_approving_review_count
    reviews = [f"{count if count is not None else '1 (GitHub default)'} approving review(s)"]
    if protection.require_code_owner_reviews:
        reviews.append("code owner review")
    if protection.dismiss_stale_reviews:
        reviews.append("stale reviews dismissed")
    parts = [f"changes go through pull requests ({', '.join(reviews)})"]
    if protection.required_status_check_contexts:
        checks = ", ".join(protection.required_status_check_contexts)
        parts.append(
            f"status checks {checks} must pass"
            + (" on an up-to-date branch" if protection.require_branches_to_be_up_to_date else "")
        )
    if protection.required_conversation_resolution:
        parts.append("conversations must be resolved")
    if protection.required_commit_signing:
        parts.append("commits must be signed")
    parts.append("admins included" if protection.enforce_admins else "admins may bypass")
    return "; ".join(parts)


class GitHubHost:
    """``RepositoryHost`` on GitHub (or GitHub Enterprise at ``api_url``) with a token."""

    kind = "github"

    def __init__(
        self, *, host: str, token: str, api_url: str | None = None, timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None, retry_delay: float = 0.6,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.host = host
        self._token = token
        self._api = api_url or ("https://api.github.com" if host == "github.com" else f"https://{host}/api/v3")
        self._timeout = timeout
        self._transport = transport
        self._retry_delay = retry_delay
        self._sleep = sleep

    def _client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json"}
        return httpx.AsyncClient(base_url=self._api, headers=headers, timeout=self._timeout, transport=self._transport)

    def locate(self, owner: str, name: str, *, default_branch: str) -> HostedRepository:
        """Where ``owner/name`` lives on this host."""
        return HostedRepository(
            owner=owner, name=name, remote_url=f"https://{self.host}/{owner}/{name}.git",
            contents_url=f"https://{self.host}/{owner}/{name}/blob/{default_branch}",
            host_label=f"GitHub at {self.host}",
        )  # fmt: skip

    async def create(
        self, owner: str, name: str, *, description: str, visibility: str, default_branch: str
    ) -> HostedRepository:
        """Create the repository in the organization ``owner``, or for the token's user."""
        body: dict[str, Any] = {"name": name, "description": description, "private": visibility != "public"}
        if visibility == "internal":
            body["visibility"] = "internal"
        async with self._client() as client:
            user = await client.get("/user")
            _raise_for(user, "GitHub: read the token's user")
            path = (
                "/user/repos" if str(user.json().get("login", "")).lower() == owner.lower() else f"/orgs/{owner}/repos"
            )
            _raise_for(await client.post(path, json=body), f"GitHub: create repository {owner}/{name}")
        return self.locate(owner, name, default_branch=default_branch)

    async def push(
        self, repository: HostedRepository, files: Sequence[WorkspaceFile], *, branch: str, message: str, author: str,
        email: str,
    ) -> str:  # fmt: skip
        """Push over HTTPS with the token."""
        return await push_files(
            files, remote=repository.remote_url, branch=branch, message=message, author=author, email=email,
            extra_header=basic_auth_header("x-access-token", self._token),
        )  # fmt: skip

    async def delete(self, owner: str, name: str) -> bool:
        """Delete the repository (the token needs the delete_repo scope)."""
        async with self._client() as client:
            response = await client.delete(f"/repos/{owner}/{name}")
        if response.status_code == 404:
            return False
        _raise_for(response, f"GitHub: delete repository {owner}/{name}")
        return True

    async def create_branch(self, repository: HostedRepository, branch: str, *, ref: str) -> None:
        """Create ``branch`` at the commit ``ref`` (a branch) points to, through the git refs API."""
        base = f"/repos/{repository.owner}/{repository.name}/git"
        async with self._client() as client:
            found = await client.get(f"{base}/ref/heads/{quote(ref, safe='/')}")
            _raise_for(found, f"GitHub: read branch {ref} of {repository.owner}/{repository.name}")
            sha = found.json()["object"]["sha"]
            created = await client.post(f"{base}/refs", json={"ref": f"refs/heads/{branch}", "sha": sha})
            _raise_for(created, f"GitHub: create branch {branch} in {repository.owner}/{repository.name}")

    async def protect_branch(self, repository: HostedRepository, protection: BranchProtection) -> str:
        """``PUT .../branches/{branch}/protection`` (and required signatures when asked)."""
        full, branch = f"{repository.owner}/{repository.name}", protection.branch
        path = f"/repos/{full}/branches/{quote(branch, safe='')}/protection"
        async with self._client() as client:
            response = await client.put(path, json=github_protection_body(protection))
            if response.status_code == 404 and "Branch not found" in response.text:
                # GitHub is eventually consistent: a branch pushed a moment ago may not be visible yet.
                await self._sleep(self._retry_delay)
                response = await client.put(path, json=github_protection_body(protection))
            if response.status_code == 403 and "Upgrade to GitHub Pro" in response.text:
                return (
                    f"Branch {branch} of {full} was NOT protected: GitHub offers branch protection for private "
                    "repositories only on paid plans (make the repository public or upgrade the plan)"
                )
            _raise_for(response, f"GitHub: protect branch {branch} of {full}")
            if protection.required_commit_signing:
                signed = await client.post(f"{path}/required_signatures")
                _raise_for(signed, f"GitHub: require signed commits on {branch} of {full}")
        return f"Protected branch {branch} of {full} on GitHub at {self.host}: {describe_github_protection(protection)}"


class GitLabHost:
    """``RepositoryHost`` on GitLab (gitlab.com or self-managed at ``api_url``) with a token."""

    kind = "gitlab"

    def __init__(
        self, *, host: str, token: str, api_url: str | None = None, timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.host = host
        self._token = token
        self._api = api_url or f"https://{host}/api/v4"
        self._timeout = timeout
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        headers = {"PRIVATE-TOKEN": self._token}
        return httpx.AsyncClient(base_url=self._api, headers=headers, timeout=self._timeout, transport=self._transport)

    def locate(self, owner: str, name: str, *, default_branch: str) -> HostedRepository:
        """Where ``owner/name`` lives on this host."""
        return HostedRepository(
            owner=owner, name=name, remote_url=f"https://{self.host}/{owner}/{name}.git",
            contents_url=f"https://{self.host}/{owner}/{name}/-/blob/{default_branch}",
            host_label=f"GitLab at {self.host}",
        )  # fmt: skip

    async def create(
        self, owner: str, name: str, *, description: str, visibility: str, default_branch: str
    ) -> HostedRepository:
        """Create the project in the namespace ``owner``."""
        async with self._client() as client:
            namespace = await client.get(f"/namespaces/{quote(owner, safe='')}")
            _raise_for(namespace, f"GitLab: find namespace {owner}")
            body = {
                "name": name, "path": name, "namespace_id": namespace.json()["id"], "description": description,
                "visibility": visibility, "default_branch": default_branch,
            }  # fmt: skip
            _raise_for(await client.post("/projects", json=body), f"GitLab: create project {owner}/{name}")
        return self.locate(owner, name, default_branch=default_branch)

    async def push(
        self, repository: HostedRepository, files: Sequence[WorkspaceFile], *, branch: str, message: str, author: str,
        email: str,
    ) -> str:  # fmt: skip
        """Push over HTTPS with the token."""
        return await push_files(
            files, remote=repository.remote_url, branch=branch, message=message, author=author, email=email,
            extra_header=basic_auth_header("oauth2", self._token),
        )  # fmt: skip

    async def delete(self, owner: str, name: str) -> bool:
        """Delete the project."""
        async with self._client() as client:
            response = await client.delete(f"/projects/{quote(f'{owner}/{name}', safe='')}")
        if response.status_code == 404:
            return False
        _raise_for(response, f"GitLab: delete project {owner}/{name}")
        return True

    async def create_branch(self, repository: HostedRepository, branch: str, *, ref: str) -> None:
        """``POST /projects/{id}/repository/branches``."""
        project = quote(f"{repository.owner}/{repository.name}", safe="")
        async with self._client() as client:
            response = await client.post(
                f"/projects/{project}/repository/branches", params={"branch": branch, "ref": ref}
            )
        _raise_for(response, f"GitLab: create branch {branch} from {ref} in {repository.owner}/{repository.name}")

    async def protect_branch(self, repository: HostedRepository, protection: BranchProtection) -> str:
        """``POST /projects/{id}/protected_branches``: maintainers push and merge, no force push."""
        full, branch = f"{repository.owner}/{repository.name}", protection.branch
        body: dict[str, Any] = {"name": branch, "allow_force_push": False}
        if protection.require_code_owner_reviews:
            body["code_owner_approval_required"] = True
        async with self._client() as client:
            response = await client.post(f"/projects/{quote(full, safe='')}/protected_branches", json=body)
        if response.status_code == 409:
            return (
                f"Branch {branch} of {full} on GitLab at {self.host} was already protected (GitLab protects the "
                "default branch of new projects by the instance's default); its existing rules were kept"
            )
        _raise_for(response, f"GitLab: protect branch {branch} of {full}")
        owners = ", code owner approval required" if protection.require_code_owner_reviews else ""
        return (
            f"Protected branch {branch} of {full} on GitLab at {self.host}: maintainers may push and merge, force "
            f"pushes and deletion are refused{owners}"
        )


class ConfiguredRepositoryHosts:
    """``RepositoryHosts`` from a fixed map of host name to adapter."""

    def __init__(self, hosts: Mapping[str, RepositoryHost]) -> None:
        self._hosts = dict(hosts)

    def resolve(self, host: str, *, expected: str) -> RepositoryHost:
        """The adapter for ``host``; a built-in host serves any flavour, a real one only its own."""
        found = self._hosts.get(host)
        if found is None:
            known = ", ".join(sorted(self._hosts)) or "none"
            raise NotFoundError(
                f"no git integration is configured for host {host!r} (configured: {known}); add it under "
                "integrations.hosts in the blacktop settings"
            )
        if found.kind not in ("builtin", expected):
            raise NotAllowedError(
                f"host {host!r} is configured as {found.kind}, but this step publishes to {expected}; use the "
                f"publish:{found.kind} action for it"
            )
        return found
