"""Branch protection on the built-in git host, with real git: what is refused and what still works.

Test design notes: a bare repository is published to by ``BuiltinRepositoryHost`` as a task would,
then protected; a stock ``git`` client pushes to it through the file transport, which runs the
same ``git-receive-pack`` (and so the same pre-receive hook) that ``git http-backend`` runs for the
HTTP route (``tests/e2e/scaffolder/test_git_host.py`` covers HTTP). Fast-forward pushes pass; force
pushes and deletion of the protected branch are refused with a message naming the branch; other
branches are left alone.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from blacktop.integrations import GitRepositories
from blacktop.kernel.errors import ConflictError
from blacktop.scaffolder import BranchProtection, WorkspaceFile
from blacktop.wiring.scaffolder import BuiltinRepositoryHost


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "GIT_TERMINAL_PROMPT": "0"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
async def published(tmp_path: Path) -> tuple[BuiltinRepositoryHost, Path, Path, str]:
    repos = GitRepositories(tmp_path / "git")
    host = BuiltinRepositoryHost(repos, public_url="http://127.0.0.1:7007", alias="github.com")
    repo = await host.create("acme", "svc", description="", visibility="private", default_branch="main")
    await host.push(repo, [WorkspaceFile("README.md", b"# svc\n")], branch="main", message="initial commit",
                    author="Scaffolder", email="s@x")  # fmt: skip
    message = await host.protect_branch(
        repo, BranchProtection(branch="main", require_code_owner_reviews=True, required_status_check_contexts=("ci",))
    )
    bare = tmp_path / "git" / "acme" / "svc.git"
    checkout = tmp_path / "checkout"
    assert git("clone", "--quiet", str(bare), str(checkout), cwd=tmp_path).returncode == 0
    return host, bare, checkout, message


def commit(checkout: Path, name: str) -> None:
    (checkout / name).write_text(name)
    assert git("add", name, cwd=checkout).returncode == 0
    assert git("commit", "--quiet", "-m", name, cwd=checkout).returncode == 0


async def test_the_log_says_what_is_and_is_not_enforced(
    published: tuple[BuiltinRepositoryHost, Path, Path, str],
) -> None:
    _, _, _, message = published
    assert message == (
        "Protected branch main of acme/svc on the built-in git host: deleting it and force pushes that rewrite its "
        "history are refused for every pusher. Not enforced there: pull requests with 1 approving review(s), code "
        "owner reviews, status checks ci (the built-in host has no pull requests or status checks; only platform "
        "admins may push to it at all)"
    )


async def test_fast_forwards_pass_and_rewrites_or_deletion_are_refused(
    published: tuple[BuiltinRepositoryHost, Path, Path, str],
) -> None:
    _, bare, checkout, _ = published
    commit(checkout, "a.txt")
    assert git("push", "--quiet", "origin", "main", cwd=checkout).returncode == 0, "a fast-forward is fine"
    assert git("commit", "--quiet", "--amend", "-m", "rewritten", cwd=checkout).returncode == 0
    forced = git("push", "--force", "origin", "main", cwd=checkout)
    assert forced.returncode != 0
    assert "branch main is protected; force pushes that rewrite its history are refused" in forced.stderr
    deleted = git("push", "origin", ":main", cwd=checkout)
    assert deleted.returncode != 0 and "branch main is protected; it cannot be deleted" in deleted.stderr
    assert (
        git("rev-parse", "main", cwd=bare).stdout.strip()
        == git("rev-parse", "origin/main", cwd=checkout).stdout.strip()
    )


async def test_other_branches_stay_unprotected_and_protection_is_idempotent(
    published: tuple[BuiltinRepositoryHost, Path, Path, str],
) -> None:
    host, bare, checkout, _ = published
    repo = host.locate("acme", "svc", default_branch="main")
    await host.create_branch(repo, "develop", ref="main")
    with pytest.raises(ConflictError, match="branch develop of acme/svc already exists"):
        await host.create_branch(repo, "develop", ref="main")
    await host.protect_branch(repo, BranchProtection(branch="main"))
    assert git("config", "--get-all", "blacktop.protectedBranch", cwd=bare).stdout.split() == ["main"]
    assert git("fetch", "--quiet", "origin", cwd=checkout).returncode == 0
    assert git("checkout", "--quiet", "-b", "develop", "origin/develop", cwd=checkout).returncode == 0
    commit(checkout, "b.txt")
    assert git("commit", "--quiet", "--amend", "-m", "rewritten", cwd=checkout).returncode == 0
    assert git("push", "--quiet", "--force", "origin", "develop", cwd=checkout).returncode == 0
    assert git("push", "--quiet", "origin", ":develop", cwd=checkout).returncode == 0
