"""In-memory workspace and skeleton reader: dry-runs, the ``POST /v2/dry-run`` skeleton upload, tests.

The workspace keeps ``path -> WorkspaceFile`` in a dict; folders exist implicitly as path prefixes,
which is all git needs. Symlinks are stored as entries whose target must resolve inside the root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .. import paths
from ..errors import PathNotAllowed, WorkspaceFileExists, WorkspaceFileNotFound, WorkspaceLimitExceeded
from ..ports import WorkspaceFile, WorkspaceLimits


class InMemoryWorkspace:
    """A ``Workspace`` held in a dict, with the same confinement and limits as the disk adapter."""

    def __init__(self, files: Iterable[WorkspaceFile] = (), *, limits: WorkspaceLimits | None = None) -> None:
        self._limits = limits or WorkspaceLimits()
        self._files: dict[str, WorkspaceFile] = {}
        for file in files:
            self._put(file, overwrite=True)

    @property
    def limits(self) -> WorkspaceLimits:
        """The limits this workspace enforces."""
        return self._limits

    async def get(self, path: str) -> WorkspaceFile | None:
        """The file at ``path``, or None."""
        return self._files.get(self._clean(path))

    async def require(self, path: str) -> WorkspaceFile:
        """The file at ``path``; raises ``WorkspaceFileNotFound``."""
        clean = self._clean(path)
        found = self._files.get(clean)
        if found is None:
            raise WorkspaceFileNotFound(f"workspace file {clean!r} does not exist")
        return found

    async def exists(self, path: str) -> bool:
        """Whether a file or folder exists at ``path``."""
        clean = self._clean(path)
        return clean == "" or clean in self._files or any(p.startswith(clean + "/") for p in self._files)

    async def save(self, file: WorkspaceFile, *, overwrite: bool = True) -> None:
        """Store ``file``; refuses escapes, limits and (without ``overwrite``) existing paths."""
        self._put(file, overwrite=overwrite)

    async def delete(self, path: str) -> bool:
        """Delete a file or folder (every path below it)."""
        clean = self._clean(path)
        doomed = [p for p in self._files if clean == "" or p == clean or p.startswith(clean + "/")]
        for p in doomed:
            del self._files[p]
        return bool(doomed)

    async def rename(self, source: str, target: str, *, overwrite: bool = False) -> None:
        """Move a file or folder to ``target``."""
        src, dst = self._clean(source), self._clean(target)
        moving = {p: f for p, f in self._files.items() if p == src or p.startswith(src + "/")}
        if not moving or src == "":
            raise WorkspaceFileNotFound(f"cannot rename {src!r}: no such file or folder in the workspace")
        if paths.is_within(dst, src) and dst != src:
            raise PathNotAllowed(f"cannot rename {src!r} into itself ({dst!r})")
        if not overwrite and await self.exists(dst):
            raise WorkspaceFileExists(f"cannot rename {src!r} to {dst!r}: the target exists; set overwrite: true")
        if overwrite:
            await self.delete(dst)
        for p in moving:
            del self._files[p]
        for p, f in moving.items():
            new = dst + p[len(src) :]
            self._files[new] = WorkspaceFile(new, f.content, f.executable, f.symlink)

    async def list(self, under: str = "") -> Sequence[str]:
        """Every file path below ``under``, sorted."""
        clean = self._clean(under)
        return sorted(p for p in self._files if paths.is_within(p, clean))

    async def snapshot(self) -> Sequence[WorkspaceFile]:
        """Every file with its contents, sorted by path."""
        return [self._files[p] for p in sorted(self._files)]

    def _clean(self, path: str) -> str:
        return paths.normalize_path(path, what="workspace path")

    def _put(self, file: WorkspaceFile, *, overwrite: bool) -> None:
        clean = self._clean(file.path)
        if clean == "":
            raise PathNotAllowed("a file cannot be written at the workspace root itself; give it a name")
        if file.symlink is not None:
            paths.resolve_link(clean, file.symlink)
        if clean in self._files and not overwrite:
            raise WorkspaceFileExists(f"workspace file {clean!r} already exists; set replace/overwrite to replace it")
        if any(p.startswith(clean + "/") for p in self._files):
            raise WorkspaceFileExists(f"cannot write file {clean!r}: a folder of that name exists")
        check_limits(
            self._limits, {p: len(f.content) for p, f in self._files.items()}, path=clean, size=len(file.content)
        )
        self._files[clean] = WorkspaceFile(clean, file.content, file.executable, file.symlink)


def check_limits(limits: WorkspaceLimits, sizes: Mapping[str, int], *, path: str, size: int) -> None:
    """Raise ``WorkspaceLimitExceeded`` if writing ``size`` bytes at ``path`` passes a limit.

    ``sizes`` maps every current file path to its size in bytes.
    """
    if size > limits.max_file_bytes:
        raise WorkspaceLimitExceeded(
            f"workspace file {path!r} is {size} bytes, over the limit of {limits.max_file_bytes} bytes"
        )
    count = len(sizes) + (0 if path in sizes else 1)
    if count > limits.max_files:
        raise WorkspaceLimitExceeded(f"the workspace would hold {count} files, over the limit of {limits.max_files}")
    total = sum(sizes.values()) - sizes.get(path, 0) + size
    if total > limits.max_total_bytes:
        raise WorkspaceLimitExceeded(
            f"the workspace would hold {total} bytes, over the limit of {limits.max_total_bytes} bytes"
        )


class InMemorySkeletonReader:
    """Skeletons given as files keyed by path (the dry-run API uploads them as ``directoryContents``).

    ``url`` is resolved against ``base_url`` the way the disk reader does, then treated as a folder
    (or file) path inside this tree; escapes above the tree's root are refused.
    """

    def __init__(self, files: Iterable[WorkspaceFile]) -> None:
        self._files = {paths.normalize_path(f.path, what="skeleton path"): f for f in files}

    async def fetch_tree(self, url: str, *, base_url: str | None) -> Sequence[WorkspaceFile]:
        """Every file under the folder ``url`` names, relative to that folder."""
        root = _resolve(url, base_url)
        found = [
            WorkspaceFile(p[len(root) + 1 :] if root else p, f.content, f.executable, f.symlink)
            for p, f in sorted(self._files.items())
            if paths.is_within(p, root) and p != root
        ]
        if not found:
            raise WorkspaceFileNotFound(f"skeleton folder {url!r} has no files (resolved to {root or '.'!r})")
        return found

    async def fetch_file(self, url: str, *, base_url: str | None) -> WorkspaceFile:
        """The single file ``url`` names."""
        clean = _resolve(url, base_url)
        found = self._files.get(clean)
        if found is None:
            raise WorkspaceFileNotFound(f"skeleton file {url!r} does not exist (resolved to {clean!r})")
        return WorkspaceFile(clean.rsplit("/", 1)[-1], found.content, found.executable, found.symlink)


def _resolve(url: str, base_url: str | None) -> str:
    if "://" in url:
        raise PathNotAllowed(f"skeleton url {url!r} is remote; this reader only serves uploaded files")
    base = base_url or ""
    if "://" in base:
        base = ""
    return paths.join_path(base, url, what="skeleton url") if base else paths.normalize_path(url, what="skeleton url")
