"""Backing up and restoring the embedded store: one file holding the database and its segments.

A backup is a tar file: `leadscore-backup.json` (what it is), `store.db` (the SQLite database,
copied with SQLite's online backup API: one consistent moment, while others keep writing) and
`store.db.data/<segment>` for every segment that database lists. Segments are immutable and a
retired one stays on disk for a grace time, so the files the copied catalog names are there to
copy after it. The tar is written under a temporary name and renamed when complete.

A restore reads the tar into a folder beside the store, checks it (a leadscore store at a known
schema, `PRAGMA quick_check`, every listed segment present), and only then swaps it in; the
store it replaces is kept beside it (`<store>.before-restore-<time>`), never removed.

PostgreSQL has its own tools (pg_dump / pg_restore); leadscore says so (LS298).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.raw import StoreUrl, parse_store_url

MANIFEST = "leadscore-backup.json"
DATABASE = "store.db"
DATA = "store.db.data"
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    file: str
    segments: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    store: str
    segments: int
    kept: str | None  # where the store it replaced was moved (None: there was none)
    seconds: float


def _sqlite(url: str, field: str) -> Path:
    parsed: StoreUrl = parse_store_url(url)
    if parsed.backend == "postgresql":
        raise LeadscoreError.single(
            "LS298", "backup and restore work on the embedded (SQLite) store; this store is "
                     f"PostgreSQL ({parsed.shown})", Location(field=field),
            hint="use PostgreSQL's own tools: `pg_dump -Fc -f leadscore.dump DBNAME` "
                 "(consistent while leadscore writes), and `pg_restore -c -d DBNAME "
                 "leadscore.dump` with the worker stopped")
    if parsed.database is None:
        raise LeadscoreError.single(
            "LS298", "an in-memory store cannot be backed up or restored",
            Location(field=field), hint="give [store] url a file: sqlite:///path/store.db")
    return Path(parsed.database).expanduser()


def backup_store(url: str, target: Path) -> BackupReport:
    """Write a consistent backup of the embedded store at `url` to `target` (a tar file)."""
    started = time.perf_counter()
    database = _sqlite(url, "store")
    if not database.is_file():
        raise LeadscoreError.single("LS294", f"there is no store at {database}",
                                    Location(file=str(database), field="store"),
                                    hint="import data first: there is nothing to back up")
    if target.is_dir():
        raise LeadscoreError.single("LS297", f"{target} is a folder; a backup is one file",
                                    Location(file=str(target)),
                                    hint="name a file, e.g. backups/leadscore-2026-03-01.tar")
    target.parent.mkdir(parents=True, exist_ok=True)
    data = Path(str(database) + ".data")
    with tempfile.TemporaryDirectory(prefix=".leadscore-backup-", dir=target.parent) as work:
        copy = Path(work) / DATABASE
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        destination = sqlite3.connect(copy)
        try:
            source.execute("PRAGMA busy_timeout = 30000")
            source.backup(destination)  # all pages in one step: one consistent moment
            files = [row[0] for row in destination.execute(
                "SELECT file FROM segments WHERE retired_us IS NULL ORDER BY id")]
            destination.execute("PRAGMA journal_mode = DELETE")
        finally:
            destination.close()
            source.close()
        partial = target.with_name(target.name + ".tmp")
        with tarfile.open(partial, "w") as tar:
            manifest = json.dumps({"format": FORMAT, "created_us": time.time_ns() // 1000,
                                   "segments": len(files)}).encode()
            _add_bytes(tar, MANIFEST, manifest)
            tar.add(copy, DATABASE)
            for name in files:
                try:
                    tar.add(data / name, f"{DATA}/{name}")
                except FileNotFoundError:
                    partial.unlink(missing_ok=True)
                    raise LeadscoreError.single(
                        "LS297", f"segment {name} went while the backup ran (more than the "
                                 "grace time of 15 minutes passed, or it was erased)",
                        Location(file=str(data / name)),
                        hint="run the backup again") from None
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    return BackupReport(str(target), len(files), target.stat().st_size,
                        time.perf_counter() - started)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def restore_store(url: str, source: Path) -> RestoreReport:
    """Replace the embedded store at `url` with the backup `source`, once it is read whole and
    checked; the replaced store is moved aside, not removed."""
    started = time.perf_counter()
    database = _sqlite(url, "store")
    if not source.is_file():
        raise LeadscoreError.single("LS297", f"there is no backup file {source}",
                                    Location(file=str(source)),
                                    hint="give the file `leadscore backup FILE` wrote")
    database.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".leadscore-restore-", dir=database.parent))
    try:
        segments = _unpack(source, work)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = None
        if database.exists():
            kept = Path(f"{database}.before-restore-{stamp}")
            kept.mkdir()
            for part in (database, Path(f"{database}-wal"), Path(f"{database}-shm"),
                         Path(f"{database}.data")):
                if part.exists():
                    os.replace(part, kept / part.name)
        os.replace(work / DATABASE, database)
        os.replace(work / DATA, Path(f"{database}.data"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreReport(str(database), segments, None if kept is None else str(kept),
                         time.perf_counter() - started)


def _not_a_backup(source: Path, why: str) -> LeadscoreError:
    return LeadscoreError.single(
        "LS297", f"{source} is not a leadscore backup: {why}", Location(file=str(source)),
        hint="give a file written by `leadscore backup FILE`; the current store was not "
             "changed")


def _unpack(source: Path, work: Path) -> int:
    """Read the backup into `work` and check it; returns its number of segments."""
    if not tarfile.is_tarfile(source):
        raise _not_a_backup(source, "not a backup archive")
    try:
        with tarfile.open(source, "r") as tar:
            names = tar.getnames()
            if MANIFEST not in names or DATABASE not in names:
                raise _not_a_backup(source, "it holds no leadscore store")
            for member in tar.getmembers():
                if member.name not in (MANIFEST, DATABASE) and not (
                        member.name.startswith(DATA + "/") and member.isfile()
                        and "/" not in member.name[len(DATA) + 1:]):
                    raise _not_a_backup(source, f"unexpected entry {member.name!r}")
            tar.extractall(work, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise _not_a_backup(source, f"it cannot be read ({error})") from None
    (work / DATA).mkdir(exist_ok=True)
    try:
        manifest = json.loads((work / MANIFEST).read_text())
    except ValueError:
        raise _not_a_backup(source, "its description cannot be read") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_a_backup(source, "a backup format this version does not know")
    with (work / DATABASE).open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise _not_a_backup(source, "its database is not a SQLite file")
    driver = sqlite3.connect(work / DATABASE)
    try:
        tables = {row[0] for row in driver.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "contacts", "segments"} <= tables:
            raise _not_a_backup(source, "its database is not a leadscore store")
        check = [row[0] for row in driver.execute("PRAGMA quick_check(3)")]
        if check != ["ok"]:
            raise _not_a_backup(source, "its database is damaged (" + "; ".join(check) + ")")
        files = [row[0] for row in driver.execute(
            "SELECT file FROM segments WHERE retired_us IS NULL")]
        driver.execute("DELETE FROM segments WHERE retired_us IS NOT NULL")
        driver.commit()
    except sqlite3.DatabaseError as error:
        raise _not_a_backup(source, f"its database cannot be read ({error})") from None
    finally:
        driver.close()
    missing = [name for name in files if not (work / DATA / name).is_file()]
    if missing:
        raise _not_a_backup(source, f"{len(missing)} of its segments are missing "
                                    f"({missing[0]} …)")
    return len(files)


__all__ = ["BackupReport", "RestoreReport", "backup_store", "restore_store"]
