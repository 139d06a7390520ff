"""The store's tables, as SQLAlchemy Core metadata (the migrations create the same schema).

The bulk tables — contacts, property changes, events, scores, score history and stage
changes — keep times as integer microseconds since the epoch (`*_us`, BIGINT), the form the
scoring engines compare and age them in, and property values both as their JSON text and as
typed forms (`v_text`, `v_num`, `v_bool`, `v_time`: what the value reads as when a model
declares the property a string, number, bool or date), so that every engine reads a value
exactly as the Python evaluator does. Order among changes at the same moment is `seq`, the
order they were recorded in.

On the embedded SQLite store these tables hold the recent rows (the *tail*); bulk data lives in
immutable Parquet segments listed in `segments` (see `storage.segments`). On PostgreSQL they
hold everything. The automation tables (`automation_schema`) keep `UTCDateTime` columns:
they are small and read one contact at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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
MICROS = BigInteger()
JSON_VALUE = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

metadata = MetaData()

contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Text, primary_key=True),
    Column("email", Text),
    Column("created_us", MICROS, nullable=False),
    Column("updated_us", MICROS, nullable=False),
    # +1 from a store-wide counter whenever the row is inserted or changed: bulk readers take
    # the rows a segment mirror does not have yet (rev above its watermark)
    Column("rev", MICROS, nullable=False, server_default="0"),
    Index("ix_contacts_created", "created_us"),
    Index("ix_contacts_rev", "rev"),
)

property_changes = Table(
    "property_changes",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("changed_us", MICROS, nullable=False),
    Column("source", Text, nullable=False),
    Column("value", JSON_VALUE),  # None: the change cleared the value
    Column("v_text", Text),
    Column("v_num", Double),
    Column("v_bool", Boolean),
    Column("v_time", MICROS),
    Index("ix_property_changes_contact", "contact_id", "changed_us"),
    sqlite_autoincrement=True,  # seq never goes back: segments hold lower ones
)

events = Table(
    "events",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("contact_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_us", MICROS, nullable=False),
    Column("received_us", MICROS, nullable=False),
    Column("attributes", JSON_VALUE, nullable=False),
    Index("ix_events_contact", "contact_id", "occurred_us"),
    sqlite_autoincrement=True,  # seq never goes back: segments hold lower ones
)

scores = Table(
    "scores",
    metadata,
    Column("contact_id", Text, primary_key=True),
    Column("model", Text, primary_key=True),
    Column("score", Text, primary_key=True),
    Column("value", Double),
    Column("label", Text),
    Column("computed_us", MICROS, nullable=False),
    Column("as_of_us", MICROS, nullable=False),
    Column("next_change_us", MICROS),  # when time alone changes the contact's scores next
    Column("version", Integer),  # the published model version that computed it (migration 0010)
    # FALSE: unscored (no rule applied, no ledger entry; value 0); NULL: written before
    # migration 0014, read as scored
    Column("scored", Boolean),
    Index("ix_scores_model_score", "model", "score", "value"),
)

score_history = Table(
    "score_history",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("score", Text, nullable=False),
    Column("value", Double),
    Column("label", Text),
    Column("computed_us", MICROS, nullable=False),
    Column("as_of_us", MICROS, nullable=False),
    Column("version", Integer),  # the published model version that computed it (migration 0010)
    Index("ix_score_history_contact", "contact_id", "model", "computed_us"),
    sqlite_autoincrement=True,  # seq never goes back: segments hold lower ones
)

stage_changes = Table(
    "stage_changes",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("contact_id", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("previous", Text),
    Column("changed_us", MICROS, nullable=False),
    Column("cause", Text, nullable=False),
    Index("ix_stage_changes_contact", "contact_id", "changed_us"),
    sqlite_autoincrement=True,  # seq never goes back: segments hold lower ones
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("contact_id", Text, ForeignKey("contacts.contact_id", ondelete="CASCADE"),
           primary_key=True),
    Column("opportunity_at", UTCDateTime),
    Column("won_at", UTCDateTime),
    Column("lost_at", UTCDateTime),
    Column("source", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# The embedded store's catalog of Parquet segments (storage.segments). PostgreSQL has the
# table too (empty): one schema for both.
segments = Table(
    "segments",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),  # events | props | history | stages | scores | …
    Column("model", Text),  # scores segments: the model they were computed under
    Column("file", Text, nullable=False),  # name inside the store's data folder
    Column("rows", MICROS, nullable=False),
    Column("min_seq", MICROS),
    Column("max_seq", MICROS),
    Column("created_us", MICROS, nullable=False),
    Column("retired_us", MICROS),  # replaced by a compaction; the file goes after a grace time
    Column("meta", JSON_VALUE),
    Index("ix_segments_kind", "kind", "retired_us"),
)

# Store-wide counters and watermarks (name → value): sequence ranges handed to bulk
# segments, the contacts revision counter, what scoring and automation have seen.
store_state = Table(
    "store_state",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", MICROS, nullable=False),
    Column("detail", JSON_VALUE),
)

# Published model versions (migration 0010, `storage.versions`): each version's content, and
# each publish or rollback — the rescore's state, and when the version went live.
model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("source", Text),
    Column("author", Text),
    Column("message", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

model_publishes = Table(
    "model_publishes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, ForeignKey("model_versions.id"), nullable=False),
    Column("previous", Integer),
    Column("action", Text, nullable=False),  # publish | rollback
    Column("state", Text, nullable=False),  # rescoring | live | superseded
    Column("phase", Text),
    Column("contacts", BigInteger),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("author", Text),
    Column("message", Text),
    Column("started_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("live_us", BigInteger),
    Index("ix_model_publishes_state", "state", "live_us"),
    sqlite_autoincrement=True,
)

BULK_TABLES = ("contacts", "property_changes", "events", "scores", "score_history",
               "stage_changes")


# the automation tables and the API keys share this metadata: whoever reads the schema sees
# them all
from leadscore.storage import (  # noqa: E402, F401
    api_keys,
    automation_schema,
    companies,
    company_lists,
    identities,
    ledger,
    web_users,
)
