"""Service catalog: entities, relations, flattened search rows, locations, processing errors, full text.

The search table is Backstage's: one lower-cased key/value row per flattened entity field, which is
what filters, facets and ordering run on. Full-text search is an FTS5 virtual table on SQLite and a
``tsvector`` column with a GIN index on PostgreSQL; both are written per entity change.

Revision ID: 0003_catalog
Revises: 0002_engine_leases
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_catalog"
down_revision: str | None = "0002_engine_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_locations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("key", sa.String(2048), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
    )
    op.create_table(
        "catalog_entities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(64), nullable=False, unique=True),
        sa.Column("ref", sa.String(512), nullable=False, unique=True),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("location_id", sa.String(64), nullable=True, index=True),
        sa.Column("location_key", sa.Text(), nullable=False),
        sa.Column("orphan", sa.Boolean(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
    )
    op.create_table(
        "catalog_relations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("origin_id", sa.Integer(), sa.ForeignKey("catalog_entities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_ref", sa.String(512), nullable=False),
        sa.Column("type", sa.String(63), nullable=False),
        sa.Column("type_key", sa.String(63), nullable=False),
        sa.Column("target_ref", sa.String(512), nullable=False),
    )
    op.create_index("ix_catalog_relations_source", "catalog_relations", ["source_ref", "type_key", "target_ref"])
    op.create_index("ix_catalog_relations_target", "catalog_relations", ["type_key", "target_ref"])
    op.create_index("ix_catalog_relations_origin", "catalog_relations", ["origin_id"])
    op.create_table(
        "catalog_search",
        sa.Column("entity_id", sa.Integer(), sa.ForeignKey("catalog_entities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.String(200), nullable=True),
        sa.Column("original", sa.Text(), nullable=True),
    )
    op.create_index("ix_catalog_search_key_value", "catalog_search", ["key", "value", "entity_id"])
    op.create_index("ix_catalog_search_entity", "catalog_search", ["entity_id", "key", "value"])
    op.create_table(
        "catalog_errors",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("location_id", sa.String(64), nullable=False, index=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "catalog_fulltext",
            sa.Column(
                "entity_id", sa.Integer(), sa.ForeignKey("catalog_entities.id", ondelete="CASCADE"), primary_key=True
            ),
            sa.Column("body", postgresql.TSVECTOR(), nullable=False),
        )
        op.create_index("ix_catalog_fulltext_body", "catalog_fulltext", ["body"], postgresql_using="gin")
    else:
        op.execute("CREATE VIRTUAL TABLE catalog_fulltext USING fts5(body, tokenize='unicode61', prefix='2 3 4')")


def downgrade() -> None:
    op.drop_table("catalog_fulltext")
    op.drop_table("catalog_errors")
    op.drop_table("catalog_search")
    op.drop_table("catalog_relations")
    op.drop_table("catalog_entities")
    op.drop_table("catalog_locations")
