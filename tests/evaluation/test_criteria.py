"""The criteria language, operator by operator, as a user writes it in a model file."""

from __future__ import annotations

import pytest

from tests.factories import contact, days_ago, one_rule, score_of

PROPERTY_CASES = [
    # (criterion, properties, expected to hold)
    ("{property: industry, equals: Software}", {"industry": "software"}, True),
    ("{property: industry, equals: Software}", {"industry": "Retail"}, False),
    ("{property: industry, equals: Software}", {}, False),
    ("{property: industry, not_equals: Software}", {}, True),
    ("{property: industry, any_of: [software, retail]}", {"industry": "Retail"}, True),
    ("{property: industry, none_of: [software, retail]}", {"industry": "Banking"}, True),
    ("{property: industry, none_of: [software, retail]}", {"industry": "RETAIL"}, False),
    ("{property: job_title, contains: [vp, chief]}", {"job_title": "Chief of Staff"}, True),
    ("{property: job_title, contains: vp}", {"job_title": "Engineer"}, False),
    ("{property: job_title, not_contains: intern}", {"job_title": "Engineer"}, True),
    ("{property: job_title, starts_with: head}", {"job_title": "Head of Sales"}, True),
    ("{property: job_title, starts_with: [vp, head]}", {"job_title": "VP Sales"}, True),
    ("{property: email, ends_with: '@gmail.com'}", {"email": "a@Gmail.com"}, True),
    ("{property: email, matches: '*@acme.*'}", {"email": "bo@acme.io"}, True),
    ("{property: job_title, regex: '^(sr|senior) '}", {"job_title": "Senior Dev"}, True),
    ("{property: employees, greater_than: 50}", {"employees": 51}, True),
    ("{property: employees, greater_than: 50}", {"employees": 50}, False),
    ("{property: employees, at_least: 50}", {"employees": 50}, True),
    ("{property: employees, less_than: 10}", {"employees": 9}, True),
    ("{property: employees, at_most: 10}", {"employees": 11}, False),
    ("{property: employees, between: [10, 50]}", {"employees": 50}, True),
    ("{property: employees, between: [10, 50]}", {"employees": 51}, False),
    ("{property: employees, between: [10, 50]}", {}, False),
    ("{property: industry, is_known: true}", {"industry": "x"}, True),
    ("{property: industry, is_known: true}", {}, False),
    ("{property: industry, is_unknown: true}", {}, True),
    ("{property: email_opt_out, equals: true}", {"email_opt_out": True}, True),
    ("{property: created_at, within_last: 30d}", {"created_at": days_ago(10)}, True),
    ("{property: created_at, within_last: 30d}", {"created_at": days_ago(40)}, False),
    ("{property: created_at, after: 2026-01-01}".replace("after", "greater_than"),
     {"created_at": days_ago(10)}, True),
    ("{property: created_at, between: [2025-01-01, 2025-12-31]}",
     {"created_at": days_ago(10)}, False),
]


@pytest.mark.parametrize("criterion,properties,holds", PROPERTY_CASES)
def test_property_operators(criterion, properties, holds):
    model = one_rule(criterion)
    snap = contact(properties, created_days_ago=400)
    if "created_at" in properties:
        snap.properties["created_at"] = properties["created_at"]
    assert score_of(model, snap) == (10 if holds else 0)


def test_changed_within_looks_at_the_property_history():
    from leadscore.evaluation import ContactSnapshot, PropertyChange
    from tests.factories import NOW

    model = one_rule("{property: job_title, changed_within: 14d}")
    changes = [PropertyChange("job_title", "Engineer", days_ago(100)),
               PropertyChange("job_title", "Manager", days_ago(5))]
    recent = ContactSnapshot.build("c", NOW, created_at=days_ago(200), property_changes=changes)
    old = ContactSnapshot.build("c", NOW, created_at=days_ago(200), property_changes=changes[:1])
    assert score_of(model, recent) == 10
    assert score_of(model, old) == 0


EVENT_CASES = [
    # (criterion, events (type, days ago, attributes), holds)
    ("{event: page_view}", [("page_view", 3, {"url": "/x"})], True),
    ("{event: page_view}", [("visit", 3, {})], False),
    ("{event: page_view, where: {url: {matches: '*/pricing*'}}}",
     [("page_view", 3, {"url": "https://a.com/pricing/team"})], True),
    ("{event: page_view, where: {url: {matches: '*/pricing*'}}}",
     [("page_view", 3, {"url": "https://a.com/blog"})], False),
    ("{event: form_submission, where: {form_id: [demo, trial]}}",
     [("form_submission", 3, {"form_id": "trial"})], True),
    ("{event: email_click, where: {campaign: spring}}",
     [("email_click", 3, {"campaign": "Spring"})], True),
    # every filter must hold for the same event
    ("{event: page_view, where: {url: {contains: pricing}, title: {contains: enterprise}}}",
     [("page_view", 3, {"url": "/pricing", "title": "Team"}),
      ("page_view", 2, {"url": "/blog", "title": "Enterprise"})], False),
    ("{event: page_view, where: {url: {contains: pricing}, title: {contains: enterprise}}}",
     [("page_view", 3, {"url": "/pricing", "title": "Enterprise plan"})], True),
    # timeframes
    ("{event: visit, within_last: 7d}", [("visit", 8, {})], False),
    ("{event: visit, within_last: 7d}", [("visit", 6, {})], True),
    ("{event: visit, since: 2026-05-01}", [("visit", 40, {})], False),
    ("{event: visit, since: 2026-05-01, until: 2026-05-20}", [("visit", 20, {})], True),
    ("{event: visit, since: 2026-05-01, until: 2026-05-20}", [("visit", 5, {})], False),
    # frequency
    ("{event: visit, count: {exactly: 2}}", [("visit", 1, {}), ("visit", 2, {})], True),
    ("{event: visit, count: {exactly: 2}}", [("visit", 1, {})], False),
    ("{event: visit, count: {between: [2, 3]}}", [("visit", i, {}) for i in range(4)], False),
    ("{event: visit, count: {at_least: 3}}", [("visit", i, {}) for i in range(3)], True),
    ("{event: visit, count: {at_most: 2}}", [], False),
    ("{event: visit, count: {at_most: 2, include_none: true}}", [], True),
    ("{event: visit, count: {at_most: 2}}", [("visit", 1, {})], True),
    ("{event: visit, count: {at_most: 2}}", [("visit", i, {}) for i in range(3)], False),
    ("{event: cta_click, where: {cta_id: {is_known: true}}}",
     [("cta_click", 1, {"url": "/x"})], False),
    ("{event: cta_click, where: {cta_id: {is_known: true}}}",
     [("cta_click", 1, {"cta_id": "hero"})], True),
    ("{event: cta_click, where: {cta_id: {is_unknown: true}}}",
     [("cta_click", 1, {"url": "/x"})], True),
    # combinations
    ("{all: [{event: visit}, {property: industry, equals: software}]}",
     [("visit", 1, {})], False),
    ("{any: [{event: visit}, {property: industry, equals: software}]}",
     [("visit", 1, {})], True),
    ("{not: {event: visit}}", [("visit", 1, {})], False),
    ("{not: {event: visit}}", [], True),
]


@pytest.mark.parametrize("criterion,events,holds", EVENT_CASES)
def test_event_criteria(criterion, events, holds):
    model = one_rule(criterion, extra_rule="decay: false")
    assert score_of(model, contact({}, events)) == (10 if holds else 0)
