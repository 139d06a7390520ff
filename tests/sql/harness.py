"""Run one model over one history on an engine, and compare with the Python evaluator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadscore.lists import ListSet
from leadscore.model.model import Model
from leadscore.sql.compiler import CompiledQuery, compile_model
from leadscore.sql.reference import History, detail_names, score_rows

OPTIONS = {"stage_rules": True, "schedule": True, "detail": True}


def run(engine: str, model: Model, history: History, as_of: datetime, *,
        lists: ListSet | None = None, pg: Any = None, spark: Any = None
        ) -> tuple[CompiledQuery, list[dict[str, Any]]]:
    """The engine's output rows (as dicts) for the model with every option on."""
    query = compile_model(model, as_of=as_of, dialect=engine, lists=lists, **OPTIONS)
    relations = history.arrow(query)
    if engine == "duckdb":
        from leadscore.sql.duckdb_engine import run_duckdb

        rows = run_duckdb(query, relations, output="rows")
    elif engine == "postgres":
        from leadscore.sql.postgres_engine import run_postgres

        rows = run_postgres(query, pg, relations=relations)
    else:
        from leadscore.sql.spark_engine import run_spark

        rows = run_spark(query, relations, spark=spark)
    return query, [dict(zip(query.columns, row, strict=True)) for row in rows]


def reference(model: Model, history: History, as_of: datetime,
              lists: ListSet | None = None) -> dict[str, dict[str, Any]]:
    return score_rows(model, history.snapshots(model, as_of), lists=lists, **OPTIONS)


def differences(query: CompiledQuery, rows: list[dict[str, Any]],
                expected: dict[str, dict[str, Any]]) -> list[str]:
    """Every value that differs (exactly: floats included), as readable lines."""
    names = detail_names(query)
    problems = []
    got_ids = sorted(row["contact_id"] for row in rows)
    if got_ids != sorted(expected):
        problems.append(f"contacts: engine {got_ids}, evaluator {sorted(expected)}")
    for row in rows:
        want = expected.get(row["contact_id"])
        if want is None:
            continue
        for column, value in row.items():
            key = names.get(column, column)
            if key not in want:
                problems.append(f"{row['contact_id']} {column}: the evaluator has no {key}")
            elif not same(value, want[key]):
                problems.append(f"{row['contact_id']} {key}: engine {value!r}, "
                                f"evaluator {want[key]!r}")
    return problems


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and float(a) == float(b)
    return a == b


def check(engine: str, model: Model, history: History, as_of: datetime, *,
          lists: ListSet | None = None, pg: Any = None, spark: Any = None) -> int:
    """Assert that the engine agrees with the evaluator; returns the rows compared."""
    query, rows = run(engine, model, history, as_of, lists=lists, pg=pg, spark=spark)
    problems = differences(query, rows, reference(model, history, as_of, lists))
    assert not problems, (f"{engine}: {len(problems)} differences, first: "
                          + "; ".join(problems[:6]) + "\n" + query.sql)
    return len(rows)
