"""`{company_list: target-accounts}` in contact lists: the Python evaluator (snapshots carrying
their company's lists beside its stored scores), DuckDB, PostgreSQL and Spark SQL (rows
`list:NAME` of the canonical relation `ls_company_scores`) agree — on hand-written cases (no
company, a company in one list, in both, combined with a company score and under `not`) and on
generated memberships (Hypothesis); the misplaced and unknown names are diagnostics with their
line (LS196–LS199)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.diagnostics import LeadscoreError
from leadscore.lists.definition import parse_lists
from leadscore.model import parse_model
from leadscore.sql.reference import score_rows
from leadscore.workflows.definition import parse_workflows
from tests.sql import harness
from tests.sql.generators import AS_OF
from tests.sql.test_company_score_leaf import COMPANY_MODEL, ENGINES, MODEL, _history

COMPANY_LISTS = """
  - name: target-accounts
    of: companies
    groups:
      - [{score: account, label: Hot}, {property: industry, any_of: [software, saas]}]
      - [{property: tier, equals: strategic}]
    exclude:
      - {score: firmographic, at_most: 0}
  - name: churn-risk
    of: companies
    groups:
      - [{not: {score: account_engagement, at_least: 10}}]
"""
LISTS = parse_lists("""
version: 1
lists:
  - name: at-targets
    groups:
      - [{company_list: target-accounts}]
  - name: at-risk-or-target
    groups:
      - [{company_list: churn-risk}]
      - [{company_list: target-accounts}]
  - name: target-not-hot
    groups:
      - [{company_list: target-accounts}, {not: {company_score: account, label: Hot}}]
  - name: not-at-target
    groups:
      - [{not: {company_list: target-accounts}}]
    exclude:
      - {company_list: churn-risk}
""" + COMPANY_LISTS, "lists.yaml", MODEL)

HANDWRITTEN = [
    ("c0", "list:target-accounts", 1.0, None), ("c0", "account", 75.0, "Hot"),
    ("c1", "list:target-accounts", 1.0, None), ("c1", "account", 40.0, "Warm"),
    ("c1", "list:churn-risk", 1.0, None),
    ("c2", "list:churn-risk", 1.0, None),
    ("c3", "account", 75.0, "Hot"),  # a company in no list
    # c4 and c5: no company
]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_reads_the_company_list_as_the_evaluator(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    history = _history(HANDWRITTEN)
    assert harness.check(engine, MODEL, history, AS_OF, lists=LISTS, pg=pg, spark=spark) == 6


def test_what_the_evaluator_answers_on_the_handwritten_cases():
    rows = score_rows(MODEL, _history(HANDWRITTEN).snapshots(MODEL, AS_OF), lists=LISTS)
    member = {name: sorted(c for c, row in rows.items() if row[f"list:{name}"])
              for name in LISTS.lists}
    assert set(member) == {"at-targets", "at-risk-or-target", "target-not-hot",
                           "not-at-target"}  # company lists are not evaluated per contact
    assert member["at-targets"] == ["c0", "c1"]
    assert member["at-risk-or-target"] == ["c0", "c1", "c2"]
    assert member["target-not-hot"] == ["c1"]
    assert member["not-at-target"] == ["c3", "c4", "c5"]  # c2 is excluded: churn risk


stored_rows = st.lists(
    st.tuples(st.sampled_from([f"c{i}" for i in range(6)]),
              st.sampled_from(["list:target-accounts", "list:churn-risk", "account"]),
              st.sampled_from([1.0, 75.0]), st.sampled_from([None, "Hot", "Cold"])),
    max_size=12, unique_by=lambda r: (r[0], r[1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=stored_rows)
def test_duckdb_agrees_with_the_evaluator_on_generated_memberships(stored):
    harness.check("duckdb", MODEL, _history(stored), AS_OF, lists=LISTS)


def _lists(groups: str, *, of: str = "") -> str:
    return ("version: 1\nlists:\n  - name: x\n" + of + "    groups:\n      - " + groups + "\n"
            + COMPANY_LISTS)


@pytest.mark.parametrize(("text", "code", "line"), [
    (_lists("[{event: form_submission}]", of="    of: companies\n"), "LS196", 6),
    (_lists("[{company_score: account, label: Hot}]", of="    of: companies\n"), "LS196", 6),
    (_lists("[{list: at-x}]", of="    of: companies\n"), "LS196", 6),
    (_lists("[{property: industry, changed_within: 3d}]", of="    of: companies\n"),
     "LS196", 6),
    (_lists("[{property: job_title, contains: vp}]", of="    of: companies\n"), "LS120", 6),
    (_lists("[{score: total, at_least: 1}]", of="    of: companies\n"), "LS123", 6),
    (_lists("[{company_list: target-acounts}]"), "LS198", 5),
    (_lists("[{company_list: y}]") + "  - name: y\n    groups:\n      - [{score: total, "
     "at_least: 1}]\n", "LS198", 5),
    (_lists("[{list: target-accounts}]"), "LS198", 5),
    (_lists("[{company_list: target-accounts, score: total}]"), "LS110", 5),
])
def test_company_list_mistakes_are_diagnostics_with_their_line(text, code, line):
    with pytest.raises(LeadscoreError) as caught:
        parse_lists(text, "lists.yaml", MODEL)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found, [(d.code, d.message) for d in caught.value.diagnostics]
    assert found[0].location.file == "lists.yaml" and found[0].location.line == line
    assert found[0].hint


def test_a_company_list_in_scoring_or_stage_rules_is_ls199():
    for text in ("version: 1\nname: m\nscores:\n  bad:\n    rules:\n      - {name: r, when: "
                 "{company_list: t}, points: 1}\n",
                 COMPANY_MODEL + "lifecycle:\n  qualify:\n    sql: {company_list: t}\n"):
        with pytest.raises(LeadscoreError) as caught:
            parse_model(text, "model.yaml")
        assert "LS199" in [d.code for d in caught.value.diagnostics]


def test_a_company_list_needs_the_models_companies_section():
    model = parse_model("version: 1\nname: m\nscores:\n  s:\n    rules:\n      - {name: r, when: "
                        "{event: visit}, points: 1}\n", "m.yaml")
    with pytest.raises(LeadscoreError) as caught:
        parse_lists("version: 1\nlists:\n  - name: x\n    of: companies\n    groups:\n"
                    "      - [{property: industry, equals: saas}]\n", "lists.yaml", model)
    [problem] = caught.value.diagnostics
    assert problem.code == "LS197" and problem.location.line == 4


def test_workflows_read_company_lists_and_never_follow_one():
    flows = parse_workflows("""version: 1
workflows:
  - name: w
    trigger: {joins_list: at-targets}
    steps:
      - branch:
          if: {company_list: churn-risk}
          then: [{create_task: {title: Save them, owner: cs}}]
""", "workflows.yaml", MODEL, LISTS)
    assert flows[0].name == "w"
    with pytest.raises(LeadscoreError) as caught:
        parse_workflows("version: 1\nworkflows:\n  - name: w\n    trigger: {joins_list: "
                        "target-accounts}\n    steps:\n      - create_task: {title: t, "
                        "owner: o}\n", "workflows.yaml", MODEL, LISTS)
    [problem] = caught.value.diagnostics
    assert problem.code == "LS198" and "company_list" in (problem.hint or "")
