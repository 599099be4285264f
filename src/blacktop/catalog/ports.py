"""What the catalog's processing needs from the outside world, as Protocols.

Processing is pure except for reading descriptor files and placeholder targets; that single seam is
``LocationReader``. Adapters implement it for the filesystem, git checkouts and allow-listed URLs
(with size and time limits); tests use an in-memory fake.
"""

from __future__ import annotations

from typing import Protocol

from . import locations


class LocationReader(Protocol):
    """Reads the text behind a location and expands glob targets."""

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """The UTF-8 text at ``location``, or None when nothing exists there.

        Raise a ``blacktop.kernel.errors.BlacktopError`` (e.g. ``NotAllowedError`` for a host off
        the allow list, ``TooLargeError``, ``UnavailableError``) for anything else; processing
        records the message as a problem on the entity or location being read.
        """
        ...

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """The files a glob target matches, sorted; an empty list when none match."""
        ...
