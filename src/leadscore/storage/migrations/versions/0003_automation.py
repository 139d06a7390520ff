"""Acting on scores: list membership, workflow enrollment and log, outbox, tasks, schedule.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
JSON_VALUE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "list_memberships",
        sa.Column("list", sa.Text(), primary_key=True),
        sa.Column("contact_id", sa.Text(), primary_key=True),
        sa.Column("joined_at", TIME, nullable=False),
    )
    op.create_index("ix_list_memberships_contact", "list_memberships", ["contact_id"])
    op.create_table(
        "list_changes",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("list", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
    )
    op.create_index("ix_list_changes_contact", "list_changes", ["contact_id", "at"])
    op.create_table(
        "trigger_states",
        sa.Column("workflow", sa.Text(), primary_key=True),
        sa.Column("contact_id", sa.Text(), primary_key=True),
        sa.Column("matching", sa.Boolean(), nullable=False),
        sa.Column("enrollments", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("checked_at", TIME, nullable=False),
    )
    op.create_index("ix_trigger_states_contact", "trigger_states", ["contact_id"])
    op.create_table(
        "automation_state",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("activated_at", TIME, nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("resume_at", TIME),
        sa.Column("enrolled_at", TIME, nullable=False),
        sa.Column("finished_at", TIME),
        sa.Column("cause", sa.Text(), nullable=False),
    )
    op.create_index("ix_enrollments_contact", "enrollments", ["contact_id", "workflow"])
    op.create_index("ix_enrollments_resume", "enrollments", ["status", "resume_at"])
    op.create_table(
        "step_runs",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("enrollment_id", ROW_ID, nullable=False),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("detail", JSON_VALUE),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_step_runs_contact", "step_runs", ["contact_id", "at"])
    op.create_table(
        "outbox",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text()),
        sa.Column("workflow", sa.Text()),
        sa.Column("payload", JSON_VALUE, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("delivered_at", TIME),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "tasks",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("detail", JSON_VALUE, nullable=False),
        sa.Column("due_at", TIME),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("key", name="uq_tasks_key"),
    )
    op.create_index("ix_tasks_owner", "tasks", ["owner", "status"])
    op.create_table(
        "contact_schedule",
        sa.Column("contact_id", sa.Text(), primary_key=True),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_contact_schedule_due", "contact_schedule", ["due_at"])


def downgrade() -> None:
    for table in ("contact_schedule", "tasks", "outbox", "step_runs", "enrollments",
                  "automation_state", "trigger_states", "list_changes", "list_memberships"):
        op.drop_table(table)
