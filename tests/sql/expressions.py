"""Evaluate dialect constructs on an engine: one query over a VALUES list of texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from leadscore.sql import expr as x
from leadscore.sql.dialect import dialect_named

Build = Callable[[exp.Expression], exp.Expression]  # the text column → an expression


def evaluate(engine: str, texts: list[str | None], columns: dict[str, Build], *,
             pg: Any = None, spark: Any = None) -> list[dict[str, Any]]:
    """For each text (in order), each column's value."""
    dialect = dialect_named(engine)
    assert dialect is not None
    values = exp.values([(exp.Literal.number(i), x.string(t) if t is not None
                          else exp.cast(exp.null(), exp.DataType.build("VARCHAR")))
                         for i, t in enumerate(texts)], alias="v", columns=["i", "t"])
    select = exp.select(x.column("i"), *(x.alias(build(x.column("t")), name)
                                        for name, build in columns.items()))
    sql = select.from_(values).order_by(x.column("i")).sql(dialect=dialect.sqlglot)
    if engine == "duckdb":
        import duckdb

        rows = duckdb.connect().execute(sql).fetchall()
    elif engine == "postgres":
        rows = pg.execute(sql).fetchall()
    else:
        rows = [tuple(r) for r in spark.sql(sql).collect()]
    names = list(columns)
    return [dict(zip(names, row[1:], strict=True)) for row in rows]
