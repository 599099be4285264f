"""The SQL tables behind the resource store, the audit trail and API tokens.

These rows are the storage shape only: resources stay JSON documents (``document``), and the
columns beside them exist to be indexed (keys, labels, revisions). Mapping rows to kernel values
happens in the store modules, never in callers. The Alembic migrations under ``migrations/`` are
the source of truth for the deployed schema; a test checks that they agree with these classes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    SQLite has no time zone type, so values are stored as naive UTC there and made aware again on
    read; PostgreSQL keeps ``timestamptz``. Audit hashes cover timestamps, so they must round-trip
    to the microsecond.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for blacktop's own tables."""

    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class ResourceRow(Base):
    """One stored object; ``namespace`` is '' for cluster-scoped kinds so the unique key holds."""

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("group", "kind", "namespace", "name", name="uq_resources_key"),)

    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    group: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(253))
    resource_version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ResourceLabelRow(Base):
    """One label of one object, carrying the object's key so a selector's page is read from one index.

    Namespace and name never change for a uid, so the copies here cannot go stale.
    """

    __tablename__ = "resource_labels"
    __table_args__ = (
        Index("ix_resource_labels_selector", "group", "kind", "key", "value", "namespace", "name", "uid"),
    )

    uid: Mapped[str] = mapped_column(String(64), ForeignKey("resources.uid", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(317), primary_key=True)
    group: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(63))
    value: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(253))


class EventRow(Base):
    """One change; ``revision`` is the global revision, assigned in commit order under the write lock."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_revision", "group", "kind", "revision"),)

    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    group: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(253))
    object: Mapped[dict[str, Any]]


class AuditRecordRow(Base):
    """One append-only audit entry (see ``kernel.ports.AuditRecord``); ``seq`` is given by the writer."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_actor", "actor", "seq"),
        Index("ix_audit_records_resource", "kind", "namespace", "name", "seq"),
        Index("ix_audit_records_time", "time"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    verb: Mapped[str] = mapped_column(String(32))
    group: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str | None] = mapped_column(String(63))
    name: Mapped[str | None] = mapped_column(String(253))
    outcome: Mapped[str] = mapped_column(String(32))
    code: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    old_digest: Mapped[str | None] = mapped_column(String(128))
    new_digest: Mapped[str | None] = mapped_column(String(128))
    prev_hash: Mapped[str] = mapped_column(String(128))
    hash: Mapped[str] = mapped_column(String(128))


class ApiTokenRow(Base):
    """An API token; only the hash of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    user_name: Mapped[str] = mapped_column(String(320))
    groups: Mapped[list[str]]
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


STORE_TABLES = ("resource_labels", "resources", "events", "audit_records", "api_tokens")
"""The tables this package owns, in an order safe for deleting rows (referencing tables first)."""
