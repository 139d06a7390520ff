"""`{company_score: account, label: Hot}` in lists and stage rules: the Python evaluator
(snapshots carrying their company's stored scores), DuckDB, PostgreSQL and Spark SQL (the
canonical relation `ls_company_scores`) agree — on hand-written cases (no company, a NULL
stored value, each operator and label) and on generated stored scores (Hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.diagnostics import LeadscoreError
from leadscore.lists.definition import parse_lists
from leadscore.model import parse_model
from leadscore.sql.compiler import STAGE_TARGET, compile_model
from leadscore.sql.reference import History, score_rows
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]
COMPANY_MODEL = (Path(__file__).parent.parent / "companies" / "model.yaml").read_text()
MODEL = parse_model(COMPANY_MODEL + """
lifecycle:
  qualify:
    sql: {all: [{score: total, at_least: 30}, {company_score: account, label: Hot}]}
    mql: {company_score: firmographic, at_least: 20}
""", "model.yaml")
LISTS = parse_lists("""
version: 1
lists:
  - name: hot-accounts
    groups:
      - [{company_score: account, label: Hot}]
  - name: warm-or-hot
    groups:
      - [{company_score: account, label: {at_least: Warm}}]
  - name: no-company-score
    groups:
      - [{company_score: account, is_unknown: true}]
  - name: known
    groups:
      - [{company_score: firmographic, is_known: true}]
  - name: engaged-at-weak-account
    groups:
      - [{score: engagement, at_least: 1}, {company_score: account_engagement, at_most: 10}]
    exclude:
      - {company_score: firmographic, equals: 0}
  - name: not-hot
    groups:
      - [{not: {company_score: account, label: Hot}}]
""", "lists.yaml", MODEL)
LABELS = {"account": [None, "Cold", "Warm", "Hot", "hot"],
          "firmographic": [None], "account_engagement": [None]}
VALUES = [None, 0.0, -5.0, 10.0, 20.0, 29.99, 60.0, 100.5]


def _history(stored: list[tuple[str, str, float | None, str | None]]) -> History:
    history = History()
    day = 86_400_000_000
    for i in range(6):
        history.contacts.append((f"c{i}", AS_OF_US - 30 * day))
    for i in (0, 2, 4):
        history.events.append((f"c{i}", "form_submission", AS_OF_US - day, {"form_id": "demo"}))
    history.company_scores = stored
    return history


HANDWRITTEN = [
    ("c0", "account", 75.0, "Hot"), ("c0", "firmographic", 35.0, None),
    ("c0", "account_engagement", 40.0, None),
    ("c1", "account", 75.0, "Hot"), ("c1", "firmographic", 0.0, None),
    ("c2", "account", 40.0, "Warm"), ("c2", "account_engagement", 5.0, None),
    ("c2", "firmographic", 20.0, None),
    ("c3", "account", None, None),  # a stored NULL (unscored): unknown
    # c4 and c5: no company
]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_reads_the_company_score_as_the_evaluator(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    history = _history(HANDWRITTEN)
    assert harness.check(engine, MODEL, history, AS_OF, lists=LISTS, pg=pg, spark=spark) == 6


def test_what_the_evaluator_answers_on_the_handwritten_cases():
    rows = score_rows(MODEL, _history(HANDWRITTEN).snapshots(MODEL, AS_OF), lists=LISTS,
                      stage_rules=True)
    member = {name: sorted(c for c, row in rows.items() if row[f"list:{name}"])
              for name in LISTS.lists}
    assert member["hot-accounts"] == ["c0", "c1"]
    assert member["warm-or-hot"] == ["c0", "c1", "c2"]
    assert member["no-company-score"] == ["c3", "c4", "c5"]  # NULL and no company alike
    assert member["known"] == ["c0", "c1", "c2"]
    assert member["engaged-at-weak-account"] == ["c2"]  # c0's is 40, c4 has no company
    assert member["not-hot"] == ["c2", "c3", "c4", "c5"]
    # the demo is worth 40 (total 40 ≥ 30) and c0's account is Hot; c2's firmographic is 20
    assert rows["c0"][STAGE_TARGET] == "sql"
    assert rows["c2"][STAGE_TARGET] == "mql"
    assert rows["c4"][STAGE_TARGET] is None


def test_the_query_reads_company_scores_only_when_a_condition_does():
    plain = parse_lists("version: 1\nlists:\n  - name: a\n    groups:\n"
                        "      - [{score: total, at_least: 1}]\n", "l.yaml", MODEL)
    without = parse_model(COMPANY_MODEL, "model.yaml")
    assert not compile_model(without, as_of=AS_OF, lists=plain).reads_company_scores
    assert "ls_company_scores" not in compile_model(without, as_of=AS_OF, lists=plain).sql
    query = compile_model(MODEL, as_of=AS_OF, lists=LISTS, stage_rules=True)
    assert query.reads_company_scores and "ls_company_scores" in query.sql


stored_rows = st.lists(
    st.tuples(st.sampled_from([f"c{i}" for i in range(6)]),
              st.sampled_from(["account", "firmographic", "account_engagement"]),
              st.sampled_from(VALUES), st.sampled_from(LABELS["account"])),
    max_size=14, unique_by=lambda r: (r[0], r[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=stored_rows)
def test_duckdb_agrees_with_the_evaluator_on_generated_company_scores(stored):
    harness.check("duckdb", MODEL, _history(stored), AS_OF, lists=LISTS)


@pytest.mark.parametrize(("where", "text", "code", "line"), [
    ("model", "scores:\n  bad:\n    rules:\n      - {name: r, when: {company_score: account, "
     "label: Hot}, points: 1}\n", "LS194", 6),
    ("lists", "version: 1\nlists:\n  - name: x\n    groups:\n      - [{company_score: acount, "
     "label: Hot}]\n", "LS195", 5),
    ("lists", "version: 1\nlists:\n  - name: x\n    groups:\n      - [{company_score: account, "
     "label: Boiling}]\n", "LS125", 5),
    ("lists", "version: 1\nlists:\n  - name: x\n    groups:\n      - [{company_score: account, "
     "score: total, at_least: 3}]\n", "LS110", 5),
    ("lists", "version: 1\nlists:\n  - name: x\n    groups:\n      - [{company_score: account, "
     "label: Hot, where: {form_id: demo}}]\n", "LS112", 5),
])
def test_misplaced_and_unknown_company_scores_are_diagnostics_with_their_line(
        where, text, code, line):
    with pytest.raises(LeadscoreError) as caught:
        if where == "model":
            parse_model("version: 1\nname: m\n" + text, "m.yaml")
        else:
            parse_lists(text, "lists.yaml", MODEL)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found, [d.code for d in caught.value.diagnostics]
    assert found[0].location.file.endswith(".yaml") and found[0].location.line == line


def test_a_company_score_in_a_companys_contact_criteria_is_ls194():
    text = COMPANY_MODEL.replace("when: {contacts: {score: engagement, at_least: 20}}",
                                 "when: {contacts: {company_score: account, at_least: 20}}")
    with pytest.raises(LeadscoreError) as caught:
        parse_model(text, "model.yaml")
    assert "LS194" in [d.code for d in caught.value.diagnostics]


def test_without_a_companies_section_the_name_is_unknown():
    model = parse_model("version: 1\nname: m\nscores:\n  s:\n    rules:\n      - {name: r, when: "
                        "{event: visit}, points: 1}\n", "m.yaml")
    with pytest.raises(LeadscoreError) as caught:
        parse_lists("version: 1\nlists:\n  - name: x\n    groups:\n      - [{company_score: a, "
                    "at_least: 1}]\n", "lists.yaml", model)
    [problem] = caught.value.diagnostics
    assert problem.code == "LS195" and "companies:" in (problem.hint or "")
