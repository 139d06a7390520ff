"""Throwaway PostgreSQL databases for tests."""

from __future__ import annotations

import sqlalchemy as sa

# every session on a test database: a query that runs away (seen: 77 min in one) fails its
# test instead of holding every later `DROP DATABASE … WITH (FORCE)` and the suite with it
STATEMENT_TIMEOUT = "300s"


def create_database(admin: sa.Engine, name: str) -> str:
    """CREATE DATABASE `name` (the admin engine autocommits) with the statement timeout;
    returns its URL."""
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        connection.execute(sa.text(
            f"ALTER DATABASE \"{name}\" SET statement_timeout = '{STATEMENT_TIMEOUT}'"))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
