"""SQL over one consistent state of a store's data, wherever its rows live.

On PostgreSQL a logical table is the table itself and queries run there. On the embedded store
a logical table is its Parquet segments plus its SQLite tail, and queries run in DuckDB:
`relation(table)` gives SQL that reads both (the tail travels as an Arrow table, once per view).
`rows_of(table, contact_id)` reads one contact's rows without moving the whole tail.

Queries written for a view use `?` for parameters and SQL that DuckDB and PostgreSQL both
speak.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadscore.storage.duck import parquet_source, quote_text, register_columns, transpose
from leadscore.storage.reading import duck_of, segments_of
from leadscore.storage.segments import SegmentKind

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

_COUNTER = itertools.count()

# logical table → (segment kind, columns with their Arrow types, time column)
TABLES: dict[str, tuple[str | None, tuple[tuple[str, Any], ...]]] = {
    "events": (SegmentKind.EVENTS, (
        ("seq", "int64"), ("event_id", "string"), ("contact_id", "string"),
        ("type", "string"), ("occurred_us", "int64"), ("received_us", "int64"),
        ("attributes", "string"))),
    "property_changes": (SegmentKind.PROPS, (
        ("seq", "int64"), ("contact_id", "string"), ("name", "string"),
        ("changed_us", "int64"), ("source", "string"), ("value", "string"),
        ("v_text", "string"), ("v_num", "float64"), ("v_bool", "bool"),
        ("v_time", "int64"))),
    "score_history": (SegmentKind.HISTORY, (
        ("seq", "int64"), ("contact_id", "string"), ("model", "string"),
        ("score", "string"), ("value", "float64"), ("label", "string"),
        ("computed_us", "int64"), ("as_of_us", "int64"), ("version", "int64"))),
    "stage_changes": (SegmentKind.STAGES, (
        ("seq", "int64"), ("contact_id", "string"), ("stage", "string"),
        ("previous", "string"), ("changed_us", "int64"), ("cause", "string"))),
    "contacts": (None, (
        ("contact_id", "string"), ("email", "string"), ("created_us", "int64"),
        ("updated_us", "int64"), ("rev", "int64"))),
    "scores": (None, (
        ("contact_id", "string"), ("model", "string"), ("score", "string"),
        ("value", "float64"), ("label", "string"), ("computed_us", "int64"),
        ("as_of_us", "int64"), ("next_change_us", "int64"), ("version", "int64"),
        ("scored", "bool"))),
    # read a list at a time (`tail_relation(..., "WHERE list = ?")`): the leads page's filter
    "list_memberships": (None, (("list", "string"), ("contact_id", "string"))),
}
# columns added after segments of their kind were first written (`version`, migration 0010):
# a segment written before has none, and reads as NULL there
LATER_COLUMNS = {("score_history", "version")}
INLINE_ROWS = 500  # a tail this small is written into the query (no Arrow to load)
_DUCK_TYPES = {"int64": "BIGINT", "string": "VARCHAR", "float64": "DOUBLE", "bool": "BOOLEAN"}
JSON_COLUMNS = {("property_changes", "value"), ("events", "attributes")}


@dataclass(frozen=True)
class Tail:
    """A tail's rows: `relation` (SQL of the typed rows in DuckDB), their count, and the
    columns as Python lists."""

    relation: str
    rows: int
    columns: dict[str, list[Any]]


class DataView:
    """See the module docstring. Lives as long as the read transaction on `connection`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.segments = segments_of(connection)
        self.embedded = self.segments is not None
        self._relations: dict[str, str] = {}
        self._registered: list[str] = []
        self._temporary: list[str] = []  # temporary tables of `register_columns`

    @property
    def duck(self) -> Any:
        return duck_of(self.connection)

    # -- bulk ---------------------------------------------------------------------------------

    def only_tail_rows(self, table: str, where: str, params: Sequence[Any]) -> None:
        """From now on, this view's `table` is only the tail's rows that `where` keeps — for a
        caller that reads a few contacts of a table with no segments of its own kind (the
        `scores` table, patched over by score segments): pulling the whole tail into DuckDB
        on every call cost more the longer the worker ran."""
        kind, columns = TABLES[table]
        assert kind is None, "only for a table that is its tail alone"
        names = ", ".join(name for name, _ in columns)
        self._relations[table] = (f"(SELECT {names} FROM "
                                  f"{self.tail_relation(table, where, params)})")

    def relation(self, table: str) -> str:
        """SQL (a parenthesised query or a table name) reading the whole logical table."""
        if not self.embedded:
            return table
        found = self._relations.get(table)
        if found is not None:
            return found
        kind, columns = TABLES[table]
        names = [name for name, _ in columns]
        if table == "contacts":
            found = self._relations[table] = self._contacts(names)
            return found
        parts = [self._tail_sql(table)]
        if kind is not None:
            assert self.segments is not None
            live = self.segments.live(self.connection, kind)
            parts[:0] = self._segment_parts(table, [str(s.path) for s in live])
        found = self._relations[table] = "(" + " UNION ALL ".join(parts) + ")"
        return found

    def _segment_parts(self, table: str, files: list[str]) -> list[str]:
        """SELECTs of `table`'s columns from these segment files: one for the files that have
        every column, one for those written before a later column (NULL there)."""
        _, columns = TABLES[table]
        names = [name for name, _ in columns]
        later = [n for n in names if (table, n) in LATER_COLUMNS]
        groups: dict[tuple[str, ...], list[str]] = {}
        for file in files:
            missing = tuple(n for n in later if n not in file_columns(self.duck, file))
            groups.setdefault(missing, []).append(file)
        parts = []
        for missing, chosen in groups.items():
            present = ", ".join(n for n in names if n not in missing)
            source = parquet_source(chosen, present)
            picks = ", ".join(f"CAST(NULL AS {_DUCK_TYPES[k]}) AS {n}" if n in missing else n
                              for n, k in columns)
            parts.append(f"SELECT {picks} FROM {source}")
        return parts

    def _contacts(self, names: list[str]) -> str:
        """The contacts: the newest mirror segment (every contact up to a revision) with the
        rows changed since laid over it — or, without a mirror, the table itself."""
        assert self.segments is not None
        mirrors = self.segments.live(self.connection, SegmentKind.CONTACTS)
        if not mirrors:
            return f"({self._tail_sql('contacts')})"
        mirror = mirrors[-1]
        newer = self.tail_relation("contacts", "WHERE rev > ?", [int(mirror.meta["rev"])])
        listed = ", ".join(names)
        source = parquet_source([str(mirror.path)], listed)
        return (f"(SELECT {listed} FROM {source} AS m ANTI JOIN {newer} AS n "
                f"ON n.contact_id = m.contact_id UNION ALL SELECT {listed} FROM {newer})")

    def _tail_sql(self, table: str) -> str:
        _, columns = TABLES[table]
        return f"SELECT {', '.join(name for name, _ in columns)} FROM " + \
            self.tail_relation(table)

    def tail_relation(self, table: str, where: str = "", params: Sequence[Any] = ()) -> str:
        """SQL reading the tail's rows (`where` on the SQLite table): nothing moves when there
        are none (the usual state after a bulk write, and what keeps reading commands from
        loading Arrow at all)."""
        _, columns = TABLES[table]
        names = ", ".join(name for name, _ in columns)
        cursor = self.connection.connection.cursor()
        try:  # a few rows travel inline, as SQL literals; more as an Arrow table
            cursor.execute(f"SELECT {names} FROM {table} {where} LIMIT {INLINE_ROWS + 1}",
                           tuple(params))
            few = cursor.fetchall()
        finally:
            cursor.close()
        if len(few) > INLINE_ROWS:
            return self.tail_rows(table, where, params).relation
        typed = ", ".join(f"CAST({name} AS {_DUCK_TYPES[kind]}) AS {name}"
                          for name, kind in columns)
        if not few:
            return "(SELECT " + ", ".join(f"CAST(NULL AS {_DUCK_TYPES[kind]}) AS {name}"
                                          for name, kind in columns) + " WHERE false)"
        rows = ", ".join("(" + ", ".join(_literal(v) for v in _row(table, columns, row)) + ")"
                         for row in few)
        return f"(SELECT {typed} FROM (VALUES {rows}) AS t({names}))"

    def tail_rows(self, table: str, where: str = "", params: Sequence[Any] = ()) -> Tail:
        """The tail's rows (`where` on the SQLite table), registered in DuckDB column by
        column (`duck.register_columns`)."""
        _, columns = TABLES[table]
        names = ", ".join(name for name, _ in columns)
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(f"SELECT {names} FROM {table} {where}", tuple(params))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        data = transpose(rows, len(columns))
        for index, (name, _) in enumerate(columns):  # JSON travels as its text
            if (table, name) in JSON_COLUMNS:
                data[index] = [v if v is None or isinstance(v, str) else _dump(v)
                               for v in data[index]]
            elif name == "v_bool":
                data[index] = [None if v is None else bool(v) for v in data[index]]
        relation = self.register_columns([(name, _DUCK_TYPES[kind], values) for (name, kind), values
                                          in zip(columns, data, strict=True)])
        return Tail(relation, len(rows), {name: values for (name, _), values
                                          in zip(columns, data, strict=True)})

    def register_columns(self, columns: Sequence[tuple[str, str, Sequence[Any]]]) -> str:
        """Python columns as a relation of this view (`duck.register_columns`)."""
        name = f"ls_columns_{next(_COUNTER)}"
        relation, temporary = register_columns(self.duck, name, columns)
        (self._temporary if temporary else self._registered).append(name)
        return relation

    def temporary(self, sql: str) -> str:
        """The rows of a DuckDB query as a temporary table of this view (dropped with it)."""
        name = f"ls_table_{next(_COUNTER)}"
        self.duck.execute(f"CREATE TEMPORARY TABLE {name} AS SELECT * FROM {sql}")
        self._temporary.append(name)
        return name

    def register(self, table: pa.Table) -> str:
        name = f"ls_arrow_{next(_COUNTER)}"
        self.duck.register(name, table)
        self._registered.append(name)
        return name

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query over this view's relations (`?` parameters)."""
        if self.embedded:
            return [tuple(r) for r in self.duck.execute(sql, list(params)).fetchall()]
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        for name in self._registered:
            try:
                self.duck.unregister(name)
            except Exception:  # noqa: BLE001 - the connection may be closing
                pass
        self._registered.clear()
        for name in self._temporary:
            try:
                self.duck.execute(f"DROP TABLE IF EXISTS {name}")
            except Exception:  # noqa: BLE001 - the connection may be closing
                pass
        self._temporary.clear()
        self._relations.clear()

    def __enter__(self) -> DataView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one contact --------------------------------------------------------------------------

    def rows_of(self, table: str, contact_id: str, order: str) -> list[tuple[Any, ...]]:
        """One contact's rows of a logical table, all columns in `TABLES` order, sorted."""
        kind, columns = TABLES[table]
        names = [name for name, _ in columns]
        sqlite = self.connection.dialect.name == "sqlite"
        selected = ", ".join(n if sqlite or (table, n) not in JSON_COLUMNS else f"{n}::text"
                             for n in names)
        mark = "?" if sqlite else "%s"
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(f"SELECT {selected} FROM {table} WHERE contact_id = {mark}",
                           (contact_id,))
            found = [_row(table, columns, row) for row in cursor.fetchall()]
        finally:
            cursor.close()
        if self.embedded and kind is not None:
            assert self.segments is not None
            live = self.segments.live(self.connection, kind)
            for part in self._segment_parts(table, [str(s.path) for s in live]):
                found.extend(tuple(r) for r in self.duck.execute(
                    f"SELECT * FROM ({part}) WHERE contact_id = ?", [contact_id]).fetchall())
        keys = [names.index(column.strip()) for column in order.split(",")]
        found.sort(key=lambda row: tuple(row[i] for i in keys))
        return found


_FILE_COLUMNS: dict[str, frozenset[str]] = {}


def file_columns(duck: Any, file: str) -> frozenset[str]:
    """The columns of a Parquet segment (segments are immutable: read once per process)."""
    found = _FILE_COLUMNS.get(file)
    if found is None:
        found = _FILE_COLUMNS[file] = frozenset(row[0] for row in duck.execute(
            "SELECT name FROM parquet_schema(?)", [file]).fetchall())
    return found


def _row(table: str, columns: tuple[tuple[str, Any], ...], row: Sequence[Any]
         ) -> tuple[Any, ...]:
    """A tail row with JSON columns as text (SQLite may return JSON numbers as numbers)."""
    out = list(row)
    for i, (name, _) in enumerate(columns):
        value = out[i]
        if (table, name) in JSON_COLUMNS and value is not None and not isinstance(value, str):
            out[i] = _dump(value)
        elif name == "v_bool" and value is not None:
            out[i] = bool(value)
    return tuple(out)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) \
            else f"'{value}'"
    return quote_text(str(value))


def _dump(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


__all__ = ["DataView", "TABLES", "quote_text"]
