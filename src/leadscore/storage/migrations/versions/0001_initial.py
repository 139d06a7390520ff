"""The initial schema: contacts, property history, events, scores, score history, stages.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def _contact_fk() -> sa.ForeignKey:
    return sa.ForeignKey("contacts.contact_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("contact_id", sa.Text(), primary_key=True),
        sa.Column("email", sa.Text()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("lifecycle_stage", sa.Text()),
    )
    op.create_index("ix_contacts_created_at", "contacts", ["created_at"])

    op.create_table(
        "property_changes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), _contact_fk(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", JSON_VALUE),
        sa.Column("changed_at", TIME, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
    )
    op.create_index("ix_property_changes_contact_time", "property_changes",
                    ["contact_id", "changed_at"])

    op.create_table(
        "events",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text(), nullable=False, unique=True),
        sa.Column("contact_id", sa.Text(), _contact_fk(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("occurred_at", TIME, nullable=False),
        sa.Column("attributes", JSON_VALUE, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
    )
    op.create_index("ix_events_contact_time", "events", ["contact_id", "occurred_at"])

    op.create_table(
        "scores",
        sa.Column("contact_id", sa.Text(), _contact_fk(), primary_key=True),
        sa.Column("model", sa.Text(), primary_key=True),
        sa.Column("score", sa.Text(), primary_key=True),
        sa.Column("value", sa.Double()),
        sa.Column("label", sa.Text()),
        sa.Column("computed_at", TIME, nullable=False),
        sa.Column("as_of", TIME, nullable=False),
    )
    op.create_index("ix_scores_model_score", "scores", ["model", "score"])

    op.create_table(
        "score_history",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), _contact_fk(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("value", sa.Double()),
        sa.Column("label", sa.Text()),
        sa.Column("computed_at", TIME, nullable=False),
        sa.Column("as_of", TIME, nullable=False),
    )
    op.create_index("ix_score_history_contact", "score_history",
                    ["contact_id", "model", "computed_at"])

    op.create_table(
        "stage_changes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), _contact_fk(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("previous", sa.Text()),
        sa.Column("changed_at", TIME, nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
    )
    op.create_index("ix_stage_changes_contact_time", "stage_changes",
                    ["contact_id", "changed_at"])


def downgrade() -> None:
    for table in ("stage_changes", "score_history", "scores", "events", "property_changes",
                  "contacts"):
        op.drop_table(table)
