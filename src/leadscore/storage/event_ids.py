"""Which arriving event ids the embedded store's segments may already hold, answered from
memory: per segment (immutable, so its content never changes under its path) a sorted array
of the 64-bit hashes of its event ids (Python's own `hash`, fixed for the process's life),
built on first use.

A batch of events is checked against the segments before its new rows go to the tail (an id
stored already is a no-op). Asking DuckDB to scan the segments took 5–7 ms per batch even for
one event of one contact (reading the Parquet files' metadata), most of the cost of a small
batch through the API (a DuckDB query only to hash the ids took 2 ms). Here the ids are
hashed and looked up in the arrays; only ids whose hash is found — a stored id, or a hash
collision — are checked in the segments themselves, so the answer is exact. Segments of
more than `MAX_ROWS` rows in all (the arrays cost 8 bytes per event) are not kept: then every
id is checked in the segments, as before."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

MAX_ROWS = 20_000_000  # per process, over every segment kept (160 MB)

_HASHES: dict[str, np.ndarray] = {}  # segment path → sorted hashes of its event ids
_LOCK = threading.Lock()


def candidates(duck: Any, paths: list[str], rows: list[int], ids: list[str]) -> list[str]:
    """The ids of `ids` that the segments at `paths` (with `rows` rows each) may hold: all
    of them when a segment is too large to keep in memory."""
    if not paths or not ids:
        return []
    if sum(rows) > MAX_ROWS:
        return list(ids)
    arrays = [_hashes(duck, path) for path in paths]
    hashed = np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids))
    maybe = np.zeros(len(ids), dtype=bool)
    for array in arrays:
        if len(array):
            at = np.searchsorted(array, hashed)
            at[at >= len(array)] = len(array) - 1
            maybe |= array[at] == hashed
    keep(paths)
    return [ids[i] for i in np.flatnonzero(maybe)]


def _hashes(duck: Any, path: str) -> np.ndarray:
    with _LOCK:
        found = _HASHES.get(path)
    if found is None:
        literal = "'" + path.replace("'", "''") + "'"
        cursor = duck.execute(f"SELECT event_id FROM read_parquet({literal})")
        parts = []
        while rows := cursor.fetchmany(100_000):
            parts.append(np.fromiter((hash(row[0]) for row in rows), dtype=np.int64,
                                     count=len(rows)))
        found = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        with _LOCK:
            _HASHES[path] = found
    return found


def keep(paths: list[str]) -> None:
    """Forget the arrays of segments of the same folders that are no longer live."""
    folders = {path.rsplit("/", 1)[0] for path in paths}
    live = set(paths)
    with _LOCK:
        for path in list(_HASHES):
            if path.rsplit("/", 1)[0] in folders and path not in live:
                del _HASHES[path]


__all__ = ["MAX_ROWS", "candidates"]
