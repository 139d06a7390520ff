"""The model's companies: section: what compiles, and every mistake placed with its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.model.company import ContactAggregate, ContactCount
from leadscore.model.compile import load_model, parse_model

BASE = """version: 1
name: m
properties:
  buying_role: {type: enum, values: [decision_maker, champion]}
scores:
  engagement:
    rules:
      - {name: Demo, when: {event: form_submission}, points: 10}
    thresholds: [{label: Hot, min: 10}]
companies:
"""


def test_the_test_model_compiles() -> None:
    model = load_model(Path(__file__).parent / "model.yaml")
    companies = model.companies
    assert list(companies.scores) == ["firmographic", "account_engagement", "account"]
    rules = {r.name: r for r in companies.scores["account_engagement"].rules}
    assert isinstance(rules["Engaged contacts"].criterion, ContactCount)
    assert isinstance(rules["Team fit"].criterion, ContactAggregate)
    assert "mail.example" in companies.free_mail and "gmx.*" in companies.free_mail


def test_a_model_without_companies_has_none() -> None:
    assert parse_model(BASE.replace("companies:\n", "")).companies is None


@pytest.mark.parametrize(("section", "code", "line"), [
    ("  properties: {employees: {type: string}}\n  scores: {s: {rules: "
     "[{name: a, when: {property: name, is_known: true}, points: 1}]}}", "LS181", 11),
    ("  free_mail_domains: ['a@b']\n  scores: {s: {rules: "
     "[{name: a, when: {property: name, is_known: true}, points: 1}]}}", "LS182", 11),
    ("  scores: {s: {rules: [{name: a, when: {contacts: {event: visit}}, points: 1}]}}",
     "LS186", 11),
    ("  scores: {s: {rules: [{name: a, when: {contact_score: engagment, aggregate: max, "
     "at_least: 1}, points: 1}]}}", "LS187", 11),
    ("  scores: {s: {rules: [{name: a, when: {contact_score: engagement, at_least: 1}, "
     "points: 1}]}}", "LS187", 11),
    ("  scores: {s: {rules: [{name: a, when: {property: nme, is_known: true}, points: 1}]}}",
     "LS120", 11),
    ("  scores: {s: {rules: [{name: a, when: {contacts: all, equals: 1}, points: 1}]}}",
     "LS185", 11),
    ("  scores: {s: {rules: [{name: a, when: {property: name, contacts: all}, points: 1}]}}",
     "LS185", 11),
    ("  scores: {s: {rules: [{name: a, when: {property: name, changed_within: 3d}, "
     "points: 1}]}}", "LS186", 11),
    ("  scores: {s: {sum: [t]}}", "LS184", 11),
    ("  scores: {'list:hot': {rules: [{name: a, when: {property: name, is_known: true}, "
     "points: 1}]}}", "LS188", 11),
    ("  scores: {s: {rules: [{name: a, when: {property: industry, any_of: [x]}, "
     "tiers: [{at_least: 1, points: 1}]}]}}", "LS132", 11),
    ("  scores: {s: {rules: [{name: a, when: {contacts: {property: buying_role, "
     "equals: cfo}}, points: 1}]}}", "LS114", 11),
])
def test_mistakes_are_placed(section: str, code: str, line: int) -> None:
    with pytest.raises(LeadscoreError) as raised:
        parse_model(BASE + section + "\n", "model.yaml")
    found = [d for d in raised.value.diagnostics if d.code == code]
    assert found, [str(d) for d in raised.value.diagnostics]
    assert found[0].location.file == "model.yaml" and found[0].location.line == line
