"""Workspace and skeleton reader on the local file system.

``LocalDirectoryWorkspace`` is a task's working folder: publishers hand it to git. Every path is
normalised by ``paths.normalize_path`` and then checked again after resolving symlinks on disk, so
neither ``..`` nor a symlink planted in the folder (or in a skeleton) can reach outside it.
``LocalSkeletonReader`` reads skeletons relative to the template file's folder, the way Backstage
resolves ``url: ./skeleton`` against ``templateInfo.baseUrl``; remote URLs are for a later adapter.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import paths
from ..errors import PathNotAllowed, WorkspaceFileExists, WorkspaceFileNotFound
from ..ports import WorkspaceFile, WorkspaceLimits
from .memory import check_limits

_EXEC_BITS = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


class LocalDirectoryWorkspace:
    """A ``Workspace`` backed by a folder; the folder must exist."""

    def __init__(self, root: Path, *, limits: WorkspaceLimits | None = None) -> None:
        self._root = Path(os.path.realpath(root))
        if not self._root.is_dir():
            raise WorkspaceFileNotFound(f"workspace folder {str(root)!r} does not exist; create it first")
        self._limits = limits or WorkspaceLimits()
        self._size_cache: dict[str, int] | None = None

    @property
    def root(self) -> Path:
        """The folder on disk (resolved)."""
        return self._root

    @property
    def limits(self) -> WorkspaceLimits:
        """The limits this workspace enforces."""
        return self._limits

    async def get(self, path: str) -> WorkspaceFile | None:
        """The file at ``path``, or None."""
        clean = paths.normalize_path(path, what="workspace path")
        full = self._root / clean if clean else self._root
        if full.is_symlink():
            return WorkspaceFile(clean, b"", False, os.readlink(full))
        full = self._confined(clean)
        if not full.is_file():
            return None
        return _read(full, clean)

    async def require(self, path: str) -> WorkspaceFile:
        """The file at ``path``; raises ``WorkspaceFileNotFound``."""
        found = await self.get(path)
        if found is None:
            raise WorkspaceFileNotFound(f"workspace file {path!r} does not exist")
        return found

    async def exists(self, path: str) -> bool:
        """Whether a file or folder exists at ``path``."""
        clean = paths.normalize_path(path, what="workspace path")
        return (self._root / clean).is_symlink() or self._confined(clean).exists()

    async def save(self, file: WorkspaceFile, *, overwrite: bool = True) -> None:
        """Write ``file``, creating folders; refuses escapes, limits and (without overwrite) existing paths."""
        clean = paths.normalize_path(file.path, what="workspace path")
        if clean == "":
            raise PathNotAllowed("a file cannot be written at the workspace root itself; give it a name")
        full = self._confined(clean)
        if (full.exists() or full.is_symlink()) and not overwrite:
            raise WorkspaceFileExists(f"workspace file {clean!r} already exists; set replace/overwrite to replace it")
        if full.is_dir() and not full.is_symlink():
            raise WorkspaceFileExists(f"cannot write file {clean!r}: a folder of that name exists")
        sizes = self._sizes()
        check_limits(self._limits, sizes, path=clean, size=len(file.content))
        sizes[clean] = len(file.content)
        full.parent.mkdir(parents=True, exist_ok=True)
        self._confined(paths.parent_of(clean))
        if full.is_symlink() or full.exists():
            full.unlink()
        if file.symlink is not None:
            paths.resolve_link(clean, file.symlink)
            os.symlink(file.symlink, full)
            return
        full.write_bytes(file.content)
        mode = full.stat().st_mode
        full.chmod(mode | _EXEC_BITS if file.executable else mode & ~_EXEC_BITS)

    async def delete(self, path: str) -> bool:
        """Delete a file, symlink or folder."""
        self._size_cache = None
        clean = paths.normalize_path(path, what="workspace path")
        full = self._root / clean if clean else self._root
        if full.is_symlink():
            full.unlink()
            return True
        full = self._confined(clean)
        if full == self._root:
            existed = any(self._root.iterdir())
            for child in self._root.iterdir():
                _remove(child)
            return existed
        if not full.exists():
            return False
        _remove(full)
        return True

    async def rename(self, source: str, target: str, *, overwrite: bool = False) -> None:
        """Move a file or folder inside the workspace."""
        self._size_cache = None
        src = paths.normalize_path(source, what="rename source")
        dst = paths.normalize_path(target, what="rename target")
        src_full, dst_full = self._confined(src), self._confined(dst)
        if src == "" or not (src_full.exists() or (self._root / src).is_symlink()):
            raise WorkspaceFileNotFound(f"cannot rename {src!r}: no such file or folder in the workspace")
        if dst != src and paths.is_within(dst, src):
            raise PathNotAllowed(f"cannot rename {src!r} into itself ({dst!r})")
        if dst_full.exists() or dst_full.is_symlink():
            if not overwrite:
                raise WorkspaceFileExists(f"cannot rename {src!r} to {dst!r}: the target exists; set overwrite: true")
            _remove(dst_full)
        dst_full.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._root / src, dst_full)

    async def list(self, under: str = "") -> Sequence[str]:
        """Every file path below ``under``, sorted."""
        clean = paths.normalize_path(under, what="workspace path")
        return sorted(f.path for f in _walk(self._root) if paths.is_within(f.path, clean))

    async def snapshot(self) -> Sequence[WorkspaceFile]:
        """Every file with its contents, sorted by path."""
        return sorted(_walk(self._root, with_content=True), key=lambda f: f.path)

    def _sizes(self) -> dict[str, int]:
        """File sizes for the limit checks: walked with ``stat`` once, then kept up to date by ``save``."""
        if self._size_cache is not None:
            return self._size_cache
        sizes: dict[str, int] = {}
        for folder, dirs, files in os.walk(self._root, followlinks=False):
            here = Path(folder)
            for name in [*files, *[d for d in dirs if (here / d).is_symlink()]]:
                full = here / name
                sizes[full.relative_to(self._root).as_posix()] = full.lstat().st_size if not full.is_symlink() else 0
        self._size_cache = sizes
        return sizes

    def _confined(self, clean: str) -> Path:
        """The absolute path for ``clean`` after resolving symlinks; refused if it leaves the root."""
        full = Path(os.path.realpath(self._root / clean))
        if full != self._root and self._root not in full.parents:
            raise PathNotAllowed(f"workspace path {clean!r} leads outside the workspace through a symlink")
        return full


class LocalSkeletonReader:
    """Reads skeleton folders and files from disk, relative to the template file's folder.

    ``base_url`` is that folder, as a path or ``file://`` URL. The resolved ``url`` must stay inside
    it (Backstage's ``resolveSafeChildPath``), and every symlink in the skeleton must point inside the
    skeleton folder. Remote URLs raise ``PathNotAllowed`` until a URL reader exists.
    """

    async def fetch_tree(self, url: str, *, base_url: str | None) -> Sequence[WorkspaceFile]:
        """Every file under the folder ``url`` names, relative to that folder."""
        folder = self._locate(url, base_url)
        if not folder.is_dir():
            raise WorkspaceFileNotFound(f"skeleton folder {url!r} does not exist (looked in {str(folder)!r})")
        return sorted(_walk(folder, with_content=True), key=lambda f: f.path)

    async def fetch_file(self, url: str, *, base_url: str | None) -> WorkspaceFile:
        """The single file ``url`` names; ``path`` is its base name."""
        full = self._locate(url, base_url)
        if not full.is_file():
            raise WorkspaceFileNotFound(f"skeleton file {url!r} does not exist (looked in {str(full)!r})")
        return _read(full, full.name)

    def _locate(self, url: str, base_url: str | None) -> Path:
        if base_url is None:
            raise PathNotAllowed(f"skeleton url {url!r} is relative but the template has no base folder")
        if "://" in url:
            raise PathNotAllowed(f"skeleton url {url!r} is remote; only skeletons beside the template are supported")
        base = Path(unquote(urlparse(base_url).path) if base_url.startswith("file:") else base_url)
        if "://" in base_url and not base_url.startswith("file:"):
            raise PathNotAllowed(f"template base {base_url!r} is remote; only local templates are supported")
        base = Path(os.path.realpath(base))
        clean = paths.normalize_path(url, what="skeleton url")
        full = Path(os.path.realpath(base / clean))
        if full != base and base not in full.parents:
            raise PathNotAllowed(f"skeleton url {url!r} leads outside the template's folder through a symlink")
        return full


def _read(full: Path, rel: str) -> WorkspaceFile:
    mode = full.stat().st_mode
    return WorkspaceFile(rel, full.read_bytes(), bool(mode & stat.S_IXUSR))


def _remove(full: Path) -> None:
    if full.is_dir() and not full.is_symlink():
        shutil.rmtree(full)
    else:
        full.unlink()


def _walk(root: Path, *, with_content: bool = False) -> list[WorkspaceFile]:
    """Files under ``root`` (symlinks kept as links, refused if they leave ``root``)."""
    out: list[WorkspaceFile] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in [*files, *[d for d in dirs if (here / d).is_symlink()]]:
            full = here / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                target = os.readlink(full)
                paths.resolve_link(rel, target)
                out.append(WorkspaceFile(rel, b"", False, target))
            elif with_content:
                out.append(_read(full, rel))
            else:
                out.append(WorkspaceFile(rel))
    return out
