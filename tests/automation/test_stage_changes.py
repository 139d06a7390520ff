"""Only real stage changes are recorded: a clear-and-set workflow (or a person) that sets the
stage a contact already has records nothing, and the stage stays as it was."""

from __future__ import annotations

import sqlalchemy as sa

from leadscore.automation import Automation
from leadscore.lists import parse_lists
from leadscore.model import parse_model
from leadscore.storage import ContactInput, EventInput, Store
from leadscore.storage.changes import current_stage
from leadscore.workflows import parse_workflows
from tests.automation.story import day

MODEL = """\
version: 1
name: m
scores:
  total:
    rules:
      - {name: visits, when: {event: visit}, points: 10, per_event: true}
    thresholds:
      - {label: MQL, min: 10, max: 29.99, stage: mql}
      - {label: SQL, min: 30, stage: sql}
"""
LISTS = """\
version: 1
lists:
  - {name: sql, groups: [[{score: total, label: SQL}]]}
"""
WORKFLOWS = """\
version: 1
workflows:
  - name: sql-stage
    trigger: {joins_list: sql}
    reenroll: true
    steps:
      - clear_stage: true
      - set_stage: sql
"""


def automation_on(store: Store) -> Automation:
    model = parse_model(MODEL, "m.yaml")
    lists = parse_lists(LISTS, "lists.yaml", model)
    automation = Automation(store, model, lists,
                            parse_workflows(WORKFLOWS, "wf.yaml", model, lists))
    automation.activate(now=day(0))
    return automation


def stage_of(store: Store, cid: str) -> str | None:
    with store.read() as connection:
        return current_stage(connection, cid)


def visits(automation: Automation, cid: str, at, n: int) -> None:
    automation.ingest_events([EventInput(f"{cid}-{at}-{i}", cid, "visit", at, {})
                              for i in range(n)], now=at)
    automation.process_all(now=at)


def test_a_clear_and_set_to_the_same_stage_records_no_change(store_url):
    with Store.open(store_url) as store:
        automation = automation_on(store)
        automation.update_contacts([ContactInput("a", day(0), created_at=day(0))],
                                   source="crm", now=day(0))
        visits(automation, "a", day(1), 3)  # SQL by score, then the workflow clears and sets sql
        with store.read() as connection:
            steps = list(connection.execute(sa.text(
                "SELECT action FROM step_runs WHERE contact_id = 'a' ORDER BY position")).scalars())
        assert steps == ["clear_stage", "set_stage"]  # the workflow did run
        assert [(c.previous, c.stage) for c in store.stage_history("a")] == [(None, "sql")]
        assert stage_of(store, "a") == "sql"
        snapshot = next(iter(store.load_snapshots(day(1.5), contact_ids=["a"])))
        assert snapshot.properties.get("lifecycle_stage") == "sql"  # the property too


def test_a_person_setting_the_stage_a_contact_has_records_nothing(store_url):
    with Store.open(store_url) as store:
        automation = automation_on(store)
        automation.update_contacts([ContactInput("b", day(0), created_at=day(0))],
                                   source="crm", now=day(0))
        visits(automation, "b", day(1), 1)
        assert stage_of(store, "b") == "mql"
        automation.set_stage("b", "mql", by="ann", now=day(2))
        assert [(c.previous, c.stage) for c in store.stage_history("b")] == [(None, "mql")]
        assert stage_of(store, "b") == "mql"
        automation.set_stage("b", "lead", by="ann", now=day(3))  # backward: a real change
        assert [(c.previous, c.stage) for c in store.stage_history("b")] == [
            (None, "mql"), ("mql", "lead")]
