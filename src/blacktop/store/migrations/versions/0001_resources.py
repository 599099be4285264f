"""Resources, their labels, the event log, the audit trail and API tokens.

Revision ID: 0001_resources
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001_resources"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("group", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("resource_version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("group", "kind", "namespace", "name", name="uq_resources_key"),
    )
    op.create_table(
        "resource_labels",
        sa.Column("uid", sa.String(64), sa.ForeignKey("resources.uid", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(317), primary_key=True),
        sa.Column("group", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("value", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
    )
    op.create_index(
        "ix_resource_labels_selector",
        "resource_labels",
        ["group", "kind", "key", "value", "namespace", "name", "uid"],
    )
    op.create_table(
        "events",
        sa.Column("revision", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("group", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("object", sa.JSON(), nullable=False),
    )
    op.create_index("ix_events_kind_revision", "events", ["group", "kind", "revision"])
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("verb", sa.String(32), nullable=False),
        sa.Column("group", sa.String(253), nullable=False),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=True),
        sa.Column("name", sa.String(253), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("old_digest", sa.String(128), nullable=True),
        sa.Column("new_digest", sa.String(128), nullable=True),
        sa.Column("prev_hash", sa.String(128), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
    )
    op.create_index("ix_audit_records_actor", "audit_records", ["actor", "seq"])
    op.create_index("ix_audit_records_resource", "audit_records", ["kind", "namespace", "name", "seq"])
    op.create_index("ix_audit_records_time", "audit_records", ["time"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
        sa.Column("user_name", sa.String(320), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_audit_records_time", "audit_records")
    op.drop_index("ix_audit_records_resource", "audit_records")
    op.drop_index("ix_audit_records_actor", "audit_records")
    op.drop_table("audit_records")
    op.drop_index("ix_events_kind_revision", "events")
    op.drop_table("events")
    op.drop_index("ix_resource_labels_selector", "resource_labels")
    op.drop_table("resource_labels")
    op.drop_table("resources")
