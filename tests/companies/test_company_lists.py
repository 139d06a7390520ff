"""Company lists end to end through the command line, on SQLite and on PostgreSQL: a list
`of: companies` on the company's score and its properties is computed after `score` (joins and
leaves stored with history); a contact list on `{company_list: target-accounts}` takes in the
contacts of a company that joins it — after a company import and `score`, with no new data
about the contacts — and a workflow on that list fires; `list show`, `list members` and the
HTTP API show the companies with their scores."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from tests.companies.test_companies_cli import accounts_project
from tests.companies.test_company_score_conditions import COMPANIES, GLOBEX_GROWS

LISTS = """version: 1
lists:
  - name: target-accounts
    of: companies
    description: Hot software companies, not small ones
    groups:
      - [{score: account, label: Hot}, {property: industry, any_of: [software, saas]}]
    exclude:
      - {property: tier, equals: smb}
  - name: at-target-accounts
    groups:
      - [{company_list: target-accounts}]
"""
WORKFLOWS = """version: 1
workflows:
  - name: tell-sales
    trigger: {joins_list: at-target-accounts}
    steps:
      - create_task: {title: "Their company is a target account", owner: sales}
"""


@pytest.fixture
def project(tmp_path, store_url: str) -> Cli:
    return accounts_project(tmp_path, store_url, companies=COMPANIES, lists=True,
                            workflows=True, files={"lists.yaml": LISTS,
                                                   "workflows.yaml": WORKFLOWS,
                                                   "globex.csv": GLOBEX_GROWS})


def _members(run: Cli, name: str, key: str = "contact") -> list[str]:
    rows = run("list", "members", name, "--limit", "0", "--format", "json").json()
    return sorted(row[key] for row in rows)


def test_a_company_joins_a_company_list_and_its_contacts_follow(project: Cli) -> None:
    run = project
    run("import", "companies", "companies.csv")
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    scored = run("score", "--format", "json").json()
    assert scored["companies"]["lists"] == {"target-accounts": 1}
    assert _members(run, "target-accounts", "company") == ["acme"]
    shown = {row["list"]: row for row in run("list", "show", "--format", "json").json()}
    assert shown["target-accounts"]["of"] == "companies"
    assert shown["target-accounts"]["members"] == 1
    assert shown["at-target-accounts"]["of"] == "contacts"
    table = run("list", "members", "target-accounts").out
    assert "Acme Corp" in table and "acme.com" in table and "(Hot)" in table

    run("process", "--no-deliver")
    assert _members(run, "at-target-accounts") == ["c1", "c2", "c3"]
    assert "Processed 0 contacts" in run("process", "--no-deliver").out  # nobody is due

    run("import", "companies", "globex.csv")  # globex: software, strategic, now Hot
    rescored = run("score", "--format", "json").json()
    assert rescored["contacts"] == 0  # no contact data changed
    assert rescored["companies"]["lists"] == {"target-accounts": 2}
    assert rescored["companies"]["due"] == 1  # globex's one contact
    assert "Processed 1 contacts" in run("process", "--no-deliver").out
    assert _members(run, "at-target-accounts") == ["c1", "c2", "c3", "c5"]
    # the workflow fires for c5 alone: its first pass found c1-c3 already in (a state
    # trigger never enrolls those who matched when the workflow became active)
    tasks = run("tasks", "--format", "json").json()
    assert [t["contact"] for t in tasks] == ["c5"]
    verdict = run("list", "test", "at-target-accounts", "c5").out
    assert "IS a member" in verdict
    assert "company in company list target-accounts: yes" in verdict
    outside = run("list", "test", "at-target-accounts", "c4").out  # no company
    assert "is NOT a member" in outside

    # scoring every contact again changes nothing: no join, no leave, nobody due
    again = run("score", "--full", "--format", "json").json()
    assert again["companies"]["due"] == 0
    assert "Processed 0 contacts" in run("process", "--no-deliver").out

    # a company list added to the lists file is computed by the next score, though no data
    # changed (the lists' digest is stored with the run)
    (run.cwd / "lists.yaml").write_text(LISTS + """  - name: strategic
    of: companies
    groups:
      - [{property: tier, equals: strategic}]
""")
    added = run("score", "--format", "json").json()
    assert added["contacts"] == 0
    assert added["companies"]["lists"] == {"target-accounts": 2, "strategic": 2}
    after = run("score", "--format", "json").json()["companies"]  # nothing to do now
    assert not after["full"] and after["companies"] == 0


def test_company_lists_over_http(project: Cli) -> None:
    from fastapi.testclient import TestClient

    from leadscore.api import create_app
    from leadscore.project import Project

    run = project
    run("import", "companies", "companies.csv")
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    run("score")
    with Project.open(run.cwd) as opened:
        key = opened.create_api_key(["read"]).secret
        with TestClient(create_app(opened), raise_server_exceptions=False) as client:
            headers = {"Authorization": f"Bearer {key}"}
            listed = client.get("/v1/lists", headers=headers)
            assert listed.status_code == 200, listed.text
            assert {"name": "target-accounts", "members": 1, "of": "companies",
                    "description": "Hot software companies, not small ones"
                    } in listed.json()["lists"]
            page = client.get("/v1/lists/target-accounts/members", headers=headers)
            assert page.status_code == 200, page.text
            assert page.json()["total"] == 1
            [acme] = page.json()["members"]
            assert acme["company_id"] == "acme" and acme["name"] == "Acme Corp"
            assert acme["scores"]["account"] == {"value": 115.0, "label": "Hot"}
            contacts = client.get("/v1/lists/at-target-accounts/members", headers=headers)
            assert contacts.status_code == 200, contacts.text

    run("import", "companies", "globex.csv")  # globex joins: two members now
    run("score")
    with Project.open(run.cwd) as opened, \
            TestClient(create_app(opened), raise_server_exceptions=False) as client:
        url = "/v1/lists/target-accounts/members"
        seen, cursor, pages = [], None, 0
        while True:
            page = client.get(url, headers=headers,
                              params={"limit": 1, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            body = page.json()
            assert body["total"] == 2
            seen += [m["company_id"] for m in body["members"]]
            pages += 1
            cursor = body["cursor"]
            if cursor is None:
                break
        assert sorted(seen) == ["acme", "globex"] and len(seen) == 2 and pages == 3
        assert seen[0] == "globex"  # the newest member first
        bad = client.get(url, headers=headers, params={"cursor": "nonsense"})
        assert bad.status_code == 422 and "LS315" in bad.text
