"""Secret store: one row per secret path and one per kept version, holding ciphertext only.

A version row stores the AES-256-GCM ciphertext, its nonce, the data key wrapped by a
key-encryption key (KEK), the wrap nonce and the KEK's id; never a plaintext value and never a
KEK. The KEK lives outside the database (a file under ``<data_dir>/keys`` or an environment
variable), so a copy of this database alone reveals no secret.

Revision ID: 0004_secrets
Revises: 0003_catalog
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_secrets"
down_revision: str | None = "0003_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "secret_paths",
        sa.Column("mount", sa.String(64), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("oldest_version", sa.Integer(), nullable=False),
        sa.Column("max_versions", sa.Integer(), nullable=False),
        sa.Column("cas_required", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(512), nullable=False),
        sa.Column("custom_metadata", sa.JSON(), nullable=False),
    )
    op.create_table(
        "secret_versions",
        sa.Column("mount", sa.String(64), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
        sa.Column("deletion_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed", sa.Boolean(), nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=True),
        sa.Column("kek_id", sa.String(64), nullable=True, index=True),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=True),
        sa.Column("dek_nonce", sa.LargeBinary(), nullable=True),
        sa.Column("nonce", sa.LargeBinary(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["mount", "path"], ["secret_paths.mount", "secret_paths.path"], ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("secret_versions")
    op.drop_table("secret_paths")
