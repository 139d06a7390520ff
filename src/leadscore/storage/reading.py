"""Reading contacts' histories, batch by batch, wherever the rows live.

A batch is a set of contacts; for it, `HistoryRows` yields every property change and every
event (up to a moment), each sorted by contact, then time, then the order they were recorded
in (`seq`). On PostgreSQL that is one query per table. On the embedded store the rows are in
two places — the SQLite tail and the Parquet segments — and are merged here; an event id that
is in both (a resend that arrived after its original went into a segment) counts once, as
first stored.

All reads of one `HistoryRows` see one state of the store: the caller holds a read (or write)
transaction on `connection`, and the segments listed in it are the ones read.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadscore.storage.duck import parquet_source
from leadscore.storage.segment_rows import LARGEST_READ, SegmentRowCache
from leadscore.storage.segments import Segment, SegmentKind, Segments

if TYPE_CHECKING:
    from sqlalchemy import Connection

PROPERTY_COLUMNS = ("contact_id", "name", "changed_us", "seq", "value", "v_text", "v_num",
                    "v_bool", "v_time", "source")
EVENT_COLUMNS = ("contact_id", "type", "occurred_us", "seq", "attributes", "event_id")
END_OF_TIME_US = 253_402_300_799_000_000  # 9999-12-31


@dataclass(frozen=True)
class Batch:
    """Contacts of one batch: an explicit list, or every contact from `low` to `high`."""

    ids: tuple[str, ...]
    low: str
    high: str
    contiguous: bool  # every contact between low and high is in the batch

    @classmethod
    def of(cls, ids: Sequence[str], *, contiguous: bool) -> Batch:
        ordered = tuple(sorted(ids))
        return cls(ordered, ordered[0], ordered[-1], contiguous)


def segments_of(connection: Connection) -> Segments | None:
    """The segments of the store this connection belongs to (None: PostgreSQL)."""
    return connection.info.get("leadscore.segments")


def segment_rows_of(connection: Connection) -> SegmentRowCache | None:
    """The process's cache of segment rows, when the store keeps one (`Store.keep_segment_rows`:
    the worker beside `leadscore serve`)."""
    kept = connection.info.get("leadscore.segment_rows")
    return kept() if kept is not None else None


def duck_of(connection: Connection) -> Any:
    factory = connection.info.get("leadscore.duck")
    return factory() if factory is not None else None


class HistoryRows:
    """Property changes and events of contacts, batch by batch (see the module docstring)."""

    def __init__(self, connection: Connection, *, until_us: int = END_OF_TIME_US,
                 prefetched: dict[str, str] | None = None) -> None:
        """`prefetched`: per segment kind, SQL of the segments' rows of the contacts to be
        read, sorted by contact (a bulk reader gathers them in one scan beforehand)."""
        self.connection = connection
        self.until_us = until_us
        self.sqlite = connection.dialect.name == "sqlite"
        self.segments = segments_of(connection)
        self.prefetched = dict(prefetched or {})
        self._listed: dict[str, list[Segment]] = {}

    def _live(self, kind: str) -> list[Segment]:
        if self.segments is None:
            return []
        found = self._listed.get(kind)
        if found is None:
            found = self._listed[kind] = self.segments.live(self.connection, kind)
        return found

    # -- queries ----------------------------------------------------------------------------

    def _where(self, batch: Batch, placeholder: str) -> tuple[str, list[Any]]:
        if batch.contiguous:
            return f"contact_id BETWEEN {placeholder} AND {placeholder}", [batch.low, batch.high]
        marks = ", ".join([placeholder] * len(batch.ids))
        return f"contact_id IN ({marks})", list(batch.ids)

    def _tail(self, sql_columns: str, table: str, time_column: str,
              batch: Batch, names: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
        mark = "?" if self.sqlite else "%s"
        where, params = self._where(batch, mark)
        if names is not None:
            where += f" AND name IN ({', '.join([mark] * len(names))})"
            params = [*params, *names]
        sql = (f"SELECT {sql_columns} FROM {table} WHERE {where} AND {time_column} <= {mark} "
               f"ORDER BY contact_id, {time_column}, seq")
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql, (*params, self.until_us))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _segment_rows(self, kind: str, columns: Sequence[str], time_column: str,
                      batch: Batch, names: Sequence[str] | None = None
                      ) -> list[tuple[Any, ...]]:
        source = self.prefetched.get(kind)
        if source is None:
            live = self._live(kind)
            files = tuple(str(s.path) for s in live)
            cache = segment_rows_of(self.connection)
            if (files and cache is not None and not batch.contiguous
                    and len(batch.ids) <= LARGEST_READ):
                return self._kept_rows(cache, kind, files, sum(s.rows for s in live), columns,
                                       time_column, batch, names)
            source = parquet_source(list(files), ", ".join(columns))
        if source is None:
            return []
        duck = duck_of(self.connection)
        where, params = self._where(batch, "?")
        if not batch.contiguous:  # the range lets sorted files skip their other row groups
            where = f"contact_id BETWEEN ? AND ? AND {where}"
            params = [batch.low, batch.high, *params]
        if names is not None:
            where += f" AND name IN ({', '.join(['?'] * len(names))})"
            params = [*params, *names]
        sql = (f"SELECT {', '.join(columns)} FROM {source} WHERE {where} AND {time_column} <= ? "
               f"ORDER BY contact_id, {time_column}, seq")
        return [tuple(row) for row in duck.execute(sql, [*params, self.until_us]).fetchall()]

    def _kept_rows(self, cache: SegmentRowCache, kind: str, files: tuple[str, ...],
                   rows: int, columns: Sequence[str], time_column: str, batch: Batch,
                   names: Sequence[str] | None) -> list[tuple[Any, ...]]:
        """`_segment_rows` through the process's cache of segment rows (`segment_rows`):
        only contacts it does not hold are read from the files (or, small ones, the files
        whole), at every time; the rows are then cut at this read's moment."""
        source = parquet_source(list(files), ", ".join(columns))
        name_filter = "" if names is None else \
            f" AND name IN ({', '.join(['?'] * len(names))})"
        duck = duck_of(self.connection)

        def read(ids: list[str] | None) -> list[tuple[Any, ...]]:
            if ids is None:  # every contact's
                where, params = "true", []
            else:
                where = (f"contact_id BETWEEN ? AND ? AND contact_id IN "
                         f"({', '.join(['?'] * len(ids))})")
                params = [min(ids), max(ids), *ids]
            sql = (f"SELECT {', '.join(columns)} FROM {source} WHERE {where}{name_filter} "
                   f"ORDER BY contact_id, {time_column}, seq")
            return [tuple(row) for row in
                    duck.execute(sql, [*params, *(names or ())]).fetchall()]

        what = (kind, tuple(columns), None if names is None else tuple(sorted(names)))
        found = cache.rows(what, files, batch.ids, read, rows)
        at = columns.index(time_column)
        until = self.until_us
        return [row for cid in batch.ids for row in found[cid] if row[at] <= until]

    def properties(self, batch: Batch, names: Sequence[str] | None = None
                   ) -> list[tuple[Any, ...]]:
        """(contact_id, name, changed_us, seq, value, v_text, v_num, v_bool, v_time, source)
        rows — of the properties `names` only, if given."""
        value = "value" if self.sqlite else "value::text"
        columns = ", ".join(("contact_id", "name", "changed_us", "seq", value, "v_text", "v_num",
                             "v_bool", "v_time", "source"))
        tail = self._tail(columns, "property_changes", "changed_us", batch, names)
        stored = self._segment_rows(SegmentKind.PROPS, PROPERTY_COLUMNS, "changed_us", batch,
                                    names)
        if not stored:
            return tail
        if not tail:
            return stored
        return list(heapq.merge(stored, tail, key=lambda r: (r[0], r[2], r[3])))

    def events(self, batch: Batch) -> list[tuple[Any, ...]]:
        """(contact_id, type, occurred_us, seq, attributes, event_id) rows; each event once."""
        attributes = "attributes" if self.sqlite else "attributes::text"
        columns = ", ".join(("contact_id", "type", "occurred_us", "seq", attributes,
                             "event_id"))
        tail = self._tail(columns, "events", "occurred_us", batch)
        stored = self._segment_rows(SegmentKind.EVENTS, EVENT_COLUMNS, "occurred_us", batch)
        if not stored:
            return tail
        if not tail:
            return stored
        in_segments = {row[5] for row in stored}
        tail = [row for row in tail if row[5] not in in_segments]
        return list(heapq.merge(stored, tail, key=lambda r: (r[0], r[2], r[3])))


def prefetch_sql(connection: Connection, kind: str, columns: Sequence[str],
                 contacts: str) -> str | None:
    """SQL of the segment rows of the contacts in the relation `contacts` (a `contact_id`
    column), sorted as `HistoryRows` reads them — one scan of the segments, for a staging
    step to keep; None without segments."""
    segments = segments_of(connection)
    if segments is None:
        return None
    source = parquet_source([str(s.path) for s in segments.live(connection, kind)],
                            ", ".join(columns))
    if source is None:
        return None
    return (f"SELECT {', '.join(columns)} FROM {source} AS r SEMI JOIN "
            f"(SELECT DISTINCT contact_id FROM {contacts}) AS c ON c.contact_id = r.contact_id "
            f"ORDER BY contact_id, {'changed_us' if kind == SegmentKind.PROPS else 'occurred_us'},"
            f" seq")


def contact_batches(connection: Connection, *, created_until_us: int,
                    contact_ids: Sequence[str] | None = None,
                    size: int = 5000) -> Iterator[tuple[Batch, list[tuple[str, int, str | None]]]]:
    """Batches of contacts created at or before `created_until_us` — every contact in id
    order, or the given ones — each with its (contact_id, created_us, email) rows."""
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    cursor = connection.connection.cursor()
    try:
        if contact_ids is None:
            last: str | None = None
            while True:
                after = f" AND contact_id > {mark}" if last is not None else ""
                params: tuple[Any, ...] = ((created_until_us,) if last is None
                                           else (created_until_us, last))
                cursor.execute(f"SELECT contact_id, created_us, email FROM contacts "
                               f"WHERE created_us <= {mark}{after} ORDER BY contact_id "
                               f"LIMIT {int(size)}", params)
                rows = [tuple(r) for r in cursor.fetchall()]
                if not rows:
                    return
                yield Batch.of([r[0] for r in rows], contiguous=True), rows  # type: ignore[misc]
                if len(rows) < size:
                    return
                last = rows[-1][0]
        else:
            wanted = sorted(set(contact_ids))
            for start in range(0, len(wanted), size):
                part = wanted[start:start + size]
                marks = ", ".join([mark] * len(part))
                cursor.execute(f"SELECT contact_id, created_us, email FROM contacts "
                               f"WHERE contact_id IN ({marks}) AND created_us <= {mark} "
                               "ORDER BY contact_id", (*part, created_until_us))
                rows = [tuple(r) for r in cursor.fetchall()]
                if rows:
                    yield (Batch.of([r[0] for r in rows], contiguous=False),
                           rows)  # type: ignore[misc]
    finally:
        cursor.close()
