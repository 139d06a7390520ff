"""Rules that must hold for all inputs (Hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.evaluation import ContactSnapshot, EventRecord, PropertyChange, Scorer
from leadscore.evaluation.arithmetic import add_in_order, round2
from leadscore.model.model import Decay
from tests.factories import NOW, contact, days_ago, model_from

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- ranges are not cumulative ---------------------------------------------------------------


@st.composite
def tier_sets(draw):
    """Non-overlapping count ranges with points."""
    cuts = sorted(draw(st.sets(st.integers(1, 40), min_size=1, max_size=5)))
    tiers = []
    for i, low in enumerate(cuts):
        high = cuts[i + 1] - 1 if i + 1 < len(cuts) else None
        points = draw(st.integers(-20, 50))
        tiers.append((low, high, points))
    return tiers


@FAST
@given(tiers=tier_sets(), visits=st.integers(0, 50))
def test_exactly_one_tier_or_none_applies(tiers, visits):
    lines = []
    for low, high, points in tiers:
        bound = f"between: [{low}, {high}]" if high is not None else f"at_least: {low}"
        lines.append(f"                - {{{bound}, points: {points}}}")
    model = model_from("""
        s:
          rules:
            - name: visits
              when: {event: visit}
              tiers:
""" + "\n".join(lines))
    snap = contact({}, [("visit", 1 + i / 100, {}) for i in range(visits)])
    expected = next((p for lo, hi, p in tiers if visits >= lo and (hi is None or visits <= hi)), 0)
    assert Scorer(model).score(snap).scores["s"].value == expected


# --- points vanish when a criterion stops holding --------------------------------------------

PAGES = ["/pricing", "/blog/a", "/customers/x", "/docs"]
ENGAGEMENT = model_from("""
    s:
      rules:
        - {name: pricing, when: {event: page_view, where: {url: {contains: pricing}}}, points: 15}
        - {name: two blog, when: {event: page_view, where: {url: {contains: blog}},
                                  count: {at_least: 2}}, points: 5}
        - {name: software, when: {property: industry, equals: software}, points: 10}
        - name: recent
          when: {event: page_view, within_last: 7d}
          points: 3
""")

views = st.lists(st.tuples(st.sampled_from(PAGES), st.floats(0, 60)), max_size=12)


@FAST
@given(events=views, industry=st.sampled_from(["software", "retail", None]), keep=st.data())
def test_points_follow_current_data_only(events, industry, keep):
    """Scores are recomputed from the data: removing events or changing a property removes
    exactly the points of the rules that stop holding; nothing lingers."""
    props = {"industry": industry} if industry else {}
    before = Scorer(ENGAGEMENT).score(contact(props, [("page_view", d, {"url": u})
                                                      for u, d in events]), detail=True)
    subset = keep.draw(st.lists(st.sampled_from(events), unique=True) if events else st.just([]))
    props_after = {"industry": "retail"}
    after = Scorer(ENGAGEMENT).score(contact(props_after, [("page_view", d, {"url": u})
                                                           for u, d in subset]), detail=True)
    rules_after = {r.rule.name: r for r in after.scores["s"].rules}
    assert rules_after["software"].final == 0
    for rule in rules_after.values():
        assert rule.matched == (rule.final != 0)
    assert after.scores["s"].value == sum(r.final for r in rules_after.values())
    assert before.scores["s"].value == sum(r.final for r in before.scores["s"].rules)


# --- caps apply in order ----------------------------------------------------------------------

caps = st.one_of(st.none(), st.integers(-30, 60))


@FAST
@given(points=st.lists(st.integers(-40, 60), min_size=1, max_size=4), rule_max=caps,
       group_max=caps, group_min=caps, score_max=caps)
def test_caps_apply_rule_then_group_then_score(points, rule_max, group_max, group_min,
                                               score_max):
    if group_min is not None and group_max is not None and group_min > group_max:
        group_min, group_max = group_max, group_min
    rules = "\n".join(
        f"            - {{name: r{i}, when: {{event: visit}}, points: {p}"
        + (f", max: {rule_max}" if rule_max is not None and i == 0 else "") + "}"
        for i, p in enumerate(points))
    header = "        s:\n" + (f"          max: {score_max}\n" if score_max is not None else "")
    group = ("          groups:\n            - name: g\n"
             + (f"              max: {group_max}\n" if group_max is not None else "")
             + (f"              min: {group_min}\n" if group_min is not None else "")
             + "              rules:\n" + rules.replace("            - ", "                - "))
    model = model_from(header + group)
    value = Scorer(model).score(contact({}, [("visit", 1, {})])).scores["s"].value

    rule_points = [min(p, rule_max) if (i == 0 and rule_max is not None) else p
                   for i, p in enumerate(points)]
    total = sum(rule_points)
    if group_max is not None:
        total = min(total, group_max)
    if group_min is not None:
        total = max(total, group_min)
    if score_max is not None:
        total = min(total, score_max)
    assert value == total


# --- decay never raises points as an event ages ------------------------------------------------

decays = st.builds(
    Decay,
    half_life=st.one_of(st.none(), st.floats(3600, 1e8)),
    expire_after=st.one_of(st.none(), st.floats(3600, 1e8)),
) | st.builds(Decay, step_every=st.floats(3600, 1e8), step_lose=st.floats(0.01, 1.0)) | \
    st.builds(Decay, linear=st.floats(3600, 1e8))


@FAST
@given(decay=decays, a=st.floats(0, 1e9), b=st.floats(0, 1e9))
def test_decay_factor_never_rises_with_age(decay, a, b):
    young, old = sorted((a, b))
    assert 0.0 <= decay.factor(old) <= decay.factor(young) <= 1.0


@FAST
@given(age=st.floats(0, 400), older_by=st.floats(0, 400), points=st.integers(1, 80),
       kind=st.sampled_from(["{half_life: 45d}", "{every: 30d, lose: 25%}", "{linear: 200d}",
                             "{half_life: 20d, expire_after: 300d}"]))
def test_an_older_event_never_earns_more(age, older_by, points, kind):
    model = model_from(f"""
        s:
          decay: {kind}
          rules:
            - {{name: demo, when: {{event: form_submission}}, points: {points}}}
    """)
    scorer = Scorer(model)
    young = scorer.score(contact({}, [("form_submission", age, {"form_id": "d"})]))
    old = scorer.score(contact({}, [("form_submission", age + older_by, {"form_id": "d"})]))
    assert old.scores["s"].value <= young.scores["s"].value


# --- scoring as of t ignores everything after t ------------------------------------------------

EXAMPLE = model_from("""
    s:
      rules:
        - {name: pricing, when: {event: page_view, where: {url: {contains: pricing}},
                                 within_last: 30d}, points: 15}
        - {name: visits, when: {event: visit}, tiers: [{between: [1, 3], points: 2},
                                                     {at_least: 4, points: 6}]}
        - {name: vp, when: {property: job_title, contains: vp}, points: 10}
        - {name: changed, when: {property: job_title, changed_within: 20d}, points: 1}
        - {name: quiet, when: {event: email_open, within_last: 30d,
                               count: {at_most: 0, include_none: true}}, points: -3}
""")

timed_events = st.lists(st.tuples(st.sampled_from(["page_view", "visit", "email_open"]),
                                  st.floats(0, 200), st.sampled_from(PAGES)), max_size=15)
title_changes = st.lists(st.tuples(st.sampled_from(["VP Sales", "Engineer", "Intern"]),
                                   st.floats(0, 200)), max_size=4)


@FAST
@given(events=timed_events, titles=title_changes, cutoff=st.floats(0, 200))
def test_scoring_as_of_t_ignores_everything_after_t(events, titles, cutoff):
    as_of = NOW - timedelta(days=cutoff)
    records = [EventRecord(t, days_ago(d), {"url": u}) for t, d, u in events]
    changes = [PropertyChange("job_title", v, days_ago(d)) for v, d in titles]
    everything = ContactSnapshot.build("c", as_of, created_at=days_ago(300),
                                       property_changes=changes, events=records)
    known_then = ContactSnapshot.build(
        "c", as_of, created_at=days_ago(300),
        property_changes=[c for c in changes if c.changed_at <= as_of],
        events=[e for e in records if e.occurred_at <= as_of])
    scorer = Scorer(EXAMPLE)
    full = scorer.score(everything, detail=True)
    past = scorer.score(known_then, detail=True)
    assert full.scores["s"].value == past.scores["s"].value
    assert [r.final for r in full.scores["s"].rules] == [r.final for r in past.scores["s"].rules]


# --- the fast path and the detailed path agree ----------------------------------------------


@FAST
@given(events=timed_events, titles=title_changes)
def test_fast_scores_equal_detailed_scores(events, titles):
    records = [EventRecord(t, days_ago(d), {"url": u}) for t, d, u in events]
    changes = [PropertyChange("job_title", v, days_ago(d)) for v, d in titles]
    snap = ContactSnapshot.build("c", NOW, created_at=days_ago(300), property_changes=changes,
                                 events=records)
    for model in (EXAMPLE, ENGAGEMENT):
        scorer = Scorer(model)
        fast, detailed = scorer.score(snap), scorer.score(snap, detail=True)
        assert {n: s.value for n, s in fast.scores.items()} == {
            n: s.value for n, s in detailed.scores.items()}
        assert fast.scores["s"].value == round2(add_in_order(r.final for r in
                                                            detailed.scores["s"].rules))
