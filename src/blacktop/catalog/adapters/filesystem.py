"""Reading descriptor files from the local filesystem: ``file:`` locations, globs included.

Files larger than ``max_bytes`` are refused with ``TooLargeError`` so one stray dump cannot exhaust
memory; undecodable files are reported, not skipped silently.
"""

from __future__ import annotations

import asyncio
import glob
import os

from blacktop.kernel.errors import InputError, TooLargeError

from .. import locations


class FileSystemLocationReader:
    """``LocationReader`` for ``file:`` locations (absolute paths; ``**`` globs recurse)."""

    def __init__(self, *, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """The file's text, or None when it does not exist."""
        if location.type != "file":
            raise InputError(f"location {location.key} is not a file location and cannot be read from disk")
        return await asyncio.to_thread(self._read, location.target)

    def _read(self, path: str) -> str | None:
        try:
            size = os.path.getsize(path)
        except OSError:
            return None
        if size > self.max_bytes:
            raise TooLargeError(f"file {path} is {size} bytes; the limit is {self.max_bytes}")
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except IsADirectoryError:
            return None
        except UnicodeDecodeError as exc:
            raise InputError(f"file {path} is not UTF-8 text: {exc}") from exc

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """Files matching the glob, sorted."""
        return await asyncio.to_thread(_glob, location.target)


def _glob(pattern: str) -> list[locations.LocationSpec]:
    matches = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    return [locations.LocationSpec("file", os.path.abspath(p)) for p in matches]
