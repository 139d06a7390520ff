"""Run one model over one history on an engine, and compare with the Python evaluator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadscore.lists import ListSet
from leadscore.model.model import Model
from leadscore.sql.compiler import CompiledQuery, compile_model
from leadscore.sql.reference import History, detail_names, score_rows

OPTIONS = {"stage_rules": True, "schedule": True, "detail": True}
ENGINE_OPTIONS = {**OPTIONS, "ledger": True}  # the evaluator reads the snapshots' ledger


def run(engine: str, model: Model, history: History, as_of: datetime, *,
        lists: ListSet | None = None, pg: Any = None, spark: Any = None
        ) -> tuple[CompiledQuery, list[dict[str, Any]]]:
    """The engine's output rows (as dicts) for the model with every option on."""
    query = compile_model(model, as_of=as_of, dialect=engine, lists=lists, **ENGINE_OPTIONS)
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


POW_NOTE = """Spark computes half-life decay with Java's Math.pow, which differs from C's pow
(Python, DuckDB, PostgreSQL) in the last bit for about 7 % of arguments. Decayed points are
rounded to 10⁻⁶, so a last-bit difference shows only when a product lands on a rounding tie
(about once in 10⁸ values): then that rule's points may differ by 10⁻⁶ per event, and what
depends on them (groups, scores, labels, grade, stages, lists) is not compared for that
contact. Such contacts must stay rare (at most 1 %); everything else is compared exactly."""


def differences(query: CompiledQuery, rows: list[dict[str, Any]],
                expected: dict[str, dict[str, Any]], *, pow_tolerance: bool = False,
                events: dict[str, int] | None = None) -> list[str]:
    """Every value that differs (exactly: floats included), as readable lines. With
    `pow_tolerance` (Spark), see POW_NOTE; `events` gives each contact's number of events."""
    names = detail_names(query)
    half_life = {column for (score, group, rule), column in query.rule_columns.items()
                 if _half_life(query, score, group, rule)}
    problems = []
    affected = 0
    got_ids = sorted(row["contact_id"] for row in rows)
    if got_ids != sorted(expected):
        problems.append(f"contacts: engine {got_ids}, evaluator {sorted(expected)}")
    for row in rows:
        want = expected.get(row["contact_id"])
        if want is None:
            continue
        lines = []
        tolerated = False
        for column, value in row.items():
            key = names.get(column, column)
            if key not in want:
                lines.append(f"{row['contact_id']} {column}: the evaluator has no {key}")
            elif not same(value, want[key]):
                slack = 1e-6 * max(1, (events or {}).get(row["contact_id"], 1)) + 1e-12
                if (pow_tolerance and column in half_life and value is not None
                        and abs(value - want[key]) <= slack):
                    tolerated = True
                    continue
                lines.append(f"{row['contact_id']} {key}: engine {value!r}, "
                             f"evaluator {want[key]!r}")
        if tolerated:
            affected += 1
            lines = [line for line in lines if " rule:" in line]
        problems += lines
    if affected > max(1, len(rows) // 100):
        problems.append(f"{affected} of {len(rows)} contacts differ by pow() alone")
    return problems


def _half_life(query: CompiledQuery, score: str, group: str | None, rule: str) -> bool:
    found = query.model.scores[score]
    rules = found.rules if group is None else next(g for g in found.groups
                                                    if g.name == group).rules
    decay = next(r for r in rules if r.name == rule).decay
    return decay is not None and decay.half_life is not None


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and float(a) == float(b)
    return a == b


def check(engine: str, model: Model, history: History, as_of: datetime, *,
          lists: ListSet | None = None, pg: Any = None, spark: Any = None) -> int:
    """Assert that the engine agrees with the evaluator; returns the rows compared."""
    query, rows = run(engine, model, history, as_of, lists=lists, pg=pg, spark=spark)
    events: dict[str, int] = {}
    for contact_id, *_ in history.events:
        events[contact_id] = events.get(contact_id, 0) + 1
    problems = differences(query, rows, reference(model, history, as_of, lists),
                           pow_tolerance=engine == "spark", events=events)
    assert not problems, (f"{engine}: {len(problems)} differences, first: "
                          + "; ".join(problems[:6]) + "\n" + query.sql)
    return len(rows)
