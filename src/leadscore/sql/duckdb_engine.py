"""Running a compiled query in DuckDB, in process.

Each canonical relation is bound to a view named as the query names it: over an Arrow table,
a pandas frame, a Parquet file (a path ending .parquet, or a glob of them) or an existing
relation of the connection (any other string). Without `ls_values`, a given `ls_history` (the
long property history) is pivoted into it (`pivot.pivot_values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leadscore.sql.compiler import CompiledQuery
from leadscore.sql.pivot import pivot_values
from leadscore.sql.relations import HISTORY, VALUES


def connect(database: str = ":memory:", *, threads: int | None = None,
            memory_limit: str | None = None) -> Any:
    import duckdb

    config: dict[str, Any] = {}
    if threads is not None:
        config["threads"] = threads
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    return duckdb.connect(database, config=config)


def bind(connection: Any, name: str, source: Any) -> None:
    """Make `name` a view over `source` (Arrow, pandas, Parquet path, or relation name)."""
    quoted = '"' + name.replace('"', '""') + '"'
    if isinstance(source, Path) or (isinstance(source, str) and (
            source.endswith(".parquet") or "*" in source)):
        path = str(source).replace("'", "''")
        connection.execute(f"CREATE OR REPLACE VIEW {quoted} AS "
                           f"SELECT * FROM read_parquet('{path}')")
    elif isinstance(source, str):
        if source != name:
            connection.execute(f"CREATE OR REPLACE VIEW {quoted} AS SELECT * FROM {source}")
    else:
        temp = f"__leadscore_{name}"
        connection.register(temp, source)
        connection.execute(f'CREATE OR REPLACE VIEW {quoted} AS SELECT * FROM "{temp}"')


def run_duckdb(query: CompiledQuery, relations: Mapping[str, Any], *,
               connection: Any = None, output: str = "arrow") -> Any:
    """Run `query` over `relations` (canonical name → source). Returns an Arrow table
    (`output="arrow"`), a pandas frame ("pandas") or a list of tuples ("rows")."""
    if query.dialect.name != "duckdb":
        raise ValueError(f"this query is compiled for {query.dialect.title}, not DuckDB")
    own = connection is None
    con = connect() if own else connection
    try:
        for canonical, source in relations.items():
            bind(con, query.relations.get(canonical, canonical), source)
        if VALUES not in relations and HISTORY in relations:
            pivot = pivot_values(query.required_properties, query.as_of_us, "duckdb",
                                 query.relations.get(HISTORY, HISTORY))
            name = query.relations.get(VALUES, VALUES)
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {pivot.sql(dialect="duckdb")}')
        relation = con.sql(query.sql)
        if output == "rows":
            return relation.fetchall()
        # DuckDB 2 names it to_arrow_table; 1.x arrow
        table = (getattr(relation, "to_arrow_table", None) or relation.arrow)()
        return table.to_pandas() if output == "pandas" else table
    finally:
        if own:
            con.close()
