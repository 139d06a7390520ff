"""The score ledger through the Python API, on SQLite and PostgreSQL: entries change scores from
their effective time until their expiry, `explain` shows each entry that counts, `score`
rescores only the contacts whose ledger changed, the automation acts on entries (and on
their expiry, with no new data), voiding takes an entry out, and 'not ready' feedback is a
ledger entry rather than a running total in a property."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from leadscore.diagnostics import LeadscoreError
from tests.automation.story import FIT_20, add_contact, day, feedback, make_project, send, settle

pytestmark = pytest.mark.slow

VISIT = ("visit", {"source": "organic_search"})
BLOG = ("page_view", {"url": "https://www.example.com/blog/post"})
PRICING = ("page_view", {"url": "https://www.example.com/pricing"})
DEMO = ("form_submission", {"form_id": "demo-request"})


@pytest.fixture
def project(tmp_path, store_url):
    made = make_project(tmp_path / "ledger", store_url, "http://127.0.0.1:9/unused")
    yield made
    made.close()


def total(project, at):
    return project.explain("ann", at=at).result.scores["total"].value


def model_total(project, at):
    """What the model alone gives (decay moves it with time)."""
    score = project.explain("ann", at=at).result.scores["total"]
    return score.value if score.model_value is None else score.model_value


def stored_total(project, cid="ann"):
    with project.store.read() as connection:
        return connection.execute(sa.text(
            "SELECT value FROM scores WHERE contact_id = :c AND score = 'total'"),
            {"c": cid}).scalar()


def lists_of(project, cid="ann"):
    with project.store.read() as connection:
        return set(connection.execute(sa.text(
            "SELECT list FROM list_memberships WHERE contact_id = :c"), {"c": cid}).scalars())


def test_entries_apply_from_their_effective_time_until_their_expiry(project):
    add_contact(project, "ann", day(0), **FIT_20)
    send(project, "ann", day(0), VISIT, VISIT, VISIT, BLOG, BLOG, BLOG, BLOG, PRICING)
    settle(project, day(0))
    first = total(project, day(1))
    assert 35 <= first < 65 and lists_of(project) == {"mql"}

    lowered = project.add_ledger_entry("ann", "total", change_by=-10, note="a test",
                                       author="me", effective=day(1), now=day(1))
    assert (lowered.op, lowered.amount, lowered.reason, lowered.author) == (
        "change", -10, "manual", "me")
    assert total(project, day(1)) == round(first - 10, 2)
    before = project.explain("ann", at=day(0.5)).result.scores["total"]
    assert before.ledger == [] and before.model_value is None  # after the moment: not applied
    explained = project.explain("ann", at=day(1))
    shown = explained.render_text()
    assert "score ledger" in shown and "change by -10 (manual)" in shown and "a test" in shown
    as_json = explained.to_dict()["scores"]["total"]
    assert as_json["model_value"] == first and as_json["ledger"][0]["id"] == lowered.id

    # a set-to with an expiry: from day 2 until day 3 the score is 80 (SQL)
    pinned = project.add_ledger_entry("ann", "total", set_to=80, effective=day(2),
                                      expires=day(3), reason="correction", now=day(1))
    assert total(project, day(1.5)) == round(model_total(project, day(1.5)) - 10, 2)
    at_two = project.explain("ann", at=day(2)).result.scores["total"]
    assert at_two.value == 80 and at_two.label == "SQL"
    assert [e.id for e in at_two.ledger] == [pinned.id]  # the set-to hides what came before
    settle(project, day(2))  # the automation acts on the entry: the contact joins SQL
    assert stored_total(project) == 80 and "sql" in lists_of(project)
    assert total(project, day(3)) == round(model_total(project, day(3)) - 10, 2)  # expired
    settle(project, day(3))  # no new data: the expiry alone wakes the contact
    assert stored_total(project) == total(project, day(3)) and "sql" not in lists_of(project)

    # voiding takes an entry out of every score, and keeps it listed
    voided = project.void_ledger_entry(lowered.id, by="me", note="entered by mistake",
                                       now=day(3))
    assert voided.voided_by == "me"
    assert total(project, day(3.5)) == model_total(project, day(3.5))
    assert [e.id for e in project.ledger_entries("ann")] == [pinned.id]
    assert [e.id for e in project.ledger_entries("ann", voided=True)] == [lowered.id, pinned.id]
    with pytest.raises(LeadscoreError) as again:
        project.void_ledger_entry(lowered.id)
    assert again.value.diagnostics[0].code == "LS375"


def test_score_rescores_only_the_contacts_whose_ledger_changed(project):
    for cid in ("ann", "bob", "cy"):
        add_contact(project, cid, day(0), **FIT_20)
        send(project, cid, day(0), VISIT, BLOG, PRICING)
    project.score(full=True)
    assert project.score().contacts == 0
    entry = project.add_ledger_entry("bob", "fit", set_to=55)
    run = project.score()
    assert run.contacts == 1
    with project.store.read() as connection:
        fit = connection.execute(sa.text(
            "SELECT value FROM scores WHERE contact_id = 'bob' AND score = 'fit'")).scalar()
    assert fit == 55
    project.void_ledger_entry(entry.id)
    assert project.score().contacts == 1
    assert project.score(engine="python", full=True, write=False, keep_results=True).results


def test_a_reset_is_one_entry_and_later_points_count_again(project):
    add_contact(project, "ann", day(0), **FIT_20)
    send(project, "ann", day(0), VISIT, BLOG, BLOG, PRICING)
    before = project.explain("ann", at=day(1)).result.scores["engagement"].value
    assert before > 0
    reset = project.add_ledger_entry("ann", "engagement", reset=True, effective=day(1),
                                     now=day(1))
    assert (reset.op, reset.reason, reset.amount) == ("change", "reset", -before)
    assert project.explain("ann", at=day(1)).result.scores["engagement"].value == 0
    send(project, "ann", day(1.5), DEMO)
    assert project.explain("ann", at=day(1.5)).result.scores["engagement"].value > 0


def test_not_ready_feedback_is_a_ledger_entry_not_a_running_total(project):
    add_contact(project, "ann", day(0), **FIT_20)
    send(project, "ann", day(0), VISIT, VISIT, VISIT, BLOG, BLOG, BLOG, BLOG, PRICING, DEMO)
    settle(project, day(0))
    assert "sql" in lists_of(project)
    feedback(project, "ann", "not_ready", day(1))
    settle(project, day(1))
    assert lists_of(project) == {"mql"} and stored_total(project) == 64
    entries = project.ledger_entries("ann")
    assert [(e.score, e.op, e.reason) for e in entries] == [("total", "change", "not_ready")]
    assert entries[0].author == "workflow feedback-not-ready"
    snapshot = project.context_snapshot("ann", day(1))
    assert "score_adjustment" not in snapshot.properties  # nothing written back as a property
    explained = project.explain("ann", at=day(1)).result.scores["total"]
    assert explained.ledger == entries and explained.value == 64


def test_mistakes_are_placed_and_nothing_is_stored(project):
    add_contact(project, "ann", day(0), **FIT_20)
    cases = [({"change_by": 1, "set_to": 2}, "LS370"), ({}, "LS370"),
             ({"change_by": float("inf")}, "LS371"), ({"change_by": 1, "reason": "x"}, "LS372"),
             ({"change_by": 1, "effective": day(2), "expires": day(1)}, "LS373")]
    for kwargs, code in cases:
        with pytest.raises(LeadscoreError) as found:
            project.add_ledger_entry("ann", "total", **kwargs)
        assert found.value.diagnostics[0].code == code, kwargs
    with pytest.raises(LeadscoreError) as unknown:
        project.add_ledger_entry("ann", "totl", change_by=1)
    assert unknown.value.diagnostics[0].code == "LS312"
    assert "did you mean 'total'" in (unknown.value.diagnostics[0].hint or "")
    with pytest.raises(LeadscoreError) as nobody:
        project.add_ledger_entry("nobody", "total", change_by=1)
    assert nobody.value.diagnostics[0].code == "LS310"
    with pytest.raises(LeadscoreError) as missing:
        project.void_ledger_entry(12345)
    assert missing.value.diagnostics[0].code == "LS374"
    assert project.ledger_entries() == []
