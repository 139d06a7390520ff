"""Engines for the SQL tests: DuckDB in process, a fresh PostgreSQL database (and a fresh schema
per test), one local Spark session for the whole run.

PostgreSQL and Spark tests skip with the reason when the server, PySpark or Java is missing,
except under CI=true, where a missing engine fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.databases import create_database


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def postgres_database(postgres_admin: sa.Engine) -> Iterator[str]:
    """A fresh database for one test module, dropped afterwards."""
    name = f"leadscore_sql_{secrets.token_hex(6)}"
    create_database(postgres_admin, name)
    try:
        yield name
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg(postgres_database: str) -> Iterator[Any]:
    """A psycopg connection (autocommit) whose search path is a fresh schema."""
    import psycopg

    connection = psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres "
                                 f"dbname={postgres_database}", autocommit=True)
    schema = f"s_{secrets.token_hex(4)}"
    connection.execute(f'CREATE SCHEMA "{schema}"')
    connection.execute(f'SET search_path TO "{schema}"')
    try:
        yield connection
    finally:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (local[2]) for every Spark test, stopped at the end."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("PySpark is not installed (pip install 'leadscore[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _missing("Spark needs Java (17 or newer), and none is on PATH or in JAVA_HOME")
    from leadscore.sql.spark_engine import spark_session

    session = spark_session("local[2]")
    try:
        yield session
    finally:
        session.stop()
