"""Pushing workspace files to a git remote with the git CLI: one commit on one branch.

Every publisher ends here: the files are written to a scratch folder (executable bits and
symlinks kept), committed with the step's author, and pushed to the remote, which is a bare
repository path for the built-in host or an HTTPS URL for GitHub and GitLab. Credentials travel
in an ``http.extraHeader`` passed through the environment (``GIT_CONFIG_*``), never in the URL
or on the command line, so they appear neither in ``ps`` nor in error messages.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from blacktop.kernel.errors import UnavailableError

from .. import paths
from ..ports import WorkspaceFile

GIT_TIMEOUT_SECONDS = 120.0


class GitPushError(UnavailableError):
    """A git command failed while publishing."""


def basic_auth_header(username: str, token: str) -> str:
    """An ``Authorization`` header value for HTTPS git with a token."""
    raw = base64.b64encode(f"{username}:{token}".encode()).decode()
    return f"Authorization: Basic {raw}"


async def run_git(*args: str, cwd: Path, env: Mapping[str, str] | None = None, secrets: Sequence[str] = ()) -> str:
    """Run ``git args`` in ``cwd``; raises ``GitPushError`` with stderr (secrets removed)."""
    merged = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C", **(env or {})}
    try:
        process = await asyncio.create_subprocess_exec(
            "git", *args, cwd=cwd, env=merged, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError as exc:
        raise GitPushError("git is not installed; install it (apt-get install git) to publish repositories") from exc
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=GIT_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        process.kill()
        raise GitPushError(f"git {args[0]} timed out after {GIT_TIMEOUT_SECONDS:.0f} s") from exc
    if process.returncode != 0:
        message = err.decode(errors="replace").strip()[-800:]
        for secret in secrets:
            if secret:
                message = message.replace(secret, "***")
        raise GitPushError(f"git {args[0]} failed: {message}")
    return out.decode(errors="replace").strip()


async def push_files(
    files: Sequence[WorkspaceFile],
    *,
    remote: str,
    branch: str,
    message: str,
    author: str,
    email: str,
    extra_header: str | None = None,
) -> str:
    """Commit ``files`` as the first commit of ``branch`` and push it to ``remote``; returns the commit."""
    with tempfile.TemporaryDirectory(prefix="blacktop-publish-") as scratch:
        folder = Path(scratch)
        for file in files:
            _write(folder, file)
        who = {
            "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
        }  # fmt: skip
        await run_git("init", "--quiet", f"--initial-branch={branch}", cwd=folder)
        await run_git("add", "--all", cwd=folder)
        await run_git("commit", "--quiet", "--no-verify", "--allow-empty", "-m", message, cwd=folder, env=who)
        commit = await run_git("rev-parse", "HEAD", cwd=folder)
        env: dict[str, str] = {}
        if extra_header:
            env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader", "GIT_CONFIG_VALUE_0": extra_header}
        secret = extra_header.split(" ", 2)[-1] if extra_header else ""
        await run_git("push", "--quiet", remote, f"HEAD:refs/heads/{branch}", cwd=folder, env=env, secrets=[secret])
        return commit


def _write(folder: Path, file: WorkspaceFile) -> None:
    clean = paths.normalize_path(file.path, what="published path")
    target = folder / clean
    target.parent.mkdir(parents=True, exist_ok=True)
    if file.symlink is not None:
        paths.resolve_link(clean, file.symlink)
        os.symlink(file.symlink, target)
        return
    target.write_bytes(file.content)
    if file.executable:
        target.chmod(0o755)


def fast_import_stream(
    files: Sequence[WorkspaceFile], *, branch: str, message: str, author: str, email: str, timestamp: int
) -> bytes:
    """A ``git fast-import`` stream committing ``files`` as the root commit of ``branch``.

    One process writes every blob, the tree and the commit, instead of one process per file;
    modes are kept (``100755`` executables, ``120000`` symlinks).
    """
    who = f"{_ident(author)} <{_ident(email)}> {timestamp} +0000"
    body = message.encode()
    out = bytearray(f"commit refs/heads/{branch}\nmark :1\nauthor {who}\ncommitter {who}\n".encode())
    out += b"data %d\n" % len(body) + body + b"\n"
    for file in sorted(files, key=lambda f: f.path):
        clean = paths.normalize_path(file.path, what="published path")
        if file.symlink is not None:
            paths.resolve_link(clean, file.symlink)
            mode, data = "120000", file.symlink.encode()
        else:
            mode, data = ("100755" if file.executable else "100644"), file.content
        out += f"M {mode} inline {_quote(clean)}\n".encode() + b"data %d\n" % len(data) + data + b"\n"
    return bytes(out)


def _ident(value: str) -> str:
    return value.replace("<", "").replace(">", "").replace("\n", " ").strip() or "unknown"


def _quote(path: str) -> str:
    """C-style quoting where fast-import needs it (a leading quote, newlines, backslashes)."""
    if not any(c in path for c in '"\n\\') and not path.startswith(" "):
        return path
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


async def import_files(
    repository: Path, files: Sequence[WorkspaceFile], *, branch: str, message: str, author: str, email: str,
    timestamp: int,
) -> str:  # fmt: skip
    """Commit ``files`` straight into the bare ``repository`` (no work tree, one git process); returns the commit."""
    stream = fast_import_stream(files, branch=branch, message=message, author=author, email=email, timestamp=timestamp)
    with tempfile.TemporaryDirectory(prefix="blacktop-marks-") as scratch:
        marks = Path(scratch) / "marks"
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
        process = await asyncio.create_subprocess_exec(
            "git", "fast-import", "--quiet", f"--export-marks={marks}", cwd=repository, env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            _, err = await asyncio.wait_for(process.communicate(stream), timeout=GIT_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            process.kill()
            raise GitPushError(f"git fast-import timed out after {GIT_TIMEOUT_SECONDS:.0f} s") from exc
        if process.returncode != 0:
            raise GitPushError(f"git fast-import failed: {err.decode(errors='replace').strip()[-800:]}")
        return marks.read_text().split()[1]
