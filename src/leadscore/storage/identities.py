"""Identity resolution for Segment-spec ingestion (migration 0007).

- `segment_messages`: every message id accepted, so that a resent message is a no-op.
- `identities`: ids that resolve to a contact other than themselves — an *anonymous* id
  (`anonymousId`) once the visitor identified, and a *user* id that `alias` merged into
  another contact. A user id not listed here is its own contact id.
- `anonymous_activity`: what a visitor did before identifying (checked events, and traits),
  held apart from the contacts until an identify (or alias) names the contact; then it is
  written as the contact's own events and property changes, and deleted here.

`merge_contact` moves one contact's data into another (`alias` of two known contacts): its
events and property changes are written again under the surviving contact (new sequence
numbers, so incremental scoring sees them), outcomes move when the survivor has none, tasks
and notifications are re-pointed, and every derived row of the merged contact (scores, score
and stage history, list memberships, trigger states, enrollments and their steps, its due
time) is deleted — the worker recomputes the survivor's from the combined data. On the
embedded store the segments holding its rows are written again without them.

Everything here runs on the caller's `Writer`, inside its one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Index, Table, Text, delete, select, update

from leadscore.storage.schema import ROW_ID, metadata

if TYPE_CHECKING:
    from leadscore.storage.writer import Writer

segment_messages = Table(
    "segment_messages",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("received_us", BigInteger, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("kind", Text, primary_key=True),  # anonymous | user
    Column("key", Text, primary_key=True),
    Column("contact_id", Text, nullable=False),
    Column("linked_us", BigInteger, nullable=False),
    Index("ix_identities_contact", "contact_id"),
)

anonymous_activity = Table(
    "anonymous_activity",
    metadata,
    Column("seq", ROW_ID, primary_key=True, autoincrement=True),
    Column("anonymous_id", Text, nullable=False),
    Column("kind", Text, nullable=False),  # event | traits
    Column("occurred_us", BigInteger, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("item", Text, nullable=False),  # JSON
    Index("ix_anonymous_activity_id", "anonymous_id", "seq"),
    sqlite_autoincrement=True,
)

ANONYMOUS = "anonymous"
USER = "user"
CHUNK = 500
# rows that record what happened to or for a person: kept, re-pointed at the survivor
_REPOINTED = ("tasks", "outbox", "identities")
# the contact's data, moved row by row (events, property changes) or on their own (outcomes)
_MOVED = ("contacts", "events", "property_changes", "outcomes")

@dataclass(frozen=True)
class Held:
    """Activity of a visitor before it identified: `kind` event or traits."""

    kind: str
    occurred_us: int
    received_us: int
    item: dict[str, Any]


@dataclass(frozen=True)
class MergeCounts:
    events: int
    property_changes: int


# -- message ids ---------------------------------------------------------------------------

def seen_messages(writer: Writer, ids: Iterable[str]) -> set[str]:
    """The message ids among `ids` already accepted."""
    wanted = sorted(set(ids))
    found: set[str] = set()
    column = segment_messages.c.message_id
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start:start + CHUNK]
        found.update(row[0] for row in writer.connection.execute(
            select(column).where(column.in_(part))))
    return found


def record_messages(writer: Writer, messages: list[tuple[str, str]], received_us: int) -> None:
    """Remember accepted (message id, kind) pairs."""
    if messages:
        writer.connection.execute(segment_messages.insert(), [
            {"message_id": m, "kind": k, "received_us": received_us} for m, k in messages])


# -- identities ----------------------------------------------------------------------------

def contact_of(writer: Writer, kind: str, key: str) -> str | None:
    """The contact an anonymous id (kind `anonymous`) or a merged user id (`user`) resolves
    to, or None."""
    c = identities.c
    return writer.connection.execute(
        select(c.contact_id).where(c.kind == kind, c.key == key)).scalar()


def link(writer: Writer, kind: str, key: str, contact_id: str, at_us: int) -> None:
    """Let `key` resolve to `contact_id` (replacing what it resolved to before)."""
    c = identities.c
    writer.connection.execute(delete(identities).where(c.kind == kind, c.key == key))
    writer.connection.execute(identities.insert().values(kind=kind, key=key,
                                                         contact_id=contact_id, linked_us=at_us))


# -- anonymous activity ----------------------------------------------------------------------

def hold(writer: Writer, anonymous_id: str, kind: str, occurred_us: int, received_us: int,
         item: dict[str, Any]) -> None:
    writer.connection.execute(anonymous_activity.insert().values(
        anonymous_id=anonymous_id, kind=kind, occurred_us=occurred_us, received_us=received_us,
        item=json.dumps(item, separators=(",", ":"), ensure_ascii=False)))


def take_held(writer: Writer, anonymous_id: str) -> list[Held]:
    """The visitor's held activity in the order it arrived, deleted from the holding table."""
    a = anonymous_activity.c
    rows = writer.connection.execute(
        select(a.kind, a.occurred_us, a.received_us, a.item)
        .where(a.anonymous_id == anonymous_id).order_by(a.seq)).fetchall()
    if rows:
        writer.connection.execute(delete(anonymous_activity)
                                  .where(a.anonymous_id == anonymous_id))
    return [Held(kind, int(at), int(received), json.loads(item))
            for kind, at, received, item in rows]


def is_held(writer: Writer, anonymous_id: str) -> bool:
    a = anonymous_activity.c
    return writer.connection.execute(
        select(a.seq).where(a.anonymous_id == anonymous_id).limit(1)).first() is not None


# -- merging two contacts ------------------------------------------------------------------

def merge_contact(writer: Writer, old: str, new: str, now_us: int) -> MergeCounts:
    """Move contact `old`'s data into `new` (which exists) and remove `old` (see above)."""
    from leadscore.storage.privacy import contact_tables
    from leadscore.storage.reading import Batch, HistoryRows, duck_of, segments_of
    from leadscore.storage.rewrite import drop_segment_rows
    from leadscore.storage.segments import SegmentKind
    from leadscore.storage.writer import touch_contacts

    connection = writer.connection
    mark = writer.codec.param()
    batch = Batch.of([old], contiguous=False)
    reader = HistoryRows(connection)
    events = reader.events(batch)
    changes = reader.properties(batch)
    received = {row[0]: int(row[1]) for row in connection.exec_driver_sql(
        f"SELECT event_id, received_us FROM events WHERE contact_id = {mark}", (old,))}
    for table in ("events", "property_changes"):
        connection.exec_driver_sql(f"DELETE FROM {table} WHERE contact_id = {mark}", (old,))
    segments = segments_of(connection)
    if segments is not None:  # the embedded store: take its rows out of every segment kind
        duck = duck_of(connection)
        for kind in SegmentKind:
            drop_segment_rows(connection, segments, duck, kind, "contact_id = ?", [old])
    json_out = writer.codec.json_out
    writer.codec.insert_many(
        connection, "events",
        ("event_id", "contact_id", "type", "occurred_us", "attributes", "received_us"),
        [(event_id, new, kind, int(at), _json_text(json_out(attributes)),
          received.get(event_id, now_us))
         for _, kind, at, _seq, attributes, event_id in events],
        kinds=("text", "text", "text", "int8", "jsonb", "int8"), ignore_conflict_on="event_id")
    writer.codec.insert_many(
        connection, "property_changes",
        ("contact_id", "name", "changed_us", "source", "value", "v_text", "v_num", "v_bool",
         "v_time"),
        [(new, name, int(at), source, None if value is None else _json_text(json_out(value)),
          v_text, v_num, None if v_bool is None else bool(v_bool), v_time)
         for _, name, at, _seq, value, v_text, v_num, v_bool, v_time, source in changes],
        kinds=("text", "text", "int8", "text", "jsonb", "text", "float8", "bool", "int8"))
    _merge_contact_rows(writer, old, new)
    for table in contact_tables():
        if table in _MOVED:
            continue
        if table in _REPOINTED:
            connection.exec_driver_sql(
                f"UPDATE {table} SET contact_id = {mark} WHERE contact_id = {mark}", (new, old))
        else:
            connection.exec_driver_sql(f"DELETE FROM {table} WHERE contact_id = {mark}", (old,))
    connection.exec_driver_sql(f"DELETE FROM contacts WHERE contact_id = {mark}", (old,))
    touch_contacts(connection, [new])
    return MergeCounts(len(events), len(changes))


def _merge_contact_rows(writer: Writer, old: str, new: str) -> None:
    """The survivor keeps its row; it was created when the earlier of the two was, and takes
    the other's e-mail when it has none. Outcomes move when the survivor has none."""
    from leadscore.storage.schema import outcomes

    connection = writer.connection
    rows = writer.contact_rows([old, new])
    before, after = rows.get(old), rows.get(new)
    if before is not None and after is not None:
        mark = writer.codec.param()
        connection.exec_driver_sql(
            f"UPDATE contacts SET created_us = {mark}, email = {mark} WHERE contact_id = {mark}",
            (min(before.created_us, after.created_us), after.email or before.email, new))
    o = outcomes.c
    if connection.execute(select(o.contact_id).where(o.contact_id == new)).first() is None:
        connection.execute(update(outcomes).where(o.contact_id == old).values(contact_id=new))
    else:
        connection.execute(delete(outcomes).where(o.contact_id == old))


def _json_text(value: Any) -> str:
    from leadscore.storage.json_value import dump_json

    return dump_json(value)


__all__ = ["ANONYMOUS", "USER", "Held", "MergeCounts", "anonymous_activity", "contact_of",
           "hold", "identities", "is_held", "link", "merge_contact", "record_messages",
           "seen_messages", "segment_messages", "take_held"]
