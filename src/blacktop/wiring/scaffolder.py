"""Wiring the scaffolder into the platform: actions, the durable task runner, the task API and the git host.

The adapters here join the scaffolder's ports to the rest of the platform: the built-in git host
(bare repositories under ``<data_dir>/git``, served over smart HTTP by ``api.routes.githost``),
the GitOps repository, the catalog (templates are catalog entities; ``catalog:register`` registers
locations) and each task's working folder. Built-in templates ship as package data under
``blacktop/scaffolder/builtin/<name>/template.yaml`` and are registered as a catalog location at
start. Workers run in this process (``scaffolder.workers``) and claim tasks from the database, so
several processes share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from blacktop import scaffolder
from blacktop.api.routes import githost as githost_routes
from blacktop.api.routes import scaffolder as scaffolder_routes
from blacktop.catalog import model as catalog_model
from blacktop.catalog.service import CatalogService
from blacktop.integrations import GitRepositories, LocalGitRepository
from blacktop.kernel.errors import BlacktopError, ConflictError, InputError, NotFoundError, Problem
from blacktop.scaffolder import argocd, builtin, cataloging, publishing, running, service
from blacktop.scaffolder.adapters import gitpush, hosting
from blacktop.scaffolder.filters import DEFAULT_REPO_HOSTS
from blacktop.settings import Settings
from blacktop.store.scaffolder import SqlTaskStore

from . import Wiring

log = logging.getLogger("blacktop.scaffolder")

BUILTIN_LABEL = "the built-in git host"

PROTECTED_BRANCH_KEY = "blacktop.protectedBranch"
"""Multi-valued git config key in a bare repository: the branches its pre-receive hook protects."""

PRE_RECEIVE_HOOK = """#!/bin/sh
# Installed by blacktop (publish:* branch protection): refuses deleting or rewriting the history of
# the branches listed under blacktop.protectedBranch in this repository's config. Applies to every pusher.
protected=$(git config --get-all blacktop.protectedBranch)
status=0
while read -r old new ref; do
  for branch in $protected; do
    [ "$ref" = "refs/heads/$branch" ] || continue
    case "$new" in
      *[!0]*) ;;
      *) echo "blacktop: branch $branch is protected; it cannot be deleted" >&2; status=1; continue ;;
    esac
    case "$old" in
      *[!0]*)
        if ! git merge-base --is-ancestor "$old" "$new"; then
          echo "blacktop: branch $branch is protected; force pushes that rewrite its history are refused" >&2
          status=1
        fi ;;
    esac
  done
done
exit $status
"""
"""The hook ``BuiltinRepositoryHost.protect_branch`` installs (POSIX sh; git runs it for every push)."""


class BuiltinRepositoryHost:
    """``RepositoryHost`` on the platform's own bare repositories."""

    kind = "builtin"

    def __init__(self, git: GitRepositories, *, public_url: str, alias: str) -> None:
        self._git = git
        self._public = public_url.rstrip("/")
        self._alias = alias

    def locate(self, owner: str, name: str, *, default_branch: str) -> scaffolder.ports.HostedRepository:
        """Where ``owner/name`` lives on the built-in host."""
        return scaffolder.ports.HostedRepository(
            owner=owner, name=name, remote_url=f"{self._public}/git/{owner}/{name}.git",
            contents_url=f"{self._public}/git/{owner}/{name}/blob/{default_branch}",
            host_label=f"{BUILTIN_LABEL} ({self._public}/git, standing in for {self._alias})",
        )  # fmt: skip

    async def create(
        self, owner: str, name: str, *, description: str, visibility: str, default_branch: str
    ) -> scaffolder.ports.HostedRepository:
        """Create an empty bare repository; 409 when it exists."""
        full = f"{owner}/{name}"
        if self._git.exists(full):
            raise ConflictError(
                f"repository {full} already exists on {BUILTIN_LABEL}; choose another name or delete it first"
            )
        repo = await asyncio.to_thread(self._git.get, full)
        if description:
            await asyncio.to_thread((repo.path / "description").write_text, description + "\n", "utf-8")
        return self.locate(owner, name, default_branch=default_branch)

    async def push(
        self, repository: scaffolder.ports.HostedRepository, files: Sequence[scaffolder.WorkspaceFile], *,
        branch: str, message: str, author: str, email: str,
    ) -> str:  # fmt: skip
        """Commit the files straight into the bare repository and point its HEAD at ``branch``."""
        repo = self._git.get(f"{repository.owner}/{repository.name}", create=False)
        commit = await gitpush.import_files(
            repo.path, files, branch=branch, message=message, author=author, email=email,
            timestamp=int(time.time()),
        )  # fmt: skip
        await asyncio.to_thread((repo.path / "HEAD").write_text, f"ref: refs/heads/{branch}\n", "utf-8")
        return commit

    async def delete(self, owner: str, name: str) -> bool:
        """Remove the bare repository."""
        if not self._git.exists(f"{owner}/{name}"):
            return False
        await asyncio.to_thread(self._git.delete, f"{owner}/{name}")
        return True

    async def create_branch(self, repository: scaffolder.ports.HostedRepository, branch: str, *, ref: str) -> None:
        """Point the new ``branch`` at ``ref``'s commit; 409 when the branch exists."""
        path = self._git.get(f"{repository.owner}/{repository.name}", create=False).path
        commit = await gitpush.run_git("rev-parse", "--verify", f"{ref}^{{commit}}", cwd=path)
        zero = "0" * len(commit)
        try:
            await gitpush.run_git("update-ref", f"refs/heads/{branch}", commit, zero, cwd=path)
        except gitpush.GitPushError as exc:
            raise ConflictError(f"branch {branch} of {repository.owner}/{repository.name} already exists") from exc

    async def protect_branch(
        self, repository: scaffolder.ports.HostedRepository, protection: scaffolder.BranchProtection
    ) -> str:
        """Refuse deleting or rewriting ``protection.branch`` with a pre-receive hook; say what is not enforced."""
        full, branch = f"{repository.owner}/{repository.name}", protection.branch
        path = self._git.get(full, create=False).path
        try:
            listed = (await gitpush.run_git("config", "--get-all", PROTECTED_BRANCH_KEY, cwd=path)).split()
        except gitpush.GitPushError:  # exit code 1: no branch is protected yet
            listed = []
        if branch not in listed:
            await gitpush.run_git("config", "--add", PROTECTED_BRANCH_KEY, branch, cwd=path)
        hook = path / "hooks" / "pre-receive"
        await asyncio.to_thread(hook.parent.mkdir, exist_ok=True)
        await asyncio.to_thread(hook.write_text, PRE_RECEIVE_HOOK, "utf-8")
        await asyncio.to_thread(hook.chmod, 0o755)
        return (
            f"Protected branch {branch} of {full} on {BUILTIN_LABEL}: deleting it and force pushes that rewrite its "
            f"history are refused for every pusher. Not enforced there: {_unenforced(protection)} (the built-in "
            "host has no pull requests or status checks; only platform admins may push to it at all)"
        )


def _unenforced(protection: scaffolder.BranchProtection) -> str:
    """The rules of ``protection`` the built-in host cannot enforce, in words."""
    count = protection.required_approving_review_count
    rules = [f"pull requests with {count if count is not None else 1} approving review(s)"]
    if protection.require_code_owner_reviews:
        rules.append("code owner reviews")
    if protection.required_status_check_contexts:
        rules.append("status checks " + ", ".join(protection.required_status_check_contexts))
    if protection.required_conversation_resolution:
        rules.append("conversation resolution")
    if protection.required_commit_signing:
        rules.append("signed commits")
    return ", ".join(rules)


class GitOpsAdapter:
    """``GitOpsRepository`` over the platform's ``platform/gitops`` bare repository."""

    def __init__(self, repo: LocalGitRepository, *, url: str) -> None:
        self._repo = repo
        self._url = url

    @property
    def url(self) -> str:
        """The clone URL on the built-in git host."""
        return self._url

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        """Commit on the branch."""
        return await self._repo.awrite(dict(files), message=message)

    async def read(self, path: str) -> str | None:
        """A file's text at the head, or None."""
        try:
            return (await asyncio.to_thread(self._repo.read, path)).decode()
        except NotFoundError:
            return None


class CatalogGatewayAdapter:
    """``CatalogGateway`` over the catalog service; built-in host URLs become local ``git:`` locations."""

    def __init__(self, catalog: CatalogService, *, git: GitRepositories, public_url: str) -> None:
        self._catalog = catalog
        self._git = git
        self._prefix = public_url.rstrip("/") + "/git/"

    def location_for(self, url: str) -> tuple[str, str]:
        """``(type, target)`` for a descriptor URL (the built-in host is read from disk, not over HTTP)."""
        if url.startswith(self._prefix):
            owner, repo, blob, branch, *rest = url[len(self._prefix) :].split("/")
            if blob != "blob" or not rest:
                raise InputError(f"catalog URL {url!r} is not a file URL of the built-in git host (…/blob/<branch>/…)")
            return "git", f"{self._git.root.resolve()}/{owner}/{repo}.git#{branch}:{'/'.join(rest)}"
        if url.startswith("file:"):
            return "file", unquote(urlsplit(url).path)
        return "url", url

    async def register(self, catalog_info_url: str) -> scaffolder.ports.RegisteredLocation:
        """Register and ingest the location; refuses one that yields no entity."""
        type_, target = self.location_for(catalog_info_url)
        record = await self._catalog.register(type_, target, on_conflict="refresh")
        refs = tuple(sorted(await self._catalog.repository.hashes_of_location(record.id)))
        if not refs:
            raise InputError(
                f"the catalog found no entity at {catalog_info_url} (location {record.id})",
                problems=list(record.problems) or [Problem("catalogInfoUrl", "the file holds no valid entity")],
            )
        return scaffolder.ports.RegisteredLocation(record.id, f"{type_}:{target}", refs)

    async def unregister(self, location_id: str) -> bool:
        """Delete the location and its entities."""
        try:
            await self._catalog.delete_location(location_id)
        except NotFoundError:
            return False
        return True

    async def fetch(self, ref: str) -> Mapping[str, Any] | None:
        """The served entity, or None."""
        try:
            return (await self._catalog.require_entity(ref)).served()
        except NotFoundError:
            return None


class CatalogTemplates:
    """``TemplateSource`` over the catalog: the entity, and the folder of the file it came from."""

    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    async def fetch_template(self, ref: str) -> service.TemplateDocument:
        """The template entity and its base folder."""
        stored = await self._catalog.require_entity(ref)
        if stored.ref.kind.lower() != "template":
            raise InputError(f"entity {stored.ref.key} is a {stored.ref.kind}, not a Template")
        annotations = (stored.document.get("metadata") or {}).get("annotations") or {}
        origin = str(annotations.get(catalog_model.MANAGED_BY_LOCATION) or "")
        base_url = None
        if origin.startswith("file:"):
            base_url = "file://" + os.path.dirname(origin[len("file:") :])
        return service.TemplateDocument(stored.document, stored.ref.key, base_url)


class LocalWorkspaces:
    """Each task's working folder under ``<data_dir>/scaffolder/workspaces``."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def open(self, task_id: str) -> scaffolder.Workspace:
        """The folder of ``task_id`` (created when new; kept when a worker resumes the task)."""
        folder = self._root / task_id
        folder.mkdir(parents=True, exist_ok=True)
        return scaffolder.LocalDirectoryWorkspace(folder)

    def discard(self, task_id: str) -> None:
        """Remove the folder."""
        shutil.rmtree(self._root / task_id, ignore_errors=True)


def public_url(settings: Settings) -> str:
    """Base URL of the built-in git host in clone URLs."""
    return settings.integrations.public_url or f"http://{settings.host}:{settings.port}"


def repository_hosts(settings: Settings, git: GitRepositories) -> hosting.ConfiguredRepositoryHosts:
    """The configured host-name -> adapter map."""
    hosts: dict[str, scaffolder.ports.RepositoryHost] = {}
    for item in settings.integrations.hosts:
        if item.type == "builtin":
            hosts[item.host] = BuiltinRepositoryHost(git, public_url=public_url(settings), alias=item.host)
        elif not item.token:
            raise InputError(
                f"integration for {item.host} is {item.type} but has no token",
                problems=[Problem(f"integrations.hosts[{item.host}].token", "set a token or use type: builtin")],
            )
        elif item.type == "github":
            hosts[item.host] = hosting.GitHubHost(host=item.host, token=item.token, api_url=item.api_url)
        else:
            hosts[item.host] = hosting.GitLabHost(host=item.host, token=item.token, api_url=item.api_url)
    return hosting.ConfiguredRepositoryHosts(hosts)


def build_renderer(settings: Settings) -> scaffolder.TemplateRenderer:
    """The renderer with ``parseRepoUrl`` knowing the configured hosts."""
    kinds = dict(DEFAULT_REPO_HOSTS)
    for item in settings.integrations.hosts:
        kinds[item.host] = item.type if item.type != "builtin" else kinds.get(item.host, "github")
    return scaffolder.TemplateRenderer(repo_hosts=kinds)


def build_registry(
    *,
    skeletons: scaffolder.SkeletonReader,
    renderer: scaffolder.TemplateRenderer,
    hosts: scaffolder.ports.RepositoryHosts,
    catalog: scaffolder.ports.CatalogGateway,
    gitops: scaffolder.ports.GitOpsRepository,
    repo_hosts: Mapping[str, str],
) -> scaffolder.ActionRegistry:
    """Every built-in action plus the ones other packages declare as entry points."""
    registry = scaffolder.ActionRegistry(scaffolder.builtin_actions(skeletons=skeletons, renderer=renderer))
    for action in (
        publishing.PublishGithub(hosts=hosts, repo_hosts=repo_hosts),
        publishing.PublishGitlab(hosts=hosts, repo_hosts=repo_hosts),
        cataloging.CatalogRegister(catalog=catalog),
        cataloging.CatalogWrite(),
        cataloging.CatalogFetch(catalog=catalog),
        argocd.ArgoCdCreateApp(gitops=gitops),
    ):
        registry.add(action)
    scaffolder.load_entry_point_actions(registry)
    return registry


def builtin_templates_dir() -> Path:
    """Where built-in templates ship: ``blacktop/scaffolder/builtin/<name>/template.yaml`` (package data)."""
    return builtin.builtin_templates_folder()


class BuiltinTemplates:
    """Registers the built-in templates (``<folder>/<name>/template.yaml``) as one catalog location."""

    def __init__(self, catalog: CatalogService, folder: Path) -> None:
        self._catalog = catalog
        self._folder = folder

    def target(self) -> str | None:
        """The ``file:`` target covering every built-in template, or None when none ships."""
        if not self._folder.is_dir() or not any(self._folder.glob("*/template.yaml")):
            return None
        return f"{self._folder.resolve()}/*/template.yaml"

    async def register(self) -> None:
        """Register (or refresh) the location; a broken built-in template is logged, not fatal."""
        target = self.target()
        if target is None:
            return
        try:
            await self._catalog.register("file", target, on_conflict="refresh")
        except BlacktopError as exc:
            log.warning("built-in templates under %s could not be registered: %s", self._folder, exc)


class Workers:
    """The scaffolder workers of this process."""

    def __init__(self, runner: running.TaskRunner, count: int) -> None:
        self.runner = runner
        self.count = count
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the worker loops."""
        self._tasks = [asyncio.create_task(self.runner.run_forever()) for _ in range(self.count)]

    async def stop(self) -> None:
        """Cancel the worker loops (an interrupted task is resumed by the next worker per its steps)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


def wire(w: Wiring) -> None:
    """Register the scaffolder's actions, task store, runner, HTTP routes and the built-in git host."""
    settings = w.settings
    catalog_service = w.services.get("catalog")
    if not isinstance(catalog_service, CatalogService):
        raise BlacktopError("the scaffolder needs the catalog; wire the catalog feature before the scaffolder")
    renderer = build_renderer(settings)
    hosts = repository_hosts(settings, w.git)
    gateway = CatalogGatewayAdapter(catalog_service, git=w.git, public_url=public_url(settings))
    gitops = GitOpsAdapter(w.gitops, url=f"{public_url(settings)}/git/platform/gitops.git")
    repo_kinds = {h.host: ("gitlab" if "gitlab" in h.host else "github") for h in settings.integrations.hosts}

    def registry_for(skeletons: scaffolder.SkeletonReader) -> scaffolder.ActionRegistry:
        return build_registry(
            skeletons=skeletons, renderer=renderer, hosts=hosts, catalog=gateway, gitops=gitops, repo_hosts=repo_kinds
        )

    registry = registry_for(scaffolder.LocalSkeletonReader())
    store = SqlTaskStore(w.db)
    worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    runner = running.TaskRunner(
        store=store, registry=registry, renderer=renderer,
        workspaces=LocalWorkspaces(settings.data_dir / "scaffolder" / "workspaces"), clock=w.clock,
        settings=running.RunnerSettings(
            worker=worker, lease=timedelta(seconds=settings.scaffolder.lease_seconds),
            poll_seconds=settings.scaffolder.poll_seconds,
        ),
        registry_for=registry_for,
    )  # fmt: skip
    scaffolder_service = service.ScaffolderService(
        store=store, runner=runner, registry=registry, renderer=renderer, templates=CatalogTemplates(catalog_service),
        dry_run_registry=registry_for, clock=w.clock, new_id=lambda: str(uuid.uuid4()),
        template_folders=scaffolder.LocalSkeletonReader(),
    )  # fmt: skip
    scaffolder_service.on_created.append(runner.notify)
    w.services["scaffolder"] = scaffolder_service
    w.services["git"] = w.git
    w.routers.extend([scaffolder_routes.router, githost_routes.router])
    if settings.scaffolder.register_builtin:
        w.startup.append(BuiltinTemplates(catalog_service, builtin_templates_dir()).register)
    if settings.scaffolder.workers:
        workers = Workers(runner, settings.scaffolder.workers)
        w.startup.append(workers.start)
        w.shutdown.append(workers.stop)
