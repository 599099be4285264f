"""The location readers' guards: url reads only from allowed hosts, within size limits, redirects
checked; git targets parsed; file targets absolute. No sockets: HTTP goes through ``MockTransport``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from blacktop.catalog import LocationSpec
from blacktop.catalog.adapters import FileSystemLocationReader, HttpLocationReader, parse_git_target
from blacktop.catalog.adapters.git import GitTarget
from blacktop.kernel.errors import InputError, NotAllowedError, TooLargeError, UnavailableError


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/big":
        return httpx.Response(200, content=b"x" * 2048)
    if request.url.path == "/missing":
        return httpx.Response(404)
    if request.url.path == "/away":
        return httpx.Response(302, headers={"location": "https://evil.example.net/x"})
    if request.url.path == "/hop":
        return httpx.Response(302, headers={"location": "/catalog-info.yaml"})
    if request.url.path == "/broken":
        return httpx.Response(500)
    return httpx.Response(200, text="kind: Component\n")


def reader(**kwargs: object) -> HttpLocationReader:
    return HttpLocationReader(
        allowed_hosts=["git.example.com", "*.corp.example"], max_bytes=1024,
        transport=httpx.MockTransport(handler), **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def url(target: str) -> LocationSpec:
    return LocationSpec("url", target)


async def test_allowed_host_is_read_and_404_means_absent() -> None:
    assert await reader().fetch_text(url("https://git.example.com/catalog-info.yaml")) == "kind: Component\n"
    assert await reader().fetch_text(url("https://a.corp.example/catalog-info.yaml")) == "kind: Component\n"
    assert await reader().fetch_text(url("https://git.example.com/missing")) is None


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("https://other.example.org/catalog-info.yaml", NotAllowedError),
        ("http://169.254.169.254/latest/meta-data", NotAllowedError),
        ("https://git.example.com/away", NotAllowedError),
        ("https://git.example.com/big", TooLargeError),
        ("https://git.example.com/broken", UnavailableError),
    ],
    ids=["unlisted-host", "metadata-endpoint", "redirect-off-the-list", "over-size-limit", "server-error"],
)
async def test_refused_reads(target: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await reader().fetch_text(url(target))


async def test_redirects_within_allowed_hosts_are_followed() -> None:
    assert await reader().fetch_text(url("https://git.example.com/hop")) == "kind: Component\n"


async def test_url_globs_are_refused_with_a_hint() -> None:
    with pytest.raises(InputError, match="git location"):
        await reader().list_matching(url("https://git.example.com/**/catalog-info.yaml"))


@pytest.mark.parametrize(
    ("target", "want"),
    [
        (
            "https://git.example.com/org/repo.git",
            GitTarget("https://git.example.com/org/repo.git", None, "**/catalog-info.yaml"),
        ),
        ("/srv/repo#main", GitTarget("/srv/repo", "main", "**/catalog-info.yaml")),
        ("/srv/repo#release-1:services/*/catalog.yaml", GitTarget("/srv/repo", "release-1", "services/*/catalog.yaml")),
        ("git@host:org/repo.git#main:root.yaml", GitTarget("git@host:org/repo.git", "main", "root.yaml")),
    ],
    ids=["remote-defaults", "local-branch", "branch-and-glob", "ssh-remote"],
)
def test_git_targets(target: str, want: GitTarget) -> None:
    assert parse_git_target(target) == want


@pytest.mark.parametrize("target", ["#main", "/srv/repo#main:../escape.yaml", "/srv/repo#main:/etc/passwd"])
def test_git_targets_outside_the_repository_are_refused(target: str) -> None:
    with pytest.raises(InputError):
        parse_git_target(target)


async def test_file_reader_globs_and_limits(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "catalog-info.yaml").write_text("kind: API\n")
    (tmp_path / "big.yaml").write_text("x" * 100)
    files = FileSystemLocationReader(max_bytes=50)
    matched = await files.list_matching(LocationSpec("file", f"{tmp_path}/**/catalog-info.yaml"))
    assert [m.target for m in matched] == [str(tmp_path / "a" / "catalog-info.yaml")]
    assert await files.fetch_text(matched[0]) == "kind: API\n"
    assert await files.fetch_text(LocationSpec("file", str(tmp_path / "nope.yaml"))) is None
    with pytest.raises(TooLargeError):
        await files.fetch_text(LocationSpec("file", str(tmp_path / "big.yaml")))
