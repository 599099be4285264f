"""Bare git repositories written with plumbing: commits, no-op writes, deletions, races and path safety."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from blacktop.integrations import GitRepositories
from blacktop.kernel.errors import InputError, NotFoundError


def test_writes_commit_files_and_skip_unchanged_trees(tmp_path: Path) -> None:
    repo = GitRepositories(tmp_path).get("platform/gitops")
    first = repo.write({"apps/a.yaml": "a: 1\n", "README.md": "hi\n"}, message="add")
    assert first is not None
    assert repo.write({"apps/a.yaml": "a: 1\n"}, message="same") is None
    assert repo.write({"README.md": None}, message="remove") is not None
    assert repo.list_files() == ["apps/a.yaml"]
    assert repo.read("apps/a.yaml") == b"a: 1\n"
    with pytest.raises(NotFoundError):
        repo.read("README.md")


def test_a_clone_sees_what_was_written(tmp_path: Path) -> None:
    repo = GitRepositories(tmp_path / "git").get("acme/service")
    repo.write({"main.go": "package main\n"}, message="scaffold")
    subprocess.run(["git", "clone", "--quiet", str(repo.path), str(tmp_path / "clone")], check=True)
    assert (tmp_path / "clone" / "main.go").read_text() == "package main\n"


def test_concurrent_writers_never_lose_a_commit(tmp_path: Path) -> None:
    repo = GitRepositories(tmp_path).get("platform/gitops")
    threads = [threading.Thread(target=repo.write, args=({f"f{i}.txt": str(i)},), kwargs={"message": f"w{i}"})
               for i in range(8)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(repo.list_files()) == sorted(f"f{i}.txt" for i in range(8))


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", ".git/config", "a//b", ""])
def test_paths_outside_the_repository_are_refused(tmp_path: Path, path: str) -> None:
    repo = GitRepositories(tmp_path).get("platform/gitops")
    with pytest.raises(InputError):
        repo.write({path: "x"}, message="bad")


@pytest.mark.parametrize("name", ["../x", "a/b/c", "-flag", "", "a b"])
def test_bad_repository_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError):
        GitRepositories(tmp_path).get(name)


def test_a_relative_root_works_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = GitRepositories(Path(".blacktop") / "git").get("platform/gitops")
    assert repo.write({"a.txt": "a"}, message="first") is not None
    assert repo.read("a.txt") == b"a"
