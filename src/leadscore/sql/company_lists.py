"""Company lists' membership as one DuckDB query over a company run's results.

It reads `ls_results` (the company run's: one row per company, a column per company score and
`score:label`) and `ls_list_properties(company_id, "p:<property>"…)` (the company properties
the lists test, typed as `sql.company`'s `ls_companies`), and gives one row (list, company_id)
per membership. A filter holds when it is TRUE: an unknown value fails a comparison, as
`evaluation.matchers` reads it for contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.lists.companies import CompanyList
from leadscore.model.model import Model
from leadscore.sql import expr as x
from leadscore.sql.company import _Columns
from leadscore.sql.context import CompileContext
from leadscore.sql.criteria import CriteriaSql, Resolver
from leadscore.sql.dialect import dialect_named


@dataclass(frozen=True)
class CompiledCompanyLists:
    sql: str  # (list, company_id) rows
    properties: dict[str, tuple[PropertyType, tuple[str, ...]]]  # what ls_list_properties holds


def company_lists_sql(model: Model, lists: Sequence[CompanyList], *, as_of_us: int,
                      results: str = "ls_results",
                      properties: str = "ls_list_properties") -> CompiledCompanyLists:
    assert model.companies is not None, "company lists need the model's companies: section"
    dialect = dialect_named("duckdb")
    assert dialect is not None
    ctx = CompileContext(model, dialect, as_of_us)
    values = _Columns()
    scores = list(model.companies.scores)
    resolver = Resolver(score_value=lambda s: x.column("s:" + s),
                        score_label=lambda s: x.column("l:" + s))
    criteria = CriteriaSql(ctx, None, values, resolver)  # type: ignore[arg-type]

    def quote_name(name: str) -> str:
        return dialect.render(exp.to_identifier(name, quoted=True))

    def quote_text(text: str) -> str:
        return dialect.render(x.string(text))

    def true(node) -> str:
        return dialect.render(exp.Coalesce(this=criteria.holds(node),
                                           expressions=[exp.false()]))

    parts = []
    for item in lists:
        groups = [" AND ".join(true(f) for f in group) or "TRUE" for group in item.groups]
        where = " OR ".join(f"({g})" for g in groups) or "FALSE"
        if item.exclude:
            where = f"({where}) AND NOT ({' OR '.join(true(f) for f in item.exclude)})"
        parts.append(f"SELECT {quote_text(item.name)} AS list, company_id FROM i "
                     f"WHERE {where}")
    ctx.problems.raise_if_errors()
    picks = [f"r.{quote_name(s)} AS {quote_name('s:' + s)}, "
             f"r.{quote_name(s + ':label')} AS {quote_name('l:' + s)}" for s in scores]
    picks += [f"p.{quote_name('p:' + name)}" for name in values.found]
    joined = (f" LEFT JOIN {properties} AS p ON p.company_id = r.company_id"
              if values.found else "")
    body = " UNION ALL ".join(parts) or "SELECT NULL AS list, NULL AS company_id WHERE FALSE"
    sql = (f"WITH i AS (SELECT r.company_id{''.join(', ' + p for p in picks)} "
           f"FROM {results} AS r{joined})\n{body}")
    return CompiledCompanyLists(sql, dict(values.found))


__all__ = ["CompiledCompanyLists", "company_lists_sql"]
