"""API keys for the HTTP API (`leadscore keys`): the SHA-256 hash of each key (never the key),
a short prefix to recognise it by, its name and scopes, when it was made and when revoked.

Self-contained (no other table refers to it), so that it can be renumbered when branches meet.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("scopes", sa.Text(), nullable=False),  # comma-separated
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked_us", sa.BigInteger()),
        sa.UniqueConstraint("hash", name="uq_api_keys_hash"),
    )


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("api_keys")
