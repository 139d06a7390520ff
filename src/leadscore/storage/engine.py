"""The SQLAlchemy engine of a store: how writes (and migrations) reach the database.

Imported only when something is written: reads go through `storage.raw` on the driver itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import StaticPool

from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.raw import SQLITE_BUSY_TIMEOUT_MS, StoreUrl


def create_engine(url: StoreUrl) -> Engine:
    if url.backend == "sqlite":
        return _sqlite_engine(url.database)
    from sqlalchemy.engine import URL

    engine = sa.create_engine(URL.create(
        "postgresql+psycopg", username=url.user, password=url.password, host=url.host,
        port=url.port, database=url.database, query=dict(url.query)), pool_pre_ping=True)
    # many-row INSERTs as multi-row VALUES statements, not one statement per row
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _sqlite_engine(database: str | None) -> Engine:
    in_memory = database is None
    if in_memory:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool,
                                  connect_args={"check_same_thread": False})
    else:
        path = Path(str(database)).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LeadscoreError.single(
                "LS291", f"cannot create the folder for the store {path}: {error.strerror}",
                Location(file=str(path), field="store"),
                hint="choose a path you can write to",
            ) from None
        engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

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
