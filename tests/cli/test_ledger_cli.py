"""`leadscore ledger` end to end, as a user types it: add (change-by, set-to with an expiry,
reset), list (table and JSON), void; `explain` shows the entries, `score` rescores just that
contact, and every mistake is a placed error with exit code 1."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_ledger_from_the_command_line(demo_project):
    run = demo_project
    leads = run("leads", "--limit", "1", "--format", "json").json()
    contact = leads[0]["contact_id"]
    before = run("explain", contact, "--format", "json").json()["scores"]["total"]["value"]

    added = run("ledger", "add", contact, "total", "--change", "-12.5", "--note",
                "double-counted webinar", "--by", "ops@example.com", "--format", "json").json()
    assert added["op"] == "change" and added["amount"] == -12.5
    assert added["reason"] == "manual" and added["author"] == "ops@example.com"
    explained = run("explain", contact, "--format", "json").json()["scores"]["total"]
    assert explained["model_value"] == before
    assert explained["value"] == round(before - 12.5, 2)
    assert [e["id"] for e in explained["ledger"]] == [added["id"]]
    assert "double-counted webinar" in run("explain", contact).out

    scored = run("score")
    assert "Scored 1 contacts" in scored.out
    row = next(x for x in run("leads", "--limit", "300", "--format", "json").json()
               if x["contact_id"] == contact)
    assert row["scores"]["total"] == round(before - 12.5, 2)

    pinned = run("ledger", "add", contact, "fit", "--set", "0", "--expires", "2999-01-01",
                 "--reason", "correction", "--format", "json").json()
    listed = run("ledger", "list", contact, "--format", "json").json()
    assert [e["id"] for e in listed] == [added["id"], pinned["id"]]
    assert "set to 0" in run("ledger", "list", contact).out

    voided = run("ledger", "void", str(added["id"]), "--by", "ops")
    assert f"Entry {added['id']}" in voided.out and "voided" in voided.out
    assert [e["id"] for e in run("ledger", "list", contact, "--format", "json").json()] == [
        pinned["id"]]
    every = run("ledger", "list", "--all", "--format", "json").json()
    assert {e["id"] for e in every} == {added["id"], pinned["id"]}
    assert next(e for e in every if e["id"] == added["id"])["voided_by"] == "ops"
    assert "Scored 1 contacts" in run("score").out

    reset = run("ledger", "add", contact, "engagement", "--reset", "--format", "json").json()
    assert reset["reason"] == "reset" and reset["op"] == "change"
    assert run("explain", contact, "--format", "json").json()["scores"]["engagement"][
        "value"] == 0


@pytest.mark.parametrize(("args", "code"), [
    (["ledger", "add", "C", "total"], "LS370"),
    (["ledger", "add", "C", "total", "--set", "1", "--change", "2"], "LS370"),
    (["ledger", "add", "C", "totl", "--change", "1"], "LS312"),
    (["ledger", "add", "C", "total", "--change", "1", "--reason", "because"], "LS372"),
    (["ledger", "add", "C", "total", "--change", "1", "--effective", "someday"], "LS303"),
    (["ledger", "add", "C", "total", "--change", "1", "--effective", "2027-01-02",
      "--expires", "2027-01-01"], "LS373"),
    (["ledger", "add", "nobody", "total", "--change", "1"], "LS310"),
    (["ledger", "void", "99999"], "LS374"),
])
def test_mistakes_are_placed_errors(demo_project, args, code):
    contact = demo_project("leads", "--limit", "1", "--format", "json").json()[0]["contact_id"]
    args = [contact if a == "C" else a for a in args]
    result = demo_project(*args, ok=False)
    assert result.code == 1 and code in result.err, result.err
