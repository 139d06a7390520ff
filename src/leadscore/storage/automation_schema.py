"""Tables for acting on scores (P2): list membership, workflow enrollment and its log, the
outbox of outgoing effects, follow-up tasks, and each contact's next due moment.

They share `schema.metadata`; migration 0003 creates them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, Table, Text, UniqueConstraint

from leadscore.storage.schema import JSON_VALUE, ROW_ID, UTCDateTime, metadata

list_memberships = Table(
    "list_memberships",
    metadata,
    Column("list", Text, primary_key=True),
    Column("contact_id", Text, primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Index("ix_list_memberships_contact", "contact_id"),
)

list_changes = Table(
    "list_changes",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("list", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("change", Text, nullable=False),  # join | leave
    Column("at", UTCDateTime, nullable=False),
    Column("cause", Text, nullable=False),
    Index("ix_list_changes_contact", "contact_id", "at"),
)

trigger_states = Table(
    "trigger_states",
    metadata,
    # keyed by contact first: every read is a contact's states (migration 0008)
    Column("contact_id", Text, primary_key=True),
    Column("workflow", Text, primary_key=True),
    Column("matching", Boolean, nullable=False),
    Column("enrollments", Integer, nullable=False, default=0),
    Column("checked_at", UTCDateTime, nullable=False),  # occurrences after this are new
    sqlite_with_rowid=False,
)

automation_state = Table(
    "automation_state",
    metadata,
    Column("name", Text, primary_key=True),  # e.g. workflow:NAME
    Column("activated_at", UTCDateTime, nullable=False),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("workflow", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("status", Text, nullable=False),  # active | done | exited
    Column("position", Text, nullable=False),  # the next step, e.g. "2" or "3.then.0"
    Column("resume_at", UTCDateTime),  # set while waiting on a delay
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("cause", Text, nullable=False),
    Index("ix_enrollments_contact", "contact_id", "workflow"),
    Index("ix_enrollments_resume", "status", "resume_at"),
)

step_runs = Table(
    "step_runs",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("enrollment_id", ROW_ID, nullable=False),
    Column("workflow", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("position", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),  # done | waiting | skipped | branch:then …
    Column("detail", JSON_VALUE),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_step_runs_contact", "contact_id", "at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),  # idempotency key: one effect, however often sent
    Column("kind", Text, nullable=False),  # webhook | email
    Column("channel", Text, nullable=False),  # a configured webhook or mail channel name
    Column("contact_id", Text),
    Column("workflow", Text),
    Column("payload", JSON_VALUE, nullable=False),
    Column("status", Text, nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("key", name="uq_outbox_key"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("contact_id", Text, nullable=False),
    Column("owner", Text),
    Column("title", Text, nullable=False),
    Column("detail", JSON_VALUE, nullable=False),  # score, label, top reasons
    Column("due_at", UTCDateTime),
    Column("status", Text, nullable=False),  # open | done
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", name="uq_tasks_key"),
    Index("ix_tasks_owner", "owner", "status"),
)

contact_schedule = Table(
    "contact_schedule",
    metadata,
    Column("contact_id", Text, primary_key=True),
    Column("due_at", UTCDateTime, nullable=False),  # when the contact must be looked at again
    Column("reason", Text, nullable=False),
    # +1 each time the contact is made due: processing keeps a row renewed while it ran
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_contact_schedule_due", "due_at"),
)
