"""Bulk writes: many rows at once, set-wise, staged first and published atomically.

An import stages its rows in DuckDB (a Parquet file in the store's data folder, or a temporary
folder for PostgreSQL), checks them against the store set-wise, and only then publishes: on the
embedded store as a Parquet segment listed in the catalog (or, for a few rows, into the SQLite
tail), on PostgreSQL with COPY into a temporary table and one INSERT … SELECT. A failure before
the publishing transaction commits leaves the store as it was.

Rows go to a segment sorted by contact and time, so that reading one contact touches few row
groups; each row keeps the sequence number reserved for it, above every number the store had
given before.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog import STANDARD_EVENT_TYPES, PropertyType
from leadscore.storage.duck import (
    json_path,
    parquet_source,
    quote_name,
    quote_text,
    record_batches,
    typed_attribute_sql,
)
from leadscore.storage.segments import SegmentKind, now_us
from leadscore.storage.views import DataView

if TYPE_CHECKING:
    from leadscore.storage.store import Store

log = logging.getLogger("leadscore.bulk")
SEGMENT_MIN_ROWS = 20_000  # fewer rows than this go to the tables (the SQLite tail)
ROW_GROUP_ROWS = 16_384
IMPORT_MEMORY = "400MB"  # rows per Parquet row group: one contact's rows sit in one or two


def promoted_attributes() -> dict[str, str]:
    """Attributes of the standard event types, with their kinds: segments keep each as a
    typed column `"<name>:<kind>"` so that scans need not parse JSON."""
    kinds = {PropertyType.NUMBER: "number", PropertyType.BOOL: "bool",
             PropertyType.DATE: "date"}
    found: dict[str, str] = {}
    for definition in STANDARD_EVENT_TYPES.values():
        for name, kind in definition.attributes.items():
            found.setdefault(name, kinds.get(kind, "string"))
    return found


EVENT_COLUMNS = ("seq", "event_id", "contact_id", "type", "occurred_us", "received_us",
                 "attributes")
PROPERTY_COLUMNS = ("seq", "contact_id", "name", "changed_us", "source", "value", "v_text",
                    "v_num", "v_bool", "v_time")


@dataclass
class Published:
    rows: int = 0
    segment: bool = False


class Staging:
    """A folder for one bulk write's staged files, removed afterwards."""

    def __init__(self, store: Store | None, *, duck: Any = None) -> None:
        """Staging for a write to `store` — or, with no store, for scoring files (`duck`: the
        DuckDB connection to use)."""
        # None only when scoring files, where nothing is written to a store
        self.store: Store = store  # type: ignore[assignment]
        self.duck = store.duck() if store is not None else duck
        if store is not None and store.segments is not None:
            store.segments.folder.mkdir(parents=True, exist_ok=True)
            self.folder = Path(tempfile.mkdtemp(prefix="staging-", dir=store.segments.folder))
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="leadscore-staging-"))
        self._count = 0
        # an import stays well under 1 GB whatever the file's size: DuckDB spills beyond this
        self.memory_limit = self.duck.execute("SELECT current_setting('memory_limit')"
                                              ).fetchall()[0][0]  # as configured
        self.duck.execute(f"SET memory_limit = '{IMPORT_MEMORY}'")

    def path(self, name: str) -> Path:
        self._count += 1
        return self.folder / f"{name}-{self._count}.parquet"

    def write(self, name: str, sql: str, params: Sequence[Any] = ()) -> str:
        """Run `sql` and keep its rows as a staged Parquet file; returns SQL that reads it."""
        path = self.path(name)
        started = time.perf_counter()
        self.duck.execute(f"COPY ({sql}) TO {quote_text(str(path))} (FORMAT parquet, "
                          f"COMPRESSION zstd)", list(params))
        log.debug("staged %s in %.2fs", path.name, time.perf_counter() - started)
        return f"read_parquet({quote_text(str(path))})"

    def close(self) -> None:
        self.duck.execute(f"SET memory_limit = '{self.memory_limit}'")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def staging(store: Store | None, *, duck: Any = None) -> Iterator[Staging]:
    found = Staging(store, duck=duck)
    try:
        yield found
    finally:
        found.close()


# -- events ---------------------------------------------------------------------------------

def write_event_segment(staged: Staging, source: str, first_seq: int, received: int) -> Path:
    """Write staged events (event_id, contact_id, type, occurred_us, attributes) as a segment
    file sorted by contact and time, numbered from `first_seq`; returns the written file.

    The typed attribute columns are read once per distinct attributes text (event streams
    repeat the same few thousand), not once per event."""
    segments = staged.store.segments
    assert segments is not None
    names = list(promoted_attributes().items())
    paths = "[" + ", ".join(json_path(name) for name, _ in names) + "]"
    promoted = ", ".join(f"{_promoted_sql(i + 1, kind)} AS {quote_name(name + ':' + kind)}"
                         for i, (name, kind) in enumerate(names))
    target = segments.new_file(SegmentKind.EVENTS)
    started = time.perf_counter()
    # sort the narrow rows, then add the typed columns in (nearly) that order: sorting wide
    # rows costs several times more
    ordered = staged.write("sorted", f"SELECT event_id, contact_id, type, occurred_us, "
                                     f"attributes FROM {source} "
                                     f"ORDER BY contact_id, occurred_us, event_id")
    # the typed columns of each distinct attributes text, staged on their own: joined as a
    # common table expression they cost 6× more (2M events: 30 s against 5 s)
    typed = staged.write("typed", f"""
        SELECT attributes, {promoted} FROM (
          SELECT attributes, json_type(attributes, {paths}) AS t,
                 json_extract_string(attributes, {paths}) AS v
          FROM (SELECT DISTINCT attributes FROM {ordered}))""")
    numbered = ordered[:-1] + ", file_row_number = true)"  # read_parquet(...) + option
    duck = staged.duck
    duck.execute("SET preserve_insertion_order = true")
    try:
        duck.execute(f"""
            COPY (
              SELECT {int(first_seq)} + e.file_row_number AS seq, event_id, contact_id, type,
                     occurred_us, CAST({int(received)} AS BIGINT) AS received_us,
                     e.attributes, typed.* EXCLUDE (attributes)
              FROM {numbered} AS e JOIN {typed} AS typed ON typed.attributes = e.attributes)
            TO {quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd,
                                         ROW_GROUP_SIZE {ROW_GROUP_ROWS})""")
    finally:
        duck.execute("SET preserve_insertion_order = false")
    log.debug("wrote event segment %s in %.2fs", target.name, time.perf_counter() - started)
    return target


def _promoted_sql(index: int, kind: str) -> str:
    """One typed attribute column from the lists t (JSON types) and v (texts)."""
    return typed_attribute_sql(f"t[{index}]", f"v[{index}]", kind)


def existing_event_ids_sql(view: DataView) -> str:
    """SQL of (event_id, contact_id, type, occurred_us, attributes) of every stored event."""
    return (f"(SELECT event_id, contact_id, type, occurred_us, attributes "
            f"FROM {view.relation('events')} AS e)")


# -- property changes -----------------------------------------------------------------------

def write_property_segment(staged: Staging, source: str, first_seq: int) -> Path:
    """Write staged property changes (contact_id, name, changed_us, source, value, v_text,
    v_num, v_bool, v_time; `ord` gives their order) as a segment numbered from `first_seq`."""
    segments = staged.store.segments
    assert segments is not None
    target = segments.new_file(SegmentKind.PROPS)
    staged.duck.execute(
        f"COPY (SELECT {int(first_seq) - 1} + row_number() OVER (ORDER BY ord) AS seq, "
        f"contact_id, name, changed_us, source, value, v_text, v_num, v_bool, v_time "
        f"FROM {source} ORDER BY contact_id, changed_us, seq) "
        f"TO {quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd, "
        f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
    return target


def count_rows(staged: Staging, source: str) -> int:
    return int(staged.duck.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])


def arrow_rows(staged: Staging, source: str, columns: Sequence[str],
               batch: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a staged relation as Python tuples, a batch at a time."""
    reader = record_batches(staged.duck, f"SELECT {', '.join(columns)} FROM {source}", batch)
    for record_batch in reader:
        data = record_batch.to_pydict()
        names = list(data)
        yield list(zip(*(data[n] for n in names), strict=True))


__all__ = ["EVENT_COLUMNS", "PROPERTY_COLUMNS", "Published", "SEGMENT_MIN_ROWS", "Staging",
           "arrow_rows", "count_rows", "existing_event_ids_sql", "now_us", "parquet_source",
           "promoted_attributes", "staging", "write_event_segment", "write_property_segment"]
