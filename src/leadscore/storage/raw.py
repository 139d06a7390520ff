"""Reading the store on plain DB-API connections (sqlite3, psycopg), without SQLAlchemy.

Reads are most of what the command line does, and a command should start fast: SQLAlchemy
alone takes a third of a second to import. So the store's readers (`storage.reading`,
`views`, `leads`, …) speak to a `RawConnection` — the small part of SQLAlchemy's `Connection`
they use (`exec_driver_sql`, `connection.cursor()`, `dialect.name`, `info`) over the driver
itself. Writes keep SQLAlchemy (and its pool) for their transactions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from leadscore.diagnostics import LeadscoreError, Location

URL_HINT = ("use sqlite:///path/to/leadscore.db or "
            "postgresql+psycopg://user:password@host:5432/database")
SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class StoreUrl:
    """A store URL, parsed without SQLAlchemy: `sqlite:///path` or `postgresql://…`."""

    text: str
    backend: str  # sqlite | postgresql
    driver: str | None
    database: str | None  # SQLite: the file path (None: in memory)
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    query: tuple[tuple[str, str], ...] = ()

    @property
    def shown(self) -> str:
        """The URL with the password hidden."""
        if self.password is None:
            return self.text
        return self.text.replace(f":{self.password}@", ":***@", 1)

    def libpq(self) -> dict[str, Any]:
        found: dict[str, Any] = {"dbname": self.database}
        for key, value in (("user", self.user), ("password", self.password),
                           ("host", self.host), ("port", self.port)):
            if value is not None:
                found[key] = value
        found.update(dict(self.query))
        return found


def parse_store_url(url: str) -> StoreUrl:
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    backend, _, driver = scheme.partition("+")
    if not separator or not backend or (not rest and backend.lower() != "sqlite"):
        raise LeadscoreError.single("LS290", f"'{url}' is not a database URL",
                                    Location(field="store"), text=url, hint=URL_HINT)
    backend = backend.lower()
    if backend == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        path = path.split("?", 1)[0]
        memory = path in ("", ":memory:") or path.startswith("file::memory:")
        return StoreUrl(text, "sqlite", driver or None, None if memory else path)
    if backend in ("postgresql", "postgres"):
        if driver and driver not in ("psycopg", "psycopg2"):
            raise LeadscoreError.single(
                "LS290", f"leadscore talks to PostgreSQL through psycopg, not '{driver}'",
                Location(field="store"), text=url, hint=URL_HINT)
        parts = urlsplit("x://" + rest)
        try:
            port = parts.port
        except ValueError:
            raise LeadscoreError.single("LS290", f"'{url}' has a port that is not a number",
                                        Location(field="store"), text=url,
                                        hint=URL_HINT) from None
        return StoreUrl(text, "postgresql", "psycopg",
                        unquote(parts.path.lstrip("/")) or None,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None,
                        parts.hostname, port, tuple(parse_qsl(parts.query)))
    raise LeadscoreError.single(
        "LS290", f"leadscore stores data in SQLite or PostgreSQL, not '{backend}'",
        Location(field="store"), text=url, hint=URL_HINT)


class RawResult:
    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int = -1) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


class RawConnection:
    """A driver connection with the little of SQLAlchemy's Connection that readers use."""

    def __init__(self, driver: Any, dialect: str) -> None:
        self.driver = driver
        self.dialect = _Dialect(dialect)
        self.info: dict[str, Any] = {}
        self.connection = self  # readers ask `connection.connection.cursor()`

    def cursor(self) -> Any:
        return self.driver.cursor()

    def exec_driver_sql(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
                        ) -> RawResult:
        cursor = self.driver.cursor()
        try:
            cursor.execute(sql, params)
            rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
            return RawResult(rows, cursor.rowcount)
        finally:
            cursor.close()

    def close(self) -> None:
        self.driver.close()


def connect_sqlite(path: str | None, *, readonly: bool = False) -> Any:
    import sqlite3

    if path is None:
        driver = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    elif readonly:
        from pathlib import Path

        driver = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True,
                                 isolation_level=None, check_same_thread=False)
    else:
        driver = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    driver.execute("PRAGMA foreign_keys = ON")
    return driver


def connect_postgres(url: StoreUrl) -> Any:
    import psycopg

    return psycopg.connect(**url.libpq())
