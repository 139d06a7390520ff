"""One contact's data: everything the store holds about it (export), its erasure, and the
retention of events.

Erasure removes the contact from every table that has a `contact_id` column (found from the
schema's metadata, so a table added later is covered) and from every segment kind (events,
property changes, score history, stage changes, score segments and patches, the values cache,
the contacts mirror), which are written again without it. The rewritten segments' old files are
deleted at once (not after the grace time), and so are older retired files; SQLite overwrites
the deleted rows (`secure_delete`) and its write-ahead log is checkpointed and truncated, so no
file under the store's folder keeps the contact's id or e-mail. What remains is a record that an
erasure happened: the SHA-256 of the id and the time, in `store_state` (`erased:<hash>`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog.forms import from_micros, to_micros
from leadscore.storage.rewrite import drop_segment_rows
from leadscore.storage.segments import SegmentKind, now_us
from leadscore.storage.writer import touch_contacts

if TYPE_CHECKING:
    from leadscore.storage.store import Store

ERASED = "erased:"


@dataclass
class Erasure:
    contact_id_sha256: str
    at: datetime
    rows: dict[str, int] = field(default_factory=dict)  # table or segment kind → rows removed
    files_removed: int = 0
    log_cleared: bool = True  # SQLite's write-ahead log truncated (False: readers held it)


def contact_tables() -> list[str]:
    """Every table of the schema with a contact_id column (and `outbox`, whose contact may be
    unset on a row yet named in its payload)."""
    from leadscore.storage.schema import metadata

    return sorted(name for name, table in metadata.tables.items() if "contact_id" in table.c)


def contact_data(store: Store, contact_id: str) -> dict[str, Any] | None:
    """Everything the store holds about one contact, as JSON-ready data (None: no contact)."""
    from leadscore.storage.views import DataView

    mark = "?" if store.dialect == "sqlite" else "%s"
    found: dict[str, Any] = {"contact_id": contact_id}
    with store.read_raw() as connection, DataView(connection) as view:
        head = _rows(connection, f"SELECT * FROM contacts WHERE contact_id = {mark}",
                     (contact_id,))
        if not head:
            return None
        found["contact"] = head[0]
        for table, order in (("property_changes", "changed_us, seq"),
                             ("events", "occurred_us, seq"),
                             ("score_history", "computed_us, seq"),
                             ("stage_changes", "changed_us, seq")):
            names = [name for name, _ in _columns(table)]
            found[table] = [dict(zip(names, row, strict=True))
                            for row in view.rows_of(table, contact_id, order)]
        for table in contact_tables():
            if table in found or table == "contacts":
                continue
            found[table] = _rows(connection, f"SELECT * FROM {table} WHERE contact_id = "
                                             f"{mark}", (contact_id,))
        segments = view.segments
        if segments is not None:  # current scores kept in score segments (wide)
            for segment in segments.live(connection, SegmentKind.SCORES):
                rows = view.duck.execute(
                    f"SELECT * FROM read_parquet('{_quoted(segment.path)}') WHERE contact_id = ?",
                    [contact_id]).fetchall()
                columns = [d[0] for d in view.duck.description]
                found.setdefault("score_segments", []).extend(
                    {"model": segment.model, **dict(zip(columns, row, strict=True))}
                    for row in rows)
    return _plain(found)


def _columns(table: str) -> tuple[tuple[str, Any], ...]:
    from leadscore.storage.views import TABLES

    return TABLES[table][1]


def _quoted(path: Any) -> str:
    return str(path).replace("'", "''")


def _rows(connection: Any, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO text, JSON text kept as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def erase_contact(store: Store, contact_id: str) -> Erasure:
    """Remove the contact from every table and segment, in one transaction (see above)."""
    digest = hashlib.sha256(contact_id.encode()).hexdigest()
    at = now_us()
    result = Erasure(digest, from_micros(at))
    sqlite = store.dialect == "sqlite"
    mark = "?" if sqlite else "%s"
    retired = []
    with store.write() as writer:
        connection = writer.connection
        if sqlite:
            connection.exec_driver_sql("PRAGMA secure_delete = ON")
        email = connection.exec_driver_sql(
            f"SELECT email FROM contacts WHERE contact_id = {mark}", (contact_id,)).scalar()
        for table in contact_tables():
            if table == "contacts":
                continue
            removed = connection.exec_driver_sql(
                f"DELETE FROM {table} WHERE contact_id = {mark}", (contact_id,)).rowcount
            if removed:
                result.rows[table] = int(removed)
        found = "instr(CAST(payload AS TEXT), ?)" if sqlite else "strpos(payload::text, %s)"
        for needle in filter(None, (contact_id, email)):  # notifications naming it
            removed = connection.exec_driver_sql(
                f"DELETE FROM outbox WHERE {found} > 0", (str(needle),)).rowcount
            if removed:
                result.rows["outbox"] = result.rows.get("outbox", 0) + int(removed)
        removed = connection.exec_driver_sql(
            f"DELETE FROM contacts WHERE contact_id = {mark}", (contact_id,)).rowcount
        result.rows["contacts"] = int(removed)
        segments = store.segments
        if segments is not None:
            for kind in SegmentKind:
                before = sum(s.rows for s in segments.live(connection, kind))
                dropped = drop_segment_rows(connection, segments, store.duck(), kind,
                                            "contact_id = ?", [contact_id])
                if dropped:
                    after = sum(s.rows for s in segments.live(connection, kind))
                    result.rows[f"segments:{kind}"] = before - after
                    retired.extend(dropped)
        connection.exec_driver_sql(
            f"INSERT INTO store_state (name, value) VALUES ({mark}, {mark})",
            (ERASED + digest, at))
    if store.segments is not None:
        result.files_removed = _remove_retired(store)
    if sqlite:
        result.log_cleared = _checkpoint(store)
    return result


def _remove_retired(store: Store) -> int:
    """Delete every retired segment's file now (the erased rows are in some of them)."""
    segments = store.segments
    assert segments is not None
    with store.write() as writer:
        old = writer.connection.exec_driver_sql(
            "SELECT id, file FROM segments WHERE retired_us IS NOT NULL").fetchall()
        removed = 0
        for _, name in old:
            path = segments.folder / name
            if path.exists():
                path.unlink()
                removed += 1
        if old:
            writer.connection.exec_driver_sql(
                f"DELETE FROM segments WHERE id IN ({', '.join(['?'] * len(old))})",
                tuple(i for i, _ in old))
    return removed


def _checkpoint(store: Store) -> bool:
    """Copy SQLite's write-ahead log into the database and truncate it (no old page stays)."""
    with store.engine.connect() as connection:
        driver = connection.connection.driver_connection
        busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def erasures(store: Store) -> list[tuple[str, datetime]]:
    """The erasures recorded: (SHA-256 of the id, when)."""
    mark = "?" if store.dialect == "sqlite" else "%s"
    with store.read_raw() as connection:
        rows = connection.exec_driver_sql(
            f"SELECT name, value FROM store_state WHERE name LIKE {mark} ORDER BY value",
            (ERASED + "%",)).fetchall()
    return [(name[len(ERASED):], from_micros(int(value))) for name, value in rows]


# -- retention ---------------------------------------------------------------------------------

@dataclass
class Retention:
    before: datetime
    events_removed: int
    contacts: list[str]  # whose events went (they were given a new revision)


def drop_events_before(store: Store, before: datetime) -> Retention:
    """Remove every event that occurred before `before` (tail and segments) in one
    transaction; the contacts that lost events get a new revision, so incremental scoring
    and the automation take them up again."""
    cutoff = to_micros(before)
    sqlite = store.dialect == "sqlite"
    mark = "?" if sqlite else "%s"
    contacts: set[str] = set()
    removed = 0
    with store.write() as writer:
        connection = writer.connection
        contacts.update(row[0] for row in connection.exec_driver_sql(
            f"SELECT DISTINCT contact_id FROM events WHERE occurred_us < {mark}", (cutoff,)))
        removed += int(connection.exec_driver_sql(
            f"DELETE FROM events WHERE occurred_us < {mark}", (cutoff,)).rowcount or 0)
        segments = store.segments
        if segments is not None:
            duck = store.duck()
            for segment in segments.live(connection, SegmentKind.EVENTS):
                contacts.update(row[0] for row in duck.execute(
                    f"SELECT DISTINCT contact_id FROM read_parquet('{_quoted(segment.path)}') "
                    "WHERE occurred_us < ?", [cutoff]).fetchall())
            before_rows = sum(s.rows for s in segments.live(connection, SegmentKind.EVENTS))
            drop_segment_rows(connection, segments, duck, SegmentKind.EVENTS,
                              "occurred_us < ?", [cutoff])
            removed += before_rows - sum(s.rows for s in segments.live(connection,
                                                                        SegmentKind.EVENTS))
        touch_contacts(connection, sorted(contacts))
    return Retention(before, removed, sorted(contacts))


__all__ = ["Erasure", "Retention", "contact_data", "contact_tables", "drop_events_before",
           "erase_contact", "erasures"]
