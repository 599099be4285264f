"""The two seams the scaffolder's actions read and write through: the workspace and skeleton sources.

A task's actions share one workspace (the files that will become the new repository). Behind the
``Workspace`` port it may live in memory (dry-run, tests) or in a local folder (real runs, where
publishers hand the folder to git). Skeletons come through ``SkeletonReader``: a local folder beside
the template file today, a URL fetcher later. Both ports are async because the runner and its
adapters live on asyncio; the values they pass are plain frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from . import tasks


@dataclass(frozen=True, slots=True)
class WorkspaceFile:
    """One file of a workspace or skeleton: a normalised relative path and its bytes.

    ``executable`` keeps the file mode's executable bit. A symlink has ``symlink`` set to its
    relative target and empty ``content``.
    """

    path: str
    content: bytes = b""
    executable: bool = False
    symlink: str | None = None

    @property
    def is_symlink(self) -> bool:
        """Whether this entry is a symbolic link rather than a regular file."""
        return self.symlink is not None


@dataclass(frozen=True, slots=True)
class WorkspaceLimits:
    """How much a workspace may hold; writes past a limit raise ``WorkspaceLimitExceeded``."""

    max_files: int = 10_000
    max_file_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 200 * 1024 * 1024


class Workspace(Protocol):
    """The files of one task, confined to a root; every path is relative and normalised by the adapter.

    Paths that are absolute, climb out with ``..`` or pass through a symlink leading outside the
    root raise ``PathNotAllowed``. ``delete`` removes a file or a whole folder.
    """

    @property
    def limits(self) -> WorkspaceLimits:
        """The limits this workspace enforces."""
        ...

    async def get(self, path: str) -> WorkspaceFile | None:
        """The file at ``path``, or None when there is none."""
        ...

    async def require(self, path: str) -> WorkspaceFile:
        """The file at ``path``; raises ``WorkspaceFileNotFound`` when there is none."""
        ...

    async def exists(self, path: str) -> bool:
        """Whether a file or a folder exists at ``path``."""
        ...

    async def save(self, file: WorkspaceFile, *, overwrite: bool = True) -> None:
        """Write ``file`` (creating folders); ``overwrite=False`` raises ``WorkspaceFileExists``."""
        ...

    async def delete(self, path: str) -> bool:
        """Delete the file or folder at ``path``; returns whether anything was there."""
        ...

    async def rename(self, source: str, target: str, *, overwrite: bool = False) -> None:
        """Move a file or folder; raises ``WorkspaceFileNotFound`` / ``WorkspaceFileExists``."""
        ...

    async def list(self, under: str = "") -> Sequence[str]:
        """Every file path below ``under`` (the whole workspace by default), sorted."""
        ...

    async def snapshot(self) -> Sequence[WorkspaceFile]:
        """Every file with its contents, sorted by path (dry-run results, publishing)."""
        ...


class SkeletonReader(Protocol):
    """Reads skeleton trees and files named by a step's ``url`` relative to the template's location."""

    async def fetch_tree(self, url: str, *, base_url: str | None) -> Sequence[WorkspaceFile]:
        """Every file under the folder ``url`` names, paths relative to that folder, sorted."""
        ...

    async def fetch_file(self, url: str, *, base_url: str | None) -> WorkspaceFile:
        """The single file ``url`` names; its ``path`` is the file's base name."""
        ...


@dataclass(frozen=True, slots=True)
class HostedRepository:
    """Where a published repository lives: clone URL, browse URL of its contents, and who hosts it.

    ``host_label`` is what the task log tells the user ("the built-in git host", "GitHub at
    api.github.com"), so nobody has to guess whether ``github.com`` meant the real GitHub.
    """

    owner: str
    name: str
    remote_url: str
    contents_url: str
    host_label: str


@dataclass(frozen=True, slots=True)
class BranchProtection:
    """Rules for one protected branch, as ``publish:github`` takes them (Backstage's inputs and defaults).

    Hosts enforce what they can and say what they do not: GitHub takes all of it (its branch
    protection API), GitLab protects the branch against force pushes and deletion and may require
    code owner approval, the built-in host refuses force pushes and deletion only.
    """

    branch: str
    enforce_admins: bool = True
    required_approving_review_count: int | None = None
    require_code_owner_reviews: bool = False
    dismiss_stale_reviews: bool = False
    bypass_pull_request_allowances: Mapping[str, tuple[str, ...]] | None = None
    required_status_check_contexts: tuple[str, ...] = ()
    require_branches_to_be_up_to_date: bool = True
    required_conversation_resolution: bool = False
    required_commit_signing: bool = False


class RepositoryHost(Protocol):
    """One git host a publish action can create repositories on and push to."""

    @property
    def kind(self) -> str:
        """``builtin``, ``github`` or ``gitlab``."""
        ...

    def locate(self, owner: str, name: str, *, default_branch: str) -> HostedRepository:
        """Where ``owner/name`` would live (no IO: dry runs use it too)."""
        ...

    async def create(
        self, owner: str, name: str, *, description: str, visibility: str, default_branch: str
    ) -> HostedRepository:
        """Create the repository; raises ``ConflictError`` when it already exists."""
        ...

    async def push(
        self,
        repository: HostedRepository,
        files: Sequence[WorkspaceFile],
        *,
        branch: str,
        message: str,
        author: str,
        email: str,
    ) -> str:
        """Push ``files`` as one commit on ``branch``; returns the commit hash."""
        ...

    async def delete(self, owner: str, name: str) -> bool:
        """Delete the repository (rollback); returns whether it existed."""
        ...

    async def create_branch(self, repository: HostedRepository, branch: str, *, ref: str) -> None:
        """Create ``branch`` at ``ref`` (a branch name or commit); raises ``ConflictError`` when it exists."""
        ...

    async def protect_branch(self, repository: HostedRepository, protection: BranchProtection) -> str:
        """Protect a pushed branch; returns a sentence for the task log saying what is and is not enforced."""
        ...


class RepositoryHosts(Protocol):
    """The configured integrations: which host a ``repoUrl``'s host name maps to."""

    def resolve(self, host: str, *, expected: str) -> RepositoryHost:
        """The host for ``host``; ``expected`` is the publisher's flavour (``github``/``gitlab``).

        Raises ``NotFoundError`` when no integration is configured for ``host``.
        """
        ...


@dataclass(frozen=True, slots=True)
class RegisteredLocation:
    """A catalog location a task registered, and the entities it holds."""

    location_id: str
    target: str
    entity_refs: tuple[str, ...]


class CatalogGateway(Protocol):
    """What catalog actions need from the catalog: register and remove locations, read entities."""

    async def register(self, catalog_info_url: str) -> RegisteredLocation:
        """Register the descriptor at ``catalog_info_url`` and ingest it at once."""
        ...

    async def unregister(self, location_id: str) -> bool:
        """Remove a location (its entities go with it); returns whether it existed."""
        ...

    async def fetch(self, ref: str) -> Mapping[str, Any] | None:
        """The entity ``ref`` names as the catalog serves it, or None."""
        ...


class GitOpsRepository(Protocol):
    """The platform's GitOps repository that Argo CD syncs."""

    @property
    def url(self) -> str:
        """The repository's clone URL (what Argo CD would be pointed at)."""
        ...

    async def write(self, files: Mapping[str, str | None], *, message: str) -> str | None:
        """Commit ``files`` (None deletes); returns the commit, or None when nothing changed."""
        ...

    async def read(self, path: str) -> str | None:
        """A file's text at the branch head, or None."""
        ...


class TaskStore(Protocol):
    """Where durable tasks, their step records and event logs live (SQL on SQLite or PostgreSQL).

    Workers take tasks with ``claim``: an open task, or a processing one whose holder stopped
    renewing its lease. A claim is a compare-and-set, so two workers never hold one task.
    """

    async def add(self, task: tasks.Task, *, secrets: Mapping[str, str]) -> None:
        """Store a new open task and the secrets it runs with."""
        ...

    async def get(self, task_id: str) -> tasks.Task | None:
        """The task, or None."""
        ...

    async def list_tasks(
        self, *, created_by: str | None = None, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tasks.TaskPage:
        """Tasks newest first, filtered."""
        ...

    async def claim(self, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """Take the oldest open task, or one whose lease expired; None when there is none."""
        ...

    async def heartbeat(self, task_id: str, *, worker: str, now: datetime, ttl: timedelta) -> tasks.Task | None:
        """Extend ``worker``'s lease; None when the worker no longer holds the task."""
        ...

    async def release(self, task_id: str, *, worker: str) -> None:
        """Give the task up at once (a worker shutting down), so another worker takes it over without waiting."""
        ...

    async def secrets(self, task_id: str) -> dict[str, str]:
        """The task's secrets (empty once it finished)."""
        ...

    async def save_step(self, record: tasks.StepRecord) -> None:
        """Insert or replace a step record."""
        ...

    async def steps(self, task_id: str) -> list[tasks.StepRecord]:
        """The task's step records by index."""
        ...

    async def append_event(self, task_id: str, type_: str, body: Mapping[str, Any], *, now: datetime) -> int:
        """Append an event; returns its id."""
        ...

    async def events(self, task_id: str, *, after: int | None = None) -> list[tasks.TaskEvent]:
        """Events with ids above ``after``, in order."""
        ...

    async def finish(
        self,
        task_id: str,
        *,
        worker: str | None,
        status: tasks.TaskStatus,
        output: Mapping[str, Any] | None,
        error: str | None,
        now: datetime,
    ) -> bool:
        """End the run (clears the lease and secrets); False when ``worker`` no longer holds it."""
        ...

    async def request_cancel(self, task_id: str, *, now: datetime) -> tasks.Task:
        """Cancel an open task at once, or flag a processing one for its worker; raises NotFoundError."""
        ...

    async def set_rollback(self, task_id: str, status: tasks.RollbackStatus) -> None:
        """Record the outcome of a rollback."""
        ...
