"""Choosing the reader for a registered location: ``file:`` and ``url:`` directly, ``git:`` after a checkout."""

from __future__ import annotations

import posixpath

from blacktop.kernel.errors import InputError

from .. import locations, ports
from .filesystem import FileSystemLocationReader
from .git import GitCheckouts, parse_git_target
from .url import HttpLocationReader


class CatalogLocationSources:
    """``service.LocationSources`` over the filesystem, HTTP and git adapters."""

    def __init__(self, *, files: FileSystemLocationReader, urls: HttpLocationReader, git: GitCheckouts) -> None:
        self.files = files
        self.urls = urls
        self.git = git

    async def prepare(self, location: locations.LocationSpec) -> tuple[locations.LocationSpec, ports.LocationReader]:
        """The walk root and reader for ``location``."""
        if location.type == "git":
            target = parse_git_target(location.target)
            directory = await self.git.update(target)
            return locations.LocationSpec("file", f"{directory}/{target.glob}"), self.files
        if location.type == "url":
            return location, self.urls
        if location.type == "file":
            return locations.LocationSpec("file", _absolute(location.target)), self.files
        raise InputError(f"location type {location.type!r} cannot be read")


def _absolute(target: str) -> str:
    """File targets must be absolute: relative ones would depend on the server's working directory."""
    if not posixpath.isabs(target):
        raise InputError(f"file location {target!r} must be an absolute path")
    return posixpath.normpath(target)
