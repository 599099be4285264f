"""What the catalog's processing needs from the outside world, as Protocols.

Processing is pure except for reading descriptor files and placeholder targets; that single seam is
``LocationReader``. Adapters implement it for the filesystem, git checkouts and allow-listed URLs
(with size and time limits); tests use an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from blacktop.kernel.errors import Problem

from . import locations, model, querying, records


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


class CatalogRepository(Protocol):
    """Where entities, relations, search rows and locations live (SQL in ``blacktop.store.catalog``)."""

    async def add_location(self, location: records.LocationRecord) -> None:
        """Store a new location."""
        ...

    async def get_location(self, location_id: str) -> records.LocationRecord | None:
        """The location with this id, or None."""
        ...

    async def find_location(self, type_: str, target: str) -> records.LocationRecord | None:
        """The location registered for ``type:target``, or None."""
        ...

    async def list_locations(self) -> list[records.LocationRecord]:
        """Every location, oldest first."""
        ...

    async def delete_location(self, location_id: str) -> None:
        """Remove a location row (its entities are handled by the caller)."""
        ...

    async def update_location(self, location_id: str, *, type_: str, target: str) -> None:
        """Point a location at another ``type:target``."""
        ...

    async def save_location_state(
        self, location_id: str, *, refreshed_at: datetime, summary: Mapping[str, Any], problems: Sequence[Problem]
    ) -> None:
        """Record what the last refresh of a location found."""
        ...

    async def mark_location_stale(self, location_id: str) -> None:
        """Clear the location's ``refreshed_at``: what it holds no longer matches its last refresh."""
        ...

    async def hashes_of_location(self, location_id: str) -> dict[str, tuple[str, bool]]:
        """``{ref: (hash, orphan)}`` of the entities a location holds."""
        ...

    async def owners(self, refs: Sequence[str]) -> dict[str, records.Owner]:
        """Who holds each of ``refs`` (absent refs are left out)."""
        ...

    async def write_entities(self, location_id: str, writes: Sequence[records.EntityWrite]) -> None:
        """Insert or update entities (claimed by ``location_id``) with their relations, search rows and text."""
        ...

    async def delete_entities(self, refs: Sequence[str]) -> None:
        """Remove entities and everything indexed for them."""
        ...

    async def mark_orphans(self, refs: Sequence[str]) -> None:
        """Keep entities but flag them as orphans (no location emits them any more)."""
        ...

    async def query(self, query: records.EntityQuery) -> records.EntityPage:
        """Entities matching a filter, ordered and paged."""
        ...

    async def get_by_refs(self, refs: Sequence[str]) -> dict[str, records.StoredEntity]:
        """Entities by canonical ref (missing ones are left out)."""
        ...

    async def get_by_uid(self, uid: str) -> records.StoredEntity | None:
        """The entity with this uid, or None."""
        ...

    async def facets(
        self, facets: Sequence[str], entity_filter: querying.EntityFilter
    ) -> dict[str, list[tuple[str, int]]]:
        """``{facet: [(original value, count)]}`` over the entities matching the filter."""
        ...

    async def search(self, term: str, *, entity_filter: querying.EntityFilter, limit: int) -> list[records.SearchHit]:
        """Ranked full-text matches (every word a prefix), best first."""
        ...

    async def outgoing(self, refs: Sequence[str], types: Sequence[str]) -> list[model.Relation]:
        """Relation rows whose source is one of ``refs`` and type one of ``types``."""
        ...

    async def all_entities(self) -> list[records.StoredEntity]:
        """Every entity with its relation rows (for scorecards and the dark-matter report)."""
        ...
