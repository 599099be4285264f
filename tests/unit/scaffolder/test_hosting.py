"""GitHub and GitLab hosts: the REST calls they make, checked offline with httpx's MockTransport.

Test design notes: these adapters are not run against the real services in this suite (it runs
offline); what is pinned here is the request each operation sends and how answers are mapped to
blacktop errors. Pushing needs a real remote and is covered only for the built-in host.
"""

from __future__ import annotations

import json

import httpx
import pytest

from blacktop.kernel.errors import ConflictError, NotAllowedError, NotFoundError
from blacktop.scaffolder.adapters.hosting import ConfiguredRepositoryHosts, GitHubHost, GitLabHost


def recorder(answers: dict[tuple[str, str], httpx.Response]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.get((request.method, request.url.raw_path.decode()), httpx.Response(500, text="unexpected"))

    return httpx.MockTransport(handle), seen


async def test_github_creates_in_an_organization_with_the_token() -> None:
    transport, seen = recorder({
        ("GET", "/user"): httpx.Response(200, json={"login": "robot"}),
        ("POST", "/orgs/acme/repos"): httpx.Response(201, json={}),
    })  # fmt: skip
    host = GitHubHost(host="github.com", token="ghp_x", transport=transport)
    repo = await host.create("acme", "svc", description="d", visibility="private", default_branch="main")
    assert (repo.remote_url, repo.contents_url) == (
        "https://github.com/acme/svc.git",
        "https://github.com/acme/svc/blob/main",
    )
    assert seen[1].headers["authorization"] == "Bearer ghp_x"
    assert json.loads(seen[1].content) == {"name": "svc", "description": "d", "private": True}


async def test_github_creates_for_the_token_s_own_user_and_maps_errors() -> None:
    transport, _ = recorder({
        ("GET", "/user"): httpx.Response(200, json={"login": "Acme"}),
        ("POST", "/user/repos"): httpx.Response(422, json={"message": "name already exists"}),
        ("DELETE", "/repos/acme/gone"): httpx.Response(404),
        ("DELETE", "/repos/acme/locked"): httpx.Response(403, text="Must have admin rights"),
    })  # fmt: skip
    host = GitHubHost(host="github.com", token="t", transport=transport)
    with pytest.raises(ConflictError, match="most likely it exists already"):
        await host.create("acme", "svc", description="", visibility="public", default_branch="main")
    assert await host.delete("acme", "gone") is False
    with pytest.raises(NotAllowedError, match="refused the token"):
        await host.delete("acme", "locked")


async def test_gitlab_creates_in_the_namespace_and_deletes_by_path() -> None:
    transport, seen = recorder({
        ("GET", "/api/v4/namespaces/group%2Fsub"): httpx.Response(200, json={"id": 42}),
        ("POST", "/api/v4/projects"): httpx.Response(201, json={"id": 7}),
        ("DELETE", "/api/v4/projects/group%2Fsub%2Fsvc"): httpx.Response(202),
    })  # fmt: skip
    host = GitLabHost(host="gitlab.example.com", token="glpat", transport=transport)
    repo = await host.create("group/sub", "svc", description="", visibility="internal", default_branch="main")
    assert repo.contents_url == "https://gitlab.example.com/group/sub/svc/-/blob/main"
    assert json.loads(seen[1].content)["namespace_id"] == 42 and seen[1].headers["private-token"] == "glpat"
    assert await host.delete("group/sub", "svc") is True


def test_configured_hosts_refuse_unknown_hosts_and_wrong_flavours() -> None:
    hosts = ConfiguredRepositoryHosts({"gitlab.com": GitLabHost(host="gitlab.com", token="t")})
    with pytest.raises(NotFoundError, match=r"no git integration is configured for host 'github\.com'"):
        hosts.resolve("github.com", expected="github")
    with pytest.raises(NotAllowedError, match="use the publish:gitlab action"):
        hosts.resolve("gitlab.com", expected="github")
