"""How well scores rank and predict outcomes: ROC AUC with a bootstrap interval, lift and
conversion by decile and by label, stage volume and precision, calibration, curves.

Inputs are numpy arrays: `scores` (float) and `labels` (bool, True = converted). Ties are
handled the way ROC AUC defines them (a tie counts half), so the figures equal
scikit-learn's `roc_auc_score` exactly. The bootstrap resamples contacts with replacement;
because scores take few distinct values, one replicate is a multinomial draw over the
(score, outcome) cells, which makes 1,000 replicates cheap even for a million contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DAYS_PER_MONTH = 30.4375
_MAX_CELL_DRAWS = 400_000_000  # replicates × cells: bounds the bootstrap's work


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (0.5 = no better than chance); nan with one class only."""
    codes, _ = _codes(scores)
    return float(_auc_from_counts(*_counts(codes, labels.astype(np.float64),
                                           int(codes.max(initial=-1)) + 1)))


def _codes(scores: np.ndarray) -> tuple[np.ndarray, int]:
    unique, inverse = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True)
    return inverse.astype(np.int64), len(unique)


def _counts(codes: np.ndarray, weights_pos: np.ndarray, size: int,
            weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    w = np.ones(len(codes)) if weights is None else weights
    pos = np.bincount(codes, weights=w * weights_pos, minlength=size)
    neg = np.bincount(codes, weights=w * (1.0 - weights_pos), minlength=size)
    return pos, neg


def _auc_from_counts(pos: np.ndarray, neg: np.ndarray) -> float:
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    replicates: int
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return {"low": _r(self.low), "high": _r(self.high), "replicates": self.replicates,
                "level": self.level}


def bootstrap_auc(score_sets: Sequence[np.ndarray], labels: np.ndarray, *,
                  replicates: int = 1000, seed: int = 0, level: float = 0.95
                  ) -> tuple[list[Interval], Interval | None]:
    """Percentile bootstrap intervals of the AUC of each score set on the same contacts, and
    (for two sets) of the difference second − first, resampling contacts jointly (paired)."""
    n = len(labels)
    if n == 0 or labels.all() or not labels.any():
        nan = Interval(float("nan"), float("nan"), 0, level)
        return [nan for _ in score_sets], (nan if len(score_sets) == 2 else None)
    coded = [_codes(s) for s in score_sets]
    key = labels.astype(np.int64)
    width = 2
    for codes, size in coded:
        key = key + codes * width
        width *= size
    cells, cell_counts = np.unique(key, return_counts=True)
    cell_label = (cells % 2).astype(np.float64)
    cell_codes = []
    rest = cells // 2
    for _, size in coded:
        cell_codes.append(rest % size)
        rest = rest // size
    reps = max(50, min(replicates, _MAX_CELL_DRAWS // max(len(cells), 1)))
    rng = np.random.default_rng(seed)
    p = cell_counts / n
    aucs = np.empty((reps, len(coded)))
    for r in range(reps):
        draw = rng.multinomial(n, p).astype(np.float64)
        for j, (_, size) in enumerate(coded):
            pos, neg = _counts(cell_codes[j], cell_label, size, draw)
            aucs[r, j] = _auc_from_counts(pos, neg)
    tail = (1 - level) / 2 * 100
    intervals = []
    for j in range(len(coded)):
        lo, hi = np.nanpercentile(aucs[:, j], [tail, 100 - tail])
        intervals.append(Interval(float(lo), float(hi), reps, level))
    difference = None
    if len(coded) == 2:
        lo, hi = np.nanpercentile(aucs[:, 1] - aucs[:, 0], [tail, 100 - tail])
        difference = Interval(float(lo), float(hi), reps, level)
    return intervals, difference


def roc_points(scores: np.ndarray, labels: np.ndarray, max_points: int = 200
               ) -> list[tuple[float, float]]:
    """(false positive rate, true positive rate) from the highest score down, thinned."""
    codes, size = _codes(scores)
    pos, neg = _counts(codes, labels.astype(np.float64), size)
    if pos.sum() == 0 or neg.sum() == 0:
        return [(0.0, 0.0), (1.0, 1.0)]
    tpr = np.concatenate([[0.0], np.cumsum(pos[::-1]) / pos.sum()])
    fpr = np.concatenate([[0.0], np.cumsum(neg[::-1]) / neg.sum()])
    if len(tpr) > max_points:
        keep = np.unique(np.linspace(0, len(tpr) - 1, max_points).round().astype(int))
        tpr, fpr = tpr[keep], fpr[keep]
    return [(round(float(f), 5), round(float(t), 5)) for f, t in zip(fpr, tpr, strict=True)]


def rank_order(scores: np.ndarray) -> np.ndarray:
    """Positions from the highest score down; ties keep the contacts' order (deterministic)."""
    return np.lexsort((np.arange(len(scores)), -np.asarray(scores, dtype=np.float64)))


def decile_table(scores: np.ndarray, labels: np.ndarray, parts: int = 10) -> list[dict[str, Any]]:
    """Contacts ranked by score, cut into `parts` equal groups (ties split by contact order):
    count, score range, conversions, conversion rate, lift, cumulative share of conversions."""
    n = len(scores)
    if n == 0:
        return []
    order = rank_order(scores)
    group = (np.arange(n) * parts) // n
    base = labels.mean() if n else 0.0
    total_pos = max(int(labels.sum()), 1)
    rows, captured = [], 0
    for k in range(parts):
        members = order[group == k]
        if not len(members):
            continue
        hits = int(labels[members].sum())
        captured += hits
        rate = hits / len(members)
        rows.append({
            "decile": k + 1, "contacts": int(len(members)),
            "min_score": _r(float(scores[members].min())),
            "max_score": _r(float(scores[members].max())),
            "converted": hits, "conversion_rate": _r(rate),
            "lift": _r(rate / base) if base else None,
            "cumulative_share_of_conversions": _r(captured / total_pos),
        })
    return rows


def group_table(keys: Sequence[str | None], labels: np.ndarray, order: Sequence[str],
                base: float | None = None) -> list[dict[str, Any]]:
    """Contacts, conversions, conversion rate and lift per key (a label or a stage)."""
    base = labels.mean() if base is None and len(labels) else (base or 0.0)
    keys_array = np.asarray([k if k is not None else "—" for k in keys], dtype=object)
    rows = []
    for key in [*order, *sorted({str(k) for k in keys_array} - set(order))]:
        mask = keys_array == key
        count = int(mask.sum())
        if not count:
            continue
        hits = int(labels[mask].sum())
        rate = hits / count
        rows.append({"band": key, "contacts": count, "converted": hits,
                     "conversion_rate": _r(rate), "lift": _r(rate / base) if base else None})
    return rows


def stage_volume(stages: Sequence[str | None], labels: np.ndarray, months: float,
                 names: Sequence[str] = ("sql", "mql")) -> list[dict[str, Any]]:
    """For each stage and for 'that stage or higher': contacts, per month, precision (share
    that converted) and recall (share of all conversions they hold)."""
    stage_array = np.asarray([s or "" for s in stages], dtype=object)
    total_pos = max(int(labels.sum()), 1)
    rows = []
    higher = np.zeros(len(labels), dtype=bool)
    for name in names:
        mask = stage_array == name
        higher |= mask
        for key, members in ((name, mask), (f"{name}+", higher.copy())):
            if key == f"{names[0]}+":
                continue  # the top stage 'or higher' is the stage itself
            count = int(members.sum())
            hits = int(labels[members].sum())
            rows.append({"stage": key, "contacts": count,
                         "per_month": _r(count / months) if months else None,
                         "precision": _r(hits / count) if count else None,
                         "recall": _r(hits / total_pos), "converted": hits})
    return rows


@dataclass
class Calibration:
    """How a score maps to a probability of converting: a logistic fit of the outcome on the
    score (Platt scaling, on these contacts), and per group of predicted probability the
    predicted and observed rates."""

    intercept: float
    slope: float  # per point of score
    rows: list[dict[str, Any]]
    brier: float
    expected_calibration_error: float

    def probability(self, score: np.ndarray | float) -> np.ndarray:
        logit = self.intercept + self.slope * np.asarray(score, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -500.0, 500.0)))  # no overflow when a
        # score separates the classes perfectly (the slope runs away)

    def to_dict(self) -> dict[str, Any]:
        return {"intercept": _r(self.intercept, 6), "slope_per_point": _r(self.slope, 6),
                "brier": _r(self.brier), "expected_calibration_error":
                _r(self.expected_calibration_error), "rows": self.rows}


def calibration_table(scores: np.ndarray, labels: np.ndarray, parts: int = 10) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    y = labels.astype(int)
    x = np.asarray(scores, dtype=np.float64)
    if len(x) == 0 or y.min(initial=0) == y.max(initial=0):
        rate = float(y.mean()) if len(y) else 0.0
        logit = float(np.log(max(rate, 1e-9) / max(1 - rate, 1e-9)))
        return Calibration(logit, 0.0, [], float("nan"), float("nan"))
    centre, spread = float(x.mean()), float(x.std()) or 1.0
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(((x - centre) / spread)[:, None], y)
    slope = float(fit.coef_[0][0]) / spread
    intercept = float(fit.intercept_[0]) - slope * centre
    calibration = Calibration(intercept, slope, [], 0.0, 0.0)
    predicted = calibration.probability(x)
    calibration.brier = float(np.mean((predicted - y) ** 2))
    order = rank_order(predicted)
    group = (np.arange(len(x)) * parts) // len(x)
    ece = 0.0
    for k in range(parts):
        members = order[group == k]
        if not len(members):
            continue
        mean_p, observed = float(predicted[members].mean()), float(y[members].mean())
        ece += len(members) / len(x) * abs(mean_p - observed)
        calibration.rows.append({
            "group": k + 1, "contacts": int(len(members)),
            "min_score": _r(float(x[members].min())), "max_score": _r(float(x[members].max())),
            "predicted": _r(mean_p), "observed": _r(observed),
        })
    calibration.expected_calibration_error = ece
    return calibration


def histogram(scores: np.ndarray, labels: np.ndarray, bins: int = 30) -> dict[str, Any]:
    """Score distribution of converted and not converted contacts on shared bin edges."""
    if len(scores) == 0:
        return {"edges": [], "converted": [], "not_converted": []}
    low, high = float(np.min(scores)), float(np.max(scores))
    if high == low:
        high = low + 1
    edges = np.linspace(low, high, bins + 1)
    yes, _ = np.histogram(scores[labels], bins=edges)
    no, _ = np.histogram(scores[~labels], bins=edges)
    return {"edges": [_r(float(e)) for e in edges], "converted": yes.tolist(),
            "not_converted": no.tolist()}


def months_spanned(created: np.ndarray) -> float:
    """Months between the first and last creation time (seconds), at least one."""
    if len(created) == 0:
        return 1.0
    return max(float(np.max(created) - np.min(created)) / 86400 / DAYS_PER_MONTH, 1.0)


def iso_day(ts: float) -> str:
    """The UTC day of an epoch time, as 2026-03-01."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _r(value: float | None, digits: int = 4) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)
