"""Path confinement: normalisation properties (hypothesis) and the workspace contract on both adapters.

Test design notes: the property tests compare ``normalize_path`` with ``posixpath.normpath`` under a
fake root, so any accepted path provably stays inside the root and means the same file; paths that
climb above the root at any point, absolute paths, backslashes and NUL bytes are refused. The
workspace contract runs unchanged on the in-memory and the local-directory adapter; the symlink
cases that need a real file system run on the local adapter only.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blacktop.scaffolder import (
    InMemoryWorkspace,
    LocalDirectoryWorkspace,
    LocalSkeletonReader,
    PathNotAllowed,
    WorkspaceFile,
    WorkspaceFileExists,
    WorkspaceFileNotFound,
    WorkspaceLimitExceeded,
    WorkspaceLimits,
    normalize_path,
)
from blacktop.scaffolder.paths import glob_matcher, is_within, join_path

SEGMENTS = st.sampled_from(["a", "b", "c.txt", "..", ".", "", "...", ".hidden", "x y"])
RELATIVE = st.lists(SEGMENTS, max_size=8).map("/".join)
ANY_PATH = st.one_of(RELATIVE, RELATIVE.map(lambda p: "/" + p), st.text(max_size=20))


def _climbs(path: str) -> bool:
    depth = 0
    for segment in path.split("/"):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in ("", "."):
            depth += 1
    return False


@settings(deadline=None)
@given(ANY_PATH)
def test_normalized_paths_stay_inside_and_mean_the_same_file(path: str) -> None:
    try:
        clean = normalize_path(path)
    except PathNotAllowed:
        assert path.startswith("/") or "\\" in path or "\x00" in path or _climbs(path) or path[1:2] == ":"
        return
    assert not clean.startswith("/")
    assert all(segment not in ("", ".", "..") for segment in clean.split("/")) or clean == ""
    root = "/root/ws"
    assert posixpath.normpath(f"{root}/{path}") == (f"{root}/{clean}" if clean else root)


@settings(deadline=None)
@given(ANY_PATH)
def test_normalization_is_idempotent(path: str) -> None:
    try:
        clean = normalize_path(path)
    except PathNotAllowed:
        return
    assert normalize_path(clean) == clean


@settings(deadline=None)
@given(RELATIVE, RELATIVE)
def test_join_never_leaves_the_base(base: str, path: str) -> None:
    try:
        joined = join_path(base, path)
    except PathNotAllowed:
        return
    assert is_within(joined, normalize_path(base))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("../x", "leaves the workspace", id="parent"),
        pytest.param("a/../../x", "leaves the workspace", id="nested-parent"),
        pytest.param("/etc/passwd", "is absolute", id="absolute"),
        pytest.param("C:/Windows", "is absolute", id="drive"),
        pytest.param("a\\..\\b", "backslash", id="backslash"),
        pytest.param("a\x00b", "NUL", id="nul"),
    ],
)
def test_refusals_explain_themselves(path: str, message: str) -> None:
    with pytest.raises(PathNotAllowed, match=message):
        normalize_path(path, what="targetPath")


@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        pytest.param([".github/workflows/*"], ".github/workflows/ci.yaml", True, id="dot-folder"),
        pytest.param([".github/workflows/*"], ".github/workflows/sub/ci.yaml", False, id="star-does-not-cover-below"),
        pytest.param([".github/**"], ".github/workflows/sub/ci.yaml", True, id="globstar-covers-below"),
        pytest.param(["*.png"], "img/logo.png", False, id="star-stays-in-folder"),
        pytest.param(["**/*.png"], "img/logo.png", True, id="globstar"),
        pytest.param(["**/*.png"], "logo.png", True, id="globstar-top"),
        pytest.param(["docs/**", "!docs/index.md"], "docs/index.md", False, id="negation"),
        pytest.param(["docs/**", "!docs/index.md"], "docs/a.md", True, id="negation-other"),
        pytest.param(["*.{png,jpg}"], "a.jpg", True, id="braces"),
        pytest.param(["./static/*"], "static/x", True, id="dot-slash-prefix"),
    ],
)
def test_glob_matching(patterns: list[str], path: str, matches: bool) -> None:
    assert glob_matcher(patterns)(path) is matches


@pytest.fixture(params=["memory", "local"])
async def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    limits = WorkspaceLimits(max_files=5, max_file_bytes=100, max_total_bytes=300)
    if request.param == "memory":
        yield InMemoryWorkspace(limits=limits)
    else:
        root = tmp_path / "ws"
        root.mkdir()
        yield LocalDirectoryWorkspace(root, limits=limits)


async def test_workspace_round_trip(workspace: Any) -> None:
    await workspace.save(WorkspaceFile("src/./app.py", b"print()", executable=True))
    found = await workspace.require("src/app.py")
    assert (found.path, found.content, found.executable) == ("src/app.py", b"print()", True)
    assert await workspace.get("missing") is None
    assert await workspace.exists("src") is True
    assert await workspace.list() == ["src/app.py"]
    await workspace.rename("src", "lib")
    assert await workspace.list() == ["lib/app.py"]
    assert await workspace.delete("lib") is True
    assert await workspace.list() == []


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "/etc/passwd"])
async def test_workspace_refuses_escaping_paths(workspace: Any, path: str) -> None:
    with pytest.raises(PathNotAllowed):
        await workspace.save(WorkspaceFile(path, b"x"))
    with pytest.raises(PathNotAllowed):
        await workspace.get(path)
    with pytest.raises(PathNotAllowed):
        await workspace.delete(path)
    await workspace.save(WorkspaceFile("inside.txt", b"x"))
    with pytest.raises(PathNotAllowed):
        await workspace.rename("inside.txt", path)


async def test_workspace_refuses_symlinks_that_leave(workspace: Any) -> None:
    with pytest.raises(PathNotAllowed):
        await workspace.save(WorkspaceFile("link", symlink="../../etc/passwd"))
    with pytest.raises(PathNotAllowed):
        await workspace.save(WorkspaceFile("link", symlink="/etc/passwd"))
    await workspace.save(WorkspaceFile("dir/link", symlink="../README.md"))
    assert (await workspace.require("dir/link")).symlink == "../README.md"


async def test_workspace_limits(workspace: Any) -> None:
    with pytest.raises(WorkspaceLimitExceeded, match="over the limit of 100 bytes"):
        await workspace.save(WorkspaceFile("big", b"x" * 101))
    for i in range(3):
        await workspace.save(WorkspaceFile(f"f{i}", b"x" * 100))
    with pytest.raises(WorkspaceLimitExceeded, match="300 bytes"):
        await workspace.save(WorkspaceFile("f3", b"x"))
    await workspace.save(WorkspaceFile("f0", b"x"))  # replacing counts once
    await workspace.save(WorkspaceFile("f3", b"x"))
    await workspace.save(WorkspaceFile("f4", b"x"))
    with pytest.raises(WorkspaceLimitExceeded, match="limit of 5"):
        await workspace.save(WorkspaceFile("f5", b"x"))


async def test_workspace_conflicts(workspace: Any) -> None:
    await workspace.save(WorkspaceFile("a", b"1"))
    await workspace.save(WorkspaceFile("b", b"2"))
    with pytest.raises(WorkspaceFileExists):
        await workspace.save(WorkspaceFile("a", b"3"), overwrite=False)
    with pytest.raises(WorkspaceFileExists):
        await workspace.rename("a", "b")
    await workspace.rename("a", "b", overwrite=True)
    assert (await workspace.require("b")).content == b"1"
    with pytest.raises(WorkspaceFileNotFound):
        await workspace.rename("nope", "c")
    with pytest.raises(WorkspaceFileNotFound):
        await workspace.require("nope")


async def test_local_workspace_refuses_planted_symlink_to_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside, root / "link")
    workspace = LocalDirectoryWorkspace(root)
    with pytest.raises(PathNotAllowed, match="symlink"):
        await workspace.save(WorkspaceFile("link/x", b"x"))
    with pytest.raises(PathNotAllowed, match="symlink"):
        await workspace.get("link/secret")
    with pytest.raises(PathNotAllowed):
        await workspace.list()
    assert not (outside / "x").exists()


async def test_skeleton_reader_confines_urls_and_symlinks(tmp_path: Path) -> None:
    template_dir = tmp_path / "template"
    (template_dir / "skeleton").mkdir(parents=True)
    (template_dir / "skeleton" / "ok.txt").write_text("ok")
    reader = LocalSkeletonReader()
    files = await reader.fetch_tree("./skeleton", base_url=str(template_dir))
    assert [f.path for f in files] == ["ok.txt"]
    assert (await reader.fetch_file("skeleton/ok.txt", base_url=template_dir.as_uri())).content == b"ok"
    with pytest.raises(PathNotAllowed):
        await reader.fetch_tree("../", base_url=str(template_dir))
    with pytest.raises(PathNotAllowed, match="remote"):
        await reader.fetch_tree("https://github.com/x/y", base_url=str(template_dir))
    os.symlink("/etc", template_dir / "skeleton" / "etc")
    with pytest.raises(PathNotAllowed):
        await reader.fetch_tree("./skeleton", base_url=str(template_dir))
    with pytest.raises(WorkspaceFileNotFound):
        await reader.fetch_tree("./nope", base_url=str(template_dir))
