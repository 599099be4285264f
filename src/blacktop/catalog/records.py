"""The values the catalog service exchanges with its storage: locations, entity writes, stored entities, queries.

They are separate from ``model`` because they carry storage concerns (hashes, uids, orphan flags,
search rows) that the Backstage entity model knows nothing about. The store maps them to rows; the
API maps stored entities to Backstage's JSON through ``stitching.stitch_entity``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blacktop.kernel.errors import Problem

from . import model, querying, stitching


@dataclass(frozen=True, slots=True)
class LocationRecord:
    """A registered location (Backstage ``locations`` row) and what its last refresh found."""

    id: str
    type: str
    target: str
    created_at: datetime
    refreshed_at: datetime | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @property
    def key(self) -> str:
        """``type:target``."""
        return f"{self.type}:{self.target}"


@dataclass(frozen=True, slots=True)
class EntityWrite:
    """One entity to insert or update, with everything the store indexes."""

    ref: model.EntityRef
    document: Mapping[str, Any]
    hash: str
    location_key: str
    relations: tuple[model.Relation, ...]
    search: tuple[querying.SearchRow, ...]
    text: str


@dataclass(frozen=True, slots=True)
class StoredEntity:
    """An entity as stored: processed document, identity, where it came from and its relation rows."""

    id: int
    uid: str
    ref: model.EntityRef
    document: Mapping[str, Any]
    location_id: str | None
    location_key: str
    orphan: bool
    relations: tuple[model.Relation, ...] = ()
    errors: tuple[Problem, ...] = ()

    def served(self) -> dict[str, Any]:
        """The Backstage entity as the API serves it (relations, uid, etag, orphan annotation)."""
        return stitching.stitch_stored(
            self.document, self.relations, ref=self.ref, uid=self.uid, orphan=self.orphan, errors=self.errors
        )


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """A filtered, ordered, paged entity query."""

    filter: querying.EntityFilter = querying.EntityFilter()  # noqa: RUF009
    fulltext: str | None = None
    fulltext_fields: Sequence[str] = ()
    order: Sequence[querying.Order] = ()
    offset: int = 0
    limit: int | None = None
    count_total: bool = False


@dataclass(frozen=True, slots=True)
class EntityPage:
    """Entities of one page and, when asked, how many match in total."""

    items: tuple[StoredEntity, ...]
    total: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A full-text search result with its rank (higher is better)."""

    entity: StoredEntity
    rank: float


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds an entity ref: its location id and whether it is an orphan."""

    location_id: str | None
    location_key: str
    orphan: bool
