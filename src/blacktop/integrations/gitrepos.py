"""Bare git repositories on local disk, written with git's plumbing commands.

The platform's GitOps repository (what Argo CD syncs), the built-in git host's repositories and
generated outputs all live here as bare repositories under ``<data_dir>/git``. Writes build a tree
in a temporary index (``read-tree``, ``update-index``, ``write-tree``, ``commit-tree``) and move the
branch with a compare-and-swap ``update-ref``, so no working copy is needed and concurrent writers
never lose each other's commits: a writer that lost the race rebuilds on the new head.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from blacktop.kernel.errors import ConflictError, InputError, NotFoundError, Problem, UnavailableError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$")
_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class GitError(UnavailableError):
    """A git command failed for a reason other than bad input."""


def _git(args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> bytes:
    merged = {**os.environ, **_ENV, **(env or {})}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=merged, input=stdin, capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed; install it (apt-get install git)") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} timed out after 60 s in {cwd}") from exc
    if done.returncode != 0:
        raise GitError(
            f"git {' '.join(args[:2])} failed in {cwd}: {done.stderr.decode(errors='replace').strip()[:500]}"
        )
    return done.stdout


def safe_relative_path(path: str) -> str:
    """A repository-relative POSIX path, refusing absolute paths, ``..`` and empty segments."""
    pure = PurePosixPath(path)
    raw_parts = path.split("/")
    if not path or pure.is_absolute() or any(part in ("..", "", ".", ".git") for part in raw_parts) or "\\" in path:
        raise InputError(
            f"invalid repository path {path!r}",
            problems=[Problem("path", "use a relative path inside the repository without '..' or '.git'")],
        )
    return pure.as_posix()


@dataclass(frozen=True, slots=True)
class Author:
    """Who a commit is attributed to."""

    name: str = "blacktop"
    email: str = "blacktop@localhost"


class LocalGitRepository:
    """One bare repository; thread-safe, and safe across processes through update-ref's compare-and-swap."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        # Absolute, because git commands run with the repository (or its parent) as working directory.
        self.path = path.absolute()
        self.branch = branch
        self._lock = threading.Lock()

    @property
    def ref(self) -> str:
        """The full name of the branch written to."""
        return f"refs/heads/{self.branch}"

    def ensure(self) -> None:
        """Create the bare repository if it does not exist."""
        if (self.path / "HEAD").exists():
            return
        self.path.mkdir(parents=True, exist_ok=True)
        _git(["init", "--bare", "--quiet", f"--initial-branch={self.branch}", str(self.path)], cwd=self.path.parent)
        _git(["config", "http.receivepack", "true"], cwd=self.path)
        _git(["config", "uploadpack.allowAnySHA1InWant", "true"], cwd=self.path)

    def head(self) -> str | None:
        """The commit the branch points at, or None for an empty repository."""
        try:
            return _git(["rev-parse", "--verify", "--quiet", self.ref], cwd=self.path).decode().strip() or None
        except GitError:
            return None

    def write(
        self, files: Mapping[str, str | bytes | None], *, message: str, author: Author = Author(), attempts: int = 5
    ) -> str | None:
        """Commit ``files`` (None deletes) on the branch; returns the new commit, or None when nothing changed."""
        clean = {safe_relative_path(p): v for p, v in files.items()}
        with self._lock:
            self.ensure()
            for _ in range(attempts):
                parent = self.head()
                commit = self._commit(clean, parent=parent, message=message, author=author)
                if commit is None:
                    return None
                try:
                    _git(["update-ref", self.ref, commit, parent or "0" * 40], cwd=self.path)
                except GitError:
                    continue  # another writer moved the branch; rebuild on its head
                return commit
        raise ConflictError(f"could not commit to {self.path} after {attempts} attempts: the branch kept moving")

    def _commit(
        self, files: Mapping[str, str | bytes | None], *, parent: str | None, message: str, author: Author
    ) -> str | None:
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if parent:
                _git(["read-tree", parent], cwd=self.path, env=env)
            entries = []
            for path, content in sorted(files.items()):
                if content is None:
                    # Mode 0 with the null id removes the path from the index (works without a work tree).
                    entries.append(f"0 {'0' * 40}\t{path}")
                    continue
                data = content.encode() if isinstance(content, str) else content
                blob = _git(["hash-object", "-w", "--stdin"], cwd=self.path, stdin=data).decode().strip()
                entries.append(f"100644 {blob}\t{path}")
            if entries:
                _git(
                    ["update-index", "--add", "--index-info"],
                    cwd=self.path,
                    env=env,
                    stdin="\n".join(entries).encode() + b"\n",
                )
            tree = _git(["write-tree"], cwd=self.path, env=env).decode().strip()
            if parent and tree == _git(["rev-parse", f"{parent}^{{tree}}"], cwd=self.path).decode().strip():
                return None
            who = {
                "GIT_AUTHOR_NAME": author.name,
                "GIT_AUTHOR_EMAIL": author.email,
                "GIT_COMMITTER_NAME": author.name,
                "GIT_COMMITTER_EMAIL": author.email,
            }
            args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
            return _git(args, cwd=self.path, env=who).decode().strip()

    def read(self, path: str, *, ref: str | None = None) -> bytes:
        """A file's content at ``ref`` (default: the branch head); NotFoundError when absent."""
        path = safe_relative_path(path)
        head = ref or self.head()
        if head is None:
            raise NotFoundError(f"{path} not found: repository {self.path.name} is empty")
        try:
            return _git(["cat-file", "blob", f"{head}:{path}"], cwd=self.path)
        except GitError as exc:
            raise NotFoundError(f"{path} not found in {self.path.name} at {head[:12]}") from exc

    def list_files(self, prefix: str = "", *, ref: str | None = None) -> list[str]:
        """Every file path under ``prefix`` at ``ref`` (default: the branch head)."""
        head = ref or self.head()
        if head is None:
            return []
        args = ["ls-tree", "-r", "--name-only", head]
        if prefix:
            args += ["--", safe_relative_path(prefix.rstrip("/"))]
        return [line for line in _git(args, cwd=self.path).decode().splitlines() if line]

    async def awrite(
        self, files: Mapping[str, str | bytes | None], *, message: str, author: Author = Author()
    ) -> str | None:
        """``write`` without blocking the event loop."""
        return await asyncio.to_thread(self.write, files, message=message, author=author)


class GitRepositories:
    """The bare repositories under one root folder, by name (``owner/repo``)."""

    def __init__(self, root: Path, *, default_branch: str = "main") -> None:
        self.root = root.absolute()
        self.default_branch = default_branch
        self._repos: dict[str, LocalGitRepository] = {}
        self._lock = threading.Lock()

    def get(self, name: str, *, create: bool = True) -> LocalGitRepository:
        """The repository ``name`` (``owner/repo``); created empty when absent and ``create`` is set."""
        if not _NAME.match(name):
            raise InputError(
                f"invalid repository name {name!r}",
                problems=[Problem("name", "use owner/repo with letters, digits, '.', '_' and '-'")],
            )
        with self._lock:
            repo = self._repos.get(name)
            if repo is None:
                repo = LocalGitRepository(self.root / f"{name}.git", branch=self.default_branch)
                self._repos[name] = repo
        if create:
            repo.ensure()
        elif not (repo.path / "HEAD").exists():
            raise NotFoundError(f"repository {name} does not exist")
        return repo

    def exists(self, name: str) -> bool:
        """Whether ``name`` exists."""
        return _NAME.match(name) is not None and (self.root / f"{name}.git" / "HEAD").exists()

    def delete(self, name: str) -> None:
        """Remove a repository (used when a scaffolder task is rolled back)."""
        import shutil

        repo = self.get(name, create=False)
        shutil.rmtree(repo.path)
        with self._lock:
            self._repos.pop(name, None)

    def names(self) -> list[str]:
        """Every repository name."""
        if not self.root.exists():
            return []
        return sorted(
            str(p.relative_to(self.root))[: -len(".git")] for p in self.root.glob("**/*.git") if (p / "HEAD").exists()
        )
