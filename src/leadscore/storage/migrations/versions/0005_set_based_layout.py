"""The set-based layout: times as integer microseconds, typed forms of property values, a
sequence number per recorded row, the segment catalog and the store's counters.

contacts: created_at/updated_at become created_us/updated_us, a revision counter is added and
lifecycle_stage goes (a contact's stage is its lifecycle_stage property, kept with its
history). property_changes, events, scores, score_history and stage_changes are rebuilt with
the new columns; existing rows are carried over, their typed forms computed by
`leadscore.catalog.forms.typed_forms`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadscore.catalog.forms import to_micros, typed_forms

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MICROS = sa.BigInteger()
JSON_VALUE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
BATCH = 5_000


def _micros(value: Any) -> int:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_micros(value)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _copy(connection: sa.Connection, select_sql: str, table: sa.Table,
          convert: Any) -> None:
    result = connection.execute(sa.text(select_sql))
    while True:
        rows = result.fetchmany(BATCH)
        if not rows:
            break
        connection.execute(table.insert(), [convert(row) for row in rows])


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    json_text = (lambda c: c) if sqlite else (lambda c: f"{c}::text")

    # contacts: keep the table (outcomes refer to it), swap its columns
    op.add_column("contacts", sa.Column("created_us", MICROS, nullable=True))
    op.add_column("contacts", sa.Column("updated_us", MICROS, nullable=True))
    op.add_column("contacts", sa.Column("rev", MICROS, nullable=False, server_default="0"))
    contacts = sa.table("contacts", sa.column("contact_id"), sa.column("created_us"),
                        sa.column("updated_us"))
    rows = connection.execute(sa.text(
        "SELECT contact_id, created_at, updated_at FROM contacts")).all()
    for start in range(0, len(rows), BATCH):
        part = rows[start:start + BATCH]
        connection.execute(
            contacts.update().where(contacts.c.contact_id == sa.bindparam("key")),
            [{"key": r[0], "created_us": _micros(r[1]), "updated_us": _micros(r[2])}
             for r in part])
    op.drop_index("ix_contacts_created_at", table_name="contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("created_us", nullable=False, existing_type=MICROS)
        batch.alter_column("updated_us", nullable=False, existing_type=MICROS)
        batch.drop_column("created_at")
        batch.drop_column("updated_at")
        batch.drop_column("lifecycle_stage")
    op.create_index("ix_contacts_created", "contacts", ["created_us"])
    op.create_index("ix_contacts_rev", "contacts", ["rev"])

    meta = sa.MetaData()
    new_changes = sa.Table(
        "property_changes_new", meta,
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("changed_us", MICROS, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("value", JSON_VALUE),
        sa.Column("v_text", sa.Text()),
        sa.Column("v_num", sa.Double()),
        sa.Column("v_bool", sa.Boolean()),
        sa.Column("v_time", MICROS),
        sqlite_autoincrement=True,
    )
    new_events = sa.Table(
        "events_new", meta,
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text(), nullable=False, unique=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("occurred_us", MICROS, nullable=False),
        sa.Column("received_us", MICROS, nullable=False),
        sa.Column("attributes", JSON_VALUE, nullable=False),
        sqlite_autoincrement=True,
    )
    new_scores = sa.Table(
        "scores_new", meta,
        sa.Column("contact_id", sa.Text(), primary_key=True),
        sa.Column("model", sa.Text(), primary_key=True),
        sa.Column("score", sa.Text(), primary_key=True),
        sa.Column("value", sa.Double()),
        sa.Column("label", sa.Text()),
        sa.Column("computed_us", MICROS, nullable=False),
        sa.Column("as_of_us", MICROS, nullable=False),
        sa.Column("next_change_us", MICROS),
    )
    new_history = sa.Table(
        "score_history_new", meta,
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("score", sa.Text(), nullable=False),
        sa.Column("value", sa.Double()),
        sa.Column("label", sa.Text()),
        sa.Column("computed_us", MICROS, nullable=False),
        sa.Column("as_of_us", MICROS, nullable=False),
        sqlite_autoincrement=True,
    )
    new_stages = sa.Table(
        "stage_changes_new", meta,
        sa.Column("seq", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("previous", sa.Text()),
        sa.Column("changed_us", MICROS, nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    meta.create_all(connection)

    def change(row: Any) -> dict[str, Any]:
        value = _json(row[3])
        text, number, flag, micros = typed_forms(value)
        return {"seq": row[0], "contact_id": row[1], "name": row[2], "value": value,
                "changed_us": _micros(row[4]), "source": row[5], "v_text": text,
                "v_num": number, "v_bool": flag, "v_time": micros}

    _copy(connection, "SELECT id, contact_id, name, " + json_text("value")
          + ", changed_at, source FROM property_changes ORDER BY id", new_changes, change)
    _copy(connection, "SELECT id, event_id, contact_id, type, occurred_at, received_at, "
          + json_text("attributes") + " FROM events ORDER BY id", new_events,
          lambda r: {"seq": r[0], "event_id": r[1], "contact_id": r[2], "type": r[3],
                     "occurred_us": _micros(r[4]), "received_us": _micros(r[5]),
                     "attributes": _json(r[6]) or {}})
    _copy(connection, "SELECT contact_id, model, score, value, label, computed_at, as_of "
          "FROM scores", new_scores,
          lambda r: {"contact_id": r[0], "model": r[1], "score": r[2], "value": r[3],
                     "label": r[4], "computed_us": _micros(r[5]), "as_of_us": _micros(r[6])})
    _copy(connection, "SELECT id, contact_id, model, score, value, label, computed_at, as_of "
          "FROM score_history ORDER BY id", new_history,
          lambda r: {"seq": r[0], "contact_id": r[1], "model": r[2], "score": r[3],
                     "value": r[4], "label": r[5], "computed_us": _micros(r[6]),
                     "as_of_us": _micros(r[7])})
    _copy(connection, "SELECT id, contact_id, stage, previous, changed_at, cause "
          "FROM stage_changes ORDER BY id", new_stages,
          lambda r: {"seq": r[0], "contact_id": r[1], "stage": r[2], "previous": r[3],
                     "changed_us": _micros(r[4]), "cause": r[5]})

    for old in ("property_changes", "events", "scores", "score_history", "stage_changes"):
        op.drop_table(old)
        op.rename_table(f"{old}_new", old)
        if not sqlite:  # keep the serial sequences' names in step with their tables
            connection.execute(sa.text(
                f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_class WHERE relname = "
                f"'{old}_new_seq_seq') THEN ALTER SEQUENCE {old}_new_seq_seq RENAME TO "
                f"{old}_seq_seq; END IF; END $$"))
    if not sqlite:
        for old in ("property_changes", "events", "score_history", "stage_changes"):
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{old}', 'seq'), "
                f"coalesce((SELECT max(seq) FROM {old}), 0) + 1, false)"))
        connection.execute(sa.text(
            "ALTER TABLE events RENAME CONSTRAINT events_new_event_id_key "
            "TO events_event_id_key"))
    op.create_index("ix_property_changes_contact", "property_changes",
                    ["contact_id", "changed_us"])
    op.create_index("ix_events_contact", "events", ["contact_id", "occurred_us"])
    op.create_index("ix_scores_model_score", "scores", ["model", "score", "value"])
    op.create_index("ix_score_history_contact", "score_history",
                    ["contact_id", "model", "computed_us"])
    op.create_index("ix_stage_changes_contact", "stage_changes", ["contact_id", "changed_us"])

    op.create_table(
        "segments",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("model", sa.Text()),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("rows", MICROS, nullable=False),
        sa.Column("min_seq", MICROS),
        sa.Column("max_seq", MICROS),
        sa.Column("created_us", MICROS, nullable=False),
        sa.Column("retired_us", MICROS),
        sa.Column("meta", JSON_VALUE),
    )
    op.create_index("ix_segments_kind", "segments", ["kind", "retired_us"])
    op.create_table(
        "store_state",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("value", MICROS, nullable=False),
        sa.Column("detail", JSON_VALUE),
    )


def downgrade() -> None:  # pragma: no cover - leadscore only migrates forward
    raise NotImplementedError("0005 changes the layout of every bulk table; restore a backup")
