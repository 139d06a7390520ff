"""`company_score:` conditions end to end through the command line, on SQLite and on
PostgreSQL: a list that reads the company's score takes in a contact when its company
becomes Hot — after a company import and `score`, with no new data about the contact — and
`list test` shows the company score it read; a contact without a company is never in it."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.companies.test_companies_cli import accounts_project

COMPANIES = """company_id,name,domain,industry,employees,tier,updated_at
acme,Acme Corp,acme.com,Software,"1,200",Strategic,2026-01-01
globex,Globex,globex.io,retail,40,smb,2026-01-01
"""
GLOBEX_GROWS = """company_id,industry,employees,tier,updated_at
globex,software,"5,000",strategic,2026-02-01
"""
LISTS = """version: 1
lists:
  - name: hot-accounts
    groups:
      - [{company_score: account, label: Hot}]
  - name: no-account
    groups:
      - [{company_score: account, is_unknown: true}]
"""


@pytest.fixture
def project(tmp_path, store_url: str) -> Cli:
    return accounts_project(tmp_path, store_url, companies=COMPANIES, lists=True,
                            files={"lists.yaml": LISTS, "globex.csv": GLOBEX_GROWS})


def _members(run: Cli, name: str) -> list[str]:
    rows = run("list", "members", name, "--limit", "0", "--format", "json").json()
    return sorted(row["contact"] for row in rows)


def test_a_contact_joins_a_list_because_its_company_became_hot(project: Cli) -> None:
    run = project
    run("import", "companies", "companies.csv")
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    scored = run("score", "--format", "json").json()
    assert scored["companies"]["labels"]["account"] == {"Hot": 1, "Cold": 2}
    run("process", "--no-deliver")
    # acme is Hot: c1, c2 (by domain) and c3 (by company_id); c4, c7 have no company
    assert _members(run, "hot-accounts") == ["c1", "c2", "c3"]
    assert _members(run, "no-account") == ["c4", "c7"]
    assert "Processed 0 contacts" in run("process", "--no-deliver").out  # nobody is due

    run("import", "companies", "globex.csv")  # globex's firmographic 20 + 25 + 15
    rescored = run("score", "--format", "json").json()
    assert rescored["contacts"] == 0  # no contact data changed
    assert rescored["companies"]["labels"]["account"] == {"Hot": 2, "Cold": 1}
    assert rescored["companies"]["due"] == 1  # globex's one contact
    processed = run("process", "--no-deliver").out
    assert "Processed 1 contacts" in processed
    assert _members(run, "hot-accounts") == ["c1", "c2", "c3", "c5"]
    verdict = run("list", "test", "hot-accounts", "c5").out
    assert "IS a member" in verdict and "company score account label hot: yes (" in verdict
    outside = run("list", "test", "hot-accounts", "c4").out
    assert "is NOT a member" in outside and "(not scored)" in outside


STAGE_RULES = """
lifecycle:
  qualify:
    sql: {all: [{score: total, at_least: 30}, {company_score: account, label: Hot}]}
    mql: {score: total, at_least: 30}
"""


def _with_stage_rules(project: Cli) -> Cli:
    """The project with STAGE_RULES in its model and its companies, contacts and events
    imported (nothing scored yet)."""
    model = project.cwd / "models" / "model.yaml"
    model.write_text(model.read_text() + STAGE_RULES)
    for kind, file in (("companies", "companies.csv"), ("contacts", "contacts.csv"),
                       ("events", "events.jsonl")):
        project("import", kind, file)
    return project


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("engines", [("auto", "python")])
def test_stage_rules_read_the_company_score_in_every_engine(project: Cli, engines) -> None:
    from leadscore.project import Project

    run = _with_stage_rules(project)
    run("score")  # contacts, then companies: acme Hot, globex Cold
    with Project.open(project.cwd) as opened:
        found = {}
        for engine in engines:
            scored = opened.score(engine=engine, write=False, full=True, keep_results=True)
            found[engine] = {r.contact_id: r.stage for r in scored.results}
    # c1 (total 55 at Hot acme): sql; c5 (demo 40 at Cold globex): mql
    assert found[engines[0]] == found["python"]
    assert found["python"]["c1"] == "sql" and found["python"]["c5"] == "mql"
    # explain reads the company's stored score as the stage rules do
    explained = run("explain", "c1").out
    assert "qualifies for stage sql" in explained, explained
    assert "company score account label hot: yes (" in explained.lower(), explained
    assert "qualifies for stage mql" in run("explain", "c5").out


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_score_moves_the_stages_its_company_run_changed(project: Cli, engine: str) -> None:
    """Stage rules read the company scores the run itself stores: `score` scores the contacts
    whose company's score changed again, and their stages move with no `process`."""
    run = _with_stage_rules(project)

    def in_stage(stage: str) -> list[str]:
        rows = run("leads", "--stage", stage, "--limit", "0", "--format", "json").json()
        return sorted(row["contact_id"] for row in rows)

    first = run("score", "--engine", engine, "--format", "json").json()
    # c1 is scored before acme is (unknown: mql), then acme is Hot and c1 moves on to sql
    assert first["stage_moves"].get("sql") == 1, first
    assert in_stage("sql") == ["c1"] and "c5" in in_stage("mql")
    again = run("score", "--engine", engine, "--format", "json").json()
    assert again["stage_moves"] == {} and (engine == "python" or again["contacts"] == 0)

    run("import", "companies", "globex.csv")  # globex becomes Hot: c5 (total 40) sql now
    moved = run("score", "--engine", engine, "--format", "json").json()
    assert moved["stage_moves"] == {"sql": 1}, moved
    assert in_stage("sql") == ["c1", "c5"]
    assert "qualifies for stage sql" in run("explain", "c5").out
