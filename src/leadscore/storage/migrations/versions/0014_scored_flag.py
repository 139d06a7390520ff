"""Unscored is not 0: a `scored` column on `scores`, FALSE where no rule of the score applied
and no ledger entry applies (the value is then 0, as before). NULL on rows written before this
migration: read as scored (the number is shown) until the contact is scored again.

Self-contained (one nullable column), so that it can be renumbered when branches meet.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column with no default: SQLite adds it without rewriting the table
    op.add_column("scores", sa.Column("scored", sa.Boolean))


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    raise NotImplementedError("leadscore only migrates forward")
