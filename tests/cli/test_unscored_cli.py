"""Unscored is not 0, from the command line: a contact with no events has its engagement
*unscored* — `explain`, `leads` and `score --dry-run` say so (JSON keeps the number 0 and adds
`"scored": false`), `stats` counts it, and a list with `{score: engagement, is_unknown: true}`
holds it — until an event that scores arrives: then it is scored and leaves the list. A fit of
+5 and -5 is a scored 0, not unscored."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

MODEL = """
version: 1
name: tiny
scores:
  fit:
    rules:
      - {name: buyer, when: {property: job_title, contains: buyer}, points: 5}
      - {name: student, when: {property: job_title, contains: student}, points: -5}
  engagement:
    rules:
      - {name: visits, when: {event: visit}, per_event: true, points: 3}
  total:
    sum: [fit, engagement]
"""
LISTS = """
version: 1
lists:
  - name: never-engaged
    groups:
      - [{score: engagement, is_unknown: true}]
  - name: engagement-at-most-zero
    groups:
      - [{score: engagement, at_most: 0}]
"""


def test_a_contact_without_events_is_unscored_until_an_event_scores(cli):
    cli("init", ".")
    (cli.cwd / "models" / "model.yaml").write_text(MODEL)
    (cli.cwd / "models" / "lists.yaml").write_text(LISTS)
    (cli.cwd / "models" / "workflows.yaml").write_text("version: 1\nworkflows: []\n")
    (cli.cwd / "contacts.csv").write_text(
        "contact_id,email,created_at,job_title\n"
        "ann,ann@x.example,2026-01-01,buyer student\n")
    cli("import", "contacts", "contacts.csv")
    cli("process")

    explained = cli("explain", "ann", "--format", "json").json()["scores"]
    assert explained["engagement"]["value"] == 0  # the number stays
    assert explained["engagement"]["scored"] is False
    assert explained["fit"]["value"] == 0 and explained["fit"]["scored"] is True  # +5 -5
    assert explained["total"]["scored"] is True  # a sum is unscored only when all parts are
    text = cli("explain", "ann").out
    assert "engagement unscored" in text and "fit 0" in text
    assert "engagement: unscored" in text
    lead = cli("leads", "--format", "json").json()[0]
    assert lead["scores"]["engagement"] == 0
    assert lead["scored"] == {"fit": True, "engagement": False, "total": True}
    table = cli("leads").out
    assert "unscored" in table
    dry = cli("score", "--dry-run", "--format", "json").json()["top"][0]["scores"]
    assert dry["engagement"] == {"value": 0, "label": None, "scored": False}
    assert "unscored" in cli("score", "--dry-run").out
    stats = cli("stats", "--format", "json").json()
    assert stats["unscored"] == {"fit": 0, "engagement": 1, "total": 0}
    members = cli("list", "members", "never-engaged", "--format", "json").json()
    assert [m["contact"] for m in members] == ["ann"]
    # unscored compares as 0: the comparison holds too
    members = cli("list", "members", "engagement-at-most-zero", "--format", "json").json()
    assert [m["contact"] for m in members] == ["ann"]

    (cli.cwd / "events.jsonl").write_text(json.dumps({
        "event_id": "v1", "contact_id": "ann", "type": "visit",
        "occurred_at": "2026-02-01T10:00:00Z", "attributes": {}}) + "\n")
    cli("import", "events", "events.jsonl")
    cli("process")
    explained = cli("explain", "ann", "--format", "json").json()["scores"]
    assert explained["engagement"] == {**explained["engagement"], "value": 3, "scored": True}
    lead = cli("leads", "--format", "json").json()[0]
    assert lead["scored"]["engagement"] is True and lead["scores"]["engagement"] == 3
    assert "unscored" not in cli("leads").out
    assert cli("list", "members", "never-engaged", "--format", "json").json() == []
    assert cli("stats", "--format", "json").json()["unscored"]["engagement"] == 0

    # a ledger entry that changes nothing but applies makes the score scored at the same
    # value: the stored flag follows (the stored value does not move)
    (cli.cwd / "more.csv").write_text("contact_id,email,created_at,job_title\n"
                                      "bob,bob@x.example,2026-01-01,\n")
    cli("import", "contacts", "more.csv")
    cli("process")

    def bob() -> dict:
        return next(x for x in cli("leads", "--format", "json").json()
                    if x["contact_id"] == "bob")

    assert bob()["scored"] == {"fit": False, "engagement": False, "total": False}
    cli("ledger", "add", "bob", "engagement", "--change", "0", "--note", "looked at it")
    cli("process")
    assert bob()["scored"] == {"fit": False, "engagement": True, "total": True}
    assert bob()["scores"] == {"fit": 0, "engagement": 0, "total": 0}
