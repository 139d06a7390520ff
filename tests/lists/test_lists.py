"""Active lists: definitions checked like the model, membership as filter groups minus
exclusions, lists that use lists, and `list test` verdicts."""

from __future__ import annotations

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.lists import parse_lists
from leadscore.model import load_model
from tests.factories import contact
from tests.model.test_load import EXAMPLE

MODEL = load_model(EXAMPLE)

LISTS = """\
version: 1
lists:
  - name: engaged
    groups:
      - - {property: job_title, contains: vp}
        - {event: visit}
      - - {score: total, at_least: 60}
    exclude:
      - {property: email_opt_out, equals: true}
  - name: engaged-sql
    groups:
      - [{list: engaged}, {score: total, label: SQL}]
"""


def member_of(snap, lists=None):
    lists = lists or parse_lists(LISTS, "lists.yaml", MODEL)
    snap.scores = {"total": (snap.properties.pop("_total", 0.0),
                             snap.properties.pop("_label", None))}
    return lists.evaluate(snap)


def test_all_of_inside_a_group_any_of_between_groups():
    assert member_of(contact({"job_title": "VP Sales"}, [("visit", 1, {})])) == {"engaged"}
    assert member_of(contact({"job_title": "VP Sales"})) == set()
    assert member_of(contact({"_total": 61.0})) == {"engaged"}


def test_exclusions_win_and_lists_can_use_lists():
    assert member_of(contact({"_total": 70.0, "email_opt_out": True})) == set()
    assert member_of(contact({"_total": 70.0, "_label": "SQL"})) == {"engaged", "engaged-sql"}


def test_list_test_shows_each_filter():
    lists = parse_lists(LISTS, "lists.yaml", MODEL)
    snap = contact({"job_title": "Engineer"}, [("visit", 1, {})])
    snap.scores = {"total": (12.0, "Lead")}
    result = lists.test(snap, "engaged")
    assert not result.member
    assert [r.matched for r in result.groups[0]] == [False, True]
    text = result.render_text()
    assert "is NOT a member" in text and "✗ job_title contains 'vp': no ('Engineer')" in text
    with pytest.raises(LeadscoreError) as caught:
        lists.test(snap, "engagd")
    assert "did you mean 'engaged'" in str(caught.value)


@pytest.mark.parametrize("text,code,line", [
    ("version: 1\nlists:\n  - name: a\n    groups: [[{score: totl, at_least: 1}]]\n",
     "LS123", 4),
    ("version: 1\nlists:\n  - name: a\n    groups: [[{score: total, label: MQLL}]]\n",
     "LS125", 4),
    ("version: 1\nlists:\n  - name: a\n    groups: [[{list: b}]]\n", "LS124", 4),
    ("version: 1\nlists:\n  - name: a\n    groups: [[{list: a}]]\n", "LS161", 3),
    ("version: 1\nlists:\n  - name: a\n    groups: [[{property: x, equals: 1}]]\n",
     "LS120", 4),
    ("version: 1\nlists:\n  - name: a\n    grups: []\n", "LS103", 4),
])
def test_list_file_mistakes_have_codes_and_lines(text, code, line):
    with pytest.raises(LeadscoreError) as caught:
        parse_lists(text, "lists.yaml", MODEL)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found and found[0].location.line == line, caught.value.diagnostics


def test_score_conditions_are_refused_inside_scoring_rules():
    from leadscore.model import parse_model

    with pytest.raises(LeadscoreError) as caught:
        parse_model("version: 1\nname: m\nscores:\n  s:\n    rules:\n"
                    "      - {name: r, when: {score: s, at_least: 1}, points: 1}\n")
    assert caught.value.diagnostics[0].code == "LS117"
