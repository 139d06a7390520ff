"""Models as published versions: `model_versions` (the content, digest, author, message and
time of each published model), `model_publishes` (each publish or rollback: the version it
makes live, its state and progress while the store is rescored, and when it went live), and
a `version` column on `scores` and `score_history` naming the version that computed a row
(NULL: computed from the model file before anything was published).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "model_publishes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("previous", sa.Integer),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("phase", sa.Text),
        sa.Column("contacts", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("author", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("live_us", sa.BigInteger),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_model_publishes_state", "model_publishes", ["state", "live_us"])
    # a nullable column with no default: SQLite adds it without rewriting the table
    op.add_column("scores", sa.Column("version", sa.Integer))
    op.add_column("score_history", sa.Column("version", sa.Integer))


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    raise NotImplementedError("leadscore only migrates forward")
