"""Scoring as SQL: one model compiled to one query for DuckDB, PostgreSQL and Spark SQL, giving
exactly the Python evaluator's scores, labels, grades, stages, list memberships and next change
times.

`compile_model(model, as_of=…, dialect=…)` builds the query with sqlglot over the canonical
relations (`relations.py`: ls_contacts, ls_values, ls_events, optional ls_targets); the
`CompiledQuery` says which property and attribute columns it reads. `pivot_values` builds
`ls_values` from a long property history; `forward_move_sql` is the forward-only stage move.
The engines (`run_duckdb`, `run_postgres`, `run_spark`) bind the relations and run it;
`reference` is the Python side of the same data, for differential tests. sqlglot, DuckDB,
PyArrow and PySpark are imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from leadscore.sql.compiler import CompiledQuery, Probes, compile_model
    from leadscore.sql.duckdb_engine import run_duckdb
    from leadscore.sql.lifecycle import forward_move_sql
    from leadscore.sql.pivot import pivot_values
    from leadscore.sql.postgres_engine import run_postgres
    from leadscore.sql.spark_engine import run_spark, spark_session

__all__ = ["CompiledQuery", "Probes", "compile_model", "forward_move_sql", "pivot_values",
           "run_duckdb", "run_postgres", "run_spark", "spark_session"]

_LAZY = {
    "CompiledQuery": "leadscore.sql.compiler",
    "Probes": "leadscore.sql.compiler",
    "compile_model": "leadscore.sql.compiler",
    "forward_move_sql": "leadscore.sql.lifecycle",
    "pivot_values": "leadscore.sql.pivot",
    "run_duckdb": "leadscore.sql.duckdb_engine",
    "run_postgres": "leadscore.sql.postgres_engine",
    "run_spark": "leadscore.sql.spark_engine",
    "spark_session": "leadscore.sql.spark_engine",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
