"""The store: contacts with their property history, events, scores and stage changes.

`Store.open(url)` takes `sqlite:///path/to/file.db` (the embedded default) or
`postgresql+psycopg://user@host/db` (a shared production store), and migrates the schema to
the current version. Every write is one transaction; `store.write()` groups several writes
into one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from leadscore.catalog import Catalog, PropertyDef
from leadscore.catalog.forms import from_micros
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.evaluation.snapshot import ContactSnapshot, EventRecord, PropertyChange
from leadscore.storage import changes, current, snapshots
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    StoredScore,
    WriteCounts,
)
from leadscore.storage.segments import Segments
from leadscore.storage.views import DataView
from leadscore.storage.writer import Writer, chunked

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0005"  # the newest file in migrations/versions; a test keeps them in step
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_LOCK_KEY = 7_365_100  # pg_advisory_xact_lock key: one writer at a time, as on SQLite
URL_HINT = ("use sqlite:///path/to/leadscore.db or "
            "postgresql+psycopg://user:password@host:5432/database")


class Store:
    """A leadscore database. Open with `Store.open(url)`; use as a context manager."""

    def __init__(self, engine: Engine, url: str, segments: Segments | None = None) -> None:
        self._engine = engine
        self.url = url
        self.dialect: str = engine.dialect.name
        # the embedded store keeps bulk data in Parquet segments beside its database file
        self.segments = segments
        self._duck: Any = None

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to the store at `url` (creating a SQLite file) and migrate it to head."""
        parsed = _parse_url(url)
        shown = parsed.render_as_string(hide_password=True)
        segments = None
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
            segments = Segments.beside(_sqlite_path(parsed))
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
            # many-row INSERTs as multi-row VALUES statements, not one statement per row
            engine.dialect.use_insertmanyvalues_wo_returning = True
        store = cls(engine, shown, segments)
        try:
            store.migrate()
        except LeadscoreError:
            engine.dispose()
            raise
        except DBAPIError as error:
            engine.dispose()
            raise LeadscoreError.single(
                "LS291", f"cannot open the store at {shown}: {_first_line(error.orig)}",
                Location(field="store"), text=shown,
                hint="check that the server is running and the URL, user and database are "
                     "right; a SQLite path must be a leadscore database file",
            ) from None
        return store

    def refresh_statistics(self, tables: Sequence[str]) -> None:
        """After a bulk load, let PostgreSQL's planner know the tables' new sizes and value
        spread (ANALYZE). Without it — autovacuum may be off, or not have caught up — it
        plans for the empty tables it last saw and scans where an index would do. SQLite's
        planner works from its indexes, so there it is a no-op."""
        if self.dialect != "postgresql" or not tables:
            return
        with self._engine.begin() as connection:
            connection.execute(sa.text("ANALYZE " + ", ".join(tables)))

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
        with self._engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")
                                      ).scalar()

    def close(self) -> None:
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        self._engine.dispose()

    def duck(self) -> Any:
        """The store's DuckDB connection (opened on first use), which reads its segments."""
        if self._duck is None:
            from leadscore.storage.duck import open_duck

            temp = self.segments.folder / "tmp" if self.segments is not None else None
            self._duck = open_duck(temp_dir=temp)
        return self._duck

    def _bind(self, connection: Connection) -> Connection:
        """Let readers and writers on this connection find the store's segments."""
        connection.info["leadscore.segments"] = self.segments
        connection.info["leadscore.duck"] = self.duck
        return connection

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def write(self, *, exclusive: bool = True) -> Iterator[Writer]:
        """One transaction: every write made through the Writer is kept, or none is.

        Write transactions take turns (SQLite has one writer; on PostgreSQL an advisory
        lock). `exclusive=False` lets a PostgreSQL transaction that only appends — events
        arriving — run beside the others, on row locks alone."""
        connection = self._engine.connect()
        if self.dialect == "sqlite":
            connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        try:
            with connection.begin():
                if self.dialect == "postgresql" and exclusive:
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _WRITE_LOCK_KEY})
                yield Writer(self._bind(connection))
        finally:
            connection.close()

    def upsert_contacts(self, items: Sequence[ContactInput], *,
                        source: str = "import") -> WriteCounts:
        with self.write() as writer:
            return writer.upsert_contacts(items, source=source)

    def add_events(self, items: Sequence[EventInput]) -> WriteCounts:
        with self.write() as writer:
            return writer.add_events(items)

    def save_scores(self, model: str, records: Sequence[ScoreRecord], *, computed_at: datetime,
                    as_of: datetime) -> int:
        with self.write() as writer:
            return writer.save_scores(model, records, computed_at=computed_at, as_of=as_of)

    def record_stage_changes(self, changes: Sequence[StageChange]) -> None:
        with self.write() as writer:
            writer.record_stage_changes(changes)

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for consistent reads (one snapshot of the data while it is open)."""
        with self._engine.connect() as connection:
            if self.dialect == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield self._bind(connection)

    def existing_contact_ids(self, ids: Iterable[str]) -> set[str]:
        with self.read() as connection:
            return Writer(connection).existing_contact_ids(ids)

    def load_snapshots(self, as_of: datetime, *,
                       catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                       contact_ids: Iterable[str] | None = None,
                       batch_size: int = 5000) -> Iterator[ContactSnapshot]:
        """Contacts created at or before `as_of` (all, or `contact_ids`), as of `as_of`.

        Only property changes and events at or before `as_of` are seen. Declared properties
        (`catalog`: a model's, default the standard one) read through their types; a stored
        value that does not fit its type is unknown; undeclared ones keep their JSON value.
        """
        with self.read() as connection:
            yield from snapshots.load_snapshots(
                connection, as_of, catalog=catalog, contact_ids=contact_ids,
                batch_size=batch_size,
            )

    def load_contact(self, contact_id: str, *,
                     catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                     ) -> tuple[str | None, datetime, list[PropertyChange],
                                list[EventRecord]] | None:
        """(email, created_at, every property change, every event) of one contact, or None."""
        with self.read() as connection:
            return snapshots.load_contact(connection, contact_id, catalog=catalog)

    def current_scores(self, model: str | None = None) -> list[StoredScore]:
        """Every stored current score (of one model, or all), by model, score and contact."""
        with self.read() as connection, DataView(connection) as view:
            return current.stored_scores(view, model)

    def score_history(self, contact_id: str, model: str | None = None) -> list[StoredScore]:
        """Every recorded change of the contact's scores, oldest first."""
        with self.read() as connection, DataView(connection) as view:
            return current.score_history(view, contact_id, model)

    def stage_history(self, contact_id: str) -> list[StageChange]:
        with self.read() as connection, DataView(connection) as view:
            rows = view.rows_of("stage_changes", contact_id, "changed_us, seq")
        return [StageChange(cid, stage, previous, from_micros(changed), cause)
                for _seq, cid, stage, previous, changed, cause in rows]

    def current_stage(self, contact_id: str) -> str | None:
        """The contact's lifecycle stage now (None: none, or no such contact)."""
        with self.read() as connection:
            return changes.current_stage(connection, contact_id)

    def current_stages(self) -> dict[str, str | None]:
        """Every contact's lifecycle stage now (None: none)."""
        with self.read() as connection, DataView(connection) as view:
            return current.stages(view)

    def stage_counts(self) -> dict[str | None, int]:
        with self.read() as connection, DataView(connection) as view:
            return current.stage_counts(view)

    def counts(self) -> dict[str, Any]:
        """contacts, events, property_changes, scored (contacts with a score), last_computed_at."""
        with self.read() as connection, DataView(connection) as view:
            return current.counts(view)

    def contact_emails(self, ids: Iterable[str]) -> dict[str, str | None]:
        wanted = sorted(set(ids))
        found: dict[str, str | None] = {}
        with self.read() as connection:
            mark = "?" if self.dialect == "sqlite" else "%s"
            for part in chunked(wanted):
                found.update({cid: email for cid, email in connection.exec_driver_sql(
                    f"SELECT contact_id, email FROM contacts WHERE contact_id IN "
                    f"({', '.join([mark] * len(part))})", tuple(part))})
        return found


# -- engines -------------------------------------------------------------------------------

def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LeadscoreError.single(
            "LS290", f"'{url}' is not a database URL", Location(field="store"), text=url,
            hint=URL_HINT,
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":  # no driver named: the one leadscore ships
            return parsed.set(drivername="postgresql+psycopg")
        if parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            raise LeadscoreError.single(
                "LS290", f"leadscore talks to PostgreSQL through psycopg, not "
                         f"'{parsed.get_driver_name()}'",
                Location(field="store"), text=url, hint=URL_HINT,
            )
        return parsed
    if backend == "sqlite":
        return parsed
    raise LeadscoreError.single(
        "LS290", f"leadscore stores data in SQLite or PostgreSQL, not '{backend}'",
        Location(field="store"), text=url, hint=URL_HINT,
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        engine = sa.create_engine(url, poolclass=StaticPool,
                                  connect_args={"check_same_thread": False})
    else:
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LeadscoreError.single(
                "LS291", f"cannot create the folder for the store {path}: {error.strerror}",
                Location(file=str(path), field="store"),
                hint="choose a path you can write to",
            ) from None
        engine = sa.create_engine(url.set(database=str(path)),
                                  connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk index inserts stay fast
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # pysqlite would start the transaction only at the first INSERT, so a read followed by
        # a write would not be atomic; writers take the write lock up front (BEGIN IMMEDIATE).
        if in_memory and getattr(connection.connection.driver_connection, "in_transaction",
                                 False):
            # an in-memory store is one shared connection: a read nested in another read
            # (say, load_contact while iterating load_snapshots) joins the open transaction
            return
        statement = connection.get_execution_options().get("sqlite_begin", "BEGIN")
        connection.exec_driver_sql(statement)

    return engine


def _first_line(error: BaseException | None) -> str:
    text = str(error or "unknown error").strip()
    return text.splitlines()[0] if text else "unknown error"


def _sqlite_path(url: URL) -> str | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return str(Path(database).expanduser())
