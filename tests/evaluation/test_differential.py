"""Differential test: the Python evaluator and an independent pandas engine
(`benchmarks/pandas_baseline.py`) must give the same scores and the same points per rule, for
every contact of a generated dataset — the example model, and a model that uses the rest of
the criteria language (SQLGlot-style: two engines, same answers)."""

from __future__ import annotations

import functools
import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from leadscore.evaluation import Scorer
from leadscore.model import Model, load_model, parse_model
from leadscore.synthetic import SyntheticData, generate, iter_snapshots

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOLERANCE = 0.0  # exact: both engines share the arithmetic of leadscore.evaluation.arithmetic
BASELINE_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "pandas_baseline.py"

# Everything the example model leaves out: other operators, windows with dates, counts,
# all/any/not, event tiers, per-event rules with caps, other decays, floors, caps, sums.
WIDE_MODEL = """
version: 1
name: wide
scores:
  who:
    min: -30
    max: 80
    rules:
      - name: Not a student, known size
        when:
          all:
            - {property: job_title, not_contains: [student, intern]}
            - {property: employees, is_known: true}
        points: 4
      - name: Unknown industry
        when: {property: industry, is_unknown: true}
        points: -3
      - name: Outside the big markets
        when: {property: country, none_of: [united states, germany]}
        points: -2
      - name: Title starts senior
        when: {property: job_title, starts_with: [senior, head]}
        points: 3
      - name: Business domain
        when: {property: email, ends_with: [.io, .de, .co.uk]}
        points: 2
      - name: Regex on company
        when: {property: company, regex: "^(blue|north|apex) "}
        points: 1
      - name: Mid revenue
        when: {property: annual_revenue, between: [1000000, 50000000]}
        points: 6
      - name: Small
        when: {property: employees, less_than: 20}
        points: -4
      - name: Huge
        when: {property: employees, greater_than: 2000}
        points: 2
      - name: Not a lead stage
        when: {property: lifecycle_stage, not_equals: lead}
        points: -1
      - name: Revenue tiers
        when: {property: annual_revenue}
        tiers:
          - {at_most: 999999, points: -2}
          - {at_least: 100000000, points: 4}
    groups:
      - name: Floors
        min: -5
        max: 6
        rules:
          - name: Competitor or vendor
            when:
              any:
                - {property: is_competitor, equals: true}
                - {property: is_vendor, equals: true}
            points: -40
          - name: Owned
            when: {property: owner, is_known: true}
            points: 3
          - name: Owned by Alex
            when: {property: owner, equals: alex.morgan@example.com}
            points: 5
  doing:
    decay: {every: 30d, lose: 25%}
    max: 120
    rules:
      - name: Pricing and then a sales form
        when:
          all:
            - {event: page_view, where: {url: {contains: pricing}}, within_last: 60d}
            - event: form_submission
              where: {form_id: [demo-request, contact-sales]}
        points: 30
      - name: Either a webinar or a case study
        when:
          any:
            - {event: form_submission, where: {form_id: {starts_with: webinar-}}}
            - {event: page_view, where: {url: {matches: "*/customers/*"}}, within_last: 90d}
        points: 8
      - name: No visit lately
        when:
          not: {event: visit, within_last: 21d}
        points: -6
        decay: false
      - name: Email clicks since a date
        when:
          event: email_click
          since: "2025-12-01"
          until: "2026-02-15"
          count: {between: [2, 6]}
        points: 7
      - name: Exactly one meeting
        when: {event: meeting_booked, count: {exactly: 1}}
        points: 12
        decay: {linear: 120d}
      - name: Few opens or none
        when: {event: email_open, within_last: 60d, count: {at_most: 2, include_none: true}}
        points: -3
      - name: Docs pages
        when: {event: page_view, where: {url: {regex: "/docs/(api|cli)"}}}
        points: 1.5
        per_event: true
        max: 9
        decay: {half_life: 20d, expire_after: 180d}
      - name: Paid or social visits
        when: {event: visit, where: {source: {none_of: [direct, organic_search, email]}}}
        tiers:
          - {between: [1, 3], points: 2}
          - {between: [4, 10], points: 5}
          - {at_least: 11, points: 9}
      - name: Sessions in the last quarter
        when: {event: visit, within_last: 90d}
        tiers:
          - {at_most: 1, include_none: true, points: -2}
          - {at_least: 15, points: 4}
      - name: CTA on pricing
        when:
          event: cta_click
          where: {url: {ends_with: /pricing}, cta_id: {not_equals: cta-newsletter}}
        points: 3
      - name: Hard or soft bounce
        when: {event: email_bounce, where: {bounce_type: {any_of: [hard, soft]}}}
        points: -8
        min: -5
  both:
    sum: [who, doing]
    max: 150
"""


@functools.cache
def load_baseline():
    """benchmarks/pandas_baseline.py (benchmarks are scripts, not an installed package)."""
    spec = importlib.util.spec_from_file_location("pandas_baseline", BASELINE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pandas_baseline"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data() -> SyntheticData:
    return generate(2_000, 40_000, seed=17, now=NOW)


@pytest.fixture(scope="module")
def frames(data: SyntheticData):
    return load_baseline().build_frames(data)


def example_model() -> Model:
    return load_model(str(files("leadscore.project") / "templates" / "model.yaml"))


def evaluator_points(model: Model, data: SyntheticData, as_of: datetime):
    scorer = Scorer(model)
    scores: dict[str, dict[str, float]] = {name: {} for name in model.scores}
    rules: dict[str, dict[str, float]] = {}
    for snap in iter_snapshots(data, as_of):
        result = scorer.score(snap, detail=True)
        for name, score in result.scores.items():
            scores[name][snap.contact_id] = score.value
            for rule in score.all_rules():
                rules.setdefault(f"{name}/{rule.rule.name}", {})[snap.contact_id] = rule.final
    return scores, rules


def differences(ours: dict[str, dict[str, float]], theirs, ids: list[str]) -> list[str]:
    problems = []
    assert set(ours) == set(theirs.columns)
    for column, by_contact in ours.items():
        other = dict(zip((ids[i] for i in theirs.index), theirs[column].to_numpy(),
                         strict=True))
        assert set(other) == set(by_contact)
        for contact_id, value in by_contact.items():
            if abs(value - other[contact_id]) > TOLERANCE:
                problems.append(f"{contact_id} {column}: evaluator {value:g}, "
                                f"baseline {other[contact_id]:g}")
    return problems


@pytest.mark.parametrize("model_name", ["example", "wide"])
@pytest.mark.parametrize("days_back", [0, 75])
def test_evaluator_and_pandas_baseline_agree(data: SyntheticData, frames, model_name: str,
                                             days_back: int) -> None:
    model = example_model() if model_name == "example" else parse_model(WIDE_MODEL, "wide.yaml")
    as_of = NOW - timedelta(days=days_back)
    scores, rules = evaluator_points(model, data, as_of)
    baseline = load_baseline().PandasBaseline(model).score(*frames, as_of.timestamp())
    assert len(baseline.scores) == len(next(iter(scores.values()))) > 0
    problems = differences(scores, baseline.scores, data.contact_ids)
    problems += differences(rules, baseline.rules, data.contact_ids)
    assert not problems, f"{len(problems)} differences, first: " + "; ".join(problems[:8])


def test_the_comparison_is_not_vacuous(data: SyntheticData, frames) -> None:
    """Every rule of both models matches some contacts and misses others."""
    baseline = load_baseline()
    for model in (example_model(), parse_model(WIDE_MODEL, "wide.yaml")):
        points = baseline.PandasBaseline(model).score(*frames, NOW.timestamp()).rules
        for column in points.columns:
            nonzero = int(np.count_nonzero(points[column].to_numpy()))
            assert 0 < nonzero < len(points), (model.name, column, nonzero)
