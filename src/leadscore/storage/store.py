"""The store: contacts with their property history, events, scores and stage changes.

`Store.open(url)` takes `sqlite:///path/to/file.db` (the embedded default) or
`postgresql+psycopg://user@host/db` (a shared production store), and migrates the schema to
the current version. Every write is one transaction; `store.write()` groups several writes
into one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.checks import (
    _driver_error,
    _first_line,
    check_sqlite_file,
    quick_check,
    seal,
    sealed,
)
from leadscore.storage.raw import (
    RawConnection,
    StoreUrl,
    connect_postgres,
    connect_sqlite,
    parse_store_url,
)
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    WriteCounts,
)
from leadscore.storage.segments import Segments
from leadscore.storage.store_reads import StoreReads

if TYPE_CHECKING:
    from leadscore.storage.segment_rows import SegmentRowCache
    from leadscore.storage.writer import Writer


MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0014"  # the newest file in migrations/versions; a test keeps them in step
_WRITE_LOCK_KEY = 7_365_100  # pg_advisory_xact_lock key: one writer at a time, as on SQLite


class Store(StoreReads):
    """A leadscore database. Open with `Store.open(url)`; use as a context manager."""

    def __init__(self, url: StoreUrl, segments: Segments | None = None) -> None:
        self.location = url
        self.url = url.shown
        self.dialect: str = url.backend
        # the embedded store keeps bulk data in Parquet segments beside its database file
        self.segments = segments
        self._engine_: Any = None
        self._duck: Any = None
        self._segment_rows: SegmentRowCache | None = None  # keep_segment_rows
        self._readers = threading.local()
        self._checked = False  # PRAGMA quick_check passed (once per opened store, first write)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Connect to the store at `url` and migrate it to head. A SQLite file is created
        when `create`; without it (commands that only read), a missing store is an error."""
        parsed = parse_store_url(url)
        segments = None
        if parsed.backend == "sqlite":
            segments = Segments.beside(_sqlite_path(parsed))
            if parsed.database is not None:
                check_sqlite_file(Path(parsed.database).expanduser(), create=create,
                                  shown=parsed.shown)
        store = cls(parsed, segments)
        try:
            store.migrate()
        except LeadscoreError:
            store.close()
            raise
        except Exception as error:  # the driver's own errors (server down, bad database)
            if not _driver_error(error):
                raise
            store.close()
            raise LeadscoreError.single(
                "LS291", f"cannot open the store at {parsed.shown}: "
                         f"{_first_line(getattr(error, 'orig', error))}",
                Location(field="store"), text=parsed.shown,
                hint="check that the server is running and the URL, user and database are "
                     "right; a SQLite path must be a leadscore database file",
            ) from None
        return store

    @property
    def _engine(self) -> Any:
        """The SQLAlchemy engine (created on first write)."""
        if self._engine_ is None:
            from leadscore.storage.engine import create_engine

            self._engine_ = create_engine(self.location)
        return self._engine_

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """After a bulk load, let PostgreSQL's planner know the tables' new sizes and value
        spread (ANALYZE). Without it — autovacuum may be off, or not have caught up — it
        plans for the empty tables it last saw and scans where an index would do. SQLite's
        planner works from its indexes, so there it is a no-op."""
        if self.dialect != "postgresql" or not tables:
            return
        with self.write(exclusive=False) as writer:
            writer.connection.exec_driver_sql("ANALYZE " + ", ".join(tables))

    def migrate(self) -> None:
        """Bring the schema to the newest version (idempotent). A store already at the head
        revision costs one query; Alembic is loaded only when there is work to do."""
        if self.schema_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._engine.begin() as connection:
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "head")
            except CommandError as error:
                raise LeadscoreError.single(
                    "LS292", f"the store at {self.url} has a schema this version of leadscore "
                             f"does not know ({error})",
                    Location(field="store"),
                    hint="upgrade leadscore, or point it at another database",
                ) from None

    def schema_revision(self) -> str | None:
        """The Alembic revision the store is at; None for an empty database."""
        if self.location.database is None:  # in memory: one connection, SQLAlchemy's
            with self._engine.connect() as connection:
                import sqlalchemy as sa

                if not sa.inspect(connection).has_table("alembic_version"):
                    return None
                return connection.exec_driver_sql(
                    "SELECT version_num FROM alembic_version").scalar()
        connection = self._reader()
        try:
            if self.dialect == "sqlite":
                found = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                    "name = 'alembic_version'").first()
            else:
                found = connection.exec_driver_sql(
                    "SELECT to_regclass('alembic_version')").first()
                found = found if found and found[0] is not None else None
            if found is None:
                return None
            return connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version").scalar()
        finally:
            self._end_read(connection)

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        reader = getattr(self._readers, "connection", None)
        if reader is not None:
            reader.close()
            self._readers.connection = None
        statements = getattr(self._readers, "statements", None)
        if statements is not None:
            statements.close()
            self._readers.statements = None
        if self._engine_ is not None:
            self._engine_.dispose()
            self._engine_ = None
            if self._checked:  # closing folded the log into the file: as this process left it
                self._seal()

    def duck(self) -> Any:
        """The store's DuckDB connection (opened on first use), which reads its segments."""
        if self._duck is None:
            from leadscore.storage.duck import open_duck

            temp = self.segments.folder / "tmp" if self.segments is not None else None
            self._duck = open_duck(temp_dir=temp)
        return self._duck

    def keep_segment_rows(self, contacts: int | None = None) -> None:
        """Keep the segments' rows of the contacts read, in memory (`storage.segment_rows`):
        for a long-running reader of a few contacts at a time, such as the worker beside
        `leadscore serve`. No effect on PostgreSQL, which has no segments."""
        from leadscore.storage.segment_rows import DEFAULT_CONTACTS, SegmentRowCache

        if self.segments is not None and self._segment_rows is None:
            self._segment_rows = SegmentRowCache(contacts or DEFAULT_CONTACTS)

    def segment_rows(self) -> SegmentRowCache | None:
        return self._segment_rows

    def _bind(self, connection: Any) -> Any:
        """Let readers and writers on this connection find the store's segments."""
        connection.info["leadscore.segments"] = self.segments
        connection.info["leadscore.duck"] = self.duck
        connection.info["leadscore.segment_rows"] = self.segment_rows
        return connection

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def engine(self) -> Any:
        return self._engine

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def write(self, *, exclusive: bool = True) -> Iterator[Writer]:
        """One transaction: every write made through the Writer is kept, or none is.

        Write transactions take turns (SQLite has one writer; on PostgreSQL an advisory
        lock). `exclusive=False` lets a PostgreSQL transaction that only appends — events
        arriving — run beside the others, on row locks alone. On SQLite an exclusive
        transaction counts itself (`exclusive_writes`) as it commits, so that the worker,
        which reads a batch before it takes the write lock, can tell whether anything but
        arriving events was written meanwhile."""
        from leadscore.storage.writer import Writer

        with self.write_turn():
            connection = self._engine.connect()
            if self.dialect == "sqlite":
                connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            try:
                with connection.begin():
                    if not self._checked:
                        self._quick_check(connection)
                    if self.dialect == "postgresql" and exclusive:
                        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)",
                                                   (_WRITE_LOCK_KEY,))
                    yield Writer(self._bind(connection))
                    if self.dialect == "sqlite" and exclusive:
                        count_exclusive_write(connection)
                self._seal()
            finally:
                connection.close()

    def write_turn(self) -> AbstractContextManager[None]:
        """This process's turn to write (`storage.gate`): on a SQLite file, writers of one
        process take SQLite's write lock in arrival order; elsewhere, nothing to wait for."""
        if self.dialect != "sqlite" or self.location.database is None:
            return nullcontext()
        from leadscore.storage.gate import gate_for

        return gate_for(str(Path(self.location.database).expanduser().resolve())).turn()

    def _quick_check(self, connection: Any) -> None:
        """Before the first write to a SQLite file (see `checks.quick_check`) — unless the
        file is as a leadscore process left it (`checks.sealed`): at 1,000,000 contacts
        after `process` the check read a 2.2 GB file in 10.6 s before every command that writes."""
        database = self.location.database
        if self.dialect == "sqlite" and database is not None and not sealed(database):
            quick_check(connection, database)
        self._checked = True

    def _seal(self) -> None:
        if self.dialect == "sqlite" and self.location.database is not None:
            seal(self.location.database)

    def upsert_contacts(self, items: Sequence[ContactInput], *,
                        source: str = "import") -> WriteCounts:
        with self.write() as writer:
            return writer.upsert_contacts(items, source=source)

    def add_events(self, items: Sequence[EventInput]) -> WriteCounts:
        with self.write() as writer:
            return writer.add_events(items)

    def save_scores(self, model: str, records: Sequence[ScoreRecord], *, computed_at: datetime,
                    as_of: datetime, version: int | None = None) -> int:
        with self.write() as writer:
            return writer.save_scores(model, records, computed_at=computed_at, as_of=as_of,
                                      version=version)

    def record_stage_changes(self, changes: Sequence[StageChange]) -> None:
        with self.write() as writer:
            writer.record_stage_changes(changes)

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Any]:
        """A SQLAlchemy connection for consistent reads (one snapshot of the data while it is
        open)."""
        with self._engine.connect() as connection:
            if self.dialect == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield self._bind(connection)

    @contextmanager
    def read_raw(self) -> Iterator[Any]:
        """Like `read`, on the driver itself (`storage.raw`): what the store's own readers
        use, so that a command that only reads never loads SQLAlchemy."""
        if self.location.database is None:  # in memory: SQLAlchemy's one shared connection
            with self.read() as shared:
                yield shared
            return
        connection = self._reader()
        try:
            yield self._bind(connection)
        finally:
            self._end_read(connection)

    @contextmanager
    def read_statement(self) -> Iterator[Any]:
        """`read_raw` for ONE statement, outside any read of this thread: the statement runs
        in autocommit (its own snapshot) with no BEGIN and COMMIT (PostgreSQL: ROLLBACK)
        around it. On every API request that is two fewer calls into the SQLite driver, each
        of which gives up and takes back the GIL the worker beside the API holds meanwhile,
        or two fewer round trips to PostgreSQL, each of which blocks the event loop."""
        nested = bool(getattr(self._readers, "depth", 0))
        if self.location.database is None or nested:
            with self.read_raw() as connection:
                yield connection
            return
        if self.dialect == "sqlite":
            reader: RawConnection | None = getattr(self._readers, "connection", None)
            if reader is None:  # made by a first read as usual, then in autocommit
                with self.read_raw() as connection:
                    yield connection
                return
            yield self._bind(reader)
            return
        found: RawConnection | None = getattr(self._readers, "statements", None)
        if found is None:  # a connection of this thread's own, in autocommit
            driver = connect_postgres(self.location)
            driver.autocommit = True
            found = self._readers.statements = RawConnection(driver, self.dialect)
        try:
            yield self._bind(found)
        except BaseException:
            if found.driver.closed or found.driver.broken:  # start afresh next time
                found.close()
                self._readers.statements = None
            raise

    def _reader(self) -> RawConnection:
        """This thread's read connection, in a new transaction (nested reads share it)."""
        found: RawConnection | None = getattr(self._readers, "connection", None)
        depth = getattr(self._readers, "depth", 0)
        if found is None:
            if self.dialect == "sqlite":
                driver = connect_sqlite(self.location.database)
            else:
                driver = connect_postgres(self.location)
                driver.isolation_level = 3  # REPEATABLE READ: one snapshot per read
            found = self._readers.connection = RawConnection(driver, self.dialect)
        if depth == 0 and self.dialect == "sqlite":
            found.driver.execute("BEGIN")
        self._readers.depth = depth + 1
        return found

    def _end_read(self, connection: RawConnection) -> None:
        self._readers.depth -= 1
        if self._readers.depth == 0:
            try:
                if self.dialect == "sqlite":
                    connection.driver.execute("COMMIT")
                else:
                    connection.driver.rollback()
            except Exception:  # noqa: BLE001 - a broken connection: start afresh next time
                connection.close()
                self._readers.connection = None


EXCLUSIVE_WRITES = "exclusive_writes"  # store_state: committed exclusive writes (SQLite)


def count_exclusive_write(connection: Any) -> None:
    """Add one to the store's count of exclusive write transactions (in the transaction)."""
    found = connection.exec_driver_sql(
        "UPDATE store_state SET value = value + 1 WHERE name = ? RETURNING value",
        (EXCLUSIVE_WRITES,)).scalar()
    if found is None:
        connection.exec_driver_sql("INSERT INTO store_state (name, value) VALUES (?, 1)",
                                   (EXCLUSIVE_WRITES,))


def exclusive_writes(connection: Any) -> int:
    """The count `count_exclusive_write` keeps (0 before the first)."""
    found = connection.exec_driver_sql("SELECT value FROM store_state WHERE name = ?",
                                       (EXCLUSIVE_WRITES,)).scalar()
    return int(found or 0)


def _sqlite_path(url: StoreUrl) -> str | None:
    return None if url.database is None else str(Path(url.database).expanduser())
