"""SPEC.md's story, end to end against a real HTTP receiver, on SQLite and PostgreSQL:
MQL → SQL with exactly one signed notification → 'not ready' back to MQL → earns the points
again → SQL and a second notification → 'unqualified' → subscriber at −100 and stays; a
customer never re-enters the MQL list; a week without activity lets decay take a lead out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.automation.story import (
    FIT_20,
    SECRET,
    add_contact,
    day,
    feedback,
    make_project,
    send,
    settle,
)
from tests.delivery.receiver import WebhookReceiver

pytestmark = pytest.mark.slow

BLOG = ("page_view", {"url": "https://www.example.com/blog/post"})
PRICING = ("page_view", {"url": "https://www.example.com/pricing"})
VISIT = ("visit", {"source": "organic_search"})
DEMO = ("form_submission", {"form_id": "demo-request"})


def lists_of(project, cid):
    with project.store.read() as connection:
        return set(connection.execute(sa.text(
            "SELECT list FROM list_memberships WHERE contact_id = :c"), {"c": cid}).scalars())


def stage_of(project, cid):
    return project.store.current_stage(cid)


def total_of(project, cid):
    with project.store.read() as connection:
        return connection.execute(sa.text(
            "SELECT value FROM scores WHERE contact_id = :c AND score = 'total'"),
            {"c": cid}).scalar()


def test_the_sales_story(tmp_path, store_url):
    with WebhookReceiver(secret=SECRET) as receiver:
        project = make_project(tmp_path / "story", store_url, receiver.url)
        try:
            run_story(project, receiver)
        finally:
            project.close()


def run_story(project, receiver):
    # reads blog posts and views pricing → MQL
    add_contact(project, "ann", day(0), **FIT_20)
    send(project, "ann", day(0), VISIT, VISIT, VISIT, BLOG, BLOG, BLOG, BLOG, PRICING)
    settle(project, day(0))
    assert lists_of(project, "ann") == {"mql"}
    assert stage_of(project, "ann") == "mql"
    assert 35 <= total_of(project, "ann") < 65
    assert receiver.unique() == 0

    # requests a demo → SQL → exactly one signed notification carrying the score
    send(project, "ann", day(1), DEMO)
    settle(project, day(1))
    settle(project, day(1.01))  # more passes change nothing
    assert "sql" in lists_of(project, "ann") and "mql" not in lists_of(project, "ann")
    assert stage_of(project, "ann") == "sql"
    assert receiver.unique() == 1 and receiver.bad_signatures == 0
    first = receiver.payloads()[0]
    assert first["contact_id"] == "ann"
    assert first["scores"]["total"]["value"] >= 65 and first["scores"]["total"]["label"] == "SQL"
    assert first["top_reasons"] and "sales-ready" in first["message"]

    # sales: 'not ready' → back to MQL (points taken away; stage moved back by the workflow)
    feedback(project, "ann", "not_ready", day(2))
    settle(project, day(2))
    assert lists_of(project, "ann") == {"mql"}
    assert stage_of(project, "ann") == "mql"
    assert total_of(project, "ann") < 65
    assert receiver.unique() == 1

    # earns the points again → SQL again → a second notification
    send(project, "ann", day(3), ("form_submission", {"form_id": "webinar-q3"}),
         ("email_click", {"campaign": "q3"}), ("email_open", {"campaign": "q3"}))
    settle(project, day(3))
    assert "sql" in lists_of(project, "ann")
    assert stage_of(project, "ann") == "sql"
    assert receiver.unique() == 2 and receiver.bad_signatures == 0

    # sales: 'unqualified' → −100 points, subscriber, and it stays there
    feedback(project, "ann", "unqualified", day(4))
    settle(project, day(4))
    assert stage_of(project, "ann") == "subscriber"
    assert lists_of(project, "ann") == set()
    with project.store.read() as connection:
        feedback_score = connection.execute(sa.text(
            "SELECT value FROM scores WHERE contact_id = 'ann' AND score = 'feedback'")).scalar()
    assert feedback_score <= -100
    send(project, "ann", day(5), DEMO, PRICING, VISIT)
    settle(project, day(5))
    assert stage_of(project, "ann") == "subscriber"
    assert receiver.unique() == 2

    # a customer never re-enters the MQL list
    add_contact(project, "cara", day(5), **FIT_20)
    send(project, "cara", day(5), VISIT, VISIT, BLOG, BLOG, PRICING,
         ("deal_won", {"opportunity_id": "o-1", "amount": 12000}))
    settle(project, day(5))
    assert stage_of(project, "cara") == "customer"
    assert 35 <= total_of(project, "cara") < 65
    assert "mql" not in lists_of(project, "cara")

    # a week without activity: decay takes a lead out of the MQL list (no new data at all)
    add_contact(project, "dan", day(6), **FIT_20)
    send(project, "dan", day(6), VISIT, VISIT, BLOG, PRICING)
    settle(project, day(6))
    assert "mql" in lists_of(project, "dan"), total_of(project, "dan")
    settle(project, day(13.5))
    assert "mql" not in lists_of(project, "dan")
    assert total_of(project, "dan") < 35
    assert stage_of(project, "dan") == "mql"  # stages never move back on their own
    with project.store.read() as connection:
        left = connection.execute(sa.text(
            "SELECT count(*) FROM list_changes WHERE contact_id = 'dan' AND change = 'leave'"
        )).scalar()
    assert left == 1
    assert receiver.duplicates == 0
