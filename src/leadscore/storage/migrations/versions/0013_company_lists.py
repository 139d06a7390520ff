"""Company lists (`of: companies` in the lists file): `company_list_members` (the companies in
each company list when the model last scored companies, with when they joined) and
`company_list_changes` (every join and leave, with its moment), as `list_memberships` and
`list_changes` are for contacts.

Self-contained (no other table refers to them), so that it can be renumbered when branches meet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "company_list_members",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("list", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.Column("joined_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model", "list", "company_id"),
    )
    op.create_index("ix_company_list_members_company", "company_list_members",
                    ["model", "company_id"])
    op.create_table(
        "company_list_changes",
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("list", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),  # join | leave
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_company_list_changes_company", "company_list_changes",
                    ["model", "company_id", "seq"])


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("company_list_changes")
    op.drop_table("company_list_members")
