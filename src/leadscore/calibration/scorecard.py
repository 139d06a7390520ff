"""A points model fitted from data: bins per input, weights of evidence, a logistic regression,
integer points, and the model file that writes it down.

Each characteristic (see `features.py`) is cut into a few bins on the training rows, every bin
holding at least `min_share` (5 %) of them:
- numbers and event counts into ranges by a shallow decision tree (scikit-learn). Per input
  two fits are tried: a *monotonic* one (the tree is fitted to the isotonic regression of the
  outcome, then adjacent bins whose conversion rates break the trend are merged) and a *free*
  one; the monotonic trend is kept unless it costs more than `MONOTONE_TOLERANCE` (0.002) of
  ROC AUC on an internal 5-fold validation within the training rows. The choice is written
  into the model file beside the rule;
- categories: each value seen in at least 5 % of the training rows, grouped by a tree on
  their smoothed conversion rates; rarer values, values never seen in training and a missing
  value are the *neutral* level;
- a missing value (unknown number or category) is its own bin when it holds at least 5 % of
  the rows, the neutral level otherwise.

Every input is one column of a logistic regression: the weight of evidence of its bins (WoE:
ln of the bin's share of the converters over its share of the others, on the training rows),
0 for the neutral level. One weight per input keeps its points in the order of the evidence,
so a monotonic fit stays monotonic. Points are weight × WoE × (20 / ln 2), rounded: 20 points
double the odds of converting, and the neutral level — a rare or unseen category, a missing
value held by fewer than 5 % — gets 0, the points of an input that says nothing. (Measured on
X Education, Online Shoppers and two synthetic stores, see ARCHITECTURE.md: a column per bin
gave X Education 0.002 more held-out ROC AUC and the synthetic stores 0.007–0.027 less, and
gave the points back their jumps.) The model file is ordinary: property tiers, `any_of` rules
and event-count tiers that `leadscore validate` accepts and people can read and edit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadscore.calibration import metrics
from leadscore.calibration.binning import (
    MIN_SHARE,
    MONOTONE_TOLERANCE,
    Binned,
    bin_characteristic,
)
from leadscore.calibration.features import Inputs


@dataclass
class Scorecard:
    binned: list[Binned]
    intercept: float
    scale: float  # points per unit of log-odds
    training_auc: float = float("nan")
    unrounded_auc: float = float("nan")  # held-out, from the fitted weights
    integer_auc: float = float("nan")  # held-out, from the integer points
    dropped: dict[str, str] = field(default_factory=dict)
    min_share: float = MIN_SHARE
    strength: float = 0.0  # the regression's C (chosen by cross-validation unless given)
    pairs: list[Any] = field(default_factory=list)  # pairs.PairRule: two inputs together

    def totals(self) -> np.ndarray:
        if not self.binned:
            return np.zeros(0)
        total = np.sum([b.points for b in self.binned], axis=0)
        for rule in self.pairs:
            total = total + rule.points * rule.mask
        return total

    @property
    def offset(self) -> float:
        """The total at which the fitted probability of converting is 50 %."""
        return -self.intercept * self.scale



def fit_weights(matrix: np.ndarray, labels: np.ndarray, strength: float) -> Any:
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    if strength > 0:
        return LogisticRegression(C=strength, max_iter=5000).fit(matrix, labels)
    with warnings.catch_warnings():  # scikit-learn's notices of changing defaults
        warnings.simplefilter("ignore", FutureWarning)
        return LogisticRegressionCV(Cs=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], cv=5,
                                    scoring="roc_auc", max_iter=5000).fit(matrix, labels)


def fit_scorecard(inputs: Inputs, labels: np.ndarray, train: np.ndarray, held_out: np.ndarray,
                  *, max_characteristics: int = 25, min_iv: float = 0.02, max_bins: int = 5,
                  min_share: float = MIN_SHARE, pdo: float = 20.0, strength: float = 0.0,
                  trend: str = "auto", tolerance: float = MONOTONE_TOLERANCE) -> Scorecard:
    """Bin every input on the training rows, keep the strongest, fit on their WoE, and round
    to points."""
    candidates: list[Binned] = []
    dropped: dict[str, str] = {}
    for ch in inputs.characteristics:
        binned = bin_characteristic(ch, labels, train, max_bins=max_bins, min_share=min_share,
                                    trend=trend, tolerance=tolerance)
        if binned is None:
            dropped[ch.key] = "does not split the outcome"
            continue
        if binned.information_value < min_iv:
            dropped[ch.key] = f"weak (information value {binned.information_value:.3f})"
            continue
        candidates.append(binned)
    candidates.sort(key=lambda b: -b.information_value)
    for extra in candidates[max_characteristics:]:
        dropped[extra.characteristic.key] = "beyond --max-inputs"
    chosen = candidates[:max_characteristics]
    scale = pdo / math.log(2)
    if not chosen:
        return Scorecard([], 0.0, scale, dropped=dropped, min_share=min_share)
    columns = np.column_stack([b.woe for b in chosen])
    fit = fit_weights(columns[train], labels[train], strength)
    for b, weight in zip(chosen, fit.coef_[0], strict=True):
        b.weight = float(weight)
        for x in b.bins:
            x.coefficient = b.weight * x.woe
            x.points = int(round(x.coefficient * scale))
    card = Scorecard(chosen, float(fit.intercept_[0]), scale, dropped=dropped,
                     min_share=min_share,
                     strength=float(fit.C_[0]) if hasattr(fit, "C_") else strength)
    linear = columns @ fit.coef_[0]
    card.training_auc = metrics.roc_auc(linear[train], labels[train])
    card.unrounded_auc = metrics.roc_auc(linear[held_out], labels[held_out])
    card.integer_auc = metrics.roc_auc(card.totals()[held_out], labels[held_out])
    return card


def default_thresholds(totals: np.ndarray) -> tuple[int, int]:
    """MQL = the top 30 % of training contacts, SQL = the top 10 % (integers, MQL < SQL)."""
    if not len(totals):
        return 1, 2
    mql = int(math.ceil(float(np.quantile(totals, 0.70))))
    sql = int(math.ceil(float(np.quantile(totals, 0.90))))
    if sql <= mql:
        sql = mql + 1
    return mql, sql
