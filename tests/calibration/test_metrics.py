"""Metrics agree with scikit-learn and keep their promises for any data."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from leadscore.calibration import metrics
from leadscore.calibration.thresholds import recommend, tradeoff


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.booleans()), min_size=2, max_size=80))
def test_auc_equals_scikit_learn_with_ties(pairs):
    scores = np.asarray([float(s) for s, _ in pairs])
    labels = np.asarray([y for _, y in pairs])
    if labels.all() or not labels.any():
        assert np.isnan(metrics.roc_auc(scores, labels))
        return
    assert abs(metrics.roc_auc(scores, labels) - roc_auc_score(labels, scores)) < 1e-12


def test_bootstrap_interval_brackets_the_estimate_and_narrows_with_data():
    rng = np.random.default_rng(1)
    widths = []
    for n in (300, 30_000):
        labels = rng.random(n) < 0.2
        scores = np.round(rng.normal(labels * 1.0, 1.0), 1)
        auc = metrics.roc_auc(scores, labels)
        (interval,), _ = metrics.bootstrap_auc([scores], labels, replicates=300)
        assert interval.low < auc < interval.high
        widths.append(interval.high - interval.low)
    assert widths[1] < widths[0] / 3


def test_paired_difference_of_a_model_with_itself_is_zero():
    rng = np.random.default_rng(2)
    labels = rng.random(500) < 0.3
    scores = rng.normal(labels, 1.0).round(1)
    _, difference = metrics.bootstrap_auc([scores, scores], labels, replicates=200)
    assert difference is not None and difference.low == difference.high == 0


def test_deciles_cover_everyone_and_lift_averages_to_one():
    rng = np.random.default_rng(3)
    labels = rng.random(1003) < 0.1
    scores = rng.integers(0, 20, 1003).astype(float) + labels * 5
    rows = metrics.decile_table(scores, labels)
    assert sum(r["contacts"] for r in rows) == 1003
    assert sum(r["converted"] for r in rows) == labels.sum()
    assert rows[-1]["cumulative_share_of_conversions"] == 1.0
    assert rows[0]["lift"] > 1 > rows[-1]["lift"]


def test_calibration_of_a_calibrated_score_is_close():
    rng = np.random.default_rng(4)
    scores = rng.normal(0, 1, 20_000)
    labels = rng.random(20_000) < 1 / (1 + np.exp(-(scores - 1)))
    c = metrics.calibration_table(scores, labels)
    assert abs(c.slope - 1) < 0.1 and abs(c.intercept + 1) < 0.1
    assert c.expected_calibration_error < 0.02


def test_thresholds_meet_their_targets():
    rng = np.random.default_rng(5)
    labels = rng.random(5000) < 0.1
    scores = np.round(rng.normal(labels * 2.0, 1.0) * 10)
    curve = tradeoff(scores, labels, months=10)
    assert curve[0]["contacts"] <= curve[-1]["contacts"]
    found = recommend(scores, labels, 10, mql_per_month=100, sql_precision=0.5)
    assert found.mql["per_month"] <= 100
    assert found.sql["precision"] >= 0.5 and found.sql["contacts"] >= 10
    assert "label: SQL" in found.yaml_snippet()
