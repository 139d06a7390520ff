"""Companies end to end through the command line, on SQLite and on PostgreSQL: import
companies (and again, unchanged; then a change, kept as history), contacts grouped by
company_id or e-mail domain (never a free-mail domain), `score` scoring companies after
contacts, `companies` ranked, `company ID`, `explain --company`, and placed mistakes."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.project import Project
from tests.cli.conftest import Cli

HERE = Path(__file__).parent

COMPANIES = """company_id,name,domain,industry,employees,tier,updated_at
acme,Acme Corp,acme.com,Software,"1,200",Strategic,2026-01-01
globex,Globex,globex.io,retail,40,smb,2026-01-01
"""
CONTACTS = """contact_id,email,company_id,seniority,industry,buying_role
c1,ann@acme.com,,executive,software,decision_maker
c2,bob@ACME.com,,manager,software,champion
c3,cy@gmail.com,acme,,,user
c4,dee@gmail.com,,,,
c5,eve@globex.io,,director,,influencer
c6,fay@initech.com,,,,
c7,gus@gmx.de,,,,
"""


def _events(now: datetime) -> str:
    day = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [("c1", "form_submission", {"form_id": "demo"}),
            *[("c1", "page_view", {"url": f"https://x.com/pricing?{i}"}) for i in range(3)],
            ("c2", "page_view", {"url": "https://x.com/pricing"}),
            ("c5", "form_submission", {"form_id": "demo"})]
    return "".join(json.dumps({"event_id": f"e{i}", "contact_id": c, "type": t,
                               "occurred_at": day, "attributes": a}) + "\n"
                   for i, (c, t, a) in enumerate(rows))


def accounts_project(tmp_path: Path, store_url: str, *, companies: str = COMPANIES,
                     files: dict[str, str] | None = None, lists: bool = False,
                     workflows: bool = False) -> Cli:
    """The accounts project (tests/companies/model.yaml) with its companies, contacts and
    events files, and `files` beside them; `lists`, `workflows`: the [automation] section
    names lists.yaml, workflows.yaml."""
    root = tmp_path / "accounts"
    (root / "models").mkdir(parents=True)
    shutil.copy(HERE / "model.yaml", root / "models" / "model.yaml")
    url = store_url if not store_url.startswith("sqlite") else \
        "sqlite:///.leadscore/store.db"
    config = f'[store]\nurl = "{url}"\n\n[model]\npath = "models/model.yaml"\n'
    if lists or workflows:
        config += "\n[automation]\n" + ('lists = "lists.yaml"\n' if lists else "") + \
            ('workflows = "workflows.yaml"\n' if workflows else "")
    (root / "leadscore.toml").write_text(config)
    for name, text in {"companies.csv": companies, "contacts.csv": CONTACTS,
                       "events.jsonl": _events(datetime.now(UTC)), **(files or {})}.items():
        (root / name).write_text(text)
    return Cli(root)


@pytest.fixture
def project(tmp_path: Path, store_url: str) -> Cli:
    return accounts_project(tmp_path, store_url)


def test_companies_from_import_to_explanation(project: Cli) -> None:
    run = project
    assert "2 new companies" in run("import", "companies", "companies.csv").out
    again = run("import", "companies", "companies.csv").out
    assert "0 new companies" in again and "2 unchanged" in again
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    scored = run("score", "--format", "json").json()
    assert scored["companies"]["companies"] == 3
    assert scored["companies"]["labels"]["account"] == {"Hot": 1, "Cold": 2}

    ranked = run("companies", "--format", "json").json()
    assert [r["company_id"] for r in ranked] == ["acme", "globex", "initech.com"]
    acme, globex, initech = ranked
    # acme: c1, c2 by domain (ACME.com too), c3 by company_id; c4, c7: free mail, no company
    assert acme["contacts"] == 3 and globex["contacts"] == 1 and initech["contacts"] == 1
    assert acme["name"] == "Acme Corp" and initech["domain"] == "initech.com"
    # firmographic 20 + 25 + 15; engagement 10 (one engaged) + 15 (max 55) + 5 (avg 20)
    # + 25 (decision maker and champion)
    assert acme["scores"]["firmographic"]["value"] == 60
    assert acme["scores"]["account_engagement"]["value"] == 55
    assert acme["scores"]["account"] == {"value": 115, "label": "Hot"}
    assert globex["scores"]["account"] == {"value": 25, "label": "Cold"}  # -5 + 30
    assert initech["scores"]["account"] == {"value": -5, "label": "Cold"}  # no SQL yet
    table = run("companies").out
    assert "Acme Corp" in table and "115 Hot" in table
    assert [r["company_id"] for r in run("companies", "--label", "cold", "--format",
                                         "json").json()] == ["globex", "initech.com"]

    explained = run("explain", "--company", "acme", "--format", "json").json()
    assert explained["scores"]["account"]["value"] == 115
    assert explained["stored"]["account"] == 115
    assert sorted(m["contact_id"] for m in explained["members"]) == ["c1", "c2", "c3"]
    rules = {r["rule"]: r for r in explained["rules"]}
    assert rules["Buying group"]["matched"] and rules["Buying group"]["points"] == 25
    assert rules["Hottest contact"]["reason"].startswith(
        "max of contact score engagement over 3 contacts: 55")
    text = run("explain", "--company", "acme").out
    assert "✓ Buying group: +25" in text and "✗ No SQL yet" in text

    # a later file changes globex: history is kept, and the next score sees it
    later = COMPANIES.replace("40,smb,2026-01-01", "60,smb,2026-02-01")
    (run.cwd / "companies-later.csv").write_text(later)
    assert "1 updated" in run("import", "companies", "companies-later.csv").out
    run("score")
    detail = run("company", "globex", "--format", "json").json()
    assert detail["properties"]["employees"] == 60
    assert [h["value"] for h in detail["property_history"] if h["name"] == "employees"] == \
        [40, 60]
    assert [h["value"] for h in detail["score_history"] if h["score"] == "account"] == [25, 40]
    assert detail["scored"]["scores"]["account"] == {"value": 40, "label": "Warm"}
    assert "score account: 40 Warm" in run("company", "globex").out

    with Project.open(run.cwd) as opened:  # the Python API says the same
        assert [r.company_id for r in opened.companies(limit=2)] == ["acme", "globex"]
        assert opened.explain_company("initech.com").result.values["account"] == -5


@pytest.mark.parametrize(("args", "code"), [
    (["explain", "--company", "nope"], "LS382"),
    (["company", "nope"], "LS382"),
    (["companies", "--sort", "acount"], "LS381"),
    (["explain", "c1", "--company", "acme"], "LS383"),
])
def test_company_mistakes_are_placed(project: Cli, args: list[str], code: str) -> None:
    run = project
    run("import", "companies", "companies.csv")
    found = run(*args, ok=False)
    assert found.code == 1 and code in found.err
    assert re.search(r"did you mean|leadscore|not both", found.err)


def test_companies_over_http(project: Cli) -> None:
    from fastapi.testclient import TestClient

    from leadscore.api import create_app

    run = project
    run("import", "companies", "companies.csv")
    run("import", "contacts", "contacts.csv")
    run("import", "events", "events.jsonl")
    run("score")
    with Project.open(run.cwd) as opened:
        key = opened.create_api_key(["read"]).secret
        with TestClient(create_app(opened), raise_server_exceptions=False) as client:
            headers = {"Authorization": f"Bearer {key}"}
            listed = client.get("/v1/companies", params={"limit": 2}, headers=headers)
            assert listed.status_code == 200, listed.text
            assert [c["company_id"] for c in listed.json()["companies"]] == ["acme", "globex"]
            assert listed.json()["companies"][0]["scores"]["account"] == {
                "value": 115.0, "label": "Hot"}
            one = client.get("/v1/companies/acme", headers=headers).json()
            assert one["properties"]["name"] == "Acme Corp"
            assert one["scored"]["contacts"] == 3
            why = client.get("/v1/companies/acme/explanation", headers=headers).json()
            assert why["scores"]["account"]["value"] == 115.0
            missing = client.get("/v1/companies/nope/explanation", headers=headers)
            assert missing.status_code == 404
            assert missing.json()["errors"][0]["code"] == "LS382"
            wrong = client.get("/v1/companies", params={"sort": "acount"}, headers=headers)
            assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "LS381"
            assert client.get("/v1/companies").status_code == 401


def test_a_model_without_companies_says_so(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "models").mkdir(parents=True)
    model = (HERE / "model.yaml").read_text()
    (root / "models" / "model.yaml").write_text(model[:model.index("companies:")])
    (root / "leadscore.toml").write_text('[model]\npath = "models/model.yaml"\n')
    run = Cli(root)
    for args in (["companies"], ["explain", "--company", "acme"], ["company", "acme"]):
        found = run(*args, ok=False)
        assert found.code == 1 and "LS380" in found.err and "companies:" in found.err
