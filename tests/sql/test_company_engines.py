"""Company scores: the Python evaluator, DuckDB, PostgreSQL and Spark SQL give the same
values, labels and per-rule points, on hand-written companies and on generated ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.companies.relations import relations
from leadscore.evaluation.company import CompanyInput, CompanyScorer, Member
from leadscore.model.compile import load_model
from leadscore.sql.company import compile_companies

MODEL = load_model(Path(__file__).parent.parent / "companies" / "model.yaml")
AS_OF = 1_780_000_000_000_000
ROLES = ["decision_maker", "Champion ", "influencer", "user", "", None, "cfo"]
INDUSTRIES = ["Software", " saas", "retail", "", None]
EMPLOYEES = [None, 10, "49", 49.5, 50, "1,200", 999, 1000, "n/a"]
TIERS = ["strategic", "SMB", "unknown", None]


def _expected(inputs: list[CompanyInput]) -> list[tuple[Any, ...]]:
    scorer = CompanyScorer(MODEL.companies)
    out = []
    for company in sorted(inputs, key=lambda c: c.company_id):
        result = scorer.score(company)
        row: list[Any] = [company.company_id, result.contacts]
        for name in MODEL.companies.scores:
            row += [result.values[name], result.labels[name]]
        row += [v.points for v in result.rules]
        out.append(tuple(row))
    return out


def _duckdb(inputs: list[CompanyInput]) -> list[tuple[Any, ...]]:
    query = compile_companies(MODEL, as_of_us=AS_OF, dialect="duckdb")
    companies, members = relations(query, inputs)
    connection = duckdb.connect()
    connection.register("ls_companies", companies)
    connection.register("ls_members", members)
    return [tuple(r) for r in connection.execute(query.sql).fetchall()]


def _member(i: int, role: Any, engagement: float | None, fit: float | None,
            label: str | None) -> Member:
    scores = {}
    if engagement is not None:
        scores["engagement"] = (engagement, None)
    if fit is not None:
        scores["fit"] = (fit, None)
        scores["total"] = (round((fit + (engagement or 0)) * 100) / 100, label)
    return Member(f"c{i}", {"buying_role": role} if role is not None else {}, scores)


HANDWRITTEN = [
    CompanyInput("acme", {"industry": "Software", "employees": "1,200", "tier": "Strategic"}, [
        _member(1, "Decision_Maker", 45.0, 30.0, "SQL"),
        _member(2, "champion", 20.5, 20.0, "MQL"),
        _member(3, None, None, None, None)], AS_OF),
    CompanyInput("no-contacts", {"industry": "retail", "employees": 10}, [], AS_OF),
    CompanyInput("only-members", {}, [_member(4, "user", 0.01, 0.03, None),
                                      _member(5, "user", 0.02, 0.03, None),
                                      _member(6, "user", 0.02, 0.03, None)], AS_OF),
    CompanyInput("big", {"employees": 999.5}, [_member(i, "influencer", 20.0 + i / 100,
                                                       -3.33, None) for i in range(7)], AS_OF),
]


def test_handwritten_companies_agree_in_duckdb() -> None:
    assert _duckdb(HANDWRITTEN) == _expected(HANDWRITTEN)


def test_handwritten_values() -> None:
    """What the evaluator says, checked by hand for the first company."""
    result = CompanyScorer(MODEL.companies).score(HANDWRITTEN[0])
    # firmographic: software 20 + 1,200 employees 25 + strategic 15
    # engagement: 2 engaged (10) + max 45 ≥ 40 (15) + fit sum 50 (10) + avg 32.75 (5)
    #             + decision maker and champion (25)
    assert result.values == {"firmographic": 60.0, "account_engagement": 65.0,
                              "account": 125.0}
    assert result.labels["account"] == "Hot"
    lonely = CompanyScorer(MODEL.companies).score(HANDWRITTEN[1])
    assert lonely.values["account_engagement"] == -5.0  # no SQL yet, nothing else
    assert lonely.labels["account"] == "Cold"


member = st.builds(
    _member, st.integers(0, 10_000), st.sampled_from(ROLES),
    st.one_of(st.none(), st.integers(-5000, 9000).map(lambda v: v / 100)),
    st.one_of(st.none(), st.integers(-5000, 9000).map(lambda v: v / 100)),
    st.sampled_from([None, "MQL", "SQL", "sql"]))
company = st.builds(
    lambda i, industry, employees, tier, members: CompanyInput(
        f"co{i}", {k: v for k, v in (("industry", industry), ("employees", employees),
                                     ("tier", tier)) if v is not None},
        [Member(f"co{i}-{j}-{m.contact_id}", m.properties, m.scores) for j, m in
         enumerate(members)], AS_OF),
    st.integers(0, 10**6), st.sampled_from(INDUSTRIES), st.sampled_from(EMPLOYEES),
    st.sampled_from(TIERS), st.lists(member, max_size=8))
companies = st.lists(company, min_size=1, max_size=6,
                     unique_by=lambda c: c.company_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies)
def test_generated_companies_agree_in_duckdb(inputs: list[CompanyInput]) -> None:
    assert _duckdb(inputs) == _expected(inputs)





@pytest.mark.postgres
def test_companies_agree_in_postgres(pg: Any) -> None:
    from leadscore.sql.postgres_engine import execute, load_arrow

    query = compile_companies(MODEL, as_of_us=AS_OF, dialect="postgres")
    tables = relations(query, HANDWRITTEN)
    load_arrow(pg, "ls_companies", tables[0])
    load_arrow(pg, "ls_members", tables[1])
    _, rows = execute(pg, query.sql)
    assert [tuple(float(v) if isinstance(v, int | float) and not isinstance(v, bool) and
                  i > 1 else v for i, v in enumerate(r)) for r in rows] == \
        _expected(HANDWRITTEN)


@pytest.mark.spark
def test_companies_agree_in_spark(spark: Any, tmp_path: Path) -> None:
    from leadscore.sql.spark_engine import bind

    query = compile_companies(MODEL, as_of_us=AS_OF, dialect="spark")
    tables = relations(query, HANDWRITTEN)
    bind(spark, "ls_companies", tables[0], tmp_path)
    bind(spark, "ls_members", tables[1], tmp_path)
    rows = [tuple(r) for r in spark.sql(query.sql).collect()]
    assert rows == _expected(HANDWRITTEN)
