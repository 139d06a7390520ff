"""Waking a waiting worker the moment another process makes contacts due.

A worker sleeps between passes (until its next time-based change, at most its interval). When
events or property changes arrive from another process, it should not sleep on:
- PostgreSQL: the writer sends `NOTIFY leadscore_due` in its transaction (`announce_due`; it
  is delivered at commit, and several in one transaction come as one) and the waiting worker
  LISTENs on a connection of its own.
- SQLite has no notifications; `PRAGMA data_version` on a connection of the watcher's own
  changes whenever another connection commits, and costs microseconds to read, so the watcher
  reads it every few milliseconds while it waits. (The worker's own commits count too: after
  a pass it may look once more and find nothing due.)

`poll(timeout)` blocks up to `timeout` seconds and says whether something changed; the
worker calls it slice by slice (`slice_seconds`) while it waits, checking its stop flag between.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine

CHANNEL = "leadscore_due"
SLICE = 0.05  # seconds a poll may block for (PostgreSQL)
SQLITE_POLL = 0.005  # seconds between reads of data_version


def announce_due(connection: Connection) -> None:
    """Within a write transaction that made contacts due: wake waiting workers at commit."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}")


class ChangeWatcher:
    """Waits for another process's writes (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect.name
        fairy = engine.raw_connection()
        dbapi = fairy.driver_connection
        assert dbapi is not None
        fairy.detach()  # a connection of its own, outside the pool
        self._dbapi: Any = dbapi
        if self.dialect == "postgresql":
            self._dbapi.autocommit = True
            self._dbapi.execute(f"LISTEN {CHANNEL}")
            self._version = None
            self.slice_seconds = SLICE
        else:
            self._version = self._data_version()
            self.slice_seconds = SQLITE_POLL

    def _data_version(self) -> int:
        return int(self._dbapi.execute("PRAGMA data_version").fetchone()[0])

    def poll(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True as soon as another writer made a change."""
        if self.dialect == "postgresql":
            woken = False
            for _ in self._dbapi.notifies(timeout=timeout, stop_after=1):
                woken = True
            if woken:
                for _ in self._dbapi.notifies(timeout=0.0):  # drain the rest
                    pass
            return woken
        version = self._data_version()
        if version != self._version:
            self._version = version
            return True
        time.sleep(timeout)
        return False

    def close(self) -> None:
        try:
            self._dbapi.close()
        except Exception:  # noqa: BLE001 - closing a connection that already broke
            pass
