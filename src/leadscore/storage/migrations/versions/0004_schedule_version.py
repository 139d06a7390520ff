"""contact_schedule.version: counts how often a contact was made due, so that processing can
tell a due row it read from one a concurrent writer (an event arriving) renewed meanwhile.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_schedule") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("contact_schedule") as batch:
        batch.drop_column("version")
