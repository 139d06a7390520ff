"""The long → wide pivot: `ls_values` as of a moment, from a long property history.

The history relation holds every change: `(contact_id, name, changed_us, seq, v_text, v_num,
v_bool, v_time)`, the value's typed forms (`catalog.typed_forms`; all NULL for a clear), in
the order (changed_us, seq). For each property the compiled query needs, the value is the
form of its declared type in the latest change at or before the moment (a clear, or a value
that does not fit, is unknown), and `"<property>:changed"` the time of that latest change —
exactly what `ContactSnapshot.build` makes of the same history. The latest row is the
dialect's "latest_value" construct (DuckDB `arg_max_null` over (changed_us, seq), PostgreSQL an
ordered `array_agg`, Spark `max_by` over a struct).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.sql import expr as x
from leadscore.sql.dialect import Dialect, dialect_named
from leadscore.sql.relations import HISTORY, changed_column

FORM_COLUMNS = {PropertyType.STRING: "v_text", PropertyType.ENUM: "v_text",
                PropertyType.NUMBER: "v_num", PropertyType.BOOL: "v_bool",
                PropertyType.DATE: "v_time"}


def pivot_values(required: Mapping[str, tuple[PropertyType, bool]], as_of_us: int,
                 dialect: str | Dialect = "duckdb", history: str = HISTORY) -> exp.Select:
    """SELECT contact_id, "<property>", "<property>:changed" … FROM history — `ls_values` for
    `required` (`CompiledQuery.required_properties`) as of `as_of_us`. Render with the
    dialect (`Dialect.render`)."""
    found = dialect_named(dialect)
    if found is None:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    columns: list[exp.Expression] = [x.column("contact_id")]
    keys = [x.column("changed_us"), x.column("seq")]
    for name, (kind, needs_changed) in required.items():
        is_name = x.eq(x.column("name"), x.string(name))
        columns.append(x.alias(
            found("latest_value", x.column(FORM_COLUMNS[kind]), [k.copy() for k in keys],
                  is_name), name))
        if needs_changed:
            columns.append(x.alias(exp.Filter(this=exp.Max(this=x.column("changed_us")),
                                              expression=exp.Where(this=is_name.copy())),
                                   changed_column(name)))
    where = x.lte(x.column("changed_us"), x.bigint(as_of_us))
    if required:
        where = x.and_(where, exp.In(this=x.column("name"),
                                     expressions=[x.string(n) for n in required]))
    return (exp.select(*columns).from_(exp.to_table(history, dialect=found.sqlglot))
            .where(where).group_by(x.column("contact_id")))
