"""Keeping the embedded store's layout lean: tails flushed, segments merged, caches fresh.

- A tail that has grown (rows written one at a time: events arriving, the automation's
  writes) is moved into a segment, so that bulk readers take it from Parquet instead of
  pulling it out of SQLite row by row. An event whose id a segment already has (a late
  resend) is dropped on the way.
- When a kind has many segments, they are merged into one (sorted by contact), so that
  reading one contact touches one file.
- The values cache is rebuilt when the property changes since it was built have grown.
- Retired and orphaned files are removed after their grace time.

Every step publishes in one transaction, like any other write; `maintain` is cheap when there
is nothing to do, and runs at the end of imports and score runs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.storage import values
from leadscore.storage.bulk import ROW_GROUP_ROWS
from leadscore.storage.duck import parquet_source, quote_text
from leadscore.storage.segments import SegmentKind
from leadscore.storage.views import TABLES, DataView

if TYPE_CHECKING:
    from leadscore.storage.store import Store

log = logging.getLogger("leadscore.maintenance")
# a tail with more rows than this becomes a segment: every bulk read loads a tail whole
# through Python (~10 µs a row), and with merges of the smaller segments only (see
# merge_segments) a flush costs about its own rows
FLUSH_ROWS = 20_000
# more contacts changed since the mirror than this make a new mirror (readers load the changed
# rows from SQLite through Python: 55,000 of them cost every bulk read 0.58 s)
MIRROR_ROWS = 10_000
MAX_SEGMENTS = 8  # more segments of one kind than this are merged
PATCH_SHARE = 0.1  # score patches holding more than this share of the base's rows are folded
TAIL_KINDS = (("events", SegmentKind.EVENTS), ("property_changes", SegmentKind.PROPS),
              ("score_history", SegmentKind.HISTORY), ("stage_changes", SegmentKind.STAGES))


def maintain(store: Store, *, flush_rows: int | None = None) -> None:
    """Flush grown tails (more than `flush_rows`, FLUSH_ROWS unless given), merge many
    segments, refresh the values cache, remove old files."""
    if store.segments is None:
        return
    flush_rows = FLUSH_ROWS if flush_rows is None else flush_rows
    for table, kind in TAIL_KINDS:
        flush_tail(store, table, kind, min_rows=flush_rows)
    for _, kind in TAIL_KINDS:
        merge_segments(store, kind)
    compact_scores(store)
    mirror_contacts(store, min_rows=min(flush_rows, MIRROR_ROWS))
    with store.read() as connection, DataView(connection) as view:
        rebuild = values.needs_rebuild(view)
    if rebuild:
        values.rebuild(store)
    with store.write() as writer:
        store.segments.collect_garbage(writer.connection)


def flush_tail(store: Store, table: str, kind: SegmentKind, *, min_rows: int) -> int:
    """Move the tail of `table` into a segment when it has at least `min_rows` rows."""
    segments = store.segments
    assert segments is not None
    with store.read() as connection:
        count = int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
    if count < max(min_rows, 1):
        return 0
    started = time.perf_counter()
    columns = [name for name, _ in TABLES[table][1]]
    with store.write() as writer, DataView(writer.connection) as view:
        connection = writer.connection
        rows = view.tail_rows(table)
        source = f"SELECT {', '.join(columns)} FROM {rows.relation}"
        if kind is SegmentKind.EVENTS:
            live = segments.live(connection, kind)
            stored = parquet_source([str(s.path) for s in live], "event_id")
            if stored is not None:
                source += f" WHERE event_id NOT IN (SELECT event_id FROM {stored})"
            source = _with_promoted(source)
        top, low = int(max(rows.columns["seq"])), int(min(rows.columns["seq"]))
        target = segments.new_file(kind)
        view.duck.execute(f"COPY ({source} ORDER BY contact_id, seq) TO "
                          f"{quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd, "
                          f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
        written = int(view.duck.execute(
            f"SELECT count(*) FROM read_parquet({quote_text(str(target))})").fetchall()[0][0])
        segments.publish(connection, kind, target, rows=written, min_seq=low, max_seq=top)
        connection.exec_driver_sql(f"DELETE FROM {table} WHERE seq <= ?", (top,))
    log.debug("flushed %d rows of %s into a segment in %.2fs", count, table,
              time.perf_counter() - started)
    return count


def _with_promoted(source: str) -> str:
    """Events with the typed attribute columns every event segment carries."""
    from leadscore.storage.bulk import _promoted_sql, promoted_attributes
    from leadscore.storage.duck import json_path, quote_name

    names = list(promoted_attributes().items())
    paths = "[" + ", ".join(json_path(name) for name, _ in names) + "]"
    promoted = ", ".join(f"{_promoted_sql(i + 1, kind)} AS {quote_name(name + ':' + kind)}"
                         for i, (name, kind) in enumerate(names))
    return (f"SELECT * EXCLUDE (t, v), {promoted} FROM (SELECT *, "
            f"json_type(attributes, {paths}) AS t, json_extract_string(attributes, {paths}) "
            f"AS v FROM ({source}))")


def mirror_contacts(store: Store, *, min_rows: int = MIRROR_ROWS) -> bool:
    """Write the contacts table as a mirror segment when more than `min_rows` contacts are
    newer than the last mirror (or there is none): bulk readers then take the contacts from
    Parquet and only the few changed since from SQLite.

    The first mirror streams the table a chunk at a time; a later one is the previous mirror
    with the rows changed since laid over it, written by DuckDB — only the changed rows travel
    through Python (200,000 contacts, 55,000 changed by a `process`: 3.4 s → see
    ARCHITECTURE.md), so mirroring often is cheap and readers rarely load a large tail."""
    segments = store.segments
    assert segments is not None
    with store.read() as connection:
        mirrors = segments.live(connection, SegmentKind.CONTACTS)
        since = int(mirrors[-1].meta["rev"]) if mirrors else -1
        newer = int(connection.exec_driver_sql(
            "SELECT count(*) FROM contacts WHERE rev > ?", (since,)).scalar() or 0)
        if newer <= min_rows:
            return False
        started = time.perf_counter()
        target = segments.new_file(SegmentKind.CONTACTS)
        rows, top = _mirror_over(connection, target) if mirrors else (-1, 0)
        if rows != int(connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar()):
            # a contact removed since (a merge, an erasure) is still in the overlay: the table
            # is a subset of it, so equal counts mean equal contacts
            rows, top = _mirror_streamed(connection, target)
    with store.write() as writer:
        old = segments.live(writer.connection, SegmentKind.CONTACTS)
        segments.publish(writer.connection, SegmentKind.CONTACTS, target, rows=rows,
                         meta={"rev": top})
        segments.retire(writer.connection, old)
    log.debug("mirrored %d contacts (%d changed) in %.2fs", rows, newer,
              time.perf_counter() - started)
    return True


def _mirror_over(connection: Any, target: Path) -> tuple[int, int]:
    """The previous mirror with the contacts changed since laid over it (DataView's own
    `contacts` relation), sorted by contact id: (rows, the highest revision)."""
    names = ", ".join(name for name, _ in TABLES["contacts"][1])
    with DataView(connection) as view:
        relation = view.relation("contacts")
        view.duck.execute(f"COPY (SELECT {names} FROM {relation} ORDER BY contact_id) TO "
                          f"{quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd)")
        rows, top = view.duck.execute(
            f"SELECT count(*), coalesce(max(rev), 0) FROM "
            f"read_parquet({quote_text(str(target))})").fetchall()[0]
    return int(rows), int(top)


def _mirror_streamed(connection: Any, target: Path) -> tuple[int, int]:
    """The contacts table, streamed a chunk at a time: (rows, the highest revision)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = TABLES["contacts"][1]
    schema = pa.schema([(name, kind) for name, kind in columns])
    cursor = connection.connection.cursor()
    rows = top = 0
    try:
        cursor.execute(f"SELECT {', '.join(n for n, _ in columns)} FROM contacts "
                       "ORDER BY contact_id")
        with pq.ParquetWriter(str(target), schema, compression="zstd") as out:
            while chunk := cursor.fetchmany(FLUSH_ROWS):
                data = list(zip(*chunk, strict=True))
                out.write_table(pa.table([pa.array(values, type=field.type) for
                                          values, field in zip(data, schema, strict=True)],
                                         schema=schema))
                rows += len(chunk)
                top = max(top, max(data[-1]))
    finally:
        cursor.close()
    return rows, top


def compact_scores(store: Store, *, most: int | None = None, share: float | None = None
                   ) -> int:
    """Fold each model's score patches (later runs' segments and the `scores` table's rows)
    into a new base when there are more than `most` patch segments, or they hold more than
    `share` of the base's rows, or the table holds more than FLUSH_ROWS rows of the model."""
    from leadscore.storage.scores import current_wide_sql, patch_share

    segments = store.segments
    assert segments is not None
    most = MAX_SEGMENTS if most is None else most
    share = PATCH_SHARE if share is None else share
    folded = 0
    with store.read() as connection:
        models = [row[0] for row in connection.exec_driver_sql(
            "SELECT DISTINCT model FROM segments WHERE kind = ? AND retired_us IS NULL",
            (str(SegmentKind.SCORES),)).fetchall()]
    for model in models:
        with store.read() as connection, DataView(connection) as view:
            count, part = patch_share(view, model)
            table_rows, top, last = connection.exec_driver_sql(
                "SELECT count(*), coalesce(max(computed_us), 0), coalesce(max(rowid), 0) "
                "FROM scores WHERE model = ?", (model,)).fetchall()[0]
            if count <= most and part <= share and table_rows <= FLUSH_ROWS:
                continue
            live = segments.live(connection, SegmentKind.SCORES, model=model)
            names = list(live[-1].meta.get("scores", []))
            started = time.perf_counter()
            target = segments.new_file(SegmentKind.SCORES)
            rows = view.duck.execute(
                f"COPY (SELECT * FROM {current_wide_sql(view, model, names)} "
                f"ORDER BY contact_id) TO {quote_text(str(target))} (FORMAT parquet, "
                f"COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})").fetchall()[0][0]
        with store.write() as writer:
            current = {s.id for s in segments.live(writer.connection, SegmentKind.SCORES,
                                                    model=model)}
            if current != {s.id for s in live}:  # a score run published meanwhile
                target.unlink(missing_ok=True)
                continue
            segments.publish(writer.connection, SegmentKind.SCORES, target, rows=int(rows),
                             model=model, meta={**live[-1].meta, "full": True})
            segments.retire(writer.connection, live)
            writer.connection.exec_driver_sql(  # the rows folded: none written since
                "DELETE FROM scores WHERE model = ? AND computed_us <= ? AND rowid <= ?",
                (model, int(top), int(last)))
        folded += 1
        log.debug("folded %d score patches of %s in %.2fs", count, model,
                  time.perf_counter() - started)
    return folded


def merge_segments(store: Store, kind: SegmentKind, *, most: int = MAX_SEGMENTS) -> bool:
    """When there are more than `most` segments of `kind`, merge the smaller ones: the
    smallest segments, as many as bring the count down to half of `most` — a large segment
    (a bulk import's) is rewritten only once the merged ones have grown to its size, so a
    store that flushes small tails often does not copy its whole history every few flushes."""
    segments = store.segments
    assert segments is not None
    with store.read() as connection:
        live = segments.live(connection, kind)
    if len(live) <= most:
        return False
    live = sorted(live, key=lambda s: (s.rows, s.id))[:len(live) - most // 2 + 1]
    started = time.perf_counter()
    source = parquet_source([str(s.path) for s in live])
    order = "contact_id, occurred_us, seq" if kind is SegmentKind.EVENTS else "contact_id, seq"
    target = segments.new_file(kind)
    duck = store.duck()
    duck.execute(f"COPY (SELECT * FROM {source} ORDER BY {order}) TO "
                 f"{quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd, "
                 f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
    rows = sum(s.rows for s in live)
    low = min((s.min_seq for s in live if s.min_seq is not None), default=None)
    high = max((s.max_seq for s in live if s.max_seq is not None), default=None)
    with store.write() as writer:
        current = {s.id for s in segments.live(writer.connection, kind)}
        if not {s.id for s in live} <= current:  # another writer merged them meanwhile
            target.unlink(missing_ok=True)
            return False
        segments.publish(writer.connection, kind, target, rows=rows, min_seq=low,
                         max_seq=high)
        segments.retire(writer.connection, live)
    log.debug("merged %d %s segments in %.2fs", len(live), kind, time.perf_counter() - started)
    return True
