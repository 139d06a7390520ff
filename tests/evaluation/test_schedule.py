"""`next_change_at`: the worker looks at a contact again only when time alone can change
something. The rule that must hold for all histories: between the snapshot and the moment
`next_change_at` names, no score changes. (Half-life and linear decay change continuously and
are re-checked daily by design, so the property uses expiries, steps and time windows.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.evaluation import ContactSnapshot, EventRecord, PropertyChange, Scorer
from leadscore.evaluation.schedule import EDGE, next_change_at, time_sensitive
from tests.factories import NOW, days_ago, model_from

MODEL = model_from("""
    visits:
      rules:
        - {name: each visit, when: {event: visit}, points: 3, per_event: true,
           decay: {expire_after: 7d}}
        - {name: each email_click, when: {event: email_click}, points: 10, per_event: true,
           decay: {every: 5d, lose: 25%}}
        - {name: a visit this fortnight, when: {event: visit, within_last: 14d}, points: 5}
        - {name: a email_click, when: {event: email_click}, points: 8,
           decay: {every: 3d, lose: 50%}}
        - {name: busy week, when: {event: visit, within_last: 7d},
           tiers: [{between: [2, 3], points: 4}, {at_least: 4, points: 9}]}
""")
SCORER = Scorer(MODEL)
MATCHERS = time_sensitive(SCORER.matchers())


def snapshot(events: list[tuple[str, float]], at) -> ContactSnapshot:
    return ContactSnapshot.build("c1", at, created_at=days_ago(100), property_changes=[],
                                 events=[EventRecord(kind, days_ago(age), {})
                                         for kind, age in events])


def scores(events: list[tuple[str, float]], at) -> dict[str, float]:
    return {name: s.value for name, s in
            SCORER.score(snapshot(events, at)).scores.items()}


def next_change(events: list[tuple[str, float]]) -> float | None:
    snap = snapshot(events, NOW)
    return next_change_at(snap, MATCHERS, SCORER.score(snap).decaying)


histories = st.lists(st.tuples(st.sampled_from(["visit", "email_click"]),
                               st.floats(0.01, 40, allow_nan=False)), max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories, share=st.floats(0.0, 0.999))
def test_no_score_changes_before_the_next_change(events, share):
    now = scores(events, NOW)
    moment = next_change(events)
    horizon = NOW.timestamp() + 60 * 86400 if moment is None else moment
    assert horizon > NOW.timestamp()
    # a boundary still counts and the moment named falls EDGE after it: up to the boundary,
    # and anywhere between now and it, the scores stay the same
    gap = horizon - EDGE - NOW.timestamp()
    for at in (NOW.timestamp() + gap, NOW.timestamp() + share * gap):
        later = NOW + timedelta(seconds=at - NOW.timestamp())
        assert scores(events, later) == now, (events, later)


def test_an_older_event_expiring_first_is_the_next_change():
    # visits 6 and 1 days ago, each worth 3 points for 7 days: the older one expires first,
    # in one day — not in six, when the newer one does
    moment = next_change([("visit", 6), ("visit", 1)])
    assert moment is not None
    assert abs(moment - (days_ago(6) + timedelta(days=7)).timestamp()) < 1


def test_nothing_time_bound_means_no_next_change():
    model = model_from("""
        s:
          rules:
            - {name: industry, when: {property: industry, equals: software}, points: 10}
            - {name: visits, when: {event: visit}, points: 2, per_event: true}
    """)
    scorer = Scorer(model)
    snap = snapshot([("visit", 3)], NOW)
    assert next_change_at(snap, time_sensitive(scorer.matchers()),
                          scorer.score(snap).decaying) is None


def test_date_and_change_windows_end_just_after_their_boundary():
    model = model_from("""
        s:
          rules:
            - {name: recent demo date, when: {property: demo_at, within_last: 3d}, points: 7}
            - {name: stage moved, when: {property: lifecycle_stage, changed_within: 5d},
               points: 4}
    """, extra="properties:\n  demo_at: {type: date}\n")
    scorer = Scorer(model)
    matchers = time_sensitive(scorer.matchers())
    demo = days_ago(1)
    snap = ContactSnapshot.build("c1", NOW, created_at=days_ago(100), events=[],
                                 property_changes=[PropertyChange("demo_at", demo, days_ago(2)),
                                                   PropertyChange("lifecycle_stage", "mql",
                                                                  days_ago(4))])
    assert scorer.score(snap).scores["s"].value == 11
    moment = next_change_at(snap, matchers, scorer.score(snap).decaying)
    # the stage change (4 days ago, a 5-day window) lapses first, just after a day
    assert moment == pytest.approx((days_ago(4) + timedelta(days=5)).timestamp() + 1e-3)
    at = NOW + timedelta(seconds=moment - NOW.timestamp())
    later = ContactSnapshot.build("c1", at, created_at=days_ago(100), events=[],
                                  property_changes=[PropertyChange("demo_at", demo, days_ago(2)),
                                                    PropertyChange("lifecycle_stage", "mql",
                                                                   days_ago(4))])
    assert scorer.score(later).scores["s"].value == 7  # the date is still within 3 days
