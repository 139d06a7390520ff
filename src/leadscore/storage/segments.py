"""Columnar segments: the embedded store's bulk data as immutable Parquet files, listed in a
catalog table (`segments`) inside its SQLite database — a catalog in SQL and the data in
Parquet, as DuckLake does.

A segment is written under a temporary name, flushed to disk, renamed, and only then listed in
the catalog by the writer's transaction: a reader sees a segment completely or not at all, and
a crash before the commit leaves a file that no catalog row names (removed later by
`collect_garbage`). Segments are never changed. A compaction writes their merge as a new
segment and *retires* the old ones in the same transaction; a retired file stays on disk for a
grace time, so that a reader that listed it just before still finds it.

Every SQLite store has a data folder beside its database file: `store.db` → `store.db.data/`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection

_COLUMNS = "id, kind, model, file, rows, min_seq, max_seq, created_us, meta"
GRACE_US = 15 * 60 * 1_000_000  # retired and orphaned files are kept this long
SUFFIX = ".parquet"
SIDECAR = ".summary.parquet"  # derived from a segment once, kept beside it: path + SIDECAR


class SegmentKind(StrEnum):
    EVENTS = "events"  # rows of the events table
    PROPS = "props"  # rows of property_changes
    VALUES = "values"  # every contact's latest value of every property (wide): a cache
    SCORES = "scores"  # one model's scores of the contacts a run scored (wide)
    HISTORY = "history"  # rows of score_history
    STAGES = "stages"  # rows of stage_changes
    CONTACTS = "contacts"  # rows of contacts up to a revision: a mirror for bulk reads


@dataclass(frozen=True)
class Segment:
    id: int
    kind: str
    file: str
    path: Path
    rows: int
    min_seq: int | None
    max_seq: int | None
    created_us: int
    model: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def now_us() -> int:
    return time.time_ns() // 1000


class Segments:
    """The data folder of one SQLite store and its catalog of segments."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder

    @property
    def folder(self) -> Path:
        """The data folder; an in-memory store's is a temporary folder, made when first
        needed and removed when the store is gone."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="leadscore-segments-"))
            weakref.finalize(self, shutil.rmtree, self._folder, True)
        return self._folder

    @classmethod
    def beside(cls, database: str | None) -> Segments:
        """The data folder of a SQLite database file (a temporary one for in-memory stores)."""
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return cls(None)
        return cls(Path(database + ".data"))

    # -- reading the catalog --------------------------------------------------------------

    def live(self, connection: Connection, kind: str | None = None, *,
             model: str | None = None) -> list[Segment]:
        """The segments a reader sees in this transaction (oldest first)."""
        where, params = ["retired_us IS NULL"], []
        if kind is not None:
            where.append("kind = ?")
            params.append(str(kind))
        if model is not None:
            where.append("model = ?")
            params.append(model)
        rows = connection.exec_driver_sql(
            f"SELECT {_COLUMNS} FROM segments WHERE {' AND '.join(where)} ORDER BY id",
            tuple(params)).fetchall()
        return [self._segment(row) for row in rows]

    def _segment(self, row: Any) -> Segment:
        segment_id, kind, model, file, rows, low, high, created, meta = row
        if isinstance(meta, str):
            meta = json.loads(meta)
        return Segment(id=int(segment_id), kind=kind, file=file, path=self.folder / file,
                       rows=int(rows), min_seq=low, max_seq=high, created_us=int(created),
                       model=model, meta=dict(meta or {}))

    # -- writing ----------------------------------------------------------------------------

    def new_file(self, kind: str) -> Path:
        """A fresh temporary path in the data folder, for a segment being written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{kind}-{now_us()}-{secrets.token_hex(4)}{SUFFIX}"
        return self.folder / (name + ".tmp")

    def publish(self, connection: Connection, kind: str, written: Path, *, rows: int,
                min_seq: int | None = None, max_seq: int | None = None,
                model: str | None = None, meta: dict[str, Any] | None = None) -> Segment:
        """Make a written file a segment, inside the caller's write transaction: flush it to
        disk, give it its final name, list it. Visible to readers when the caller commits."""
        final = written.with_name(written.name.removesuffix(".tmp"))
        _fsync(written)
        os.replace(written, final)
        _fsync(self.folder)
        created = now_us()
        segment_id = connection.exec_driver_sql(
            "INSERT INTO segments (kind, model, file, rows, min_seq, max_seq, created_us, "
            "retired_us, meta) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?) RETURNING id",
            (str(kind), model, final.name, rows, min_seq, max_seq, created,
             json.dumps(meta or {}))).scalar()
        return Segment(id=int(segment_id or 0), kind=str(kind), file=final.name, path=final,
                       rows=rows, min_seq=min_seq, max_seq=max_seq, created_us=created,
                       model=model, meta=meta or {})

    def retire(self, connection: Connection, retired: Iterable[Segment]) -> None:
        ids = [segment.id for segment in retired]
        if ids:
            connection.exec_driver_sql(
                f"UPDATE segments SET retired_us = ? WHERE id IN ({', '.join(['?'] * len(ids))})",
                (now_us(), *ids))

    def reserve_seq(self, connection: Connection, table: str, count: int) -> int:
        """The first of `count` sequence numbers of `table` that no row will ever get from
        the table's own AUTOINCREMENT (inside the caller's write transaction)."""
        current = connection.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).scalar()
        if current is None:
            current = connection.exec_driver_sql(
                f"SELECT coalesce(max(seq), 0) FROM {table}").scalar() or 0
            connection.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)",
                                       (table, int(current) + count))
        else:
            connection.exec_driver_sql("UPDATE sqlite_sequence SET seq = ? WHERE name = ?",
                                       (int(current) + count, table))
        return int(current) + 1

    def collect_garbage(self, connection: Connection, *, grace_us: int = GRACE_US) -> int:
        """Delete retired segments' files and files no catalog row names, once older than the
        grace time; returns how many files went."""
        if self._folder is None or not self._folder.is_dir():
            return 0
        cutoff = now_us() - grace_us
        named = {row[0] for row in connection.exec_driver_sql(
            "SELECT file FROM segments WHERE retired_us IS NULL").fetchall()}
        old = connection.exec_driver_sql("SELECT id, file FROM segments WHERE retired_us < ?",
                                         (cutoff,)).fetchall()
        removed = 0
        for _, name in old:
            removed += _unlink(self.folder / name)
            removed += _unlink(self.folder / (name + SIDECAR))
        if old:
            connection.exec_driver_sql(
                f"DELETE FROM segments WHERE id IN ({', '.join(['?'] * len(old))})",
                tuple(i for i, _ in old))
        retired_recently = {row[0] for row in connection.exec_driver_sql(
            "SELECT file FROM segments WHERE retired_us >= ?", (cutoff,)).fetchall()}
        for path in self.folder.iterdir():
            owner = path.name.removesuffix(SIDECAR)
            if owner in named or owner in retired_recently or not path.is_file():
                continue
            if path.stat().st_mtime * 1_000_000 < cutoff:
                removed += _unlink(path)
        return removed

    def files(self, found: Sequence[Segment]) -> list[str]:
        return [str(segment.path) for segment in found]


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1
