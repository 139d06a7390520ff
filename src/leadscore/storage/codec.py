"""The fast path for bulk rows: plain driver calls, with the two dialects' time and JSON forms.

SQLAlchemy's per-value type processing costs more than the database itself when a write or
read moves hundreds of thousands of rows, so the hot paths (events, property changes, snapshot
reads) bind and read values here. The forms match what `schema.UTCDateTime` and `JSON` use:
SQLite keeps naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, PostgreSQL `timestamptz` and JSONB.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Float, Integer, Table

_EPOCH = datetime(1970, 1, 1)
_EPOCH_AWARE = datetime(1970, 1, 1, tzinfo=UTC)
_JSON_CACHE_LIMIT = 50_000


class Codec:
    """Binds, reads and bulk-inserts values for one dialect ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        self._json_cache: dict[str, Any] = {}

    # -- values in -----------------------------------------------------------------------

    def time_in(self, moment: datetime) -> Any:
        """An aware datetime as the driver should bind it."""
        if self.sqlite:
            if moment.tzinfo is not None:
                if moment.tzinfo is not UTC:
                    moment = moment.astimezone(UTC)
                moment = moment.replace(tzinfo=None)
            return moment.isoformat(" ", "microseconds")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @staticmethod
    def json_in(value: Any) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"),
                                                      ensure_ascii=False)

    # -- values out ----------------------------------------------------------------------

    def seconds_out(self, raw: Any) -> float:
        """POSIX seconds of a stored time (exactly what `datetime.timestamp()` gives)."""
        if self.sqlite:
            return (datetime.fromisoformat(raw) - _EPOCH).total_seconds()
        return (raw - _EPOCH_AWARE).total_seconds()

    def time_out(self, raw: Any) -> datetime:
        if self.sqlite:
            return datetime.fromisoformat(raw).replace(tzinfo=UTC)
        return raw.astimezone(UTC)

    def json_out(self, raw: str | None) -> Any:
        """Parse JSON text (queries select JSON as text on both dialects); shared when cached.

        Parsed objects may be shared between rows: treat them as read-only.
        """
        if raw is None or not isinstance(raw, str):
            return raw  # SQLite's NUMERIC affinity hands JSON numbers back as numbers
        try:
            return self._json_cache[raw]
        except KeyError:
            value = json.loads(raw)
            if len(self._json_cache) < _JSON_CACHE_LIMIT:
                self._json_cache[raw] = value
            return value

    def rows(self, connection: Connection, sql: str, params: Sequence[Any]) -> Iterator[Any]:
        """Rows of a query, straight from the driver's cursor (no per-row SQLAlchemy work)."""
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            while True:
                rows = cursor.fetchmany(5000)
                if not rows:
                    return
                yield from rows
        finally:
            cursor.close()

    def json_text(self, column: str) -> str:
        """SQL that selects a JSON column as text."""
        return column if self.sqlite else f"{column}::text"

    def param(self) -> str:
        return "?" if self.sqlite else "%s"

    def params(self, count: int) -> str:
        return ", ".join([self.param()] * count)

    # -- bulk insert ---------------------------------------------------------------------

    def insert_rows(self, connection: Connection, table: Table,
                    rows: Sequence[Mapping[str, Any]], *, upsert_on: Sequence[str] = (),
                    ignore_conflict_on: str | None = None) -> int:
        """Insert dicts of Python values (every row with the same keys) into `table`, binding
        each value by its column's type; with `upsert_on` (the conflict columns), a row that
        exists is updated with the other columns instead; with `ignore_conflict_on`, it is
        left alone."""
        if not rows:
            return 0
        columns = list(rows[0])
        kinds = [_kind(table.c[name].type) for name in columns]
        binders = [self._binder(kind) for kind in kinds]
        bound = [tuple(bind(row[name]) for bind, name in zip(binders, columns, strict=True))
                 for row in rows]
        update = [name for name in columns if name not in upsert_on] if upsert_on else ()
        return self.insert_many(connection, table.name, columns, bound, kinds=kinds,
                                upsert_on=upsert_on, update=update,
                                ignore_conflict_on=ignore_conflict_on)

    def _binder(self, kind: str) -> Callable[[Any], Any]:
        if kind == "timestamptz":
            time_in = self.time_in
            return lambda value: None if value is None else time_in(value)
        if kind == "jsonb":
            return self.json_in
        return lambda value: value

    def insert_many(self, connection: Connection, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]], *, kinds: Sequence[str],
                    ignore_conflict_on: str | None = None, upsert_on: Sequence[str] = (),
                    update: Sequence[str] = (), chunk: int = 10_000) -> int:
        """Insert `rows` (tuples already bound with time_in / json_in); returns rows inserted.

        `kinds` gives each column's type ("text", "timestamptz", "jsonb", "float8", "int8"
        or "bool"): on PostgreSQL a chunk travels as one JSON array of rows, cast back in the
        INSERT. `upsert_on` with `update`: on a conflict there, set the `update` columns.
        """
        if not rows:
            return 0
        names = ", ".join(columns)
        conflict = f" ON CONFLICT ({ignore_conflict_on}) DO NOTHING" if ignore_conflict_on else ""
        if upsert_on:
            conflict = (f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET "
                        + ", ".join(f"{name} = excluded.{name}" for name in update))
        inserted = 0
        if self.sqlite:
            sql = f"INSERT INTO {table} ({names}) VALUES ({self.params(len(columns))}){conflict}"
            for start in range(0, len(rows), chunk):
                part = rows[start:start + chunk]
                result = connection.exec_driver_sql(sql, list(part))
                inserted += result.rowcount if result.rowcount >= 0 else len(part)
            return inserted
        casts = {"text": "r->>{i}", "timestamptz": "(r->>{i})::timestamptz",
                 "jsonb": "(r->>{i})::jsonb", "float8": "(r->>{i})::float8",
                 "int8": "(r->>{i})::int8", "bool": "(r->>{i})::boolean"}
        selected = ", ".join(casts[kind].format(i=i) for i, kind in enumerate(kinds))
        sql = (f"INSERT INTO {table} ({names}) SELECT {selected} "
               f"FROM json_array_elements(%s::json) AS r{conflict}")
        for start in range(0, len(rows), chunk):
            payload = _ROWS_ENCODER.encode(list(rows[start:start + chunk]))
            result = connection.exec_driver_sql(sql, (payload,))
            inserted += result.rowcount
        return inserted


def _kind(column_type: Any) -> str:
    """The bulk-insert kind of a column type."""
    from leadscore.storage.schema import UTCDateTime

    if isinstance(column_type, JSON):
        return "jsonb"
    if isinstance(column_type, UTCDateTime):
        return "timestamptz"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Integer):
        return "int8"
    if isinstance(column_type, Float):
        return "float8"
    return "text"


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a bulk insert")


_ROWS_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_isoformat)
