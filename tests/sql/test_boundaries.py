"""Edges, one line per case: a rule, when its event (or value) happened, and the points the
evaluator and every engine must give — exactly at a window's, an expiry's, a step's, a
since/until boundary, at the moment of scoring and one microsecond either side."""

from __future__ import annotations

import textwrap

import pytest

from leadscore.model import parse_model
from leadscore.sql.reference import History, score_rows
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US, iso

US = 1
DAY = 86_400_000_000
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]

# (rule fields, event age in µs before the moment of scoring or None, property changes, points)
CASES = [
    ("when: {event: visit, within_last: 30d}\npoints: 10", 30 * DAY, [], 10),
    ("when: {event: visit, within_last: 30d}\npoints: 10", 30 * DAY + US, [], 0),
    ("when: {event: visit}\npoints: 10", 0, [], 10),
    ("when: {event: visit}\npoints: 10", -US, [], 0),
    (f"when: {{event: visit, since: '{iso(AS_OF_US - 2 * DAY)}'}}\npoints: 10", 2 * DAY, [], 10),
    (f"when: {{event: visit, since: '{iso(AS_OF_US - 2 * DAY)}'}}\npoints: 10", 2 * DAY + US,
     [], 0),
    (f"when: {{event: visit, until: '{iso(AS_OF_US - 2 * DAY)}'}}\npoints: 10", 2 * DAY, [], 10),
    (f"when: {{event: visit, until: '{iso(AS_OF_US - 2 * DAY)}'}}\npoints: 10", 2 * DAY - US,
     [], 0),
    ("when: {event: visit}\npoints: 10\ndecay: {expire_after: 7d}", 7 * DAY, [], 10),
    ("when: {event: visit}\npoints: 10\ndecay: {expire_after: 7d}", 7 * DAY + US, [], 0),
    ("when: {event: visit}\npoints: 10\ndecay: {every: 7d, lose: 50%}", 7 * DAY - US, [], 10),
    ("when: {event: visit}\npoints: 10\ndecay: {every: 7d, lose: 50%}", 7 * DAY, [], 5),
    ("when: {event: visit}\npoints: 10\ndecay: {every: 7d, lose: 50%}", 14 * DAY, [], 0),
    ("when: {event: visit}\npoints: 10\ndecay: {linear: 10d}", 5 * DAY, [], 5),
    ("when: {event: visit}\npoints: 10\ndecay: {half_life: 1d}", 1 * DAY, [], 5),
    ("when: {event: visit}\npoints: 10\ndecay: {half_life: 1d}", 3 * DAY, [], 1.25),
    ("when: {event: visit}\npoints: 1\ndecay: {half_life: 3d}", 1 * DAY, [], 0.79),  # .793700
    ("when: {event: visit}\npoints: 0.125", 0, [], 0.13),  # half up, where round() gives 0.12
    ("when: {event: visit}\npoints: -0.125", 0, [], -0.12),
    ("when: {event: visit, count: {at_most: 0, include_none: true}}\npoints: -5", None, [], -5),
    ("when: {property: p_date, within_last: 3d}\npoints: 10", None,
     [("p_date", iso(AS_OF_US - 3 * DAY))], 10),
    ("when: {property: p_date, within_last: 3d}\npoints: 10", None,
     [("p_date", iso(AS_OF_US - 3 * DAY - US))], 0),
    ("when: {property: p_date, within_last: 3d}\npoints: 10", None,
     [("p_date", iso(AS_OF_US + US))], 0),
    ("when: {property: p_text, changed_within: 5d}\npoints: 10", None, [("p_text", None)], 10),
    ("when: {property: p_text, equals: CAFÉ}\npoints: 10", None, [("p_text", "café")], 10),
    ("when: {property: p_text, contains: ß}\npoints: 10", None, [("p_text", "Straße")], 10),
    ("when: {property: p_num, at_least: 5}\npoints: 10", None, [("p_num", "5")], 10),
    ("when: {property: p_num, is_known: true}\npoints: 10", None, [("p_num", "five")], 0),
    ("when: {property: p_enum, is_known: true}\npoints: 10", None, [("p_enum", "delta")], 0),
    ("when: {property: p_enum, equals: beta}\npoints: 10", None, [("p_enum", " BETA ")], 10),
]

MODEL = """
version: 1
name: edges
properties:
  p_text: {type: string}
  p_num: {type: number}
  p_date: {type: date}
  p_enum: {type: enum, values: [alpha, Beta]}
scores:
"""


def rule_yaml(rule: str) -> str:
    return "    rules:\n      - name: edge\n" + textwrap.indent(rule, " " * 8) + "\n"


def case_model(rule: str):
    return parse_model(MODEL + "  s:\n" + rule_yaml(rule), "edges.yaml")


def all_cases_model():
    """Every case as a score of its own (s0, s1, …): one query per engine for them all."""
    return parse_model(MODEL + "".join(f"  s{i}:\n" + rule_yaml(rule)
                                       for i, (rule, *_) in enumerate(CASES)), "edges.yaml")


def case_history(age: int | None, changes: list, contact_id: str = "c1",
                 history: History | None = None) -> History:
    history = history or History()
    history.contacts.append((contact_id, AS_OF_US - 400 * DAY))
    if age is not None:
        history.events.append((contact_id, "visit", AS_OF_US - age, {}))
    for seq, (name, value) in enumerate(changes):
        # a change made 5 days ago exactly: `changed_within: 5d` still holds
        history.changes.append((contact_id, name, AS_OF_US - 5 * DAY, seq, value))
    return history


@pytest.mark.parametrize("rule,age,changes,points", CASES)
def test_the_evaluator_on_the_edge(rule, age, changes, points):
    model = case_model(rule)
    rows = score_rows(model, case_history(age, changes).snapshots(model, AS_OF))
    assert rows["c1"]["s"] == points


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_on_every_edge(engine, request):
    """Contact c<i> lives through case i; score s<i> is its rule."""
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    model = all_cases_model()
    history = History()
    for i, (_, age, changes, _) in enumerate(CASES):
        case_history(age, changes, f"c{i:02d}", history)
    query, rows = harness.run(engine, model, history, AS_OF, pg=pg, spark=spark)
    by_contact = {row["contact_id"]: row for row in rows}
    for i, (rule, age, changes, points) in enumerate(CASES):
        assert by_contact[f"c{i:02d}"][f"s{i}"] == points, (rule, age, changes)
    assert not harness.differences(query, rows, harness.reference(model, history, AS_OF))
