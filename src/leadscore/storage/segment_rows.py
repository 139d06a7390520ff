"""Rows of the embedded store's segments, kept in memory per contact for a long-running
reader of few contacts at a time — the worker beside `leadscore serve`.

A segment (a Parquet file) never changes once written: a contact's rows in a given set of
live segments are the same on every read. The worker reads the history of each pass's
contacts — a few dozen, mostly the same active ones again — and every such read scanned the
segments in DuckDB (50–65 ms of a 114 ms pass on the bench's 5,000 contacts, with the API
waiting for the CPU meanwhile). `SegmentRowCache` keeps what was read, per (what was asked,
which segment files), so that only contacts not seen before are read from the files. When the
set of live segments changes (`maintain` folded the tails into new ones) the rows of the old
set are dropped whole. Rows are kept unfiltered by time; each read filters them by its own
moment, as the query would have.

Bounded by contacts (least recently read dropped first), not bytes: a contact's rows are its
property changes and events, a few hundred at most for all but a handful.

Segments of at most `WHOLE_ROWS` rows in all are read whole at the first contact missing
(when they hold no more contacts than the cache keeps): a read of a few contacts scanned every
file anyway (5–15 ms a kind at 5,000 contacts, however few the ids), and in the worker beside
the API a pass nearly always has one contact not seen before — a new visitor, or one whose
rows are all in the tail. Read whole, the set is complete: a contact it does not hold has no
rows there, and no read goes to the files again until the set of live segments changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

Row = tuple[Any, ...]
DEFAULT_CONTACTS = 20_000  # contacts kept per kind of read
LARGEST_READ = 2_000  # a read of more contacts (a bulk pass) goes to the files as before
WHOLE_ROWS = 250_000  # segments of at most this many rows in all are read whole (docstring)


class SegmentRowCache:
    """Per-contact rows of immutable segments (see the module docstring); thread-safe."""

    def __init__(self, contacts: int = DEFAULT_CONTACTS) -> None:
        self.limit = contacts
        self._lock = threading.Lock()
        # (what is read) -> the segment files read, contact -> rows sorted as read, and
        # whether those are every contact of the files (read whole)
        self._kept: dict[Any, _Kept] = {}
        self.hits = 0
        self.misses = 0

    def rows(self, what: Any, files: tuple[str, ...], ids: Sequence[str],
             read: Callable[[list[str] | None], list[Row]],
             rows: int | None = None) -> dict[str, list[Row]]:
        """Each contact's rows in `files`: kept ones, and the others by `read(missing ids)` —
        rows whose first column is the contact id, in the order to keep. `read(None)` reads
        every contact's; it is asked once per set of files whose `rows` (the segments' row
        count, when known) are at most `WHOLE_ROWS`."""
        with self._lock:
            kept = self._kept.get(what)
            if kept is None or kept.files != files:
                kept = self._kept[what] = _Kept(files)
            found: dict[str, list[Row]] = {}
            missing: list[str] = []
            for cid in ids:
                held = kept.contacts.get(cid)
                if held is not None:
                    kept.contacts.move_to_end(cid)
                    found[cid] = held
                elif kept.whole:
                    found[cid] = []  # read whole: none of its rows are in these files
                else:
                    missing.append(cid)
            self.hits += len(ids) - len(missing)
            self.misses += len(missing)
            whole = bool(missing) and not kept.tried and rows is not None \
                and rows <= WHOLE_ROWS
            kept.tried = kept.tried or whole
        if not missing:
            return found
        fresh: dict[str, list[Row]] = {cid: [] for cid in missing}
        for row in read(None if whole else missing):
            fresh.setdefault(row[0], []).append(row)
        complete = whole and len(fresh) <= self.limit
        with self._lock:
            kept = self._kept.get(what)
            if kept is not None and kept.files == files:  # not replaced meanwhile
                kept.contacts.update(fresh)
                kept.whole = kept.whole or complete
                while len(kept.contacts) > self.limit and not kept.whole:
                    kept.contacts.popitem(last=False)
        found.update((cid, fresh[cid]) for cid in missing)
        return found


class _Kept:
    """What is kept of one kind of read: of which files, each contact's rows, and whether
    they are every contact of those files."""

    def __init__(self, files: tuple[str, ...]) -> None:
        self.files = files
        self.contacts: OrderedDict[str, list[Row]] = OrderedDict()
        self.whole = False
        self.tried = False  # read whole once (or found too large for it)


__all__ = ["LARGEST_READ", "SegmentRowCache"]
