"""DuckDB inside the process: the engine that scans the embedded store's segments.

`open_duck()` gives an in-memory DuckDB connection set up for leadscore: UTC, a memory limit
(spilling to the store's data folder beyond it), Parquet metadata cached. Rows of the SQLite
tail reach it as list parameters or NumPy columns (`register_columns`), segments as
`read_parquet` of their files.

`attribute_sql` is the embedded store's side of the attribute-kind rule: an event attribute
counts as a string, number, bool or date only when its stored JSON value is one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog.forms import ATTRIBUTE_OFFSET, ATTRIBUTE_TIME

if TYPE_CHECKING:
    import duckdb

MEMORY_ENV = "LEADSCORE_DUCKDB_MEMORY"
DEFAULT_MEMORY = "1GB"


def open_duck(*, temp_dir: Path | None = None, memory_limit: str | None = None,
              threads: int | None = None) -> duckdb.DuckDBPyConnection:
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": memory_limit or os.environ.get(MEMORY_ENV, DEFAULT_MEMORY),
        "preserve_insertion_order": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    connection = duckdb.connect(config=config)
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET parquet_metadata_cache = true")
    connection.execute("SET enable_progress_bar = false")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        connection.execute(f"SET temp_directory = {quote_text(str(temp_dir))}")
    return connection


def quote_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_source(files: Sequence[str], columns: str = "*") -> str | None:
    """SQL reading the union of these Parquet files (columns by name), or None for none."""
    if not files:
        return None
    listed = ", ".join(quote_text(f) for f in files)
    return f"(SELECT {columns} FROM read_parquet([{listed}], union_by_name = true))"


LIST_ROWS = 5_000  # columns this short travel as list parameters when NumPy is not loaded


def register_columns(connection: Any, name: str,
                     columns: Sequence[tuple[str, str, Sequence[Any]]]) -> tuple[str, bool]:
    """Python columns — (name, DuckDB type VARCHAR/BIGINT/DOUBLE/BOOLEAN, values with None for
    NULL) — as a relation named `name`: SQL of the typed relation, and whether it is a
    temporary table (to drop) rather than a registered view (to unregister).

    Up to `LIST_ROWS` rows, while NumPy is not loaded, the columns are bound as list parameters
    and unnested into a temporary table: importing NumPy cost more (about 0.1 s on a quiet
    machine) than a reading command's query. Longer columns go as NumPy arrays — not through
    Arrow: `pyarrow.array` imports pandas on first use (0.7 s of a reading command)."""
    rows = len(columns[0][2]) if columns else 0
    if rows <= LIST_ROWS and "numpy" not in sys.modules:
        selected = ", ".join(f"unnest(${index + 1}::{kind}[]) AS {quote_name(column)}"
                             for index, (column, kind, _) in enumerate(columns))
        connection.execute(f"CREATE TEMPORARY TABLE {name} AS SELECT {selected}",
                           [list(values) for _, _, values in columns])
        return f"(SELECT * FROM {name})", True
    import numpy as np

    arrays: dict[str, Any] = {}
    selected_columns = []
    for index, (column, kind, values) in enumerate(columns):
        key = f"c{index}"
        if kind == "VARCHAR":
            arrays[key] = np.array(values, dtype=object)
            selected_columns.append(f"CAST({key} AS VARCHAR) AS {quote_name(column)}")
            continue
        numeric = {"BIGINT": np.int64, "DOUBLE": np.float64, "BOOLEAN": np.bool_}[kind]
        missing = [value is None for value in values]
        arrays[key] = np.array([0 if value is None else value for value in values],
                               dtype=numeric)
        if any(missing):
            arrays[f"{key}_null"] = np.array(missing, dtype=np.bool_)
            selected_columns.append(f"CASE WHEN NOT {key}_null THEN CAST({key} AS {kind}) END "
                                    f"AS {quote_name(column)}")
        else:
            selected_columns.append(f"CAST({key} AS {kind}) AS {quote_name(column)}")
    connection.register(name, arrays)
    return f"(SELECT {', '.join(selected_columns)} FROM {name})", False


def table_from_columns(connection: Any, name: str,
                       columns: Sequence[tuple[str, str, Sequence[Any]]]) -> None:
    """A temporary table `name` (replaced if there) holding Python columns, as
    `register_columns` binds them: never through Arrow, whose `pyarrow.array` imports pandas
    on first use (0.5–2 s of an incremental `score` here)."""
    source = f"{name}_columns"
    relation, temporary = register_columns(connection, source, columns)
    try:
        connection.execute(f"CREATE OR REPLACE TEMPORARY TABLE {quote_name(name)} AS "
                           f"SELECT * FROM {relation}")
    finally:
        if temporary:
            connection.execute(f"DROP TABLE {source}")
        else:
            connection.unregister(source)


def json_path(name: str) -> str:
    return quote_text('$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"')


def attribute_sql(column: str, name: str, kind: str) -> str:
    """DuckDB SQL for attribute `name` of the JSON text in `column`, read as `kind` (string,
    number, bool, date): NULL when absent or when the stored value is of another JSON type."""
    path = json_path(name)
    return typed_attribute_sql(f"json_type({column}, {path})",
                               f"json_extract_string({column}, {path})", kind)


def typed_attribute_sql(typed: str, text: str, kind: str) -> str:
    """An attribute's value as `kind` from its JSON type (`typed`) and text: the value when
    its JSON type fits the kind, else NULL (`catalog.forms.read_attribute`'s rule)."""
    if kind == "number":
        return (f"CASE WHEN {typed} IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT') "
                f"THEN TRY_CAST({text} AS DOUBLE) END")
    if kind == "bool":
        return f"CASE WHEN {typed} = 'BOOLEAN' THEN {text} = 'true' END"
    if kind == "date":  # the pattern first: DuckDB's cast takes forms Python does not
        return (f"CASE WHEN {typed} = 'VARCHAR' AND regexp_full_match({text}, "
                f"{quote_text(ATTRIBUTE_TIME)}) THEN CASE WHEN regexp_matches({text}, "
                f"{quote_text(ATTRIBUTE_OFFSET)}) THEN epoch_us(TRY_CAST({text} AS TIMESTAMPTZ))"
                f" ELSE epoch_us(TRY_CAST({text} AS TIMESTAMP)) END END")  # no offset: UTC
    return f"CASE WHEN {typed} = 'VARCHAR' THEN {text} END"


def record_batches(connection: Any, sql: str, size: int = 50_000,
                   params: Sequence[Any] = ()) -> Any:
    """Arrow record batches of a query, on a cursor of its own (so that the connection stays
    free for other statements while they are read)."""
    cursor = connection.cursor()
    relation = cursor.sql(sql, params=list(params)) if params else cursor.sql(sql)
    if hasattr(relation, "to_arrow_reader"):  # DuckDB 2
        return relation.to_arrow_reader(size)
    return relation.fetch_arrow_reader(size)  # pragma: no cover - DuckDB 1.x
