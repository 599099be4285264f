"""Git repositories as catalog locations, fetched with the ``git`` CLI into a cache under the data dir.

A ``git:`` target is ``<repository>[#<ref>][:<glob>]``: a remote URL or a local path, an optional
branch or tag (default: the remote's HEAD) and a glob of descriptor files inside the repository
(default ``**/catalog-info.yaml``). The first refresh clones (shallow for remotes); later ones fetch
and hard-reset to the fetched commit, so a refresh reads exactly what the branch holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from blacktop.kernel.errors import InputError, UnavailableError

DEFAULT_GLOB = "**/catalog-info.yaml"


@dataclass(frozen=True, slots=True)
class GitTarget:
    """A parsed ``git:`` target."""

    repository: str
    ref: str | None
    glob: str

    @property
    def is_local(self) -> bool:
        """Whether the repository is a path on this machine."""
        return "://" not in self.repository and not self.repository.startswith("git@")


def parse_git_target(target: str) -> GitTarget:
    """Split ``<repository>[#<ref>][:<glob>]``."""
    repository, _, rest = target.partition("#")
    ref, _, pattern = rest.partition(":")
    if not repository:
        raise InputError(f"git location {target!r} names no repository; write <url-or-path>[#branch][:glob]")
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise InputError(f"git location {target!r} has a glob outside the repository")
    return GitTarget(repository=repository, ref=ref or None, glob=pattern or DEFAULT_GLOB)


class GitCheckouts:
    """Clones and updates repositories under ``cache_dir``."""

    def __init__(self, cache_dir: Path, *, timeout_seconds: float = 120.0) -> None:
        self.cache_dir = cache_dir
        self.timeout = timeout_seconds

    def checkout_dir(self, target: GitTarget) -> Path:
        """Where ``target`` is checked out."""
        digest = hashlib.sha256(f"{target.repository}#{target.ref or ''}".encode()).hexdigest()[:20]
        return self.cache_dir / digest

    async def update(self, target: GitTarget) -> Path:
        """Clone or fetch the repository and return the checkout directory at the fetched commit."""
        directory = self.checkout_dir(target)
        if not (directory / ".git").is_dir():
            directory.parent.mkdir(parents=True, exist_ok=True)
            args = ["clone", "--quiet", "--no-tags"]
            if not target.is_local:
                args += ["--depth", "1"]
            if target.ref:
                args += ["--branch", target.ref]
            await self._git(*args, "--", target.repository, str(directory))
            return directory
        fetch = ["fetch", "--quiet", "--no-tags"] + ([] if target.is_local else ["--depth", "1"])
        await self._git("-C", str(directory), *fetch, "origin", target.ref or "HEAD")
        await self._git("-C", str(directory), "reset", "--quiet", "--hard", "FETCH_HEAD")
        return directory

    async def _git(self, *args: str) -> None:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        process = await asyncio.create_subprocess_exec(
            "git", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=self.timeout)
        except TimeoutError as exc:
            process.kill()
            raise UnavailableError(f"git {args[0]} took longer than {self.timeout} s") from exc
        if process.returncode != 0:
            message = stderr.decode(errors="replace").strip()[-500:]
            raise UnavailableError(f"git {' '.join(a for a in args if not a.startswith('/'))[:200]} failed: {message}")
