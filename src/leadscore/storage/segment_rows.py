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
property changes and events, a few hundred at most for all but a handful."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

Row = tuple[Any, ...]
DEFAULT_CONTACTS = 20_000  # contacts kept per kind of read
LARGEST_READ = 2_000  # a read of more contacts (a bulk pass) goes to the files as before


class SegmentRowCache:
    """Per-contact rows of immutable segments (see the module docstring); thread-safe."""

    def __init__(self, contacts: int = DEFAULT_CONTACTS) -> None:
        self.limit = contacts
        self._lock = threading.Lock()
        # (what is read) -> (the segment files read, contact -> rows sorted as read)
        self._kept: dict[Any, tuple[tuple[str, ...], OrderedDict[str, list[Row]]]] = {}
        self.hits = 0
        self.misses = 0

    def rows(self, what: Any, files: tuple[str, ...], ids: Sequence[str],
             read: Callable[[list[str]], list[Row]]) -> dict[str, list[Row]]:
        """Each contact's rows in `files`: kept ones, and the others by `read(missing ids)` —
        rows whose first column is the contact id, in the order to keep."""
        with self._lock:
            kept = self._kept.get(what)
            if kept is None or kept[0] != files:
                kept = self._kept[what] = (files, OrderedDict())
            contacts = kept[1]
            found: dict[str, list[Row]] = {}
            missing: list[str] = []
            for cid in ids:
                rows = contacts.get(cid)
                if rows is None:
                    missing.append(cid)
                else:
                    contacts.move_to_end(cid)
                    found[cid] = rows
            self.hits += len(found)
            self.misses += len(missing)
        if not missing:
            return found
        fresh: dict[str, list[Row]] = {cid: [] for cid in missing}
        for row in read(missing):
            fresh[row[0]].append(row)
        with self._lock:
            kept = self._kept.get(what)
            if kept is not None and kept[0] == files:  # not replaced meanwhile
                contacts = kept[1]
                contacts.update(fresh)
                while len(contacts) > self.limit:
                    contacts.popitem(last=False)
        found.update(fresh)
        return found


__all__ = ["LARGEST_READ", "SegmentRowCache"]
