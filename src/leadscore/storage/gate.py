"""Write turns within one process on the embedded store: a first-come, first-served gate
taken before SQLite's write lock (`BEGIN IMMEDIATE`).

SQLite lets one transaction write at a time; a second writer waits in SQLite's busy handler,
which sleeps and polls (1, 2, 5 … 25, 50, 100 ms), so a writer may wait up to 100 ms past the
moment the lock came free, and a writer that loops (the worker) can take it again before a
sleeping one wakes. Inside one process — `leadscore serve`: the API's event writer and the
worker's batches — writers queue here instead, in arrival order, and each is handed the lock
the moment the previous one commits. Other processes still meet at SQLite's lock.

A thread that already holds the gate and opens another write transaction passes through (as
before the gate existed, SQLite then says the database is locked rather than wait forever).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class FairGate:
    """A lock granted in arrival order (a ticket queue), not reentrant but pass-through for
    its holder (see the module docstring)."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._queue: deque[int] = deque()
        self._next = 0
        self._holder: int | None = None  # thread id

    @contextmanager
    def turn(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._holder == me:
            yield
            return
        with self._condition:
            ticket = self._next
            self._next += 1
            self._queue.append(ticket)
            while self._queue[0] != ticket or self._holder is not None:
                self._condition.wait()
            self._holder = me
        try:
            yield
        finally:
            with self._condition:
                self._holder = None
                self._queue.popleft()
                self._condition.notify_all()


_GATES: dict[str, FairGate] = {}
_GATES_LOCK = threading.Lock()


def gate_for(database: str) -> FairGate:
    """The one gate of this process for a SQLite file."""
    with _GATES_LOCK:
        found = _GATES.get(database)
        if found is None:
            found = _GATES[database] = FairGate()
        return found


__all__ = ["FairGate", "gate_for"]
