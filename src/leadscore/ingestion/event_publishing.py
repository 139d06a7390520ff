"""Publishing staged events into the store, set-wise and atomically.

The staged events (see `event_staging`) are compared with the stored ones by id: an event the
store already has with the same content is left alone (a resend counts once); one it has with
*other* content is a conflict — reported with both versions unless `on_conflict` says to keep
the stored one or to replace it with the file's (the stored version is removed in the publishing
transaction, the file's gets a new sequence number, and the contact that had the stored version
gets a new revision: both count as changed for incremental scoring and the automation).
Events of contacts the store does not have are mistakes, unless the import creates those
contacts (as of their first event). Everything new is then written in one
transaction: on the embedded store as a Parquet segment (few rows: the SQLite tail), on
PostgreSQL through COPY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.catalog.forms import from_micros
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion.event_staging import MAX_DIAGNOSTICS, StagedEvents, raise_bounded
from leadscore.storage.bulk import (
    SEGMENT_MIN_ROWS,
    Staging,
    arrow_rows,
    count_rows,
    write_event_segment,
)
from leadscore.storage.rewrite import drop_segment_rows
from leadscore.storage.segments import SegmentKind, now_us
from leadscore.storage.views import DataView
from leadscore.storage.writer import next_revisions, touch_contacts

CONFLICT_CHOICES = ("error", "keep", "replace")


@dataclass
class EventsWritten:
    inserted: int = 0
    unchanged: int = 0  # already stored with the same content
    conflicts_kept: int = 0  # stored with other content; the stored version was kept
    conflicts_replaced: int = 0  # stored with other content; replaced by the file's version
    contacts_created: int = 0
    segment: bool = False


def publish_events(staged: Staging, found: StagedEvents, path: Path, *,
                   create_missing_contacts: bool = False, on_conflict: str = "error",
                   restage: Callable[[], StagedEvents] | None = None) -> EventsWritten:
    """Write the new staged events. `restage` reads the file again the row path, for
    mistakes that are reported line by line (conflicts, unknown contacts)."""
    try:
        return _publish(staged, found, path, create_missing_contacts, on_conflict)
    except _NeedLines:
        assert restage is not None
        return _publish(staged, restage(), path, create_missing_contacts, on_conflict)


class _NeedLines(Exception):
    """A mistake to report, found in rows staged without their lines."""


def _publish(staged: Staging, found: StagedEvents, path: Path, create_missing_contacts: bool,
             on_conflict: str) -> EventsWritten:
    store = staged.store
    result = EventsWritten()
    received = now_us()
    if store.segments is not None:
        with store.read() as connection, DataView(connection) as view:
            stored = view.relation("events")
            contacts = view.relation("contacts")
            new, replaced, result = _compare(staged, found, path, stored, on_conflict,
                                             result)
            missing = staged.write("missing", f"""
                SELECT n.contact_id, min(n.occurred_us) AS first_us, min(n.line) AS line,
                       any_value(n.event_id) AS event_id
                FROM {new} AS n ANTI JOIN {contacts} AS c ON c.contact_id = n.contact_id
                GROUP BY n.contact_id""")
        _check_missing(staged, found, new, missing, path, create_missing_contacts)
        inserted = count_rows(staged, new)
        if inserted >= SEGMENT_MIN_ROWS:
            _publish_segment(staged, new, missing, received, replaced)
            result.segment = True
        else:
            _publish_rows(staged, new, missing, received, replaced)
        result.inserted = inserted - result.conflicts_replaced  # new ids only
        result.contacts_created = count_rows(staged, missing)
        return result
    return _publish_postgres(staged, found, path, create_missing_contacts, on_conflict,
                             received, result)


def _compare(staged: Staging, found: StagedEvents, path: Path, stored: str, on_conflict: str,
             result: EventsWritten) -> tuple[str, str | None, EventsWritten]:
    """The staged events to write (those the store does not have yet, and with `replace` the
    conflicting ones) and, with `replace`, the stored events they replace (event id and
    contact); conflicts reported or counted."""
    duck = staged.duck
    same = ("s.contact_id = e.contact_id AND s.type = e.type AND s.occurred_us = e.occurred_us "
            "AND json(s.attributes) = json(e.attributes)")
    matched = staged.write("matched", f"""
        SELECT s.event_id, s.line, {same} AS same, e.contact_id AS stored_contact,
               e.type AS stored_type, e.occurred_us AS stored_us,
               e.attributes AS stored_attributes, s.contact_id, s.type, s.occurred_us,
               s.attributes
        FROM {found.source} AS s JOIN {stored} AS e ON e.event_id = s.event_id""")
    unchanged, conflicts = duck.execute(
        f"SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) "
        f"FROM {matched}").fetchall()[0]
    result.unchanged = int(unchanged)
    if conflicts and on_conflict == "error":
        if found.path == "set":
            raise _NeedLines()
        diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
        for row in duck.execute(f"SELECT * FROM {matched} WHERE NOT same ORDER BY line, "
                                "event_id").fetchall():
            _conflict(diagnostics, path, row)
        raise_bounded(diagnostics, path)
    replaced = None
    if conflicts and on_conflict == "replace":
        result.conflicts_replaced = int(conflicts)
        replaced = staged.write("replaced", f"SELECT event_id, stored_contact AS contact_id "
                                            f"FROM {matched} WHERE NOT same")
        if not unchanged:
            return found.source, replaced, result
        new = staged.write("new", f"SELECT * FROM {found.source} AS s ANTI JOIN (SELECT * "
                                  f"FROM {matched} WHERE same) AS m ON m.event_id = s.event_id")
        return new, replaced, result
    result.conflicts_kept = int(conflicts)
    if not unchanged and not conflicts:
        return found.source, None, result
    new = staged.write("new", f"SELECT * FROM {found.source} AS s ANTI JOIN {matched} AS m "
                              "ON m.event_id = s.event_id")
    return new, None, result


def _conflict(diagnostics: DiagnosticList, path: Path, row: tuple[Any, ...]) -> None:
    (event_id, line, _, stored_contact, stored_type, stored_us, stored_attributes, contact,
     kind, occurred, attributes) = row

    def shown(c: str, t: str, us: int, a: str) -> str:
        return (f"{{contact {c}, {t} at {from_micros(us).isoformat()}, "
                f"attributes {_short(a)}}}")

    diagnostics.error(
        "LS241", f"event id '{event_id}' is already stored as "
                 f"{shown(stored_contact, stored_type, stored_us, stored_attributes)}; "
                 f"this file has {shown(contact, kind, occurred, attributes)}",
        Location(file=str(path), line=line, field="event_id"), text=event_id,
        hint="an event id names one event: give the corrected event a new id, or import "
             "with --on-conflict keep (the stored version stays) or --on-conflict replace "
             "(the file's version replaces it)")


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "…"


def _check_missing(staged: Staging, found: StagedEvents, new: str, missing: str, path: Path,
                   create: bool) -> None:
    """Every event of a contact the store does not have is a mistake (unless created)."""
    if create or not count_rows(staged, missing):
        return
    if found.path == "set":
        raise _NeedLines()
    rows = staged.duck.execute(
        f"SELECT n.contact_id, n.line FROM {new} AS n SEMI JOIN {missing} AS m "
        f"ON m.contact_id = n.contact_id ORDER BY n.line LIMIT {MAX_DIAGNOSTICS + 1}"
    ).fetchall()
    total = staged.duck.execute(
        f"SELECT count(*) FROM {new} AS n SEMI JOIN {missing} AS m "
        f"ON m.contact_id = n.contact_id").fetchall()[0][0]
    diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
    for contact_id, line in rows:
        diagnostics.error(
            "LS219", f"contact '{contact_id}' of this event is not in the store",
            Location(file=str(path), line=line, field="contact_id"), text=contact_id,
            hint="import the contacts first (leadscore import contacts …), or import the "
                 "events with --create-contacts")
    diagnostics.dropped += max(0, int(total) - len(rows))
    raise_bounded(diagnostics, path)


def _contact_rows(staged: Staging, missing: str, revision: int) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for part in arrow_rows(staged, missing, ("contact_id", "first_us")):
        for contact_id, first in part:
            found.append((contact_id, None, first, first, revision + len(found)))
    return found


def _insert_contacts(writer: Any, rows: list[tuple[Any, ...]]) -> None:
    writer.codec.insert_many(writer.connection, "contacts",
                             ("contact_id", "email", "created_us", "updated_us", "rev"), rows,
                             kinds=("text", "text", "int8", "int8", "int8"))


def _drop_replaced(staged: Staging, writer: Any, replaced: str | None) -> None:
    """Inside the publishing transaction: the stored versions of replaced events go (from the
    tail and from every segment holding one), and their contacts get a new revision."""
    if replaced is None:
        return
    segments = staged.store.segments
    assert segments is not None
    connection = writer.connection
    pairs = staged.duck.execute(f"SELECT event_id, contact_id FROM {replaced}").fetchall()
    cursor = connection.connection.cursor()
    try:
        cursor.executemany("DELETE FROM events WHERE event_id = ?",
                           [(event_id,) for event_id, _ in pairs])
    finally:
        cursor.close()
    drop_segment_rows(connection, segments, staged.duck, SegmentKind.EVENTS,
                      f"event_id IN (SELECT event_id FROM {replaced})")
    touch_contacts(connection, sorted({contact for _, contact in pairs}))


def _publish_segment(staged: Staging, new: str, missing: str, received: int,
                     replaced: str | None = None) -> None:
    store = staged.store
    segments = store.segments
    assert segments is not None
    count = count_rows(staged, new)
    with store.write() as writer:
        first = segments.reserve_seq(writer.connection, "events", count)
    written = write_event_segment(staged, new, first, received)
    with store.write() as writer:
        _drop_replaced(staged, writer, replaced)
        created = count_rows(staged, missing)
        if created:
            _insert_contacts(writer, _contact_rows(staged, missing,
                                                   next_revisions(writer.connection, created)))
        segments.publish(writer.connection, SegmentKind.EVENTS, written, rows=count,
                         min_seq=first, max_seq=first + count - 1)


def _publish_rows(staged: Staging, new: str, missing: str, received: int,
                  replaced: str | None = None) -> None:
    store = staged.store
    with store.write() as writer:
        _drop_replaced(staged, writer, replaced)
        created = count_rows(staged, missing)
        if created:
            _insert_contacts(writer, _contact_rows(staged, missing,
                                                   next_revisions(writer.connection, created)))
        for part in arrow_rows(staged, f"(SELECT * FROM {new} ORDER BY contact_id, "
                                       "occurred_us, event_id)",
                               ("event_id", "contact_id", "type", "occurred_us",
                                "attributes")):
            writer.codec.insert_many(
                writer.connection, "events",
                ("event_id", "contact_id", "type", "occurred_us", "attributes", "received_us"),
                [(*row, received) for row in part],
                kinds=("text", "text", "text", "int8", "jsonb", "int8"),
                ignore_conflict_on="event_id")


# -- PostgreSQL --------------------------------------------------------------------------------

_PG_STAGE = """CREATE TEMPORARY TABLE ls_import_events (
    line BIGINT, event_id TEXT, contact_id TEXT, type TEXT, occurred_us BIGINT,
    attributes TEXT) ON COMMIT DROP"""


def _publish_postgres(staged: Staging, found: StagedEvents, path: Path, create: bool,
                      on_conflict: str, received: int, result: EventsWritten) -> EventsWritten:
    store = staged.store
    with store.write() as writer:
        connection = writer.connection
        raw: Any = connection.connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(_PG_STAGE)
            with cursor.copy("COPY ls_import_events (line, event_id, contact_id, type, "
                             "occurred_us, attributes) FROM STDIN") as copy:
                for part in arrow_rows(staged, found.source,
                                       ("line", "event_id", "contact_id", "type",
                                        "occurred_us", "attributes")):
                    for row in part:
                        copy.write_row(row)
            cursor.execute(
                "SELECT s.event_id, s.line, (s.contact_id = e.contact_id AND s.type = e.type "
                "AND s.occurred_us = e.occurred_us AND s.attributes::jsonb = e.attributes), "
                "e.contact_id, e.type, e.occurred_us, e.attributes::text, s.contact_id, s.type, "
                "s.occurred_us, s.attributes FROM ls_import_events s JOIN events e "
                "ON e.event_id = s.event_id ORDER BY s.line, s.event_id")
            matched = cursor.fetchall()
            conflicts = [row for row in matched if not row[2]]
            if conflicts and on_conflict == "error":
                if found.path == "set":
                    raise _NeedLines()
                diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
                for row in conflicts:
                    _conflict(diagnostics, path, row)
                raise_bounded(diagnostics, path)
            result.unchanged = len(matched) - len(conflicts)
            if conflicts and on_conflict == "replace":
                cursor.execute(
                    "DELETE FROM events e USING ls_import_events s WHERE e.event_id = "
                    "s.event_id AND NOT (s.contact_id = e.contact_id AND s.type = e.type AND "
                    "s.occurred_us = e.occurred_us AND s.attributes::jsonb = e.attributes) "
                    "RETURNING e.contact_id")
                touch_contacts(connection, sorted({row[0] for row in cursor.fetchall()}))
                result.conflicts_replaced = len(conflicts)
            else:
                result.conflicts_kept = len(conflicts)
            cursor.execute(
                "SELECT s.contact_id, min(s.occurred_us), min(s.line) FROM ls_import_events s "
                "WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.contact_id = s.contact_id) "
                "GROUP BY s.contact_id ORDER BY min(s.line), s.contact_id")
            missing = cursor.fetchall()
            if missing and not create:
                if found.path == "set":
                    raise _NeedLines()
                cursor.execute(
                    "SELECT s.contact_id, s.line FROM ls_import_events s WHERE NOT EXISTS "
                    "(SELECT 1 FROM contacts c WHERE c.contact_id = s.contact_id) "
                    f"ORDER BY s.line LIMIT {MAX_DIAGNOSTICS}")
                diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
                for contact_id, line in cursor.fetchall():
                    diagnostics.error(
                        "LS219", f"contact '{contact_id}' of this event is not in the store",
                        Location(file=str(path), line=line, field="contact_id"),
                        text=contact_id,
                        hint="import the contacts first (leadscore import contacts …), or "
                             "import the events with --create-contacts")
                raise_bounded(diagnostics, path)
            if missing:
                revision = next_revisions(connection, len(missing))
                _insert_contacts(writer, [(cid, None, first, first, revision + i)
                                          for i, (cid, first, _) in enumerate(missing)])
                result.contacts_created = len(missing)
            cursor.execute(
                "INSERT INTO events (event_id, contact_id, type, occurred_us, received_us, "
                "attributes) SELECT event_id, contact_id, type, occurred_us, %s, "
                "attributes::jsonb FROM ls_import_events ORDER BY contact_id, occurred_us "
                "ON CONFLICT (event_id) DO NOTHING", (received,))
            result.inserted = cursor.rowcount - result.conflicts_replaced  # new ids only
    return result


__all__ = ["CONFLICT_CHOICES", "EventsWritten", "publish_events"]
