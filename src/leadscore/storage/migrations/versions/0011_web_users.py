"""The web app's users (`leadscore users`, the admin page): each one's e-mail, role (admin,
marketing, sales), argon2 hash of the password (never the password), when made and when
disabled; and `web_settings`, the name → value pairs the web app keeps in the store — the key
that signs its session cookies, made once and shared by every process that serves the store.

Self-contained (no other table refers to them), so that it can be renumbered when branches meet.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("email", sa.Text(), nullable=False),  # lower case
        sa.Column("role", sa.Text(), nullable=False),  # admin | marketing | sales
        sa.Column("password_hash", sa.Text(), nullable=False),  # argon2id
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("disabled_us", sa.BigInteger()),
        sa.UniqueConstraint("email", name="uq_web_users_email"),
    )
    op.create_table(
        "web_settings",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    op.drop_table("web_settings")
    op.drop_table("web_users")
