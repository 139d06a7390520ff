"""Outcomes: when each contact became an opportunity, was won or was lost (for backtests).

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("contact_id", sa.Text(),
                  sa.ForeignKey("contacts.contact_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("opportunity_at", TIME),
        sa.Column("won_at", TIME),
        sa.Column("lost_at", TIME),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outcomes")
