"""A points model fitted from data: bins per input, a logistic regression, integer points, and
the model file that writes it down.

Each characteristic (see `features.py`) is cut into a few bins by a shallow decision tree
(scikit-learn, the supervised binning scorecards use): numbers and counts into ranges,
categories into groups of similar conversion. One bin per characteristic is the reference
with 0 points — unknown for a number, none for a count, rare categories for a text. A
logistic regression on the bins (one indicator each) gives weights, and points are weights ×
(20 / ln 2): 20 points double the odds of converting. The model file is ordinary: property
tiers, `any_of` rules and event-count tiers that `leadscore validate` accepts and people can
read and edit.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadscore.calibration import metrics
from leadscore.calibration.features import CATEGORICAL, COUNT, Characteristic, Inputs
from leadscore.catalog import PropertyType

TREE_UNDEFINED = -2
UNKNOWN = "\0unknown"


@dataclass
class Bin:
    label: str
    low: float | None = None  # numbers and counts: the tier
    high: float | None = None
    values: tuple[str, ...] = ()  # categories
    unknown: bool = False
    coefficient: float = 0.0
    points: int = 0


@dataclass
class Binned:
    characteristic: Characteristic
    bins: list[Bin]
    codes: np.ndarray  # bin index per contact, −1 = the reference bin
    information_value: float = 0.0

    @property
    def points(self) -> np.ndarray:
        table = np.asarray([0, *(b.points for b in self.bins)], dtype=np.float64)
        return table[self.codes + 1]


@dataclass
class Scorecard:
    binned: list[Binned]
    intercept: float
    scale: float  # points per unit of log-odds
    training_auc: float = float("nan")
    unrounded_auc: float = float("nan")  # held-out, from the fitted weights
    integer_auc: float = float("nan")  # held-out, from the integer points
    dropped: dict[str, str] = field(default_factory=dict)

    def totals(self) -> np.ndarray:
        if not self.binned:
            return np.zeros(0)
        return np.sum([b.points for b in self.binned], axis=0)

    @property
    def offset(self) -> float:
        """The total at which the fitted probability of converting is 50 %."""
        return -self.intercept * self.scale


def bin_characteristic(ch: Characteristic, labels: np.ndarray, train: np.ndarray, *,
                       max_bins: int = 5, min_share: float = 0.05) -> Binned | None:
    """Bins learnt on the training rows; None when the input does not split the outcome."""
    if ch.kind == CATEGORICAL:
        return _bin_categories(ch, labels, train, max_bins, min_share)
    return _bin_numbers(ch, labels, train, max_bins, min_share)


def _tree_thresholds(x: np.ndarray, y: np.ndarray, max_bins: int, min_leaf: int, *,
                     monotone: bool = True) -> list[float]:
    """Cut points of a shallow tree on x. With `monotone`, the tree is fitted to the isotonic
    regression of y on x (increasing or decreasing, whichever fits), so the conversion rate
    of the bins rises or falls steadily — the usual scorecard constraint against noise."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.tree import DecisionTreeRegressor

    if len(x) < 2 * min_leaf or len(np.unique(y)) < 2:
        return []
    target = y.astype(np.float64)
    if monotone:
        with warnings.catch_warnings():  # "increasing may be suspect" on weak inputs
            warnings.simplefilter("ignore")
            target = IsotonicRegression(increasing="auto", out_of_bounds="clip").fit(
                x, target).predict(x)
        if np.ptp(target) == 0:
            return []
    tree = DecisionTreeRegressor(max_leaf_nodes=max_bins, min_samples_leaf=min_leaf,
                                 random_state=0).fit(x[:, None], target)
    return sorted(float(t) for t in tree.tree_.threshold if t != TREE_UNDEFINED)


def _min_leaf(rows: int, labels: np.ndarray, min_share: float) -> int:
    """A bin holds at least `min_share` of the rows and about 20 of the rarer outcome."""
    rare = min(float(labels.mean()), 1 - float(labels.mean())) if len(labels) else 0.5
    return max(int(min_share * rows), int(20 / max(rare, 1e-3)), 5)


def _decimals(values: np.ndarray) -> int:
    for digits in range(0, 5):
        if np.allclose(values, np.round(values, digits), rtol=0, atol=1e-9):
            return digits
    return 4


def _nice_cut(below: float, above: float, digits: int) -> float:
    """The roundest number c with below ≤ c < above and at most `digits` decimals."""
    for d in range(-6, digits + 1):
        unit = 10.0 ** -d
        c = math.ceil(below / unit - 1e-9) * unit
        if below - 1e-9 <= c < above:
            return round(c, max(d, 0))
    return round(below, digits)


def _bin_numbers(ch: Characteristic, labels: np.ndarray, train: np.ndarray, max_bins: int,
                 min_share: float) -> Binned | None:
    x = np.asarray(ch.values, dtype=np.float64)
    if ch.kind == COUNT:
        x = np.nan_to_num(x, nan=0.0)
    known = ~np.isnan(x)
    rows = train & known
    min_leaf = _min_leaf(int(train.sum()), labels[train], min_share)
    thresholds = _tree_thresholds(x[rows], labels[rows], max_bins, min_leaf)
    if not thresholds:
        return None
    seen = np.unique(x[rows])
    digits = 0 if ch.kind == COUNT else _decimals(seen)
    step = 10.0 ** -digits
    cuts = []
    for t in thresholds:
        below = float(seen[seen <= t].max())
        above = float(seen[seen > t].min())
        cuts.append(_nice_cut(below, above, digits))
    cuts = sorted(set(cuts))
    bins: list[Bin] = []
    lows = [None, *(round(c + step, digits) for c in cuts)]
    highs = [*cuts, None]
    for low, high in zip(lows, highs, strict=True):
        if ch.kind == COUNT and low is None:
            continue  # the bin holding 0 (no such event) is the reference
        bins.append(Bin(_range_label(low, high), low, high))
    codes = np.full(len(x), -1, dtype=np.int64)
    for i, b in enumerate(bins):
        inside = known & (x >= (b.low if b.low is not None else -np.inf)) & (
            x <= (b.high if b.high is not None else np.inf))
        codes[inside & (codes == -1)] = i
    return Binned(ch, bins, codes)


def number(value: float) -> str:
    """A bound as written in the file: no exponent, no trailing zeros."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _range_label(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return number(low) if low == high else f"{number(low)}–{number(high)}"
    if low is not None:
        return f"{number(low)}+"
    return f"≤{number(high)}" if high is not None else "any"


def _bin_categories(ch: Characteristic, labels: np.ndarray, train: np.ndarray, max_bins: int,
                    min_share: float) -> Binned | None:
    keys = np.asarray([v if v is not None else UNKNOWN for v in ch.values], dtype=object)
    n_train = int(train.sum())
    counts: dict[str, int] = {}
    for k in keys[train]:
        counts[k] = counts.get(k, 0) + 1
    rare = min(float(labels[train].mean()), 1 - float(labels[train].mean()))
    needed = max(30, int(0.01 * n_train), int(5 / max(rare, 1e-3)))
    kept = sorted(k for k, c in counts.items() if c >= needed)
    if not kept:
        return None
    index = {k: i for i, k in enumerate(kept)}
    y = labels.astype(np.float64)
    prior = float(y[train].mean())
    rate = {}
    for k in kept:
        member = train & (keys == k)
        rate[k] = (float(y[member].sum()) + 20 * prior) / (int(member.sum()) + 20)
    in_kept = np.asarray([k in index for k in keys])
    rows = train & in_kept
    encoded = np.asarray([rate.get(k, prior) for k in keys])
    min_leaf = _min_leaf(n_train, labels[train], min_share)
    thresholds = _tree_thresholds(encoded[rows], labels[rows], max_bins, min_leaf)
    groups: list[list[str]] = [[] for _ in range(len(thresholds) + 1)]
    for k in kept:
        groups[int(np.searchsorted(thresholds, rate[k], side="left"))].append(k)
    groups = [g for g in groups if g]
    has_reference = bool((train & ~in_kept).any())
    if len(groups) < 2 and not has_reference:
        return None
    bins = []
    for group in groups:
        values = tuple(sorted(k for k in group if k != UNKNOWN))
        unknown = UNKNOWN in group
        shown = ", ".join([*values[:4], *(["unknown"] if unknown else [])])
        if len(values) > 4:
            shown += f" … ({len(values)} values)"
        bins.append(Bin(shown, values=values, unknown=unknown))
    lookup = {k: i for i, b in enumerate(bins) for k in (*b.values, *([UNKNOWN] if b.unknown
                                                                     else []))}
    codes = np.asarray([lookup.get(k, -1) for k in keys], dtype=np.int64)
    return Binned(ch, bins, codes)


def information_value(codes: np.ndarray, labels: np.ndarray) -> float:
    shifted = codes + 1
    size = int(shifted.max(initial=0)) + 1
    y = labels.astype(np.float64)
    pos = np.bincount(shifted, weights=y, minlength=size)
    neg = np.bincount(shifted, weights=1 - y, minlength=size)
    p = (pos + 0.5) / (pos.sum() + 0.5 * size)
    q = (neg + 0.5) / (neg.sum() + 0.5 * size)
    return float(((p - q) * np.log(p / q)).sum())


def fit_scorecard(inputs: Inputs, labels: np.ndarray, train: np.ndarray, held_out: np.ndarray,
                  *, max_characteristics: int = 25, min_iv: float = 0.02, max_bins: int = 5,
                  min_share: float = 0.05, pdo: float = 20.0, strength: float = 0.0
                  ) -> Scorecard:
    """Bin every input on the training rows, keep the strongest, fit, and round to points."""
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    candidates: list[Binned] = []
    dropped: dict[str, str] = {}
    for ch in inputs.characteristics:
        binned = bin_characteristic(ch, labels, train, max_bins=max_bins, min_share=min_share)
        if binned is None:
            dropped[ch.key] = "does not split the outcome"
            continue
        binned.information_value = information_value(binned.codes[train], labels[train])
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
        return Scorecard([], 0.0, scale, dropped=dropped)
    columns = [(j, i) for j, b in enumerate(chosen) for i in range(len(b.bins))]
    matrix = np.zeros((len(labels), len(columns)))
    for c, (j, i) in enumerate(columns):
        matrix[:, c] = chosen[j].codes == i
    if strength > 0:
        fit = LogisticRegression(C=strength, max_iter=5000).fit(matrix[train], labels[train])
    else:  # choose the regularisation by 5-fold cross-validation on the training part
        with warnings.catch_warnings():  # scikit-learn's notices of changing defaults
            warnings.simplefilter("ignore", FutureWarning)
            fit = LogisticRegressionCV(Cs=[0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], cv=5,
                                       scoring="roc_auc", max_iter=5000
                                       ).fit(matrix[train], labels[train])
    weights = fit.coef_[0]
    for c, (j, i) in enumerate(columns):
        b = chosen[j].bins[i]
        b.coefficient = float(weights[c])
        b.points = int(round(weights[c] * scale))
    card = Scorecard(chosen, float(fit.intercept_[0]), scale, dropped=dropped)
    linear = matrix @ weights
    card.training_auc = metrics.roc_auc(linear[train], labels[train])
    card.unrounded_auc = metrics.roc_auc(linear[held_out], labels[held_out])
    card.integer_auc = metrics.roc_auc(card.totals()[held_out], labels[held_out])
    return card


# -- the model file ------------------------------------------------------------------------

def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tier(b: Bin) -> str:
    if b.low is not None and b.high is not None:
        bound = (f"exactly: {number(b.low)}" if b.low == b.high
                 else f"between: [{number(b.low)}, {number(b.high)}]")
    elif b.low is not None:
        bound = f"at_least: {number(b.low)}"
    else:
        bound = f"at_most: {number(b.high or 0)}"
    return f"{{{bound}, points: {b.points}}}"


def _category_when(ch: Characteristic, b: Bin) -> str:
    name = ch.property
    written: list[Any] = list(b.values)
    if ch.property_type is PropertyType.BOOL:
        written = [v == "true" for v in b.values]
    parts = []
    if written:
        if len(written) == 1:
            parts.append({"property": name, "equals": written[0]})
        else:
            parts.append({"property": name, "any_of": written})
    if b.unknown:
        parts.append({"property": name, "is_unknown": True})
    return _q(parts[0] if len(parts) == 1 else {"any": parts})


def _unique(name: str, taken: set[str]) -> str:
    base = name if len(name) <= 80 else name[:79] + "…"
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base} ({n})"
        n += 1
    taken.add(candidate)
    return candidate


def _rules(binned: Sequence[Binned]) -> list[str]:
    lines: list[str] = []
    taken: set[str] = set()
    for b in binned:
        ch = b.characteristic
        if ch.kind == CATEGORICAL:
            for bin_ in b.bins:
                if bin_.points == 0:
                    continue
                name = _unique(f"{ch.property}: {bin_.label}", taken)
                lines += [f"      - name: {_q(name)}",
                          f"        when: {_category_when(ch, bin_)}",
                          f"        points: {bin_.points}"]
            continue
        tiers = [t for t in b.bins if t.points != 0]
        if not tiers:
            continue
        when = _q({"property": ch.property}) if ch.kind != COUNT else ch.when
        lines += [f"      - name: {_q(_unique(ch.name, taken))}", f"        when: {when}",
                  "        tiers:"]
        lines += [f"          - {_tier(t)}" for t in tiers]
    return lines


def model_text(card: Scorecard, inputs: Inputs, *, name: str, header: Sequence[str],
               thresholds: tuple[int, int], description: str) -> str:
    """The scorecard as a model file: fit (properties) + engagement (events) = total."""
    used = [b for b in card.binned if any(x.points for x in b.bins)]
    fit = [b for b in used if b.characteristic.source == "property"]
    engagement = [b for b in used if b.characteristic.source == "event"]
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version: 1", f"name: {_q(name)}", f"description: {_q(description)}"]
    declared = sorted({b.characteristic.property for b in fit
                       if b.characteristic.property in inputs.declared})
    if declared:
        lines.append("properties:")
        for prop in declared:
            kind = inputs.declared[prop]
            kind_text = "string" if kind is PropertyType.ENUM else kind.value
            lines.append(f"  {prop}: {{type: {kind_text}}}")
    events_used = sorted({b.characteristic.event_type or "" for b in engagement}
                         & inputs.custom_events)
    if events_used:
        lines.append("event_types:")
        lines += [f"  {_q(kind)}: {{}}" for kind in events_used]
    lines.append("scores:")
    parts = []
    for score, group, text in (("fit", fit, "Who they are: properties"),
                               ("engagement", engagement, "What they did: event counts")):
        rules = _rules(group)
        if not rules:
            continue
        parts.append(score)
        lines += [f"  {score}:", f"    description: {_q(text)}", "    rules:", *rules]
    mql, sql = thresholds
    thresholds_lines = [
        "    thresholds:",
        f"      - {{label: Lead, max: {mql - 1}, stage: lead}}",
        f"      - {{label: MQL, min: {mql}, max: {sql - 1}, stage: mql}}",
        f"      - {{label: SQL, min: {sql}, stage: sql}}",
    ]
    if not parts:
        lines += ["  total:", "    rules:",
                  "      - {name: nothing predicts the outcome, when: {property: created_at, "
                  "is_known: true}, points: 0}", *thresholds_lines]
    else:
        lines += ["  total:", "    description: \"fit + engagement\"",
                  f"    sum: [{', '.join(parts)}]", *thresholds_lines]
    return "\n".join(lines) + "\n"


def default_thresholds(totals: np.ndarray) -> tuple[int, int]:
    """MQL = the top 30 % of training contacts, SQL = the top 10 % (integers, MQL < SQL)."""
    if not len(totals):
        return 1, 2
    mql = int(math.ceil(float(np.quantile(totals, 0.70))))
    sql = int(math.ceil(float(np.quantile(totals, 0.90))))
    if sql <= mql:
        sql = mql + 1
    return mql, sql
