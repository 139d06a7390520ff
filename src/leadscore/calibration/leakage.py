"""The leakage guard: inputs that predict the outcome too well, or change after it.

Two signals, each a warning diagnostic naming the input:
- LS420: the input nearly separates the outcome on its own. Its univariate ROC AUC is
  measured honestly — values are grouped (numbers into 10 quantile bins, rare categories
  together, unknown as its own group) and each contact gets the conversion rate of its group
  from the *other* folds of a 5-fold split, so an identifier cannot look predictive — and
  reported as max(AUC, 1 − AUC). It warns at AUC ≥ 0.90, or when the information value (the
  scorecard builders' measure of strength; above 0.5 is "suspicious", Siddiqi 2006) is at
  least 1.5, which catches a column filled in after the outcome for only part of the contacts
  (X Education's `Lead Quality`: AUC 0.80, IV 1.9). Both limits are settings.
- LS421: the property's history shows changes after the outcome date for many converters:
  someone updates it afterwards, so any copy of it not dated exactly leaks the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leadscore.calibration import metrics
from leadscore.calibration.features import CATEGORICAL, Characteristic, Inputs
from leadscore.diagnostics import Diagnostic, Location

AUC_LIMIT = 0.90
IV_LIMIT = 1.5
CHANGED_SHARE = 0.05  # of converters whose value changed after their outcome


@dataclass(frozen=True)
class InputStrength:
    input: str
    auc: float
    information_value: float
    known_share: float

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "univariate_auc": metrics._r(self.auc),
                "information_value": metrics._r(self.information_value),
                "known_share": metrics._r(self.known_share)}


def group_codes(values: np.ndarray, kind: str) -> np.ndarray:
    """Integer groups: number → quantile bin (10), text → category (rare ones merged),
    unknown → its own group."""
    n = len(values)
    codes = np.zeros(n, dtype=np.int64)
    if kind == CATEGORICAL:
        texts = [v if v is not None else "\0unknown" for v in values]
        counts: dict[str, int] = {}
        for t in texts:
            counts[t] = counts.get(t, 0) + 1
        rare = max(10, int(0.002 * n))
        index: dict[str, int] = {}
        for i, t in enumerate(texts):
            key = t if counts[t] >= rare or t == "\0unknown" else "\0other"
            codes[i] = index.setdefault(key, len(index))
        return codes
    x = np.asarray(values, dtype=np.float64)
    known = ~np.isnan(x)
    if known.any():
        order = np.argsort(x[known], kind="stable")
        # by rank, but equal values share the bin of their value's first occurrence
        sorted_values = x[known][order]
        first = np.searchsorted(sorted_values, x[known], side="left")
        bins = np.minimum((first * 10 // max(len(order), 1)).astype(np.int64), 9)
        codes[known] = bins + 1
    return codes


def strength(values: np.ndarray, kind: str, labels: np.ndarray, *, seed: int = 0
             ) -> tuple[float, float]:
    """(univariate ROC AUC as max(auc, 1 − auc) with out-of-fold group rates, information
    value) of one input."""
    from sklearn.model_selection import KFold

    codes = group_codes(values, kind)
    y = labels.astype(np.float64)
    size = int(codes.max(initial=0)) + 1
    encoded = np.zeros(len(y))
    folds = KFold(5, shuffle=True, random_state=seed) if len(y) >= 10 else None
    if folds is None:
        return float("nan"), 0.0
    for train, test in folds.split(codes):
        prior = y[train].mean()
        hits = np.bincount(codes[train], weights=y[train], minlength=size)
        count = np.bincount(codes[train], minlength=size)
        rate = (hits + 10 * prior) / (count + 10)
        encoded[test] = rate[codes[test]]
    auc = metrics.roc_auc(encoded, labels)
    auc = max(auc, 1 - auc) if np.isfinite(auc) else float("nan")
    pos = np.bincount(codes, weights=y, minlength=size)
    neg = np.bincount(codes, weights=1 - y, minlength=size)
    p = (pos + 0.5) / (pos.sum() + 0.5 * size)
    q = (neg + 0.5) / (neg.sum() + 0.5 * size)
    iv = float(((p - q) * np.log(p / q)).sum())
    return float(auc), iv


def measure_inputs(characteristics: Sequence[Characteristic], labels: np.ndarray
                   ) -> list[InputStrength]:
    """Strength of every characteristic, strongest first."""
    out = []
    for ch in characteristics:
        auc, iv = strength(ch.values, ch.kind, labels)
        if ch.kind == CATEGORICAL:
            known = float(np.mean([v is not None for v in ch.values])) if len(ch.values) else 0.0
        else:
            known = float(np.mean(~np.isnan(np.asarray(ch.values, dtype=np.float64))))
        out.append(InputStrength(ch.property or ch.key, auc, iv, known))
    return sorted(out, key=lambda s: -(s.auc if np.isfinite(s.auc) else 0))


def separation_warnings(strengths: Sequence[InputStrength], *, auc_limit: float = AUC_LIMIT,
                        iv_limit: float = IV_LIMIT) -> list[Diagnostic]:
    found = []
    for s in strengths:
        if (np.isfinite(s.auc) and s.auc >= auc_limit) or s.information_value >= iv_limit:
            found.append(Diagnostic(
                "LS420",
                f"'{s.input}' nearly separates the outcome on its own: univariate ROC AUC "
                f"{s.auc:.3f}, information value {s.information_value:.2f} "
                f"(limits {auc_limit:g} / {iv_limit:g})",
                Location(field=s.input), text=s.input, severity="warning",
                hint="an input this strong is usually filled in after the outcome (by sales, "
                     "or at export time); leave it out unless you know it is known before "
                     "(suggest --exclude, or drop the column from the mapping)"))
    return found


def change_warnings(changed: Mapping[str, int], converters: int, inputs: Sequence[str]
                    ) -> list[Diagnostic]:
    """LS421 for inputs that changed after the outcome date for many converters."""
    found = []
    for name in inputs:
        n = changed.get(name, 0)
        if converters and n >= max(5, CHANGED_SHARE * converters):
            found.append(Diagnostic(
                "LS421",
                f"'{name}' changed after the outcome date for {n:,} of {converters:,} contacts "
                "with an outcome: it is updated once the outcome is known",
                Location(field=name), text=name, severity="warning",
                hint="backtests read its value as of each cutoff, which is safe only if its "
                     "history is dated correctly; a copy imported without dates leaks the "
                     "outcome"))
    return found


def guard(inputs: Inputs, strengths: Sequence[InputStrength], warnings: Sequence[Diagnostic],
          allow: Sequence[str] = ()) -> tuple[dict[str, str], list[str]]:
    """Leave out of `inputs` every input an LS420 warning flags, unless `allow` names it.
    Returns (left out → its strength in words, flagged but allowed)."""
    flagged = {w.location.field for w in warnings if w.code == "LS420"}
    strength_of = {s.input: s for s in strengths}
    guarded: dict[str, str] = {}
    allowed: list[str] = []
    kept = []
    for ch in inputs.characteristics:
        name = ch.property or ch.key
        if name not in flagged:
            kept.append(ch)
        elif name in allow:
            kept.append(ch)
            if name not in allowed:
                allowed.append(name)
        else:
            s = strength_of[name]
            guarded[name] = (f"univariate ROC AUC {s.auc:.3f}, information value "
                             f"{s.information_value:.2f}")
            inputs.skipped[name] = "left out by the leakage guard (--allow to use it)"
    inputs.characteristics = kept
    return guarded, allowed


def guard_notes(guarded: Mapping[str, str], allowed: Sequence[str]) -> list[Diagnostic]:
    """LS422 for each input the guard left out; LS423 for each one used by --allow."""
    notes = [Diagnostic(
        "LS422", f"'{name}' was left out of the suggested model: the leakage guard flagged it "
                 f"({why})",
        Location(field=name), text=name, severity="warning",
        hint=f"if it is known before the outcome, `--allow {name}` uses it")
        for name, why in guarded.items()]
    notes += [Diagnostic(
        "LS423", f"'{name}' is used although the leakage guard flagged it (--allow)",
        Location(field=name), text=name, severity="warning",
        hint="check that its value was known before each outcome; otherwise the held-out "
             "ROC AUC promises what the model cannot do") for name in allowed]
    return notes
