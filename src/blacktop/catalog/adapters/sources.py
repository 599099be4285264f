"""Choosing the reader for a registered location: ``file:`` and ``url:`` directly, ``git:`` after a checkout."""

from __future__ import annotations

import posixpath

from blacktop.kernel.errors import InputError

from .. import locations, ports
from .filesystem import FileSystemLocationReader
from .git import GitCheckouts, parse_git_target
from .url import HttpLocationReader


class TypedLocationReader:
    """Sends each read to the reader of its location type (placeholders may point at URLs from files)."""

    def __init__(self, readers: dict[str, ports.LocationReader]) -> None:
        self.readers = readers

    def _reader(self, location: locations.LocationSpec) -> ports.LocationReader:
        found = self.readers.get(location.type)
        if found is None:
            raise InputError(f"location {location.key} has type {location.type!r}, which cannot be read here")
        return found

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """The text at ``location``, read by the reader of its type."""
        return await self._reader(location).fetch_text(location)

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """The files a glob matches, listed by the reader of its type."""
        return await self._reader(location).list_matching(location)


class CatalogLocationSources:
    """``service.LocationSources`` over the filesystem, HTTP and git adapters."""

    def __init__(self, *, files: FileSystemLocationReader, urls: HttpLocationReader, git: GitCheckouts) -> None:
        self.files = files
        self.urls = urls
        self.git = git
        self.reader = TypedLocationReader({"file": files, "url": urls})

    async def prepare(self, location: locations.LocationSpec) -> tuple[locations.LocationSpec, ports.LocationReader]:
        """The walk root and reader for ``location``."""
        if location.type == "git":
            target = parse_git_target(location.target)
            directory = await self.git.update(target)
            return locations.LocationSpec("file", f"{directory}/{target.glob}"), self.reader
        if location.type == "url":
            return location, self.reader
        if location.type == "file":
            return locations.LocationSpec("file", _absolute(location.target)), self.reader
        raise InputError(f"location type {location.type!r} cannot be read")


def _absolute(target: str) -> str:
    """File targets must be absolute: relative ones would depend on the server's working directory."""
    if not posixpath.isabs(target):
        raise InputError(f"file location {target!r} must be an absolute path")
    return posixpath.normpath(target)
