"""The semantic rules docs/model.md states under "Semantics, each with its test", one test each,
through the evaluator (every SQL engine is held to the same answers by tests/sql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadscore.evaluation import ContactSnapshot, EventRecord, Scorer
from leadscore.model import parse_model

NOW = datetime(2026, 6, 1, 12, 0, 0, 500_000, tzinfo=UTC)
US = timedelta(microseconds=1)
DAY = timedelta(days=1)


def score_of(rule: str, *ages: timedelta) -> float:
    model = parse_model(f"""
version: 1
name: semantics
scores:
  s:
    rules:
      - name: r
{rule}
""", "semantics.yaml")
    snap = ContactSnapshot.build("c", NOW, created_at=NOW - 400 * DAY, events=[
        EventRecord("visit", NOW - age, {}) for age in ages])
    return Scorer(model).score(snap).scores["s"].value


@pytest.mark.parametrize(("points", "value"), [(0.125, 0.13), (-0.125, -0.12), (0.005, 0.01),
                                               (1.005, 1.0), (2.675, 2.68)])
def test_scores_round_half_up_at_the_second_decimal(points, value):
    """floor(x·100 + 0.5)/100 on the binary value: 1.005 is a little below 1.005, so 1.0."""
    assert score_of(f"        when: {{event: visit}}\n        points: {points}", DAY) == value


def test_step_decay_takes_a_share_of_the_original_points():
    rule = ("        when: {event: visit}\n        points: 100\n"
            "        decay: {every: 30d, lose: 25%}")
    values = [score_of(rule, n * 30 * DAY) for n in range(6)]
    assert values == [100, 75, 50, 25, 0, 0]  # not 100, 75, 56.25, …: of the original
    assert score_of(rule, 30 * DAY - US) == 100  # the step falls exactly at its age


def test_an_event_exactly_within_last_old_still_counts():
    rule = "        when: {event: visit, within_last: 30d}\n        points: 10"
    assert (score_of(rule, 30 * DAY), score_of(rule, 30 * DAY + US)) == (10, 0)


def test_points_exactly_expire_after_old_are_still_there():
    rule = ("        when: {event: visit}\n        points: 10\n"
            "        decay: {expire_after: 7d}")
    assert (score_of(rule, 7 * DAY), score_of(rule, 7 * DAY + US)) == (10, 0)


def test_anything_after_the_moment_of_scoring_is_ignored():
    rule = "        when: {event: visit}\n        points: 10"
    assert (score_of(rule, timedelta(0)), score_of(rule, -US)) == (10, 0)
