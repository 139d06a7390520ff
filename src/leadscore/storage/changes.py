"""What changed in the store since a moment of its own: marks and the contacts they concern.

A *mark* is the highest sequence number recorded so far in the events and property-change
tables (their SQLite tail and every segment) and in the score ledger (an entry added or
voided). Rows recorded later have higher numbers, so
"which contacts got new data since mark M" is a query on sequence numbers — what `score`
(rescoring only what changed) and the automation (making changed contacts due) ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadscore.storage.ledger_reads import changed_since, ledger_mark
from leadscore.storage.reading import Batch, HistoryRows, segments_of
from leadscore.storage.segments import SegmentKind
from leadscore.storage.views import DataView

if TYPE_CHECKING:
    from sqlalchemy import Connection

LIFECYCLE = "lifecycle_stage"


@dataclass(frozen=True)
class Marks:
    events: int
    properties: int
    ledger: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"events": self.events, "properties": self.properties, "ledger": self.ledger}

    @classmethod
    def from_state(cls, state: dict) -> Marks:
        """The marks a run remembered (a state written before the ledger has none: 0)."""
        return cls(int(state["events"]), int(state["properties"]), int(state.get("ledger", 0)))


def recorded_marks(connection: Connection) -> Marks:
    """The highest sequence numbers recorded so far (tail and segments)."""
    return Marks(table_mark(connection, "events", SegmentKind.EVENTS),
                 table_mark(connection, "property_changes", SegmentKind.PROPS),
                 ledger_mark(connection))


def table_mark(connection: Connection, table: str, kind: SegmentKind) -> int:
    """The highest sequence number of a table with a `seq` column (its SQLite tail, its
    segments of `kind`, and the numbers reserved for segments being written)."""
    top = int(connection.exec_driver_sql(f"SELECT coalesce(max(seq), 0) FROM {table}")
              .scalar() or 0)
    segments = segments_of(connection)
    if segments is not None:
        for segment in segments.live(connection, kind):
            top = max(top, int(segment.max_seq or 0))
        if connection.dialect.name == "sqlite":  # reserved for segments being written
            reserved = connection.exec_driver_sql(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
            top = max(top, int(reserved or 0))
    return top


def contacts_changed_since(connection: Connection, marks: Marks, *,
                           except_properties: Sequence[tuple[int, int]] = ()) -> set[str]:
    """Contacts with an event, a property change or a ledger entry recorded after `marks`
    (property changes in the `except_properties` sequence ranges aside)."""
    ids: set[str] = changed_since(connection, marks.ledger)
    for table, kind, mark in (("events", SegmentKind.EVENTS, marks.events),
                              ("property_changes", SegmentKind.PROPS, marks.properties)):
        ids |= contacts_with_rows_since(
            connection, table, kind, mark,
            except_ranges=except_properties if kind is SegmentKind.PROPS else ())
    return ids


def contacts_with_rows_since(connection: Connection, table: str, kind: SegmentKind, mark: int,
                             *, except_ranges: Sequence[tuple[int, int]] = (),
                             model: str | None = None) -> set[str]:
    """Contacts with a row of `table` (tail and segments of `kind`) numbered after `mark`,
    those in the `except_ranges` of sequence numbers aside; `model`: only its rows (a table
    with a `model` column: score history)."""
    sqlite = connection.dialect.name == "sqlite"
    mark_sql = "?" if sqlite else "%s"
    skip = "".join(f" AND seq NOT BETWEEN {int(a)} AND {int(b)}" for a, b in except_ranges)
    params: tuple = (mark,) if model is None else (mark, model)
    of_model = "" if model is None else f" AND model = {mark_sql}"
    ids = {row[0] for row in connection.exec_driver_sql(
        f"SELECT DISTINCT contact_id FROM {table} WHERE seq > {mark_sql}{of_model}{skip}",
        params)}
    segments = segments_of(connection)
    if segments is None:
        return ids
    newer = [s for s in segments.live(connection, kind) if (s.max_seq or 0) > mark
             and not any(a <= (s.min_seq or 0) and (s.max_seq or 0) <= b
                         for a, b in except_ranges)]
    if not newer:
        return ids
    with DataView(connection) as view:
        files = ", ".join("'" + str(s.path).replace("'", "''") + "'" for s in newer)
        ids.update(row[0] for row in view.query(
            f"SELECT DISTINCT contact_id FROM read_parquet([{files}], union_by_name = true) "
            f"WHERE seq > ?{'' if model is None else ' AND model = ?'}{skip}",
            list(params)))
    return ids


def current_stage(connection: Connection, contact_id: str) -> str | None:
    """The contact's lifecycle stage now (its latest lifecycle_stage value)."""
    stage = None
    for row in HistoryRows(connection).properties(Batch.of([contact_id], contiguous=False)):
        if row[1] == LIFECYCLE:
            stage = row[5]  # the text form; None where the change cleared it
    return stage
