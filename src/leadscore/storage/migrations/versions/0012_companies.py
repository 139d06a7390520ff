"""Companies (accounts): `companies` (id, created and updated times), `company_property_changes`
(every change of a company property with its time and source, as contacts' property history),
`company_scores` (each company's current value and label of each company score, per model,
with the published model version that computed it), `company_score_history` (a row where a
value or label changed) and `company_members` (which company each contact belonged to when the
model last scored companies).

Self-contained (no other table refers to them), so that it can be renumbered when branches meet.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("company_id", sa.Text(), primary_key=True),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "company_property_changes",
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.Text()),  # JSON text; NULL: cleared
        sa.Column("changed_us", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_company_property_changes_company", "company_property_changes",
                    ["company_id", "name", "changed_us"])
    op.create_table(
        "company_scores",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("label", sa.Text()),
        sa.Column("contacts", sa.BigInteger(), nullable=False),
        sa.Column("model_version", sa.BigInteger()),
        sa.Column("as_of_us", sa.BigInteger(), nullable=False),
        sa.Column("computed_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model", "company_id", "score"),
    )
    op.create_table(
        "company_score_history",
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("label", sa.Text()),
        sa.Column("model_version", sa.BigInteger()),
        sa.Column("as_of_us", sa.BigInteger(), nullable=False),
        sa.Column("computed_us", sa.BigInteger(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_company_score_history_company", "company_score_history",
                    ["model", "company_id", "seq"])
    op.create_table(
        "company_members",
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("company_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("model", "contact_id"),
    )
    op.create_index("ix_company_members_company", "company_members", ["model", "company_id"])


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("company_members")
    op.drop_table("company_score_history")
    op.drop_table("company_scores")
    op.drop_table("company_property_changes")
    op.drop_table("companies")
