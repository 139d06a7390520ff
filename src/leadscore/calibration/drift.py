"""Drift: does the population, and the model's power, hold from one period to the next?

- `psi` is the population stability index of two distributions over the same bins:
  Σ (actual − expected) · ln(actual / expected), shares floored at 0.0001 so an empty bin
  stays finite. Below 0.1 the population is stable, 0.1–0.25 it moved, above 0.25 it moved
  enough that a model fitted on the first should be checked on the second (LS424).
- `stability` measures the score (cut at the training scores' deciles) and every input of a
  scorecard (its own bins, the neutral level one more) between the training and the held-out
  contacts.
- `by_period` splits a backtest by creation month (or week, quarter): contacts, conversions,
  ROC AUC and MQL/SQL volume per period, so a user sees a model decay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadscore.calibration.metrics import _r, roc_auc
from leadscore.diagnostics import Diagnostic, Location

PSI_WARN = 0.25  # above this an input (or the score) moved enough to warn (LS424)
PSI_MOVED = 0.10  # from this on it moved (the report says so, without a warning)
PERIODS = ("month", "week", "quarter")
_FLOOR = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of `actual` against `expected`, both integer bin codes."""
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    if not len(expected) or not len(actual):
        return float("nan")
    values = np.union1d(expected, actual)
    e = np.searchsorted(values, expected)
    a = np.searchsorted(values, actual)
    e_share = np.maximum(np.bincount(e, minlength=len(values)) / len(expected), _FLOOR)
    a_share = np.maximum(np.bincount(a, minlength=len(values)) / len(actual), _FLOOR)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def score_codes(reference: np.ndarray, scores: np.ndarray, parts: int = 10) -> np.ndarray:
    """Bin codes of `scores` at the deciles of `reference` (ties share a bin)."""
    if not len(reference):
        return np.zeros(len(scores), dtype=np.int64)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, parts + 1)[1:-1]))
    return np.searchsorted(edges, scores, side="right").astype(np.int64)


def verdict(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if value > PSI_WARN:
        return "shifted"
    return "moved" if value >= PSI_MOVED else "stable"


@dataclass
class Stability:
    """PSI between the training and the held-out contacts: of the score and of each input."""

    score: float
    inputs: list[tuple[str, float]]  # (input name, PSI), largest first

    def to_dict(self) -> dict[str, Any]:
        return {"score": _r(self.score), "score_verdict": verdict(self.score),
                "inputs": [{"input": name, "psi": _r(value), "verdict": verdict(value)}
                           for name, value in self.inputs]}

    def warnings(self, limit: float = PSI_WARN) -> list[Diagnostic]:
        """LS424 for the score and each input whose PSI is above `limit`."""
        found = [("the score", self.score)] if self.score > limit else []
        found += [(f"'{name}'", value) for name, value in self.inputs if value > limit]
        return [Diagnostic(
            "LS424", f"{what} is not distributed in the held-out period as in training: "
                     f"population stability index {value:.2f} (above {limit:g})",
            Location(field=what.strip("'")), severity="warning",
            hint="check the model on the recent period (`leadscore backtest --by month`), "
                 "and set thresholds on it (`leadscore thresholds --recent 90d`)")
            for what, value in found]


def stability(totals: np.ndarray, inputs: Sequence[tuple[str, np.ndarray]],
              train: np.ndarray, held: np.ndarray) -> Stability:
    """`totals`: the score per contact; `inputs`: (name, bin code per contact)."""
    codes = score_codes(totals[train], totals)
    score = psi(codes[train], codes[held])
    rows = [(name, psi(c[train], c[held])) for name, c in inputs]
    rows.sort(key=lambda row: -row[1] if np.isfinite(row[1]) else 0.0)
    return Stability(score, rows)


def period_keys(created: np.ndarray, period: str) -> list[str]:
    """The period each creation time (epoch seconds) falls in: 2026-03, 2026-W09, 2026-Q1."""
    keys = []
    for ts in created:
        when = datetime.fromtimestamp(float(ts), tz=UTC)
        if period == "week":
            year, week, _ = when.isocalendar()
            keys.append(f"{year}-W{week:02d}")
        elif period == "quarter":
            keys.append(f"{when.year}-Q{(when.month - 1) // 3 + 1}")
        else:
            keys.append(f"{when.year}-{when.month:02d}")
    return keys


def by_period(created: np.ndarray, scores: np.ndarray, labels: np.ndarray,
              stages: Sequence[str | None], period: str = "month") -> list[dict[str, Any]]:
    """Per creation period: contacts, conversions, ROC AUC (None with one class only), mean
    score, the score's PSI against the first period, MQL and SQL volume and precision."""
    keys = np.asarray(period_keys(created, period), dtype=object)
    stage_array = np.asarray([s or "" for s in stages], dtype=object)
    rows: list[dict[str, Any]] = []
    reference: np.ndarray | None = None
    for key in sorted(set(keys.tolist())):
        mask = keys == key
        s, y = scores[mask], labels[mask]
        if reference is None:
            reference = s
        codes_ref = score_codes(reference, reference)
        row: dict[str, Any] = {
            "period": key, "contacts": int(mask.sum()), "converted": int(y.sum()),
            "conversion_rate": _r(float(y.mean())), "roc_auc": _r(roc_auc(s, y)),
            "mean_score": _r(float(s.mean())),
            "score_psi": _r(psi(codes_ref, score_codes(reference, s))),
        }
        for stage in ("mql", "sql"):
            members = stage_array[mask] == stage
            count = int(members.sum())
            row[stage] = count
            row[f"{stage}_precision"] = _r(float(y[members].mean())) if count else None
        rows.append(row)
    return rows


__all__ = ["PERIODS", "PSI_MOVED", "PSI_WARN", "Stability", "by_period", "period_keys", "psi",
           "score_codes", "stability", "verdict"]
