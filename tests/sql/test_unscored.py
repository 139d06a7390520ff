"""Unscored is not 0, one line per case: a contact's scores are *scored* when a rule of the
score applied (even for 0 points net), a part of a sum is scored, or a ledger entry applies;
otherwise *unscored* (value 0, as before). Every engine and the evaluator give the same
`<score>:scored`, and a list's `is_unknown` / `is_known` on a score reads it, while
comparisons read the value 0."""

from __future__ import annotations

import pytest

from leadscore.evaluation.ledger import LedgerEntry
from leadscore.lists import parse_lists
from leadscore.model import parse_model
from leadscore.sql.reference import History, score_rows
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

DAY = 86_400_000_000
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]

MODEL = parse_model("""
version: 1
name: unscored
scores:
  fit:
    rules:
      - {name: buyer, when: {property: job_title, contains: buyer}, points: 5}
      - {name: student, when: {property: job_title, contains: stud}, points: -5}
    groups:
      - name: size
        rules:
          - name: employees
            when: {property: employees}
            tiers:
              - {between: [10, 99], points: 0}
              - {at_least: 100, points: 10}
  engagement:
    rules:
      - {name: visits, when: {event: visit}, per_event: true, points: 2}
      - {name: pricing, when: {event: page_view, where: {url: {contains: pricing}}},
         points: 5, decay: {half_life: 30d}}
  total:
    sum: [fit, engagement]
    thresholds:
      - {label: warm, min: 5}
      - {label: cold}
""", "unscored.yaml")

LISTS = parse_lists("""
version: 1
lists:
  - name: no-engagement
    groups: [[{score: engagement, is_unknown: true}]]
  - name: engaged-at-most-zero
    groups: [[{score: engagement, is_known: true}, {score: engagement, at_most: 0}]]
  - name: engagement-at-most-zero
    groups: [[{score: engagement, at_most: 0}]]
""", "lists.yaml", MODEL)

# (job title, employees, events (type, url), ledger (score, op, cents)) →
# (fit scored, engagement scored, total scored)
CASES = [
    (None, None, [], [], (False, False, False)),  # nothing: every score unscored
    ("buyer", None, [], [], (True, False, True)),  # a rule gave points: scored
    ("buyer student", None, [], [], (True, False, True)),  # +5 -5 = 0: scored
    ("student", 150, [], [], (True, False, True)),  # -5 + 10: scored
    ("buyer student", 50, [], [], (True, False, True)),  # +5 -5 +0 = 0: scored, not unscored
    (None, 50, [], [], (True, False, True)),  # a tier of 0 points applied: scored at 0
    (None, 5, [], [], (False, False, False)),  # in no tier: unscored
    (None, None, [("visit", None)], [], (False, True, True)),
    (None, None, [("page_view", "/blog")], [], (False, False, False)),  # filter missed
    (None, None, [("page_view", "/pricing")], [], (False, True, True)),
    (None, None, [], [("engagement", "change", 0)], (False, True, True)),  # ledger, +0
    (None, None, [], [("total", "set", 700)], (False, False, True)),  # a sum's own entry
]


def history_of(cases) -> History:
    history = History()
    for i, (title, employees, events, entries, _) in enumerate(cases):
        cid = f"c{i:02d}"
        history.contacts.append((cid, AS_OF_US - 400 * DAY))
        if title is not None:
            history.changes.append((cid, "job_title", AS_OF_US - 300 * DAY, 1, title))
        if employees is not None:
            history.changes.append((cid, "employees", AS_OF_US - 300 * DAY, 2, employees))
        for kind, url in events:
            history.events.append((cid, kind, AS_OF_US - 10 * DAY,
                                   {"url": url} if url else {}))
        for n, (score, op, cents) in enumerate(entries):
            history.ledger.append(LedgerEntry(100 * i + n, cid, score, op, cents,
                                              AS_OF_US - DAY))
    return history


def flags(row) -> tuple[bool, bool, bool]:
    return tuple(bool(row[f"{name}:scored"]) for name in ("fit", "engagement", "total"))


def test_the_evaluator_on_every_case():
    rows = score_rows(MODEL, history_of(CASES).snapshots(MODEL, AS_OF), lists=LISTS)
    for i, (*given, expected) in enumerate(CASES):
        row = rows[f"c{i:02d}"]
        assert flags(row) == expected, given
        engaged = expected[1]
        assert row["list:no-engagement"] is (not engaged), given
        # unscored compares as 0: `at_most: 0` holds for it, `is_known` tells it apart
        assert row["list:engagement-at-most-zero"] is (row["engagement"] <= 0), given
        assert row["list:engaged-at-most-zero"] is (engaged and row["engagement"] <= 0)
    # the values do not change: an unscored score is 0 and labels read 0
    assert rows["c00"]["fit"] == 0 and rows["c00"]["total:label"] == "cold"
    assert rows["c02"]["fit"] == rows["c04"]["fit"] == rows["c05"]["fit"] == 0
    assert rows["c11"]["engagement"] == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_flag_of_every_case(engine, request):
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    history = history_of(CASES)
    query, rows = harness.run(engine, MODEL, history, AS_OF, lists=LISTS, pg=pg, spark=spark)
    by_contact = {row["contact_id"]: row for row in rows}
    for i, (*given, expected) in enumerate(CASES):
        row = by_contact[f"c{i:02d}"]
        assert flags(row) == expected, given
        assert row["list:no-engagement"] is (not expected[1]), given
    assert not harness.differences(query, rows,
                                   harness.reference(MODEL, history, AS_OF, LISTS))
