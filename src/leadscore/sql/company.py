"""Company scores as one SQL query for DuckDB, PostgreSQL or Spark SQL, with exactly the
answers of `evaluation.company`.

It reads two canonical relations, named by the caller (`relations=`):

- `ls_companies(company_id, "p:<property>"…)`: one row per company, each company property the
  rules need as its declared type (numbers DOUBLE, dates BIGINT µs, flags BOOLEAN, text with
  an enumeration's options matched ignoring case here);
- `ls_members(company_id, contact_id, "p:<property>"…, "s:<score>", "l:<score>")`: one row per
  contact of a company, with the contact properties its contact criteria read and the contact
  scores (value, label) its rules read.

Every company of either relation is scored. Layers: a flag per contact criterion on the
members, one aggregate pass per company (counts, max/min, sums in whole hundredths), a base row
per company, the rules' points, and the scores (capped, `round2`) with their labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.diagnostics import LeadscoreError, Location, did_you_mean
from leadscore.evaluation.arithmetic import clamp as clamp_points
from leadscore.model import criteria as c
from leadscore.model.company import ContactAggregate, ContactCount
from leadscore.model.model import Model
from leadscore.sql import expr as x
from leadscore.sql import scores as score_sql
from leadscore.sql.context import CompileContext
from leadscore.sql.criteria import CriteriaSql, Resolver
from leadscore.sql.dialect import DIALECTS, dialect_named
from leadscore.sql.events import value_test

RELATIONS = ("ls_companies", "ls_members")


@dataclass(frozen=True)
class CompiledCompanies:
    sql: str
    dialect: str
    company_properties: dict[str, tuple[PropertyType, tuple[str, ...]]]
    contact_properties: dict[str, tuple[PropertyType, tuple[str, ...]]]
    contact_scores: tuple[str, ...]
    score_columns: dict[str, str] = field(default_factory=dict)  # score → column
    label_columns: dict[str, str] = field(default_factory=dict)
    rule_columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (score, rule)


class _Columns:
    """Typed property columns of one relation, `p:<name>`, enumerations matched to options."""

    def __init__(self, prefix: str = "p:") -> None:
        self.prefix = prefix
        self.found: dict[str, tuple[PropertyType, tuple[str, ...]]] = {}

    def value(self, name: str, kind: PropertyType, options: tuple[str, ...] = ()
              ) -> exp.Expression:
        self.found[name] = (kind, options)
        raw: exp.Expression = x.column(self.prefix + name)
        if kind is PropertyType.ENUM and options:
            lowered = x.func("LOWER", raw)
            raw = x.case([(x.eq(lowered, x.string(option.lower())), x.string(option))
                          for option in options])
        return raw


def compile_companies(model: Model, *, as_of_us: int, dialect: str = "duckdb",
                      relations: Mapping[str, str] | None = None) -> CompiledCompanies:
    found = dialect_named(dialect)
    if found is None:
        raise LeadscoreError.single(
            "LS551", f"unknown SQL dialect '{dialect}'", Location(field="dialect"),
            hint=did_you_mean(str(dialect), DIALECTS) or "dialects: " + ", ".join(DIALECTS))
    companies = model.companies
    assert companies is not None, "the model has no companies: section"
    names = {"ls_companies": "ls_companies", "ls_members": "ls_members", **(relations or {})}
    ctx = CompileContext(model, found, as_of_us)
    render = found.render

    def _q(name: str) -> str:
        return render(exp.to_identifier(name, quoted=True))

    member_values = _Columns()
    company_values = _Columns()
    contact_scores = list(dict.fromkeys(companies.contact_scores()))
    resolver = Resolver(score_value=lambda s: x.column("s:" + s),
                        score_label=lambda s: x.column("l:" + s))
    member_sql = CriteriaSql(ctx, None, member_values, resolver)  # type: ignore[arg-type]

    flags: list[str] = []  # member layer: 1 when contact criterion i holds
    aggregates: list[str] = []  # company aggregate layer
    base: list[str] = []  # base layer over companies ⋈ aggregates
    seen: dict[int, str] = {}

    def leaf(node) -> tuple[exp.Expression, exp.Expression | None]:
        """(holds, number) of a company criterion, over the base layer."""
        if isinstance(node, c.PropertyCriterion):
            value = company_values.value(node.property, node.kind or PropertyType.STRING,
                                         node.options)
            column = _base(value, f"v{len(base)}")
            if node.test is None:
                return x.not_null(column), column
            return value_test(ctx, column, node.test, node.kind), None
        if isinstance(node, ContactCount):
            key = id(node)
            if key not in seen:
                i = len(aggregates)
                if node.criterion is None:
                    aggregates.append(f"count(*) AS {_q(f'a{i}')}")
                else:
                    holds = member_sql.holds(node.criterion)
                    flags.append(f"CASE WHEN {render(holds)} THEN 1 ELSE 0 END AS "
                                 f"{_q(f'f{len(flags)}')}")
                    aggregates.append(f"sum({_q(f'f{len(flags) - 1}')}) AS {_q(f'a{i}')}")
                seen[key] = _base_sql(f"COALESCE(a.{_q(f'a{i}')}, 0)", f"k{i}")
            n = x.column(seen[key])
            parts = [x.gte(n, x.bigint(node.count.low))] if node.count.low else []
            if node.count.high is not None:
                parts.append(x.lte(n, x.bigint(node.count.high)))
            return (x.and_(*parts) if parts else exp.true()), x.to_double(n)
        if isinstance(node, ContactAggregate):
            score = _q("s:" + node.score)
            i = len(aggregates)
            if node.function in ("max", "min"):
                aggregates.append(f"{node.function}({score}) AS {_q(f'a{i}')}")
                number_sql = f"a.{_q(f'a{i}')}"
            else:
                hundredths = x.to_bigint(x.func("ROUND", x.mul(x.column("s:" + node.score),
                                                               x.double(100.0))))
                aggregates.append(f"sum({render(hundredths)}) AS {_q(f'a{i}')}")
                aggregates.append(f"count({score}) AS {_q(f'a{i + 1}')}")
                total = x.column(f"a{i}", "a")
                if node.function == "sum":
                    number_expr = x.div(x.to_double(x.func("COALESCE", total, x.bigint(0))),
                                        x.double(100.0))
                else:
                    n = x.column(f"a{i + 1}", "a")
                    number_expr = x.case([(x.gt(n, x.bigint(0)), score_sql.round2(
                        found, x.div(x.div(x.to_double(total), x.to_double(n)),
                                     x.double(100.0))))])
                number_sql = render(number_expr)
            number = x.column(_base_sql(number_sql, f"n{i}"))
            if node.test is None:
                return x.not_null(number), number
            return value_test(ctx, number, node.test, PropertyType.NUMBER), number
        if isinstance(node, c.AllOf | c.AnyOf):
            parts = [leaf(child)[0] for child in node.children]
            return (x.and_(*parts) if isinstance(node, c.AllOf) else x.or_(*parts)), None
        if isinstance(node, c.Not):
            return x.not_(leaf(node.child)[0]), None
        raise TypeError(f"unknown company criterion {node!r}")  # pragma: no cover

    def _base(value: exp.Expression, name: str) -> exp.Expression:
        base.append(f"{render(value)} AS {_q(name)}")
        return x.column(name)

    def _base_sql(sql: str, name: str) -> str:
        base.append(f"{sql} AS {_q(name)}")
        return name

    rule_points: list[str] = []
    rule_columns: dict[tuple[str, str], str] = {}
    score_exprs: list[str] = []
    score_columns: dict[str, str] = {}
    label_columns: dict[str, str] = {}
    for score in companies.scores.values():
        with ctx.at(f"company score '{score.name}'"):
            if score.sum_of:
                parts: list[exp.Expression] = [x.column(score_columns[p])
                                               for p in score.sum_of]
            else:
                parts = []
                for rule in score.rules:
                    holds, number = leaf(rule.criterion)
                    if rule.tiers:
                        assert number is not None
                        branches = [(x.and_(*([x.gte(number, x.double(t.low))]
                                              if t.low is not None else []),
                                            *([x.lte(number, x.double(t.high))]
                                              if t.high is not None else []),
                                            x.not_null(number)),
                                     x.double(clamp_points(t.points, rule.min, rule.max)))
                                    for t in rule.tiers]
                        points = x.case(branches, x.double(0.0))
                    else:
                        points = x.case([(holds, x.double(clamp_points(
                            rule.points or 0.0, rule.min, rule.max)))], x.double(0.0))
                    name = f"r{len(rule_points)}"
                    rule_points.append(f"{render(points)} AS {_q(name)}")
                    rule_columns[(score.name, rule.name)] = name
                    parts.append(x.column(name))
            column = f"c{len(score_columns)}"
            score_columns[score.name] = column
            label_columns[score.name] = column + "l"
            value = score_sql.score_value(found, score, parts)
            score_exprs.append(render(value))
    ctx.problems.raise_if_errors()

    companies_rel, members_rel = names["ls_companies"], names["ls_members"]
    flag_sql = ", ".join(["company_id", *flags]) if flags else "company_id"
    score_cols = ", ".join(_q("s:" + s) for s in contact_scores)
    member_layer = (f"SELECT {flag_sql}{', ' + score_cols if score_cols else ''} "
                    f"FROM {members_rel} WHERE company_id IS NOT NULL")
    agg_sql = ", ".join(["company_id", "count(*) AS n", *aggregates])
    ids = (f"SELECT company_id FROM {companies_rel} UNION SELECT company_id FROM "
           f"{members_rel} WHERE company_id IS NOT NULL")
    base_sql = ", ".join(["i.company_id", "COALESCE(a.n, 0) AS contacts", *base])
    # the scores, layer by layer: a sum reads the parts computed before it
    layers = []
    previous = "r"
    for k, (score_name, expr_sql) in enumerate(zip(score_columns, score_exprs, strict=True)):
        col = score_columns[score_name]
        score = companies.scores[score_name]
        label = render(score_sql.label(score, x.column(col)))
        layers.append((f"s{k}", f"SELECT *, {expr_sql} AS {_q(col)} FROM {previous}"))
        layers.append((f"t{k}", f"SELECT *, {label} AS {_q(col + 'l')} FROM s{k}"))
        previous = f"t{k}"
    ctes = [("m", member_layer), ("a", f"SELECT {agg_sql} FROM m GROUP BY company_id"),
            ("i", ids),
            ("b", f"SELECT {base_sql} FROM i LEFT JOIN {companies_rel} AS v ON "
                  f"v.company_id = i.company_id LEFT JOIN a ON a.company_id = i.company_id"),
            ("r", f"SELECT company_id, contacts{', ' if rule_points else ''}"
                  f"{', '.join(rule_points)} FROM b"), *layers]
    outputs = ["company_id", "contacts"]
    for score_name, col in score_columns.items():
        outputs += [f"{_q(col)} AS {_q(score_name)}",
                    f"{_q(col + 'l')} AS {_q(score_name + ':label')}"]
    outputs += [f"{_q(col)} AS {_q(f'{s}/{r}')}" for (s, r), col in rule_columns.items()]
    sql = ("WITH " + ",\n".join(f"{n} AS ({body})" for n, body in ctes)
           + f"\nSELECT {', '.join(outputs)} FROM {previous} ORDER BY company_id")
    return CompiledCompanies(sql, found.name, company_values.found, member_values.found,
                             tuple(contact_scores), score_columns, label_columns,
                             rule_columns)
