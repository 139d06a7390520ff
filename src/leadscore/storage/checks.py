"""Checks of a SQLite store file: that it is a leadscore store (on opening) and that it is
not damaged (`PRAGMA quick_check`, before a process's first write)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.raw import connect_sqlite


def _first_line(error: BaseException | None) -> str:
    text = str(error or "unknown error").strip()
    return text.splitlines()[0] if text else "unknown error"


def _driver_error(error: BaseException) -> bool:
    """Whether `error` comes from the database driver (sqlite3, psycopg, or SQLAlchemy's
    wrapping of them) rather than from leadscore."""
    module = type(error).__module__
    return module.startswith(("sqlite3", "psycopg", "sqlalchemy.exc"))


def check_sqlite_file(path: Path, *, create: bool, shown: str) -> None:
    """A SQLite store's file must exist (unless it may be created) and be a leadscore store:
    a database with other tables and no leadscore schema is another application's."""
    if not path.exists():
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LeadscoreError.single(
                    "LS291", f"cannot create the folder for the store {path}: "
                             f"{error.strerror}", Location(file=str(path), field="store"),
                    hint="choose a path you can write to") from None
            return
        raise LeadscoreError.single(
            "LS294", f"there is no store at {shown}", Location(file=str(path), field="store"),
            hint="check the store URL (a relative path is relative to the project folder), "
                 "or import data first: reading commands never create a store")
    if path.is_dir():
        raise LeadscoreError.single(
            "LS291", f"the store path {path} is a folder", Location(file=str(path),
                                                                    field="store"),
            hint="give the path of a database file, e.g. .leadscore/store.db")
    # The file is read through SQLite alone, never opened by itself: closing any descriptor
    # of a database file drops every POSIX lock this process holds on it, including the
    # shared lock of another store's open WAL connection (`leadscore serve` opens two stores);
    # another process may then think itself the last one, checkpoint and delete the WAL under
    # that connection ("database disk image is malformed").
    if not os.access(path, os.R_OK):
        raise LeadscoreError.single(
            "LS291", f"cannot read the store {path}: permission denied",
            Location(file=str(path), field="store"), hint="check the file's permissions")
    if path.stat().st_size == 0:
        return  # an empty file: a new store
    driver = connect_sqlite(str(path), readonly=True)
    try:
        tables = {row[0] for row in driver.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except Exception as error:  # noqa: BLE001 - another kind of file, or a damaged one
        if "not a database" in str(error):
            raise LeadscoreError.single(
                "LS295", f"{path} is not a SQLite database",
                Location(file=str(path), field="store"),
                hint="point [store] url at a leadscore store, or at a new file name") from None
        raise LeadscoreError.single(
            "LS296", f"the store {path} is damaged: {error}",
            Location(file=str(path), field="store"),
            hint="restore it from a backup (leadscore backup / restore), or start a new store "
                 "and import again") from None
    finally:
        driver.close()
    others = tables - {"sqlite_sequence", "alembic_version"}
    if others and "alembic_version" not in tables:
        shown_tables = ", ".join(sorted(others)[:5])
        raise LeadscoreError.single(
            "LS295", f"{path} is another application's database (tables {shown_tables}), "
                     "not a leadscore store", Location(file=str(path), field="store"),
            hint="point [store] url at a leadscore store, or at a new file name")


DAMAGED_HINT = ("stop every leadscore process using it; then `leadscore restore BACKUP` from "
                "a backup made with `leadscore backup FILE`, or move the file (and its -wal "
                "file and .data folder) aside and import the data again")
DAMAGE_WORDS = ("database disk image is malformed", "file is not a database",
                "disk i/o error")


def damage_error(error: BaseException, file: str | None = None) -> LeadscoreError | None:
    """A driver error that says the store's file is damaged (found while reading, before any
    check ran: another program overwrote part of it) as LS296, placed at `file` (the
    store's file, when the caller knows it); None for any other error."""
    cause = getattr(error, "orig", None) or error
    if not _driver_error(cause) and not _driver_error(error):
        return None
    text = str(cause).strip().lower()
    if not any(words in text for words in DAMAGE_WORDS):
        return None
    return LeadscoreError.single(
        "LS296", f"the store is damaged ({_first_line(cause)}); the command stopped there",
        Location(file=file, field="store"),
        hint=DAMAGED_HINT)


SEAL_SUFFIX = ".sealed"  # beside the database: how leadscore last left the file
SEAL_WIDTH = 128  # bytes a seal is padded to (see `seal`)


def _file_state(database: str) -> list[Any]:
    """(size, modification time in ns) of the database file and of its write-ahead log."""
    found: list[Any] = []
    for path in (database, database + "-wal"):
        try:
            info = os.stat(path)
        except OSError:
            found.append(None)
            continue
        # an empty log is no log: a reader opening the file creates one
        found.append([info.st_size, info.st_mtime_ns] if info.st_size else None)
    return found


def sealed(database: str) -> bool:
    """Whether the file is exactly as a leadscore process last left it (its size and time,
    and its log's, as recorded by `seal`): then nothing else has written into it since, and
    `quick_check` need not read it all again."""
    try:
        recorded = json.loads(Path(database + SEAL_SUFFIX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(recorded == _file_state(database))


def seal(database: str) -> None:
    """Record how this process leaves the file (after a commit, and after closing, when
    SQLite has folded the log into the file). Best effort: without a seal the next writer
    checks the file again.

    Written in place, padded to a fixed width, not renamed over the old seal: on ext4 a
    rename over an existing file flushes the new one to disk first (auto_da_alloc), 2 ms on
    every commit. A write torn by a crash leaves a seal that does not parse or does not
    match — the next writer then checks the file, as it would without a seal."""
    target = database + SEAL_SUFFIX
    data = json.dumps(_file_state(database)).ljust(SEAL_WIDTH).encode("utf-8")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(descriptor, data, 0)
            if os.fstat(descriptor).st_size > len(data):
                os.ftruncate(descriptor, len(data))
        finally:
            os.close(descriptor)
    except OSError:
        Path(target).unlink(missing_ok=True)


def quick_check(connection: Any, database: str) -> None:
    """`PRAGMA quick_check` (pages, records and free lists, not index contents — about 1.4 s
    per GB of database file, read once; the bulk data is in Parquet beside it). A damaged store
    is refused before anything is written to it (LS296), with what to do."""
    try:
        problems = [row[0] for row in connection.exec_driver_sql(
            "PRAGMA quick_check(5)").fetchall()]
    except Exception as error:  # a page too damaged to check: the driver's own error
        if not _driver_error(error):
            raise
        problems = [_first_line(getattr(error, "orig", error))]
    if problems == ["ok"]:
        return
    raise LeadscoreError.single(
        "LS296", f"the store {database} is damaged, so nothing was written to it "
                 f"(SQLite's quick_check: {'; '.join(str(p) for p in problems[:3])})",
        Location(file=str(database), field="store"),
        hint=DAMAGED_HINT + "; `sqlite3 FILE .recover` may save what is left")
