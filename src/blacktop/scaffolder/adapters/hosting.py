"""Real git hosts for the publishers: GitHub and GitLab through their REST APIs, pushed to with git.

``GitHubHost`` creates ``POST /orgs/{owner}/repos`` (falling back to ``POST /user/repos`` when
the owner is the token's user) and deletes with ``DELETE /repos/{owner}/{repo}``; ``GitLabHost``
resolves the namespace, creates ``POST /projects`` and deletes ``DELETE /projects/{id}``. Both push
over HTTPS with the token in a header. These adapters follow the hosts' documented APIs but are
not exercised against the real services in blacktop's tests (they run offline); the built-in
host is. ``ConfiguredRepositoryHosts`` maps host names to whichever adapter the deployment chose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from blacktop.kernel.errors import ConflictError, NotAllowedError, NotFoundError, UnavailableError

from ..ports import HostedRepository, RepositoryHost, WorkspaceFile
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


class GitHubHost:
    """``RepositoryHost`` on GitHub (or GitHub Enterprise at ``api_url``) with a token."""

    kind = "github"

    def __init__(
        self, *, host: str, token: str, api_url: str | None = None, timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.host = host
        self._token = token
        self._api = api_url or ("https://api.github.com" if host == "github.com" else f"https://{host}/api/v3")
        self._timeout = timeout
        self._transport = transport

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
