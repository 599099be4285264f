"""In-memory stand-ins for the ports the platform actions use: git hosts, the catalog and the GitOps repo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blacktop.kernel.errors import ConflictError, NotFoundError
from blacktop.scaffolder import BranchProtection, HostedRepository, RegisteredLocation, RepositoryHost, WorkspaceFile


@dataclass
class FakeHost:
    """A git host keeping repositories as ``owner/name -> files``."""

    kind: str = "builtin"
    label: str = "the fake host"
    repos: dict[str, dict[str, WorkspaceFile]] = field(default_factory=dict)
    fail_push: bool = False
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    """``(operation, owner/name, argument)`` of each branch operation, in order."""

    def locate(self, owner: str, name: str, *, default_branch: str) -> HostedRepository:
        return HostedRepository(owner, name, f"https://git.test/{owner}/{name}.git",
                                f"https://git.test/{owner}/{name}/blob/{default_branch}", self.label)  # fmt: skip

    async def create(
        self, owner: str, name: str, *, description: str, visibility: str, default_branch: str
    ) -> HostedRepository:
        if f"{owner}/{name}" in self.repos:
            raise ConflictError(f"repository {owner}/{name} already exists")
        self.repos[f"{owner}/{name}"] = {}
        return self.locate(owner, name, default_branch=default_branch)

    async def push(
        self, repository: HostedRepository, files: Sequence[WorkspaceFile], *, branch: str, message: str,
        author: str, email: str,
    ) -> str:  # fmt: skip
        if self.fail_push:
            raise ConnectionError("push refused by the fake host")
        self.repos[f"{repository.owner}/{repository.name}"] = {f.path: f for f in files}
        return "c0ffee" * 6 + "beef"

    async def delete(self, owner: str, name: str) -> bool:
        return self.repos.pop(f"{owner}/{name}", None) is not None

    async def create_branch(self, repository: HostedRepository, branch: str, *, ref: str) -> None:
        self.calls.append(("create_branch", f"{repository.owner}/{repository.name}", (branch, ref)))

    async def protect_branch(self, repository: HostedRepository, protection: BranchProtection) -> str:
        self.calls.append(("protect_branch", f"{repository.owner}/{repository.name}", protection))
        return f"Protected branch {protection.branch} on {self.label}"


@dataclass
class FakeHosts:
    hosts: dict[str, RepositoryHost]

    def resolve(self, host: str, *, expected: str) -> RepositoryHost:
        if host not in self.hosts:
            raise NotFoundError(f"no git integration is configured for host {host!r}")
        return self.hosts[host]


@dataclass
class FakeCatalog:
    """Locations as ``id -> (url, refs)`` and entities by ref."""

    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    refs_for_url: dict[str, tuple[str, ...]] = field(default_factory=dict)

    async def register(self, catalog_info_url: str) -> RegisteredLocation:
        refs = self.refs_for_url.get(catalog_info_url)
        if refs is None:
            raise NotFoundError(f"nothing at {catalog_info_url}")
        location_id = f"loc-{len(self.locations) + 1}"
        self.locations[location_id] = (catalog_info_url, refs)
        return RegisteredLocation(location_id, f"url:{catalog_info_url}", refs)

    async def unregister(self, location_id: str) -> bool:
        return self.locations.pop(location_id, None) is not None

    async def fetch(self, ref: str) -> Mapping[str, Any] | None:
        return self.entities.get(ref)


@dataclass
class FakeGitOps:
    files: dict[str, str] = field(default_factory=dict)
    commits: int = 0
    url: str = "https://git.test/platform/gitops.git"

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        before = dict(self.files)
        for path, text in files.items():
            if text is None:
                self.files.pop(path, None)
            else:
                self.files[path] = text
        if before == self.files:
            return None
        self.commits += 1
        return f"{self.commits:040d}"

    async def read(self, path: str) -> str | None:
        return self.files.get(path)
