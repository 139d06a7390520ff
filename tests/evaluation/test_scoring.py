"""Scores: tiers, per-event points, decay, caps in order, thresholds, grade and stage."""

from __future__ import annotations

import pytest

from leadscore.evaluation import Scorer
from tests.factories import contact, model_from, score_of

TIERED = model_from("""
    engagement:
      rules:
        - name: Visits
          when: {event: visit}
          tiers:
            - {between: [2, 5], points: 3}
            - {at_least: 6, points: 6}
""")


@pytest.mark.parametrize("visits,points", [(0, 0), (1, 0), (2, 3), (5, 3), (6, 6), (30, 6)])
def test_tiers_are_not_cumulative(visits, points):
    snap = contact({}, [("visit", 1 + i * 0.1, {}) for i in range(visits)])
    assert score_of(TIERED, snap) == points


def test_property_tiers_pick_one_band():
    model = model_from("""
        fit:
          rules:
            - name: Size
              when: {property: employees}
              tiers:
                - {at_most: 9, points: -5}
                - {between: [10, 49], points: 5}
                - {at_least: 50, points: 15}
    """)
    assert [score_of(model, contact({"employees": n})) for n in (3, 10, 49, 50, 5000)] == [
        -5, 5, 5, 15, 15]
    assert score_of(model, contact({})) == 0


def test_per_event_points_with_rule_cap():
    model = model_from("""
        engagement:
          rules:
            - name: Blog
              when: {event: page_view, where: {url: {contains: blog}}}
              points: 2
              per_event: true
              max: 7
    """)
    assert score_of(model, contact({}, [("page_view", 1, {"url": "/blog/a"})] * 2)) == 4
    assert score_of(model, contact({}, [("page_view", 1, {"url": "/blog/a"})] * 5)) == 7


def test_caps_apply_rule_then_group_then_score():
    model = model_from("""
        s:
          max: 25
          groups:
            - name: g
              max: 12
              rules:
                - {name: a, when: {event: visit}, points: 20, max: 8}
                - {name: b, when: {event: visit}, points: 6}
          rules:
            - {name: c, when: {event: visit}, points: 30}
    """)
    result = Scorer(model).score(contact({}, [("visit", 1, {})]), detail=True)
    s = result.scores["s"]
    group = s.groups[0]
    assert [r.final for r in group.rules] == [8, 6]  # rule cap first: 20 → 8
    assert (group.total, group.final) == (14, 12)  # then the group's: 14 → 12
    assert (s.total, s.value) == (42, 25)  # then the score's: 12 + 30 → 25


def test_group_minimum_floors_negative_rules():
    model = model_from("""
        s:
          groups:
            - name: penalties
              min: -20
              rules:
                - {name: a, when: {property: is_competitor, equals: true}, points: -100}
    """)
    assert score_of(model, contact({"is_competitor": True})) == -20


@pytest.mark.parametrize("decay,age,expected", [
    ("{half_life: 30d}", 0, 40),
    ("{half_life: 30d}", 30, 20),
    ("{half_life: 30d}", 60, 10),
    ("{every: 30d, lose: 50%}", 29, 40),
    ("{every: 30d, lose: 50%}", 31, 20),
    ("{every: 30d, lose: 50%}", 61, 0),
    ("{linear: 100d}", 25, 30),
    ("{half_life: 30d, expire_after: 90d}", 91, 0),
])
def test_decay_by_the_age_of_the_event(decay, age, expected):
    model = model_from(f"""
        engagement:
          decay: {decay}
          rules:
            - {{name: Demo, when: {{event: form_submission}}, points: 40}}
    """)
    assert score_of(model, contact({}, [("form_submission", age, {"form_id": "demo"})])) == (
        pytest.approx(expected, abs=0.01))


def test_decay_uses_the_freshest_events_that_satisfy_the_count():
    model = model_from("""
        engagement:
          decay: {half_life: 10d}
          rules:
            - {name: Two visits, when: {event: visit, count: {at_least: 2}}, points: 8}
    """)
    # the 2nd most recent visit is 10 days old: half the points
    snap = contact({}, [("visit", 100, {}), ("visit", 10, {}), ("visit", 1, {})])
    assert score_of(model, snap) == pytest.approx(4, abs=0.01)


def test_property_points_never_decay():
    model = model_from("""
        fit:
          decay: {half_life: 1d}
          rules:
            - {name: Industry, when: {property: industry, equals: software}, points: 10}
    """)
    assert score_of(model, contact({"industry": "software"}, created_days_ago=900)) == 10


THRESHOLDS = model_from("""
    fit:
      rules:
        - {name: a, when: {property: employees, at_least: 0}, points: 0}
    engagement:
      rules:
        - name: visits
          when: {event: visit}
          per_event: true
          points: 1
      thresholds:
        - {label: "1", min: 10}
        - {label: "2", min: 5}
        - {label: "3"}
    total:
      sum: [fit, engagement]
      thresholds:
        - {label: MQL, min: 5, max: 9, stage: mql}
        - {label: SQL, min: 10, stage: sql}
""")


@pytest.mark.parametrize("visits,label,stage", [(0, None, None), (4, None, None),
                                                (5, "MQL", "mql"), (9, "MQL", "mql"),
                                                (10, "SQL", "sql")])
def test_thresholds_label_ranges_and_name_the_stage(visits, label, stage):
    result = Scorer(THRESHOLDS).score(contact({"employees": 5},
                                              [("visit", 1, {})] * visits))
    assert result.scores["total"].label == label
    assert result.stage == stage


def test_grade_matrix_combines_fit_letter_and_engagement_digit():
    model = model_from("""
        fit:
          rules:
            - {name: big, when: {property: employees, at_least: 100}, points: 50}
          thresholds:
            - {label: A, min: 40}
            - {label: B, min: 20}
            - {label: C}
        engagement:
          rules:
            - {name: v, when: {event: visit}, points: 1, per_event: true}
          thresholds:
            - {label: "1", min: 10}
            - {label: "2", min: 3}
            - {label: "3"}
    """, extra="grade: {rows: fit, columns: engagement, labels: {A1: hot}}")
    hot = Scorer(model).score(contact({"employees": 500}, [("visit", 1, {})] * 12))
    assert (hot.grade, hot.grade_label) == ("A1", "hot")
    cold = Scorer(model).score(contact({"employees": 5}, [("visit", 1, {})] * 4))
    assert (cold.grade, cold.grade_label) == ("C2", None)


def test_explanation_lists_every_rule_with_reason_points_and_caps():
    from leadscore.evaluation import explain_snapshot

    model = model_from("""
        s:
          groups:
            - name: g
              max: 5
              rules:
                - {name: Visited, when: {event: visit}, points: 8}
                - {name: Software, when: {property: industry, equals: software}, points: 3}
    """)
    explanation = explain_snapshot(model, contact({"industry": "retail"}, [("visit", 2, {})]))
    text = explanation.render_text()
    assert "✓     +8  Visited" in text
    assert "✗      0  Software" in text
    assert "industry is 'software': no ('retail')" in text
    assert "capped at 5 (rules add up to 8)" in text
    data = explanation.to_dict()
    rules = data["scores"]["s"]["groups"][0]["rules"]
    assert [(r["rule"], r["matched"], r["points"]) for r in rules] == [
        ("Visited", True, 8), ("Software", False, 0)]
    assert data["scores"]["s"]["groups"][0]["capped"] is True
