"""Service catalog query paths: a write generation and entity indexes for kind and name.

``catalog_state.generation`` grows by one in every transaction that changes entities. Readers read
it in the same transaction as their query, so a replica may keep counts and facets computed at one
generation and reuse them until any replica writes: the store itself invalidates them.

``(kind, id)``, ``(kind, name)`` and ``(name)`` on ``catalog_entities`` let a broad filter walk
entities in the order served (by id, or by ``metadata.name``) and stop after one page, and count or
restrict a kind without reading the entity documents.

Revision ID: 0006_catalog_query_paths
Revises: 0005_scaffolder_tasks
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_catalog_query_paths"
down_revision: str | None = "0005_scaffolder_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    state = op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])
    op.create_index("ix_catalog_entities_kind_id", "catalog_entities", ["kind", "id"])
    op.create_index("ix_catalog_entities_kind_name", "catalog_entities", ["kind", "name"])
    op.create_index("ix_catalog_entities_name", "catalog_entities", ["name"])


def downgrade() -> None:
    op.drop_index("ix_catalog_entities_name", "catalog_entities")
    op.drop_index("ix_catalog_entities_kind_name", "catalog_entities")
    op.drop_index("ix_catalog_entities_kind_id", "catalog_entities")
    op.drop_table("catalog_state")
