"""Shard leases and member heartbeats for the reconcile engine's scale-out.

Revision ID: 0002_engine_leases
Revises: 0001_resources
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_engine_leases"
down_revision: str | None = "0001_resources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("group", sa.String(128), primary_key=True),
        sa.Column("shard", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(255), nullable=True),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "members",
        sa.Column("group", sa.String(128), primary_key=True),
        sa.Column("member", sa.String(255), primary_key=True),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("leases")
