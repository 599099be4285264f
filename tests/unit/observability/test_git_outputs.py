"""The GitOps adapter: concurrent writes share commits, reads and listings see them (a real bare repository)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from blacktop.integrations import LocalGitRepository
from blacktop.wiring.observability import GitOutputRepository


async def test_concurrent_writes_are_committed_together(tmp_path: Path) -> None:
    repo = LocalGitRepository(tmp_path / "gitops.git")
    outputs = GitOutputRepository(repo)
    commits = await asyncio.gather(
        *(outputs.write({f"observability/ns/svc-{i}/rules.yml": f"# {i}\n"}, message=f"svc-{i}") for i in range(6))
    )
    assert all(commits)
    assert len(set(commits)) < 6  # writes that waited for the first commit went into one commit together
    assert await outputs.list_files("observability/ns") == [f"observability/ns/svc-{i}/rules.yml" for i in range(6)]
    assert await outputs.read("observability/ns/svc-3/rules.yml") == "# 3\n"
    assert await outputs.read("observability/ns/missing") is None
    assert await outputs.head() == commits[-1]


async def test_deleting_and_rewriting_nothing(tmp_path: Path) -> None:
    outputs = GitOutputRepository(LocalGitRepository(tmp_path / "gitops.git"))
    first = await outputs.write({"a/x": "1", "a/y": "2"}, message="add")
    assert await outputs.write({"a/x": "1"}, message="same") is None
    assert await outputs.write({"a/x": None}, message="remove") not in (None, first)
    assert await outputs.list_files("a") == ["a/y"]
