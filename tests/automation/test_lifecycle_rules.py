"""Lifecycle rules a model can set: its own stage order, qualification by criteria, and
notifications by e-mail — through the automation processor on a real store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadscore.automation import Automation
from leadscore.delivery import deliver_due, load_channels
from leadscore.diagnostics import LeadscoreError
from leadscore.lists import parse_lists
from leadscore.model import parse_model
from leadscore.storage import ContactInput, EventInput, Store
from leadscore.workflows import parse_workflows
from tests.automation.story import day
from tests.delivery.test_email import mailbox  # noqa: F401  (the fixture)

ORDERED = """\
version: 1
name: ordered
scores:
  total:
    rules:
      - {name: visits, when: {event: visit}, points: 10, per_event: true}
    thresholds:
      - {label: Trial, min: 10, max: 29, stage: trial}
      - {label: Hot, min: 30, stage: mql}
lifecycle:
  order: [subscriber, lead, trial, mql, sql, opportunity, customer]
"""

BY_CRITERIA = """\
version: 1
name: criteria
scores:
  total:
    rules:
      - {name: visits, when: {event: visit}, points: 1, per_event: true}
lifecycle:
  qualify:
    sql: {event: form_submission, where: {form_id: contact-sales}}
    mql: {all: [{property: industry, any_of: [software]}, {event: form_submission}]}
"""


def stage(store: Store, cid: str) -> str | None:
    return store.current_stage(cid)


def visit(automation: Automation, cid: str, at, n: int) -> None:
    automation.ingest_events([EventInput(f"{cid}-{at}-{i}", cid, "visit", at, {})
                              for i in range(n)], now=at)
    automation.process_all(now=at)


def test_a_model_orders_its_own_stages(store_url):
    model = parse_model(ORDERED, "ordered.yaml")
    assert model.lifecycle.stages[-1] == "other"
    with Store.open(store_url) as store:
        automation = Automation(store, model)
        automation.update_contacts([ContactInput("a", day(0), created_at=day(0))],
                                   source="crm", now=day(0))
        visit(automation, "a", day(1), 1)
        assert stage(store, "a") == "trial"
        visit(automation, "a", day(2), 2)
        assert stage(store, "a") == "mql"  # forward in the model's own order
        history = [c.stage for c in store.stage_history("a")]
        assert history == ["trial", "mql"]


def test_stage_order_mistakes_are_reported():
    with pytest.raises(LeadscoreError) as caught:
        parse_model(ORDERED.replace("[subscriber, lead, trial,", "[subscriber, lead, lead,"))
    codes = {d.code for d in caught.value.diagnostics}
    assert "LS147" in codes and "LS144" in codes  # and 'trial' is now unknown


def test_qualification_by_criteria_ignores_the_score(store_url):
    model = parse_model(BY_CRITERIA, "criteria.yaml")
    with Store.open(store_url) as store:
        automation = Automation(store, model)
        automation.update_contacts(
            [ContactInput("s", day(0), created_at=day(0), properties={"industry": "software"}),
             ContactInput("r", day(0), created_at=day(0), properties={"industry": "retail"})],
            source="crm", now=day(0))
        for cid in ("s", "r"):
            automation.ingest_events([EventInput(f"{cid}-e", cid, "form_submission", day(1),
                                                 {"form_id": "ebook-a"})], now=day(1))
        automation.process_all(now=day(1))
        assert (stage(store, "s"), stage(store, "r")) == ("mql", None)
        automation.ingest_events([EventInput("r-cs", "r", "form_submission", day(2),
                                             {"form_id": "contact-sales"})], now=day(2))
        automation.process_all(now=day(2))
        assert stage(store, "r") == "sql"


def test_a_workflow_notifies_by_email(store_url, mailbox):  # noqa: F811
    handler, port = mailbox
    model = parse_model(ORDERED, "ordered.yaml")
    lists = parse_lists("version: 1\nlists:\n  - {name: hot, groups: [[{score: total, label: "
                        "Hot}]]}\n", "lists.yaml", model)
    flows = parse_workflows(
        "version: 1\nworkflows:\n  - name: tell-owner\n    trigger: {joins_list: hot}\n"
        "    steps:\n      - notify: {channel: owners, subject: 'Hot: {contact.id}', "
        "message: 'score {score.total}', to: owner@acme.example}\n",
        "workflows.yaml", model, lists, {"owners"})
    channels = load_channels({"delivery": {"email": {"owners": {
        "host": "127.0.0.1", "port": port, "from": "leadscore@acme.example"}}}}, source="t")
    with Store.open(store_url) as store:
        automation = Automation(store, model, lists, flows, channel_kinds={"owners": "email"})
        automation.activate(now=day(0))
        automation.update_contacts([ContactInput("m", day(0), created_at=day(0))],
                                   source="crm", now=day(0))
        visit(automation, "m", day(1), 3)
        report = deliver_due(store, channels, now=day(1))
        assert report.delivered == 1
    [(sender, recipients, message)] = handler.messages
    assert recipients == ["owner@acme.example"] and message["Subject"] == "Hot: m"
    assert "score 30" in message.get_payload()


def test_scoring_alone_follows_the_same_stage_rules(store_url):
    """`leadscore score` moves stages with the same rules as the processor: exclusions hold."""
    from leadscore.project import score_store

    model = parse_model(ORDERED + "  exclude:\n    - {property: is_partner, equals: true}\n")
    with Store.open(store_url) as store:
        store.upsert_contacts([ContactInput("p", day(0), created_at=day(0),
                                            properties={"is_partner": True}),
                               ContactInput("q", day(0), created_at=day(0))])
        store.add_events([EventInput(f"{cid}-v{i}", cid, "visit", day(1), {})
                          for cid in ("p", "q") for i in range(3)])
        run = score_store(store, model, as_of=day(2))
        assert run.stage_moves == {"mql": 1}
        assert (stage(store, "p"), stage(store, "q")) == (None, "mql")


EXCLUDED_A_WHILE = ORDERED + "  exclude:\n    - {event: email_bounce, within_last: 7d}\n"


@pytest.mark.parametrize("bulk", [False, True], ids=["per-contact", "bulk"])
def test_a_stage_exclusion_that_lapses_wakes_the_contact(store_url, monkeypatch, bulk):
    """A contact kept from its stage by a time-bound exclusion is due again when the
    exclusion lapses — not only when something else about it changes — and then moves (both
    ways of processing: contact by contact, and set-wise)."""
    from leadscore.automation import bulk as bulk_path

    monkeypatch.setattr(bulk_path, "BULK_MIN", 1 if bulk else 10**9)
    model = parse_model(EXCLUDED_A_WHILE, "excluded.yaml")
    with Store.open(store_url) as store:
        automation = Automation(store, model)
        automation.activate(now=day(0))
        automation.update_contacts([ContactInput("q", day(0), created_at=day(0)),
                                    ContactInput("r", day(0), created_at=day(0))],
                                   source="crm", now=day(0))
        automation.ingest_events(
            [*(EventInput(f"{cid}-v{i}", cid, "visit", day(1), {})
               for cid in ("q", "r") for i in range(3)),
             EventInput("q-bounce", "q", "email_bounce", day(1), {})], now=day(1))
        automation.process_all(now=day(1))
        assert (stage(store, "q"), stage(store, "r")) == (None, "mql")
        due = automation.next_due_at()
        assert due is not None and day(8) <= due <= day(8) + timedelta(seconds=1)  # it lapses
        automation.process_all(now=day(9))
        assert stage(store, "q") == "mql"
