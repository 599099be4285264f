"""The service catalog's tables, as the SQL adapters see them (migrations ``0003_catalog`` and ``0006``).

Kept apart from the repository so the query building in ``catalog_filters`` and the IO in
``catalog`` share one definition.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import JSON, BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text

from .tables import UtcDateTime

metadata = MetaData()

locations_table = Table(
    "catalog_locations", metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("target", Text, nullable=False),
    Column("key", String(2048), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("refreshed_at", UtcDateTime(), nullable=True),
    Column("summary", JSON, nullable=False),
    Column("problems", JSON, nullable=False),
)  # fmt: skip
entities = Table(
    "catalog_entities", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(64), nullable=False, unique=True),
    Column("ref", String(512), nullable=False, unique=True),
    Column("kind", String(63), nullable=False),
    Column("namespace", String(63), nullable=False),
    Column("name", String(253), nullable=False),
    Column("document", JSON, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("location_id", String(64), nullable=True),
    Column("location_key", Text, nullable=False),
    Column("orphan", Boolean, nullable=False),
    Column("errors", JSON, nullable=False),
)  # fmt: skip
relations = Table(
    "catalog_relations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin_id", Integer, nullable=False),
    Column("source_ref", String(512), nullable=False),
    Column("type", String(63), nullable=False),
    Column("type_key", String(63), nullable=False),
    Column("target_ref", String(512), nullable=False),
)  # fmt: skip
search = Table(
    "catalog_search", metadata,
    Column("entity_id", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("value", String(200), nullable=True),
    Column("original", Text, nullable=True),
)  # fmt: skip
state = Table(
    "catalog_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)  # fmt: skip
"""One row: the write generation, bumped by every transaction that changes entities (migration 0006)."""
processing_errors = Table(
    "catalog_errors", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("location_id", String(64), nullable=False),
    Column("document", Text, nullable=True),
    Column("line", Integer, nullable=True),
    Column("path", Text, nullable=False),
    Column("message", Text, nullable=False),
)  # fmt: skip

CATALOG_TABLES: Final = (
    "catalog_fulltext", "catalog_search", "catalog_relations", "catalog_errors", "catalog_entities",
    "catalog_locations",
)  # fmt: skip
"""The catalog's tables, referencing tables first (safe order for deleting rows)."""
