"""What practitioners ask for in the model language, on its edges, in every engine: a stage that
needs several scores' labels at once (`label: {at_least: B}`), exactly on the thresholds."""

from __future__ import annotations

import pytest

from leadscore.model import parse_model
from leadscore.sql.reference import History
from tests.sql import harness
from tests.sql.generators import AS_OF, AS_OF_US

DAY = 86_400_000_000
ENGINES = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.slow, pytest.mark.spark])]


def agree(engine: str, model, history: History, request) -> dict[str, dict]:
    """Every engine gives the evaluator's answers; the evaluator's answers."""
    pg = request.getfixturevalue("pg") if engine == "postgres" else None
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    harness.check(engine, model, history, AS_OF, pg=pg, spark=spark)
    return harness.reference(model, history, AS_OF)


# --- a stage that combines scores --------------------------------------------------------------

COMBINED = """
version: 1
name: combined
properties:
  p_num: {type: number}
scores:
  fit:
    rules:
      - {name: fit points, when: {property: p_num, is_known: true}, points_from: p_num}
    thresholds:
      - {label: C, max: 4.99}
      - {label: B, min: 5, max: 9.99}
      - {label: A, min: 10}
  engagement:
    rules:
      - {name: visits, when: {event: visit}, points: 1, per_event: true}
    thresholds:
      - {label: "3", max: 1.99}
      - {label: "2", min: 2, max: 3.99}
      - {label: "1", min: 4}
lifecycle:
  qualify:
    sql:
      all:
        - {score: fit, label: {at_least: B}}
        - {score: engagement, label: {at_least: "2"}}
    mql: {score: fit, label: {at_most: C}}
"""


def combined_history() -> History:
    """(fit points, visits) per contact, on and beside the B and 2 edges."""
    cases = {"b_on_edge": (5, 2), "b_low_engagement": (5, 1), "c_high_engagement": (4.99, 5),
             "a_and_1": (12, 4), "unknown_fit": (None, 4)}
    history = History()
    for contact_id, (fit, visits) in cases.items():
        history.contacts.append((contact_id, AS_OF_US - 30 * DAY))
        if fit is not None:
            history.changes.append((contact_id, "p_num", AS_OF_US - DAY, 1, fit))
        for i in range(visits):
            history.events.append((contact_id, "visit", AS_OF_US - i * DAY, {}))
    return history


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stage_needs_every_score_condition_at_once(engine, request):
    model = parse_model(COMBINED, "combined.yaml")
    rows = agree(engine, model, combined_history(), request)
    stages = {cid: row["stage_target"] for cid, row in rows.items()}
    assert stages == {"b_on_edge": "sql", "b_low_engagement": None,
                      "c_high_engagement": "mql", "a_and_1": "sql", "unknown_fit": "mql"}


# --- events no rule sees: bots and internal traffic --------------------------------------------

EXCLUDED = """
version: 1
name: excluded
event_types:
  visit: {attributes: {user_agent: string, ip: string}}
  act: {attributes: {label: string, size: number}}
exclude_events:
  - name: Bots
    where: {user_agent: {regex: "bot|crawler|spider"}}
  - name: Office network
    event: [visit, page_view]
    where: {ip: {starts_with: "10."}, user_agent: {is_known: true}}
  - name: Test accounts
    event: act
    where: {label: {not_equals: real}}
scores:
  engagement:
    rules:
      - name: Recent visit
        when: {event: visit}
        points: 16
        decay: {half_life: 1d}
      - name: Every visit
        when: {event: visit, within_last: 30d}
        points: 1
        per_event: true
      - name: Acts
        when: {event: act, count: {at_least: 2}}
        points: 5
      - name: Page views
        when: {event: page_view}
        points: 3
lifecycle:
  qualify:
    sql: {event: visit, count: {at_least: 2}}
"""


def excluded_history() -> History:
    history = History()
    events = {
        # the bot's visit is the freshest: without the exclusion it would earn undecayed points
        "bot_fresh": [(0, "visit", {"user_agent": "Googlebot/2.1"}),
                      (DAY, "visit", {"user_agent": "Mozilla/5.0"})],
        "office": [(0, "visit", {"ip": "10.0.0.7", "user_agent": "Mozilla"}),
                   (0, "visit", {"ip": "10.0.0.8"}),  # no user agent: the rule needs one
                   (2 * DAY, "visit", {"ip": "192.0.2.1", "user_agent": "Mozilla"})],
        "wrong_type": [(0, "visit", {"user_agent": 7}), (DAY, "page_view", {"user_agent": "bot"})],
        "acts": [(0, "act", {"label": "real"}), (DAY, "act", {"label": "REAL"}),
                 (DAY, "act", {}), (DAY, "act", {"label": "test"})],
        "only_bots": [(0, "visit", {"user_agent": "spider"}), (0, "page_view", {"ip": "10.1"})],
    }
    for contact_id, items in events.items():
        history.contacts.append((contact_id, AS_OF_US - 60 * DAY))
        for age, kind, attributes in items:
            history.events.append((contact_id, kind, AS_OF_US - age, attributes))
    return history


@pytest.mark.parametrize("engine", ENGINES)
def test_excluded_events_count_nowhere(engine, request):
    model = parse_model(EXCLUDED, "excluded.yaml")
    rows = agree(engine, model, excluded_history(), request)
    got = {cid: (row["engagement"], row["stage_target"]) for cid, row in rows.items()}
    assert got == {
        "bot_fresh": (8 + 1, None),  # the human visit a day old is the evidence: 16 halved
        "office": (16 + 1 + 1, "sql"),  # 10.0.0.8 has no user agent: kept
        "wrong_type": (16 + 1, None),  # a number is no text: not a bot; the page view is one
        "acts": (5, None),  # "real", "REAL" (ignoring case) count; none and "test" do not
        "only_bots": (3, None),  # the page view's ip has no user agent beside it: kept
    }


def test_explain_lists_each_excluded_event_with_its_exclusion():
    from leadscore.evaluation.explanation import explain_snapshot

    model = parse_model(EXCLUDED, "excluded.yaml")
    snaps = {s.contact_id: s for s in excluded_history().snapshots(model, AS_OF)}
    office = explain_snapshot(model, snaps["office"])
    assert [(kind, name) for kind, _, name in office.excluded] == [("visit", "Office network")]
    acts = explain_snapshot(model, snaps["acts"]).to_dict()["excluded_events"]
    assert [e["excluded_by"] for e in acts] == ["Test accounts", "Test accounts"]
    text = explain_snapshot(model, snaps["bot_fresh"]).render_text()
    assert "excluded events (1), seen by no rule:" in text and "visit — Bots" in text
    assert "qualifies for stage sql" in explain_snapshot(model, snaps["office"]).render_text()


def test_explain_shows_each_score_condition_of_the_stage():
    from leadscore.evaluation.explanation import explain_snapshot

    model = parse_model(COMBINED, "combined.yaml")
    snaps = {s.contact_id: s for s in combined_history().snapshots(model, AS_OF)}
    text = explain_snapshot(model, snaps["b_on_edge"]).render_text()
    assert "qualifies for stage sql" in text
    assert "✓ score fit label B or above (A, B): yes (5 (B))" in text
    assert "✓ score engagement label 2 or above (1, 2): yes (2 (2))" in text
    why = explain_snapshot(model, snaps["b_on_edge"]).to_dict()["qualifies_why"]
    assert why["matched"] and len(why["children"]) == 2


# --- at most N points a day --------------------------------------------------------------------

DAILY = """
version: 1
name: daily
scores:
  engagement:
    rules:
      - name: Page views
        when: {event: page_view, within_last: 30d}
        points: 2
        per_event: true
        max_per_day: 5
      - name: Visits, fading
        when: {event: visit}
        points: 4
        per_event: true
        max_per_day: 6
        decay: {every: 1d, lose: 25%}
        max: 10
"""
# the moment of scoring is 2026-03-01T12:00:00.123456Z: midnight UTC is 12 h and a bit before
MIDNIGHT = AS_OF_US - (AS_OF_US % DAY)


def daily_history() -> History:
    at = {  # contact → [(event type, time in µs)]
        "limit_exactly": [("page_view", MIDNIGHT + 1), ("page_view", MIDNIGHT + 2)],  # 4
        "limit_passed": [("page_view", MIDNIGHT + i) for i in range(3)],  # 6 → 5
        # the last microsecond of yesterday and the first of today are two days: 4 + 4
        "two_days": [("page_view", MIDNIGHT - 1), ("page_view", MIDNIGHT - 2),
                     ("page_view", MIDNIGHT), ("page_view", MIDNIGHT + 1)],
        "one_day": [("page_view", MIDNIGHT), ("page_view", MIDNIGHT + 1),
                    ("page_view", MIDNIGHT + 2)],
        # decayed first, then capped: two visits a day old are 3 + 3 = 6, under the limit;
        # two fresh ones are 8 → 6; then the rule's own max (10)
        "fading": [("visit", AS_OF_US - DAY), ("visit", AS_OF_US - DAY),
                   ("visit", MIDNIGHT + 5), ("visit", MIDNIGHT + 6)],
        "none": [],
    }
    history = History()
    for contact_id, items in at.items():
        history.contacts.append((contact_id, AS_OF_US - 60 * DAY))
        for kind, when in items:
            history.events.append((contact_id, kind, when, {}))
    return history


@pytest.mark.parametrize("engine", ENGINES)
def test_a_daily_limit_caps_each_utc_day(engine, request):
    model = parse_model(DAILY, "daily.yaml")
    rows = agree(engine, model, daily_history(), request)
    assert {cid: row["engagement"] for cid, row in rows.items()} == {
        "limit_exactly": 4, "limit_passed": 5, "two_days": 8, "one_day": 5,
        "fading": 10, "none": 0}


def test_explain_shows_the_points_the_daily_limit_dropped():
    from leadscore.evaluation.explanation import explain_snapshot

    model = parse_model(DAILY, "daily.yaml")
    snaps = {s.contact_id: s for s in daily_history().snapshots(model, AS_OF)}
    explained = explain_snapshot(model, snaps["limit_passed"])
    assert "(1 dropped by the limit of 5 a day)" in explained.render_text()
    rule = explained.to_dict()["scores"]["engagement"]["rules"][0]
    assert (rule["points"], rule["dropped_by_daily_limit"]) == (5, 1)
    fading = explain_snapshot(model, snaps["fading"]).render_text()
    assert "2 dropped by the limit of 6 a day" in fading and "capped at 10 from +12" in fading
