"""One rule decides stages everywhere (`StageRules`): with qualification by criteria and an
exclusion, `score --dry-run --format json`, `explain`, `score` itself and backtest's stage
volumes all give the stage the lifecycle rules give — a partner (excluded) whose points reach
the SQL range qualifies for none, a contact that meets the MQL criterion gets mql whatever its
points, and a contact that meets no criterion gets no stage (its stage is left as it is)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest

from leadscore.calibration.backtest import score_cases
from leadscore.calibration.population import Case
from leadscore.evaluation import ContactSnapshot, EventRecord, PropertyChange
from leadscore.model import parse_model
from tests.sql.generators import AS_OF

pytestmark = pytest.mark.slow

QUALIFY = """
  qualify:
    sql: {event: form_submission, where: {form_id: contact-sales}}
    mql: {property: industry, any_of: [software]}
"""


def model_text() -> str:
    text = (files("leadscore.project") / "templates" / "model.yaml").read_text()
    lifecycle, _, companies = text.partition("\ncompanies:")  # the lifecycle section ends
    assert lifecycle.rstrip().endswith("equals: unqualified}")  # where the companies begin
    return (lifecycle.rstrip() + "\n    - {property: is_competitor, equals: true}\n" + QUALIFY
            + ("\ncompanies:" + companies if companies else ""))


PRICING = {"type": "page_view", "attributes": {"url": "https://x.example/pricing"}}
DEMO = {"type": "form_submission", "attributes": {"form_id": "demo-request"}}
SALES = {"type": "form_submission", "attributes": {"form_id": "contact-sales"}}
BIG = {"job_title": "VP Marketing", "employees": "500", "industry": "retail"}
# contact → (properties, events): what the rules give it
CONTACTS = {
    "rival": ({**BIG, "is_partner": "true"}, [DEMO, PRICING, PRICING, SALES], None),
    "asker": ({"job_title": "Intern", "industry": "retail"}, [SALES], "sql"),
    "softy": ({"job_title": "Intern", "industry": "software"}, [], "mql"),
    "loud": (BIG, [DEMO, PRICING, PRICING, PRICING], None),  # SQL points, no criterion
}


def write_project(cli) -> None:
    cli("init", ".")
    (cli.cwd / "models" / "model.yaml").write_text(model_text())
    rows = ["contact_id,email,created_at,job_title,employees,industry,is_partner"]
    for cid, (props, _, _) in CONTACTS.items():
        rows.append(f"{cid},{cid}@x.example,2026-01-01,{props.get('job_title', '')},"
                    f"{props.get('employees', '')},{props.get('industry', '')},"
                    f"{props.get('is_partner', '')}")
    (cli.cwd / "contacts.csv").write_text("\n".join(rows) + "\n")
    lines = []
    for cid, (_, events, _) in CONTACTS.items():
        for i, event in enumerate(events):
            when = datetime.now(UTC) - timedelta(hours=1 + i)  # recent: nothing has decayed
            lines.append(json.dumps({"event_id": f"{cid}-{i}", "contact_id": cid,
                                     "occurred_at": when.isoformat(), **event}))
    (cli.cwd / "events.jsonl").write_text("\n".join(lines) + "\n")
    cli("import", "contacts", "contacts.csv")
    cli("import", "events", "events.jsonl")


def test_every_command_reports_the_stage_of_the_lifecycle_rules(cli):
    write_project(cli)
    at: list[str] = []  # now: the imported properties are recorded as of the import
    dry = cli("score", "--dry-run", "--format", "json").json()
    stages = {row["contact_id"]: row["stage"] for row in dry["top"]}
    assert stages == {cid: want for cid, (_, _, want) in CONTACTS.items()}
    for cid, (_, _, want) in CONTACTS.items():
        explained = cli("explain", cid, *at, "--format", "json").json()
        assert explained["qualifies_for_stage"] == want, cid
    rival = cli("explain", "rival", *at, "--format", "json").json()
    assert rival["scores"]["total"]["label"] == "SQL"  # the points alone would say sql
    assert cli("explain", "asker", *at, "--format", "json").json()["qualifies_because"] == \
        "met the sql criteria"
    cli("score")  # `score` moves stages by the same rules
    history = {cid: cli("stage", "history", cid, "--format", "json").json() for cid in CONTACTS}
    assert {cid: [c["to"] for c in changes] for cid, changes in history.items()} == {
        "rival": [], "asker": ["sql"], "softy": ["mql"], "loud": []}


def snapshot(cid: str) -> ContactSnapshot:
    props, events, _ = CONTACTS[cid]
    created = AS_OF - timedelta(days=30)
    return ContactSnapshot.build(
        cid, AS_OF, created_at=created,
        property_changes=[PropertyChange(k, {"true": True, "500": 500}.get(v, v), created)
                          for k, v in props.items()],
        events=[EventRecord(e["type"], AS_OF - timedelta(days=1 + i), e["attributes"])
                for i, e in enumerate(events)])


def test_backtest_and_compare_count_stages_by_the_same_rules():
    model = parse_model(model_text(), "model.yaml")
    pairs = [(snapshot(cid), Case(cid, 0.0, AS_OF.timestamp(), False)) for cid in CONTACTS]
    scored = score_cases([model], pairs)
    assert dict(zip(scored.ids, scored.models[0].stages, strict=True)) == {
        cid: want for cid, (_, _, want) in CONTACTS.items()}
