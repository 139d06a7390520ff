"""One process at a time rescores a publish. A publish interrupted by a crash is resumed by
whoever comes next — `leadscore model resume`, or a worker (and `leadscore serve`) on its own —
and none of them may start while another process is still rescoring it: two runs would both
write every score (the second for nothing) and, on PostgreSQL, lock the same rows.

The lock lives as long as the process that holds it, so a crash releases it: on the embedded
store an exclusive `flock` on a file beside the database; on PostgreSQL a session advisory
lock on a connection of its own. A store in memory has one process: always free."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadscore.storage.store import Store

ADVISORY_KEY = 0x6C73_7075_626C  # "lspubl": the publish lock among the store's advisory locks


@contextmanager
def publish_lock(store: Store, *, wait: bool = True) -> Iterator[bool]:
    """Hold the store's publish lock for the block; yields whether it is held (False only
    without `wait`, when another process holds it)."""
    if store.dialect == "postgresql":
        with _advisory(store, wait) as held:
            yield held
        return
    database = store.location.database
    if database is None:
        yield True
        return
    with _flock(Path(database).expanduser().resolve(), wait) as held:
        yield held


@contextmanager
def _flock(database: Path, wait: bool) -> Iterator[bool]:
    import fcntl

    handle = os.open(database.with_name(database.name + ".publish-lock"),
                     os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True  # released when the file is closed, or the process ends
    finally:
        os.close(handle)


@contextmanager
def _advisory(store: Store, wait: bool) -> Iterator[bool]:
    from leadscore.storage.raw import connect_postgres

    connection = connect_postgres(store.location)
    try:
        connection.autocommit = True
        function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        row = connection.execute(f"SELECT {function}(%s)", (ADVISORY_KEY,)).fetchone()
        yield True if wait else bool(row[0])
    finally:
        connection.close()  # the session's advisory locks go with it


__all__ = ["publish_lock"]
