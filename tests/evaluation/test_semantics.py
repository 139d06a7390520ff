"""The evaluator's definitions that every engine reproduces: rounding, sums left to right,
microsecond boundaries, str.lower, RE2, attribute kinds, one scoring path."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation import ContactSnapshot, EventRecord, Scorer
from leadscore.evaluation.arithmetic import (
    add_in_order,
    micro_points,
    micros_to_seconds,
    round2,
    round6,
    seconds_to_micros,
)
from leadscore.model.model import Decay
from tests.factories import NOW, contact, days_ago, model_from, one_rule, score_of


@pytest.mark.parametrize("value,two,six", [
    (0.125, 0.13, 0.125), (-0.125, -0.12, -0.125), (2.675, 2.68, 2.675), (1.005, 1.0, 1.005),
    (0.1234565, 0.12, 0.123457), (-0.0000005, -0.0, 0.0), (7.0, 7.0, 7.0),
])
def test_rounding_is_half_up_on_the_binary_value(value, two, six):
    assert round2(value) == two and round6(value) == six


def test_sums_add_left_to_right():
    assert add_in_order([1e16, 1.0, -1e16]) == 0.0  # a compensated sum would give 1.0
    assert micro_points(1.25) == 1_250_000


@settings(max_examples=300)
@given(micros=st.integers(0, 2**32 * 1_000_000 - 1))
def test_microseconds_survive_float_seconds_until_2106(micros):
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    assert moment.timestamp() == micros_to_seconds(micros)
    assert seconds_to_micros(moment.timestamp()) == micros


def test_decay_ages_are_compared_in_microseconds():
    week = 7 * 86_400_000_000
    decay = Decay(expire_after=7 * 86400.0)
    assert decay.factor_us(week) == 1.0 and decay.factor_us(week + 1) == 0.0
    step = Decay(step_every=7 * 86400.0, step_lose=0.5)
    assert step.factor_us(week - 1) == 1.0 and step.factor_us(week) == 0.5


def test_an_event_exactly_within_last_old_counts_at_any_microsecond():
    as_of = datetime(2026, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)  # a float-unfriendly moment
    model = one_rule("{event: visit, within_last: 30d}")
    for age, points in ((timedelta(days=30), 10), (timedelta(days=30, microseconds=1), 0)):
        snap = ContactSnapshot.build("c", as_of, created_at=as_of - timedelta(days=90),
                                     events=[EventRecord("visit", as_of - age, {})])
        assert score_of(model, snap) == points


def test_text_folds_with_lower_not_casefold():
    model = one_rule("{property: company, equals: strasse}")
    assert score_of(model, contact({"company": "Straße"})) == 0  # casefold would say 'strasse'
    assert score_of(model, contact({"company": "STRASSE"})) == 10


def test_regular_expressions_run_in_linear_time():
    model = one_rule('{property: company, regex: "^(a+)+$"}')
    started = time.perf_counter()
    assert score_of(model, contact({"company": "a" * 5000 + "b"})) == 0
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("pattern,words", [("(?=a)b", "RE2"), ("(a)\\\\1", "RE2"),
                                           ("[", "RE2")])
def test_a_pattern_re2_cannot_run_is_a_mistake_in_the_file(pattern, words):
    with pytest.raises(LeadscoreError) as raised:
        one_rule(f'{{property: company, regex: "{pattern}"}}')
    found = raised.value.diagnostics[0]
    assert found.code == "LS114" and words in found.message
    assert (found.location.line, found.location.column) == (8, 42)  # the pattern itself


@pytest.mark.parametrize("value,points", [("30", 0), (30, 10), (True, 0), (29.5, 0)])
def test_an_attribute_of_another_json_type_is_unknown(value, points):
    model = one_rule("{event: webinar_attended, where: {minutes: {at_least: 30}}}")
    assert score_of(model, contact({}, [("webinar_attended", 1, {"minutes": value})])) == points


def test_an_open_attribute_is_compared_as_the_kind_its_operator_implies():
    model = model_from("""
        s:
          rules:
            - {name: n, when: {event: app_use, where: {seats: {greater_than: 3}}}, points: 1}
            - {name: t, when: {event: app_use, where: {seats: {equals: "5"}}}, points: 10}
    """, extra="event_types:\n  app_use: {}\n")
    assert score_of(model, contact({}, [("app_use", 1, {"seats": 5})])) == 1
    assert score_of(model, contact({}, [("app_use", 1, {"seats": "5"})])) == 10


def test_an_enum_value_that_names_no_option_is_unknown():
    model = model_from("""
        s:
          rules:
            - {name: known, when: {property: lifecycle_stage, is_known: true}, points: 1}
            - {name: mql, when: {property: lifecycle_stage, equals: mql}, points: 10}
    """)
    assert score_of(model, contact({"lifecycle_stage": "MQL"})) == 11
    assert score_of(model, contact({"lifecycle_stage": "prospect"})) == 0


def test_one_path_gives_the_same_scores_detail_and_schedule_notes():
    model = model_from("""
        s:
          decay: {every: 5d, lose: 20%, expire_after: 30d}
          rules:
            - {name: each, when: {event: visit}, points: 1.5, per_event: true, max: 4}
            - {name: any, when: {event: visit, count: {at_least: 2}}, points: 3}
    """)
    snap = contact({}, [("visit", d, {}) for d in (1, 6, 12, 40)])
    scorer = Scorer(model)
    fast, detailed = scorer.score(snap), scorer.score(snap, detail=True)
    # each: 1.5 + 1.2 + 0.9 + 0 (expired), under its cap of 4; any: 3 from the 2nd latest
    assert fast.scores["s"].value == detailed.scores["s"].value == 6.0
    assert fast.decaying == detailed.decaying and len(fast.decaying) == 4  # 3 live, 1 any
    assert [r.final for r in detailed.scores["s"].rules] == [3.6, round6(3 * 0.8)]


def test_per_event_decay_adds_each_event_in_millionths():
    model = one_rule("{event: visit}", points=1,
                     extra_rule="per_event: true\n              decay: {half_life: 3d}")
    snap = contact({}, [("visit", d, {}) for d in (1, 2, 4)])
    expected = sum(micro_points(0.5 ** (d / 3)) for d in (1, 2, 4)) / 1_000_000
    assert Scorer(model).score(snap, detail=True).scores["s"].rules[0].final == expected


def test_days_ago_is_exact():  # the factories' times stay exact microseconds
    assert seconds_to_micros(days_ago(1.5).timestamp()) % 1 == 0 and NOW.microsecond == 0
