"""The score ledger (issue 12): adjustments as entries — set-to or change-by, in hundredths —
with a reason, note, author, effective time and optional expiry, voided rather than deleted.
`seq` is taken from the table's own counter on insert and again on void, so incremental
scoring asks "which contacts have ledger rows with seq above my mark".

Self-contained (no other table refers to it), so that it can be renumbered when branches meet.
Stored `score_adjustment` property values are left where they are: they are property history,
read by the model rules that read them (`points_from: score_adjustment`), so an upgraded store
keeps its scores; new adjustments are ledger entries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "score_ledger",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("op", sa.Text(), nullable=False),  # set | change
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("effective_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("author", sa.Text()),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("voided_us", sa.BigInteger()),
        sa.Column("voided_by", sa.Text()),
        sa.Column("void_note", sa.Text()),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_score_ledger_contact", "score_ledger", ["contact_id", "effective_us"])
    op.create_index("ix_score_ledger_seq", "score_ledger", ["seq"])


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("score_ledger")
