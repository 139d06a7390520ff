"""Trigger states keyed by (contact, workflow): on SQLite one B-tree (WITHOUT ROWID) instead of
a table, its primary-key index and a contact index.

Every read of trigger states is by contact (a batch being processed, an erasure, a merge), and
every processed contact writes one row per workflow: the first `process` after importing
1,000,000 contacts writes millions. Measured with 3,500,000 upserts sorted by contact, on
this machine under load: 29.2 s into the old layout, 15.5 s into this one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("""
            CREATE TABLE trigger_states_new (
                contact_id TEXT NOT NULL,
                workflow TEXT NOT NULL,
                matching BOOLEAN NOT NULL,
                enrollments INTEGER DEFAULT '0' NOT NULL,
                checked_at DATETIME NOT NULL,
                PRIMARY KEY (contact_id, workflow)
            ) WITHOUT ROWID""")
        op.execute("INSERT INTO trigger_states_new (contact_id, workflow, matching, enrollments, "
                   "checked_at) SELECT contact_id, workflow, matching, enrollments, checked_at "
                   "FROM trigger_states ORDER BY contact_id, workflow")
        op.execute("DROP TABLE trigger_states")
        op.execute("ALTER TABLE trigger_states_new RENAME TO trigger_states")
        return
    op.drop_index("ix_trigger_states_contact", table_name="trigger_states")
    op.execute("ALTER TABLE trigger_states DROP CONSTRAINT trigger_states_pkey")
    op.execute("ALTER TABLE trigger_states ADD PRIMARY KEY (contact_id, workflow)")


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    raise NotImplementedError("leadscore only migrates forward")
