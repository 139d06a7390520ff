"""The scorecard's rules, for all inputs (Hypothesis): bins hold ≥ 5 % of the training rows;
a category seen in fewer (or never seen, or missing in fewer) gets the neutral 0 points; an
input whose monotonic fit was chosen has points monotonic across its bins."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.calibration.binning import MIN_SHARE, bin_characteristic
from leadscore.calibration.features import CATEGORICAL, COUNT, NUMERIC, Characteristic, Inputs
from leadscore.calibration.scorecard import fit_scorecard


def _category_data(seed: int, n: int, rare: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = np.array(["alpha", "beta", "gamma", "delta"])
    values = common[rng.integers(0, 4, n)].astype(object)
    # a few rare categories, some of them converting every time
    for i in range(rare):
        take = rng.choice(n, size=max(1, int(n * 0.01)), replace=False)
        values[take] = f"rare{i}"
    values[rng.random(n) < 0.02] = None  # a few unknown
    rate = {"alpha": 0.1, "beta": 0.2, "gamma": 0.3, "delta": 0.45}
    p = np.array([rate.get(v, 0.95) if v is not None else 0.9 for v in values])
    labels = rng.random(n) < p
    train = rng.random(n) < 0.7
    return values, labels, train


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(600, 2500), st.integers(0, 6))
def test_a_rare_or_unseen_category_never_gets_more_than_the_neutral_level(seed, n, rare):
    values, labels, train = _category_data(seed, n, rare)
    values = values.copy()
    values[~train & (np.arange(n) % 7 == 0)] = "never seen in training"
    ch = Characteristic("property:source", "source", CATEGORICAL, values, "source")
    card = fit_scorecard(Inputs([ch]), labels, train, ~train)
    points = card.totals() if card.binned else np.zeros(n)
    counts: dict[object, int] = {}
    for v in values[train]:
        counts[v] = counts.get(v, 0) + 1
    for value in set(values):
        share = counts.get(value, 0) / train.sum()
        if share < MIN_SHARE:
            mine = points[values == value] if value is not None else points[
                np.asarray([v is None for v in values])]
            assert (mine <= 0).all() and (mine == 0).all(), (value, share, set(mine))
    for b in card.binned:
        assert all(x.share >= MIN_SHARE - 1e-12 for x in b.bins)


def _numeric(seed: int, n: int, shape: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 3.0, n).round(1)
    logit = {"up": 0.4 * x - 2, "down": 1 - 0.3 * x, "bump": -((x - 6) ** 2) / 8 + 1,
             "noise": rng.normal(0, 0.3, n)}[shape]
    labels = rng.random(n) < 1 / (1 + np.exp(-logit))
    x[rng.random(n) < rng.choice([0.0, 0.02, 0.2])] = np.nan
    return x, labels, rng.random(n) < 0.7


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(800, 3000),
       st.sampled_from(["up", "down", "bump", "noise"]), st.sampled_from([NUMERIC, COUNT]))
def test_a_chosen_monotonic_trend_has_monotonic_points(seed, n, shape, kind):
    x, labels, train = _numeric(seed, n, shape)
    if kind == COUNT:
        x = np.nan_to_num(np.floor(x))
    ch = Characteristic("property:visits", "visits", kind, x, "visits")
    card = fit_scorecard(Inputs([ch]), labels, train, ~train)
    for b in card.binned:
        assert all(x.share >= MIN_SHARE - 1e-12 for x in b.bins)
        points = [r.points for r in b.ranges]
        if b.trend in ("increasing", "decreasing"):
            steps = np.diff(points)
            assert (steps >= 0).all() or (steps <= 0).all(), (b.trend, points)
            if "monotone" in b.validation:  # kept within the tolerance of the free fit
                assert b.validation["monotone"] >= b.validation["free"] - 0.002
        elif b.trend == "free":
            assert b.validation["monotone"] < b.validation["free"] - 0.002
        missing = np.isnan(np.asarray(ch.values, dtype=np.float64))
        if kind == NUMERIC and missing[train].mean() < MIN_SHARE:
            assert (b.points[missing] == 0).all()  # rare unknown: the neutral level
        if kind == NUMERIC and missing[train].mean() >= MIN_SHARE:
            assert any(x.unknown for x in b.bins)  # an own bin


def test_a_u_shaped_input_keeps_its_free_bins_and_says_why():
    x, labels, train = _numeric(3, 6000, "bump")
    ch = Characteristic("property:visits", "visits", NUMERIC, x, "visits")
    binned = bin_characteristic(ch, labels, train)
    assert binned is not None and binned.trend == "free"
    assert "free bins" in binned.trend_note() and "would cost" in binned.trend_note()
    up = bin_characteristic(Characteristic("property:v", "v", NUMERIC, *_numeric(3, 6000, "up")[:1],
                                           "v"), _numeric(3, 6000, "up")[1], train)
    assert up is not None and up.trend == "increasing" and "monotonic" in up.trend_note()
