"""Taking rows out of the embedded store's segments: a replaced event, an erased contact, events
past their retention.

Segments are immutable, so a segment holding rows to remove is written again without them (same
kind, sequence range, model and metadata) and the old one is retired — inside the caller's
write transaction, so readers see the old segment or the new one, never a mix; the old file is
removed by `collect_garbage` after its grace time (or at once with `remove_retired`, when the
rows must not stay on disk: an erasure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leadscore.storage.bulk import ROW_GROUP_ROWS
from leadscore.storage.duck import quote_text
from leadscore.storage.segments import Segment, Segments, _unlink

if TYPE_CHECKING:
    from sqlalchemy import Connection

_ORDER = {"events": "contact_id, occurred_us, seq", "contacts": "contact_id"}


def drop_segment_rows(connection: Connection, segments: Segments, duck: Any, kind: str,
                      predicate: str, params: list[Any] | None = None) -> list[Segment]:
    """Rewrite every live segment of `kind` that has rows matching `predicate` (DuckDB SQL
    over the segment's columns) without them; returns the segments retired."""
    retired: list[Segment] = []
    for segment in segments.live(connection, kind):
        source = f"read_parquet({quote_text(str(segment.path))})"
        hits = int(duck.execute(f"SELECT count(*) FROM {source} WHERE {predicate}",
                                list(params or [])).fetchall()[0][0])
        if not hits:
            continue
        order = _ORDER.get(kind, "contact_id")
        if kind in ("props", "history", "stages"):
            order = "contact_id, seq"
        target = segments.new_file(kind)
        duck.execute(f"COPY (SELECT * FROM {source} WHERE NOT ({predicate}) ORDER BY {order}) "
                     f"TO {quote_text(str(target))} (FORMAT parquet, COMPRESSION zstd, "
                     f"ROW_GROUP_SIZE {ROW_GROUP_ROWS})", list(params or []))
        segments.publish(connection, kind, target, rows=segment.rows - hits,
                         min_seq=segment.min_seq, max_seq=segment.max_seq,
                         model=segment.model, meta=segment.meta)
        segments.retire(connection, [segment])
        retired.append(segment)
    return retired


def remove_retired(connection: Connection, segments: Segments,
                   retired: list[Segment]) -> None:
    """Delete the files of segments just retired (and their catalog rows) without waiting for
    the grace time: for rows that must not stay on disk. A reader that listed one of them a
    moment ago fails and is run again."""
    if not retired:
        return
    for segment in retired:
        _unlink(segment.path)
    connection.exec_driver_sql(
        f"DELETE FROM segments WHERE id IN ({', '.join(['?'] * len(retired))})",
        tuple(s.id for s in retired))


__all__ = ["drop_segment_rows", "remove_retired"]
