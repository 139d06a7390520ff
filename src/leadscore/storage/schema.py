"""The store's tables, as SQLAlchemy Core metadata (the migrations create the same schema).

Times are `UTCDateTime`: timezone-aware UTC datetimes in and out, on SQLite (stored as naive
UTC text, which sorts correctly) and PostgreSQL (`timestamp with time zone`). Property values
and event attributes are JSON (JSONB on PostgreSQL); datetimes inside them are ISO strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every dialect; naive datetimes are taken to be UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from an aggregate
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
JSON_VALUE = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _contact_fk() -> ForeignKey:
    return ForeignKey("contacts.contact_id", ondelete="CASCADE")


metadata = MetaData()

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Text, primary_key=True),
    Column("email", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lifecycle_stage", Text),
    Index("ix_contacts_created_at", "created_at"),
)

property_changes = Table(
    "property_changes",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, _contact_fk(), nullable=False),
    Column("name", Text, nullable=False),
    Column("value", JSON_VALUE),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("source", Text, nullable=False),
    Index("ix_property_changes_contact_time", "contact_id", "changed_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("contact_id", Text, _contact_fk(), nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("attributes", JSON_VALUE, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_events_contact_time", "contact_id", "occurred_at"),
)

scores = Table(
    "scores",
    metadata,
    Column("contact_id", Text, _contact_fk(), primary_key=True),
    Column("model", Text, primary_key=True),
    Column("score", Text, primary_key=True),
    Column("value", Double),
    Column("label", Text),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("as_of", UTCDateTime, nullable=False),
    Index("ix_scores_model_score", "model", "score"),
)

score_history = Table(
    "score_history",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, _contact_fk(), nullable=False),
    Column("model", Text, nullable=False),
    Column("score", Text, nullable=False),
    Column("value", Double),
    Column("label", Text),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("as_of", UTCDateTime, nullable=False),
    Index("ix_score_history_contact", "contact_id", "model", "computed_at"),
)

stage_changes = Table(
    "stage_changes",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, _contact_fk(), nullable=False),
    Column("stage", Text, nullable=False),
    Column("previous", Text),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("cause", Text, nullable=False),
    Index("ix_stage_changes_contact_time", "contact_id", "changed_at"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("contact_id", Text, _contact_fk(), primary_key=True),
    Column("opportunity_at", UTCDateTime),
    Column("won_at", UTCDateTime),
    Column("lost_at", UTCDateTime),
    Column("source", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)
