"""Segment-spec ingestion (`POST /v1/identify`, `/v1/track`, …): the message ids seen (a resent
message is a no-op), the identities that resolve to a contact (an anonymous id once a visitor
identifies, a user id merged into another by `alias`), and the activity of visitors not yet
identified, held until they are.

Self-contained (no other table refers to these), so that it can be renumbered when branches
meet.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "segment_messages",
        sa.Column("message_id", sa.Text(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "identities",
        sa.Column("kind", sa.Text(), primary_key=True),  # anonymous | user
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("linked_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_identities_contact", "identities", ["contact_id"])
    op.create_table(
        "anonymous_activity",
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("anonymous_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),  # event | traits
        sa.Column("occurred_us", sa.BigInteger(), nullable=False),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),  # JSON: the checked event, or the traits
        sqlite_autoincrement=True,
    )
    op.create_index("ix_anonymous_activity_id", "anonymous_activity", ["anonymous_id", "seq"])


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("anonymous_activity")
    op.drop_table("identities")
    op.drop_table("segment_messages")
