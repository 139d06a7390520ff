"""Events that arrive while a batch is being processed. On PostgreSQL they are stored beside
the batch (no waiting for it); the batch must then leave the contact due, so that the next
pass sees the event. On SQLite a batch reads its contacts before it takes the one write lock
(arriving events are stored meanwhile), then reads again, inside its write transaction, what
changed since: a contact made due again, or everything after any other kind of write."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadscore.automation import Automation
from leadscore.model import parse_model
from leadscore.storage import ContactInput, EventInput, Store
from tests.automation.story import day

MODEL = """\
version: 1
name: visits
scores:
  total:
    rules:
      - {name: visits, when: {event: visit}, points: 10, per_event: true}
"""


def total(store: Store, cid: str) -> float:
    with store.read() as connection:
        from sqlalchemy import text
        return connection.execute(text("SELECT value FROM scores WHERE contact_id = :c AND "
                                       "score = 'total'"), {"c": cid}).scalar()


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_an_event_stored_during_a_batch_keeps_its_contact_due(store_url):
    with Store.open(store_url) as store:
        automation = Automation(store, parse_model(MODEL, "visits.yaml"))
        t0 = day(0)
        automation.update_contacts([ContactInput("c1", t0, created_at=t0),
                                    ContactInput("c2", t0, created_at=t0)], source="crm", now=t0)
        automation.ingest_events([EventInput("v1", "c1", "visit", t0, {})], now=t0)
        moment = t0 + timedelta(hours=1)
        load = automation._load
        arrived = []

        def load_then_an_event_arrives(connection, ids, at):
            states = load(connection, ids, at)  # the batch has read its contacts
            if not arrived:  # … and now an event is stored and committed beside it
                arrived.append(automation.ingest_events(
                    [EventInput("v2", "c1", "visit", t0 + timedelta(minutes=5), {})],
                    now=t0 + timedelta(minutes=30)))
            return states

        automation._load = load_then_an_event_arrives
        first = automation.process_due(now=moment)
        assert first.contacts == 2 and arrived[0].inserted == 1
        assert total(store, "c1") == 10  # the batch did not see the second visit …
        assert automation.next_due_at() <= moment  # … so c1 is still due
        second = automation.process_due(now=moment)
        assert second.contacts == 1 and total(store, "c1") == 20
        assert automation.process_due(now=moment).contacts == 0  # and then it is done


def _arriving(automation: Automation, write) -> list:
    """Make the automation's next read of its batch run `write` right after it (once)."""
    load = automation._load
    done: list = []

    def load_then_write(connection, ids, at):
        states = load(connection, ids, at)
        if not done:
            done.append(write())
        return states

    automation._load = load_then_write
    return done


def _two_contacts(store: Store) -> tuple[Automation, object]:
    automation = Automation(store, parse_model(MODEL, "visits.yaml"))
    t0 = day(0)
    automation.update_contacts([ContactInput("c1", t0, created_at=t0),
                                ContactInput("c2", t0, created_at=t0)], source="crm", now=t0)
    automation.ingest_events([EventInput("v1", "c1", "visit", t0, {}),
                              EventInput("w1", "c2", "visit", t0, {})], now=t0)
    return automation, t0


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sqlite_an_event_stored_while_a_batch_reads_is_read_again_inside_it(store_url):
    with Store.open(store_url) as store:
        automation, t0 = _two_contacts(store)
        moment = t0 + timedelta(hours=1)
        arrived = _arriving(automation, lambda: automation.ingest_events(
            [EventInput("v2", "c1", "visit", t0 + timedelta(minutes=5), {})],
            now=t0 + timedelta(minutes=30)))
        first = automation.process_due(now=moment)
        assert first.contacts == 2 and arrived[0].inserted == 1
        # c1's row moved on while the batch read: read again under the write lock, with v2
        assert total(store, "c1") == 20 and total(store, "c2") == 10
        assert automation.process_due(now=moment).contacts == 0


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sqlite_any_other_write_while_a_batch_reads_makes_it_read_everything_again(store_url):
    from sqlalchemy import text

    with Store.open(store_url) as store:
        automation, t0 = _two_contacts(store)
        moment = t0 + timedelta(hours=1)

        def sneak_in() -> None:  # a write that makes nobody due (say, an import's own
            with store.write() as writer:  # bookkeeping): only the count tells
                writer.connection.execute(text(
                    "INSERT INTO events (event_id, contact_id, type, occurred_us, "
                    "attributes, received_us) VALUES ('w2', 'c2', 'visit', :at, '{}', :at)"),
                    {"at": int((t0 + timedelta(minutes=1)).timestamp() * 1e6)})

        _arriving(automation, sneak_in)
        assert automation.process_due(now=moment).contacts == 2
        assert total(store, "c1") == 10
        assert total(store, "c2") == 20  # read again inside the batch: the batch saw w2


def test_events_that_arrive_between_batches_are_processed_once(store_url):
    with Store.open(store_url) as store:
        automation = Automation(store, parse_model(MODEL, "visits.yaml"))
        t0 = day(0)
        automation.update_contacts([ContactInput("c1", t0, created_at=t0)], source="crm",
                                   now=t0)
        for i in range(3):
            at = t0 + timedelta(minutes=i)
            automation.ingest_events([EventInput(f"v{i}", "c1", "visit", at, {})], now=at)
            assert automation.process_due(now=at).contacts == 1
            assert automation.process_due(now=at).contacts == 0
            assert total(store, "c1") == 10 * (i + 1)


REVIEWED = """\
version: 1
lists:
  - {name: unreviewed, groups: [[{property: reviewed, is_unknown: true}]]}
"""
FLIP = """\
version: 1
workflows:
  - name: review
    trigger: {joins_list: unreviewed}
    steps:
      - set_property: {reviewed: "yes"}
  - name: undo-review
    trigger: {property_changed: {property: reviewed, to: "yes"}}
    steps:
      - clear_property: reviewed
"""


def test_leaving_and_rejoining_a_list_within_one_batch_is_one_net_change(store_url):
    from leadscore.lists import parse_lists
    from leadscore.workflows import parse_workflows

    model = parse_model(MODEL.replace("scores:", "properties:\n  reviewed: {type: string}\n"
                                      "scores:"), "visits.yaml")
    lists = parse_lists(REVIEWED, "lists.yaml", model)
    flows = parse_workflows(FLIP, "workflows.yaml", model, lists, set())
    with Store.open(store_url) as store:
        automation = Automation(store, model, lists, flows)
        t0 = day(0)
        automation.activate(now=t0)
        automation.update_contacts([ContactInput("c1", t0, created_at=t0)], source="crm", now=t0)
        automation.process_due(now=t0)  # joins, is marked reviewed (leaves), is cleared (joins)
        with store.read() as connection:
            from sqlalchemy import text
            members = connection.execute(text("SELECT contact_id FROM list_memberships")).all()
            changes = connection.execute(text(
                "SELECT change FROM list_changes ORDER BY at, id")).scalars().all()
        assert members == [("c1",)]
        assert changes == ["join", "leave", "join"]
