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
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from leadscore.catalog import PropertyType
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.evaluation.snapshot import ContactSnapshot, EventRecord, PropertyChange
from leadscore.storage import snapshots
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    StoredScore,
    WriteCounts,
)
from leadscore.storage.schema import (
    contacts,
    events,
    property_changes,
    score_history,
    scores,
    stage_changes,
)
from leadscore.storage.writer import Writer, chunked

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0004"  # the newest file in migrations/versions; a test keeps them in step
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_LOCK_KEY = 7_365_100  # pg_advisory_xact_lock key: one writer at a time, as on SQLite
URL_HINT = ("use sqlite:///path/to/leadscore.db or "
            "postgresql+psycopg://user:password@host:5432/database")


class Store:
    """A leadscore database. Open with `Store.open(url)`; use as a context manager."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url
        self.dialect: str = engine.dialect.name

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to the store at `url` (creating a SQLite file) and migrate it to head."""
        parsed = _parse_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
            # many-row INSERTs as multi-row VALUES statements, not one statement per row
            engine.dialect.use_insertmanyvalues_wo_returning = True
        store = cls(engine, shown)
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
        self._engine.dispose()

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
                yield Writer(connection)
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
                yield connection

    def existing_contact_ids(self, ids: Iterable[str]) -> set[str]:
        with self.read() as connection:
            return Writer(connection).existing_contact_ids(ids)

    def load_snapshots(self, as_of: datetime, *,
                       property_types: Mapping[str, PropertyType] | None = None,
                       contact_ids: Iterable[str] | None = None,
                       batch_size: int = 5000) -> Iterator[ContactSnapshot]:
        """Contacts created at or before `as_of` (all, or `contact_ids`), as of `as_of`.

        Only property changes and events at or before `as_of` are seen. Values are coerced
        to `property_types` (default: the standard catalog's types); undeclared properties
        keep their stored JSON value; a stored value that no longer fits its type is unknown.
        """
        with self.read() as connection:
            yield from snapshots.load_snapshots(
                connection, as_of, property_types=property_types, contact_ids=contact_ids,
                batch_size=batch_size,
            )

    def load_contact(self, contact_id: str, *,
                     property_types: Mapping[str, PropertyType] | None = None,
                     ) -> tuple[str | None, datetime, list[PropertyChange],
                                list[EventRecord]] | None:
        """(email, created_at, every property change, every event) of one contact, or None."""
        with self.read() as connection:
            return snapshots.load_contact(connection, contact_id, property_types=property_types)

    def current_scores(self, model: str | None = None) -> list[StoredScore]:
        sc, c = scores.c, contacts.c
        query = (select(sc.contact_id, c.email, sc.score, sc.value, sc.label, sc.computed_at,
                        sc.model, sc.as_of)
                 .join_from(scores, contacts, sc.contact_id == c.contact_id)
                 .order_by(sc.model, sc.score, sc.contact_id))
        if model is not None:
            query = query.where(sc.model == model)
        with self.read() as connection:
            return [StoredScore(*row) for row in connection.execute(query)]

    def score_history(self, contact_id: str, model: str | None = None) -> list[StoredScore]:
        """Every recorded change of the contact's scores, oldest first."""
        sh, c = score_history.c, contacts.c
        query = (select(sh.contact_id, c.email, sh.score, sh.value, sh.label, sh.computed_at,
                        sh.model, sh.as_of)
                 .join_from(score_history, contacts, sh.contact_id == c.contact_id)
                 .where(sh.contact_id == contact_id)
                 .order_by(sh.computed_at, sh.id))
        if model is not None:
            query = query.where(sh.model == model)
        with self.read() as connection:
            return [StoredScore(*row) for row in connection.execute(query)]

    def stage_history(self, contact_id: str) -> list[StageChange]:
        st = stage_changes.c
        query = (select(st.contact_id, st.stage, st.previous, st.changed_at, st.cause)
                 .where(st.contact_id == contact_id).order_by(st.changed_at, st.id))
        with self.read() as connection:
            return [StageChange(*row) for row in connection.execute(query)]

    def current_stages(self) -> dict[str, str | None]:
        c = contacts.c
        with self.read() as connection:
            rows = connection.execute(select(c.contact_id, c.lifecycle_stage))
            return {contact_id: stage for contact_id, stage in rows}

    def stage_counts(self) -> dict[str | None, int]:
        c = contacts.c
        query = select(c.lifecycle_stage, func.count()).group_by(c.lifecycle_stage)
        with self.read() as connection:
            return {stage: count for stage, count in connection.execute(query)}

    def counts(self) -> dict[str, Any]:
        """contacts, events, property_changes, scored (contacts with a score), last_computed_at."""
        with self.read() as connection:
            def count(query: Any) -> int:
                return int(connection.execute(query).scalar_one())
            return {
                "contacts": count(select(func.count()).select_from(contacts)),
                "events": count(select(func.count()).select_from(events)),
                "property_changes": count(select(func.count()).select_from(property_changes)),
                "scored": count(select(func.count(sa.distinct(scores.c.contact_id)))),
                "last_computed_at": connection.execute(
                    select(func.max(scores.c.computed_at))).scalar_one(),
            }

    def contact_emails(self, ids: Iterable[str]) -> dict[str, str | None]:
        c = contacts.c
        wanted = sorted(set(ids))
        found: dict[str, str | None] = {}
        with self.read() as connection:
            for part in chunked(wanted):
                query = select(c.contact_id, c.email).where(c.contact_id.in_(part))
                found.update({cid: email for cid, email in connection.execute(query)})
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
