"""Running a compiled query in PostgreSQL, on a connection the caller gives (a SQLAlchemy
`Connection` or a psycopg connection).

The query reads the relations its mapping names (tables or views the caller keeps: the store's
own, or ones loaded here with `load_arrow`). `create_values_view` pivots `ls_values` from a long
history relation. The SQL goes to the driver as it is, with no parameters, so the `%` of LIKE
patterns is never taken for a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadscore.sql.compiler import CompiledQuery
from leadscore.sql.pivot import pivot_values
from leadscore.sql.relations import HISTORY, VALUES

ARROW_TYPES = {"string": "TEXT", "large_string": "TEXT", "int64": "BIGINT",
               "int32": "INTEGER", "double": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def _cursor(connection: Any) -> Any:
    """A DB-API cursor of the driver under `connection`."""
    driver = getattr(connection, "connection", None)  # SQLAlchemy Connection → pool proxy
    if driver is not None and hasattr(connection, "exec_driver_sql"):
        return driver.cursor()
    return connection.cursor()


def _quote(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def execute(connection: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of one statement; no rows for a statement that returns none."""
    cursor = _cursor(connection)
    try:
        cursor.execute(sql)
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def load_arrow(connection: Any, name: str, table: Any, *, temporary: bool = False) -> None:
    """Create table `name` from an Arrow table (replacing it) and copy the rows in."""
    columns = []
    for f in table.schema:
        sql_type = ARROW_TYPES.get(str(f.type))
        if sql_type is None:
            raise ValueError(f"no PostgreSQL type for Arrow {f.type} (column {f.name})")
        columns.append(f"{_quote(f.name)} {sql_type}")
    cursor = _cursor(connection)
    try:
        cursor.execute(f"DROP TABLE IF EXISTS {_quote(name)} CASCADE")  # and views over it
        kind = "TEMPORARY TABLE" if temporary else "TABLE"
        cursor.execute(f"CREATE {kind} {_quote(name)} ({', '.join(columns)})")
        names = ", ".join(_quote(f.name) for f in table.schema)
        with cursor.copy(f"COPY {_quote(name)} ({names}) FROM STDIN") as copy:
            for row in zip(*(table.column(i).to_pylist() for i in range(table.num_columns)),
                           strict=True):
                copy.write_row(row)
        cursor.execute(f"ANALYZE {_quote(name)}")
    finally:
        cursor.close()


def create_values_view(connection: Any, query: CompiledQuery) -> None:
    """`ls_values` (as the query names it) as a view pivoting the long history relation."""
    pivot = pivot_values(query.required_properties, query.as_of_us, "postgres",
                         query.relations.get(HISTORY, HISTORY))
    name = query.relations.get(VALUES, VALUES)
    execute(connection, f"DROP VIEW IF EXISTS {_quote(name)}")
    execute(connection, f"CREATE VIEW {_quote(name)} AS {pivot.sql(dialect='postgres')}")


def run_postgres(query: CompiledQuery, connection: Any, *,
                 relations: Mapping[str, Any] | None = None, output: str = "rows") -> Any:
    """Run `query` on `connection`. `relations` (canonical name → Arrow table) are loaded as
    tables first, and `ls_values` is pivoted from `ls_history` when only the latter is given.
    Returns a list of tuples ("rows"), an Arrow table ("arrow") or a pandas frame ("pandas")."""
    if query.dialect.name != "postgres":
        raise ValueError(f"this query is compiled for {query.dialect.title}, not PostgreSQL")
    for canonical, table in (relations or {}).items():
        load_arrow(connection, query.relations.get(canonical, canonical), table)
    if relations is not None and VALUES not in relations and HISTORY in relations:
        create_values_view(connection, query)
    names, rows = execute(connection, query.sql)
    if output == "rows":
        return rows
    import pyarrow as pa

    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
    return table.to_pandas() if output == "pandas" else table
