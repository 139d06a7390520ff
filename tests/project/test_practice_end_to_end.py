"""What practitioners ask for, end to end on SQLite and PostgreSQL: a model with bots and office
traffic excluded, a daily limit on page-view points and a stage that needs fit B or better and
engagement 2 or better — scored by the store's engine and by the Python evaluator alike, stored
(leads, stages), explained through the Python API, the command line, the HTTP API and the web
app's contact page, and a mistake in it reported at its line with exit code 1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.api import create_app
from leadscore.project import Project, init_project
from tests.web.conftest import PASSWORD, Browser

MODEL = """\
version: 1
name: practice
event_types:
  page_view: {attributes: {user_agent: string, ip: string}}
exclude_events:
  - name: Bots
    where: {user_agent: {regex: "bot|crawler|spider"}}
  - name: Office network
    event: page_view
    where: {ip: {starts_with: "10."}}
scores:
  fit:
    rules:
      - {name: Decision maker, when: {property: job_title, contains: [vp, chief]}, points: 10}
      - {name: Software, when: {property: industry, equals: software}, points: 5}
    thresholds:
      - {label: C, max: 4.99}
      - {label: B, min: 5, max: 9.99}
      - {label: A, min: 10}
  engagement:
    rules:
      - name: Page views
        when: {event: page_view, within_last: 30d}
        points: 2
        per_event: true
        max_per_day: 4
    thresholds:
      - {label: "3", max: 3.99}
      - {label: "2", min: 4, max: 7.99}
      - {label: "1", min: 8}
lifecycle:
  qualify:
    sql:
      all:
        - {score: fit, label: {at_least: B}}
        - {score: engagement, label: {at_least: "2"}}
    mql: {score: fit, label: {at_least: A}}
"""

HUMAN = {"user_agent": "Mozilla/5.0", "ip": "198.51.100.7"}
BOT = {"user_agent": "Googlebot/2.1", "ip": "66.249.66.1"}
OFFICE = {"user_agent": "Mozilla/5.0", "ip": "10.0.0.12"}
# contact → (job title, industry, [(days ago, attributes)], engagement, stage)
CONTACTS = {
    # three human views on one day: 6 points, capped at 4 → engagement 2; fit B → sql
    "busy": ("Manager", "software", [(1, HUMAN)] * 3, 4, "sql"),
    # bots and the office: nothing counts → engagement 3; fit A → mql
    "botted": ("VP Sales", "retail", [(1, BOT)] * 5 + [(2, OFFICE)] * 3, 0, "mql"),
    # two days of human views, with bot views beside them: 4 + 4
    "steady": ("Chief of staff", "software", [(1, HUMAN)] * 2 + [(2, HUMAN)] * 3
               + [(1, BOT)] * 4, 8, "sql"),
}


def write_project(root: Path, store_url: str) -> Project:
    init_project(root)
    config = root / "leadscore.toml"
    config.write_text(re.sub(r'^url = "sqlite:[^"]*"', f'url = "{store_url}"',
                             config.read_text(), flags=re.MULTILINE))
    (root / "models" / "model.yaml").write_text(MODEL)
    rows = ["contact_id,email,created_at,job_title,industry"]
    rows += [f"{cid},{cid}@x.example,2026-01-01,{title},{industry}"
             for cid, (title, industry, _, _, _) in CONTACTS.items()]
    (root / "contacts.csv").write_text("\n".join(rows) + "\n")
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    lines = []
    for cid, (_, _, views, _, _) in CONTACTS.items():
        for i, (days, attributes) in enumerate(views):
            when = noon - timedelta(days=days, minutes=i)  # all of one day within that day
            lines.append(json.dumps({"event_id": f"{cid}-{i}", "contact_id": cid,
                                     "type": "page_view", "occurred_at": when.isoformat(),
                                     "attributes": {"url": "https://x.example/a",
                                                    **attributes}}))
    (root / "events.jsonl").write_text("\n".join(lines) + "\n")
    project = Project.open(root)
    project.import_contacts(root / "contacts.csv")
    project.import_events(root / "events.jsonl")
    return project


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    done = subprocess.run([sys.executable, "-m", "leadscore", *args], cwd=root,
                          capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.slow
def test_every_surface_agrees_on_the_practitioners_model(store_url, tmp_path):
    project = write_project(tmp_path, store_url)
    python = project.score(write=False, engine="python", keep_results=True)
    project.score()  # the store's own engine (DuckDB, or in PostgreSQL), stored
    leads = {lead.contact_id: lead for lead in project.leads()}
    evaluator = {r.contact_id: r for r in python.results}
    for cid, (_, _, _, engagement, stage) in CONTACTS.items():
        assert leads[cid].scores["engagement"] == engagement, cid
        assert evaluator[cid].values["engagement"] == engagement, cid
        assert leads[cid].stage == evaluator[cid].stage == stage, cid

    explained = project.explain("steady").to_dict()
    assert [e["excluded_by"] for e in explained["excluded_events"]] == ["Bots"] * 4
    rule = explained["scores"]["engagement"]["rules"][0]
    assert (rule["points"], rule["dropped_by_daily_limit"]) == (8, 2)
    assert explained["qualifies_for_stage"] == "sql" and explained["qualifies_why"]["matched"]

    text = cli(tmp_path, "explain", "botted")
    assert text.returncode == 0, text.stderr
    assert "excluded events (8), seen by no rule:" in text.stdout
    assert "page_view — Office network" in text.stdout
    assert "score fit label A or above (A): yes (10 (A))" in text.stdout
    busy = json.loads(cli(tmp_path, "explain", "busy", "--format", "json").stdout)
    assert busy["scores"]["engagement"]["rules"][0]["dropped_by_daily_limit"] == 2

    key = project.create_api_key(["read"]).secret
    project.create_user("mo@example.com", "marketing", PASSWORD)
    app = create_app(project)
    browser = Browser(app)
    try:
        answer = browser.client.get("/v1/contacts/botted/explain",
                                    headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200
        assert {e["excluded_by"] for e in answer.json()["excluded_events"]} == {
            "Bots", "Office network"}
        assert browser.log_in("mo@example.com").status_code == 303
        page = browser.get("/contacts/steady").text
        assert 'id="excluded-events"' in page and page.count("<td>Bots</td>") == 4
        assert "2 dropped by the daily limit" in page
        assert 'id="qualifies-why"' in page and "label B or above (A, B): yes" in page
    finally:
        browser.close()
        app.state.served.close()  # type: ignore[attr-defined]
        project.close()


def test_a_mistake_in_the_new_syntax_is_placed_with_exit_code_1(tmp_path):
    init_project(tmp_path)
    broken = MODEL.replace('    where: {ip: {starts_with: "10."}}\n', "    where: {}\n")
    (tmp_path / "models" / "model.yaml").write_text(broken)
    done = cli(tmp_path, "validate")
    assert done.returncode == 1
    line = broken.splitlines().index("    where: {}") + 1
    assert f"model.yaml:{line}:" in done.stderr + done.stdout
    assert "LS190" in done.stderr + done.stdout
