"""An in-memory ``LocationReader``: location keys mapped to text, for tests, dry runs and the API's
``validate-entity`` (which processes a posted entity without reading anything real)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from .. import locations


class InMemoryLocationReader:
    """Serves text by location key (``file:/x/catalog-info.yaml``, ``url:https://...``)."""

    def __init__(self, files: Mapping[str, str] | None = None) -> None:
        self.files: dict[str, str] = dict(files or {})
        self.reads: list[str] = []

    def add(self, location: locations.LocationSpec, text: str) -> None:
        """Make ``text`` readable at ``location``."""
        self.files[location.key] = text

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """The text stored for ``location``, or None."""
        self.reads.append(location.key)
        return self.files.get(location.key)

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """Stored locations of the same type whose target matches the glob, sorted."""
        prefix = location.type + ":"
        return [
            locations.LocationSpec(location.type, key[len(prefix) :])
            for key in sorted(self.files)
            if key.startswith(prefix) and fnmatch.fnmatchcase(key[len(prefix) :], location.target)
        ]
