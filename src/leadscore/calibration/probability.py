"""From score to probability of converting: a calibration fitted on the training contacts.

Two maps are fitted on the training contacts' scores and outcomes — Platt scaling (a
logistic regression of the outcome on the score) and isotonic regression (a non-decreasing
step function, joined by straight lines as scikit-learn predicts it) — and the one with the
lower log loss on the held-out contacts is kept. The report gives both log losses, the kept
map's Brier score and its reliability table on the held-out contacts (per tenth of predicted
probability: the mean prediction beside the observed rate). The kept map is written into the
model file (`probability:` of the primary score), so `explain` and `leads` show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadscore.calibration.metrics import _r, rank_order

EPSILON = 1e-4  # probabilities are kept within [ε, 1 − ε] so a log loss stays finite
MAX_POINTS = 40  # an isotonic map written with at most this many points


@dataclass
class ProbabilityFit:
    """The kept map (its `method`, and `points` or `intercept`/`slope`) and how both did."""

    method: str  # "isotonic" or "platt"
    points: list[tuple[float, float]] = field(default_factory=list)  # isotonic
    intercept: float = 0.0  # platt: p = 1 / (1 + exp(-(intercept + slope · score)))
    slope: float = 0.0
    log_loss: dict[str, float] = field(default_factory=dict)  # method → held-out log loss
    brier: float = float("nan")  # the kept map, held out
    reliability: list[dict[str, Any]] = field(default_factory=list)
    training_contacts: int = 0

    def probability(self, scores: np.ndarray) -> np.ndarray:
        x = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic":
            xs, ys = zip(*self.points, strict=True) if self.points else ((0.0,), (0.5,))
            return np.clip(np.interp(x, xs, ys), 0.0, 1.0)
        logit = np.clip(self.intercept + self.slope * x, -500.0, 500.0)
        return 1.0 / (1.0 + np.exp(-logit))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"method": self.method,
                                "log_loss_held_out": {k: _r(v) for k, v in
                                                      self.log_loss.items()},
                                "brier_held_out": _r(self.brier),
                                "reliability_held_out": self.reliability,
                                "training_contacts": self.training_contacts}
        if self.method == "isotonic":
            data["points"] = [[_r(s), _r(p)] for s, p in self.points]
        else:
            data["intercept"] = _r(self.intercept, 6)
            data["slope_per_point"] = _r(self.slope, 6)
        return data


def log_loss(predicted: np.ndarray, labels: np.ndarray) -> float:
    p = np.clip(predicted, EPSILON, 1 - EPSILON)
    y = labels.astype(np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def reliability_table(predicted: np.ndarray, labels: np.ndarray, parts: int = 10
                      ) -> list[dict[str, Any]]:
    """Per tenth of the contacts ranked by predicted probability: mean prediction, observed
    rate."""
    if not len(predicted):
        return []
    order = rank_order(predicted)
    group = (np.arange(len(predicted)) * parts) // len(predicted)
    rows = []
    for k in range(parts):
        members = order[group == k]
        if len(members):
            rows.append({"group": k + 1, "contacts": int(len(members)),
                         "predicted": _r(float(predicted[members].mean())),
                         "observed": _r(float(labels[members].mean()))})
    return rows


def _platt(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    centre, spread = float(scores.mean()), float(scores.std()) or 1.0
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(((scores - centre) / spread)[:, None],
                                                       labels.astype(int))
    slope = float(fit.coef_[0][0]) / spread
    return float(fit.intercept_[0]) - slope * centre, slope


def _isotonic(scores: np.ndarray, labels: np.ndarray) -> list[tuple[float, float]]:
    from sklearn.isotonic import IsotonicRegression

    fit = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    fit.fit(scores, labels.astype(np.float64))
    xs = np.asarray(fit.X_thresholds_, dtype=np.float64)
    ys = np.asarray(fit.y_thresholds_, dtype=np.float64)
    if len(xs) > MAX_POINTS:  # keep the ends and evenly spaced points between
        keep = np.unique(np.linspace(0, len(xs) - 1, MAX_POINTS).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return [(round(float(x), 4), round(float(y), 4)) for x, y in zip(xs, ys, strict=True)]


def fit_probability(scores: np.ndarray, labels: np.ndarray, train: np.ndarray,
                    held: np.ndarray) -> ProbabilityFit:
    """Platt and isotonic fitted on the `train` contacts; the one with the lower log loss on
    the `held` contacts is kept (Platt on a tie: it is smoother)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    platt = ProbabilityFit("platt", training_contacts=int(train.sum()))
    platt.intercept, platt.slope = _platt(scores[train], labels[train])
    isotonic = ProbabilityFit("isotonic", _isotonic(scores[train], labels[train]),
                              training_contacts=int(train.sum()))
    losses = {fit.method: log_loss(fit.probability(scores[held]), labels[held])
              for fit in (platt, isotonic)}
    kept = isotonic if losses["isotonic"] < losses["platt"] else platt
    kept.log_loss = losses
    predicted = kept.probability(scores[held])
    kept.brier = float(np.mean((predicted - labels[held]) ** 2))
    kept.reliability = reliability_table(predicted, labels[held])
    return kept


def model_lines(fit: ProbabilityFit, *, within: str | None, description: str,
                indent: str = "    ") -> list[str]:
    """The `probability:` section of a score in the model file."""
    lines = [f"{indent}probability:", f"{indent}  description: \"{description}\""]
    if within:
        lines.append(f"{indent}  within: {within}")
    if fit.method == "isotonic":
        pairs = ", ".join(f"[{s:g}, {p:g}]" for s, p in fit.points)
        lines.append(f"{indent}  points: [{pairs}]")
    else:
        lines.append(f"{indent}  logistic: {{intercept: {fit.intercept:.6g}, "
                     f"slope: {fit.slope:.6g}}}")
    return lines


__all__ = ["ProbabilityFit", "fit_probability", "log_loss", "model_lines", "reliability_table"]
