"""The two seams the scaffolder's actions read and write through: the workspace and skeleton sources.

A task's actions share one workspace (the files that will become the new repository). Behind the
``Workspace`` port it may live in memory (dry-run, tests) or in a local folder (real runs, where
publishers hand the folder to git). Skeletons come through ``SkeletonReader``: a local folder beside
the template file today, a URL fetcher later. Both ports are async because the runner and its
adapters live on asyncio; the values they pass are plain frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


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
