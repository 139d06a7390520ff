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
MIN_SHARE = 0.05  # every bin, and every category given points of its own, holds ≥ 5 % of rows
MONOTONE_TOLERANCE = 0.002  # ROC AUC a monotonic trend may cost in the internal validation
VALIDATION_FOLDS = 5
TRENDS = ("auto", "monotone", "free")


@dataclass
class Bin:
    label: str
    low: float | None = None  # numbers and counts: the tier
    high: float | None = None
    values: tuple[str, ...] = ()  # categories
    unknown: bool = False  # the bin of a missing value
    woe: float = 0.0  # weight of evidence on the training rows (0 = the neutral level)
    share: float = 0.0  # of the training rows
    coefficient: float = 0.0  # the fitted log-odds of this bin: weight × WoE
    points: int = 0


@dataclass
class Binned:
    characteristic: Characteristic
    bins: list[Bin]
    codes: np.ndarray  # bin index per contact, −1 = the neutral level (0 points)
    information_value: float = 0.0
    trend: str = ""  # numbers and counts: increasing | decreasing | free
    validation: dict[str, float] = field(default_factory=dict)  # fit → internal ROC AUC
    weight: float = 0.0

    def _table(self, values: Sequence[float]) -> np.ndarray:
        table = np.asarray([0.0, *values], dtype=np.float64)
        return table[self.codes + 1]

    @property
    def points(self) -> np.ndarray:
        return self._table([b.points for b in self.bins])

    @property
    def woe(self) -> np.ndarray:
        return self._table([b.woe for b in self.bins])

    @property
    def ranges(self) -> list[Bin]:
        """The bins of known values, in order (numbers and counts)."""
        return [b for b in self.bins if not b.unknown]

    def trend_note(self) -> str:
        """Why the bins of a number follow (or do not follow) a trend, for the model file."""
        mono, free = self.validation.get("monotone"), self.validation.get("free")
        if self.trend in ("increasing", "decreasing"):
            text = f"{self.trend} trend: monotonic bins"
            if mono is not None and free is not None:
                text += (f" (internal validation ROC AUC {mono:.4f}; free bins {free:.4f}, "
                         f"kept within {MONOTONE_TOLERANCE:g})")
            return text
        if self.trend == "free":
            text = "no trend: free bins"
            if mono is not None and free is not None:
                text += (f" (internal validation ROC AUC {free:.4f}; monotonic bins {mono:.4f} "
                         f"would cost {free - mono:.4f} > {MONOTONE_TOLERANCE:g})")
            return text
        return ""


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


def woe_table(codes: np.ndarray, labels: np.ndarray, size: int) -> np.ndarray:
    """Weight of evidence of codes 0..size-1: ln(share of converters / share of the others),
    each count smoothed by ½ so an empty side stays finite."""
    y = labels.astype(np.float64)
    pos = np.bincount(codes, weights=y, minlength=size)[:size]
    neg = np.bincount(codes, weights=1 - y, minlength=size)[:size]
    p = (pos + 0.5) / (pos.sum() + 0.5 * size)
    q = (neg + 0.5) / (neg.sum() + 0.5 * size)
    return np.log(p / q)


def bin_characteristic(ch: Characteristic, labels: np.ndarray, train: np.ndarray, *,
                       max_bins: int = 5, min_share: float = MIN_SHARE,
                       trend: str = "auto",
                       tolerance: float = MONOTONE_TOLERANCE) -> Binned | None:
    """Bins learnt on the training rows, with their WoE; None when the input does not split
    the outcome."""
    if ch.kind == CATEGORICAL:
        binned = _bin_categories(ch, labels, train, max_bins, min_share)
    else:
        binned = _bin_numbers(ch, labels, train, max_bins, min_share, trend, tolerance)
    if binned is None:
        return None
    size = len(binned.bins) + 1
    # shares of the whole training population: WoE 0 is its odds, which the neutral level
    # (code −1, whatever its few rows did) stands for
    table = woe_table(binned.codes[train] + 1, labels[train], size)
    shares = np.bincount(binned.codes[train] + 1, minlength=size) / max(int(train.sum()), 1)
    for i, b in enumerate(binned.bins, start=1):
        b.woe = float(table[i])
        b.share = float(shares[i])
    binned.information_value = information_value(binned.codes[train], labels[train])
    return binned


def _isotonic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression

    with warnings.catch_warnings():  # "increasing may be suspect" on weak inputs
        warnings.simplefilter("ignore")
        return IsotonicRegression(increasing="auto", out_of_bounds="clip").fit(x, y).predict(x)


def _tree_thresholds(x: np.ndarray, y: np.ndarray, max_bins: int, min_leaf: int, *,
                     monotone: bool = True) -> list[float]:
    """Cut points of a shallow tree on x. With `monotone`, the tree is fitted to the isotonic
    regression of y on x (increasing or decreasing, whichever fits), and adjacent bins whose
    conversion rates break the trend are merged, so the rate of the bins rises or falls
    steadily — the usual scorecard constraint against noise."""
    from sklearn.tree import DecisionTreeRegressor

    if len(x) < 2 * min_leaf or len(np.unique(y)) < 2:
        return []
    target = y.astype(np.float64)
    if monotone:
        target = _isotonic(x, target)
        if np.ptp(target) == 0:
            return []
    tree = DecisionTreeRegressor(max_leaf_nodes=max_bins, min_samples_leaf=min_leaf,
                                 random_state=0).fit(x[:, None], target)
    cuts = sorted(float(t) for t in tree.tree_.threshold if t != TREE_UNDEFINED)
    if monotone and cuts:
        increasing = float(np.corrcoef(x, target)[0, 1]) >= 0 if np.ptp(x) else True
        cuts = merge_to_trend(x, y, cuts, increasing)
    return cuts


def merge_to_trend(x: np.ndarray, y: np.ndarray, cuts: list[float],
                   increasing: bool) -> list[float]:
    """Remove cut points until the WoE of the bins (x ≤ cut goes left) follows the trend."""
    cuts = list(cuts)
    while cuts:
        codes = np.searchsorted(np.asarray(cuts), x, side="left")
        woe = woe_table(codes, y, len(cuts) + 1)
        steps = np.diff(woe) if increasing else -np.diff(woe)
        broken = np.flatnonzero(steps < 0)
        if not len(broken):
            break
        del cuts[int(broken[0])]
    return cuts


def _min_leaf(rows: int, labels: np.ndarray, min_share: float) -> int:
    """A bin holds at least `min_share` of the rows and about 20 of the rarer outcome."""
    rare = min(float(labels.mean()), 1 - float(labels.mean())) if len(labels) else 0.5
    return max(int(math.ceil(min_share * rows)), int(20 / max(rare, 1e-3)), 5)


MAX_DECIMALS = 9


def _decimals(values: np.ndarray) -> int:
    """Decimals of the training values (at most MAX_DECIMALS): the tiers' step, so that the
    tiers leave no gap a value could fall into."""
    for digits in range(0, MAX_DECIMALS):
        if np.allclose(values, np.round(values, digits), rtol=0, atol=10.0 ** -(digits + 3)):
            return digits
    return MAX_DECIMALS


def _nice_cut(below: float, above: float, digits: int) -> float:
    """The roundest number c with below ≤ c < above and at most `digits` decimals."""
    for d in range(-6, digits + 1):
        unit = 10.0 ** -d
        c = math.ceil(below / unit - 1e-9) * unit
        if below - 1e-9 <= c < above:
            return round(c, max(d, 0))
    return round(below, digits)


def _validation_auc(x: np.ndarray, labels: np.ndarray, train: np.ndarray, max_bins: int,
                    min_share: float, monotone: bool) -> float:
    """ROC AUC of the input's WoE out of fold: bins and WoE learnt on four fifths of the
    training rows, applied to the fifth (missing values: their own WoE when they hold
    `min_share` of the fitting rows, 0 otherwise)."""
    from sklearn.model_selection import KFold

    rows = np.flatnonzero(train)
    if len(rows) < 2 * VALIDATION_FOLDS:
        return float("nan")
    y = labels.astype(np.float64)
    scores = np.zeros(len(rows))
    folds = KFold(VALIDATION_FOLDS, shuffle=True, random_state=0)
    for fit_part, test_part in folds.split(rows):
        fit_rows, test_rows = rows[fit_part], rows[test_part]
        known_fit = ~np.isnan(x[fit_rows])
        min_leaf = _min_leaf(len(fit_rows), y[fit_rows], min_share)
        cuts = _tree_thresholds(x[fit_rows][known_fit], y[fit_rows][known_fit], max_bins,
                                min_leaf, monotone=monotone)
        # code 0 = missing, 1.. = the bins
        fit_codes = np.where(known_fit, np.searchsorted(cuts, x[fit_rows], side="left") + 1, 0)
        table = woe_table(fit_codes, y[fit_rows], len(cuts) + 2)
        if (~known_fit).mean() < min_share:
            table[0] = 0.0
        known_test = ~np.isnan(x[test_rows])
        test_codes = np.where(known_test,
                              np.searchsorted(cuts, x[test_rows], side="left") + 1, 0)
        scores[test_part] = table[test_codes]
    return metrics.roc_auc(scores, labels[rows])


def _bin_numbers(ch: Characteristic, labels: np.ndarray, train: np.ndarray, max_bins: int,
                 min_share: float, trend: str = "auto",
                 tolerance: float = MONOTONE_TOLERANCE) -> Binned | None:
    x = np.asarray(ch.values, dtype=np.float64)
    if ch.kind == COUNT:
        x = np.nan_to_num(x, nan=0.0)
    known = ~np.isnan(x)
    rows = train & known
    n_train = int(train.sum())
    y = labels.astype(np.float64)
    min_leaf = _min_leaf(n_train, labels[train], min_share)
    fits = {kind: _tree_thresholds(x[rows], y[rows], max_bins, min_leaf,
                                   monotone=kind == "monotone")
            for kind in (("monotone", "free") if trend == "auto" else
                         ("free",) if trend == "free" else ("monotone",))}
    validation: dict[str, float] = {}
    chosen = next(iter(fits))
    if len(fits) > 1:
        if fits["monotone"] == fits["free"]:
            chosen = "monotone"
        else:
            validation = {kind: _validation_auc(x, labels, train, max_bins, min_share,
                                                kind == "monotone") for kind in fits}
            mono, free = validation["monotone"], validation["free"]
            chosen = "monotone" if not (np.isfinite(free) and np.isfinite(mono)) or \
                mono >= free - tolerance else "free"
    thresholds = fits[chosen]
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
        bins.append(Bin(_range_label(low, high), low, high))
    codes = np.full(len(x), -1, dtype=np.int64)
    for i, b in enumerate(bins):
        inside = known & (x >= (b.low if b.low is not None else -np.inf)) & (
            x <= (b.high if b.high is not None else np.inf))
        codes[inside & (codes == -1)] = i
    missing = train & ~known
    if n_train and missing.sum() >= min_share * n_train:
        bins.append(Bin("unknown", unknown=True))
        codes[~known] = len(bins) - 1
    binned = Binned(ch, bins, codes, validation=validation)
    if chosen == "free":
        binned.trend = "free"
    else:
        ranged = codes[rows]
        placed = ranged >= 0
        woe = woe_table(ranged[placed], y[rows][placed], len(bins))[:len(lows)]
        binned.trend = "increasing" if woe[-1] >= woe[0] else "decreasing"
    return binned


def number(value: float) -> str:
    """A bound as written in the file: no exponent, no trailing zeros."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{MAX_DECIMALS}f}".rstrip("0").rstrip(".")


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
    needed = max(int(math.ceil(min_share * n_train)), 1)
    kept = sorted(k for k, c in counts.items() if c >= needed and k != UNKNOWN)
    unknown_bin = counts.get(UNKNOWN, 0) >= needed
    if not kept and not unknown_bin:
        return None
    y = labels.astype(np.float64)
    prior = float(y[train].mean())
    rate = {}
    for k in kept:
        member = train & (keys == k)
        rate[k] = (float(y[member].sum()) + 20 * prior) / (int(member.sum()) + 20)
    in_kept = np.asarray([k in rate for k in keys])
    rows = train & in_kept
    encoded = np.asarray([rate.get(k, prior) for k in keys])
    min_leaf = min(_min_leaf(n_train, labels[train], min_share), needed)
    thresholds = _tree_thresholds(encoded[rows], labels[rows], max_bins, min_leaf,
                                  monotone=False) if kept else []
    groups: list[list[str]] = [[] for _ in range(len(thresholds) + 1)]
    for k in kept:
        groups[int(np.searchsorted(thresholds, rate[k], side="left"))].append(k)
    groups = [g for g in groups if g]
    bins = []
    for group in groups:
        values = tuple(sorted(group))
        shown = ", ".join(values[:4])
        if len(values) > 4:
            shown += f" … ({len(values)} values)"
        bins.append(Bin(shown, values=values))
    if unknown_bin:
        bins.append(Bin("unknown", unknown=True))
    lookup = {k: i for i, b in enumerate(bins)
              for k in (*b.values, *([UNKNOWN] if b.unknown else []))}
    codes = np.asarray([lookup.get(k, -1) for k in keys], dtype=np.int64)
    if len(bins) < 2 and not (train & (codes == -1)).any():
        return None  # one bin holds every training row: nothing to tell apart
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


def _fit(matrix: np.ndarray, labels: np.ndarray, strength: float) -> Any:
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
    fit = _fit(columns[train], labels[train], strength)
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


# -- the model file ------------------------------------------------------------------------

def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _tier(b: Bin, *, count: bool = False) -> str:
    if b.low is not None and b.high is not None:
        bound = (f"exactly: {number(b.low)}" if b.low == b.high
                 else f"between: [{number(b.low)}, {number(b.high)}]")
    elif b.low is not None:
        bound = f"at_least: {number(b.low)}"
    else:
        bound = f"at_most: {number(b.high or 0)}"
        if count:  # the lowest count bin holds the contacts with no such event
            bound += ", include_none: true"
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
        tiers = [t for t in b.ranges if t.points != 0]
        note = b.trend_note()
        if tiers:
            when = _q({"property": ch.property}) if ch.kind != COUNT else ch.when
            lines += [f"      # {note}"] if note else []
            lines += [f"      - name: {_q(_unique(ch.name, taken))}", f"        when: {when}",
                      "        tiers:"]
            lines += [f"          - {_tier(t, count=ch.kind == COUNT)}" for t in tiers]
        for unknown in (x for x in b.bins if x.unknown and x.points != 0):
            lines += [f"      - name: {_q(_unique(f'{ch.name}: unknown', taken))}",
                      f"        when: {_q({'property': ch.property, 'is_unknown': True})}",
                      f"        points: {unknown.points}"]
    return lines


def neutral_note(card: Scorecard) -> list[str]:
    """What the file's header says about the neutral level and the trends."""
    share = f"{card.min_share:.0%}"
    lines = [f"Neutral level (0 points, weight of evidence 0): a category seen in fewer than "
             f"{share} of the training contacts, one never seen, and an unknown value unless "
             f"at least {share} were unknown (then it is a bin of its own); every bin holds at "
             f"least {share} of the training contacts."]
    numeric = [b for b in card.binned if b.characteristic.kind != CATEGORICAL]
    if numeric:
        monotone = [b.characteristic.name for b in numeric if b.trend != "free"]
        free = [b.characteristic.name for b in numeric if b.trend == "free"]
        text = (f"Trends: {len(monotone)} of {len(numeric)} numeric inputs have monotonic "
                f"points (kept wherever it cost at most {MONOTONE_TOLERANCE:g} ROC AUC in a "
                f"{VALIDATION_FOLDS}-fold validation within the training contacts)")
        text += f"; free bins: {', '.join(free)}." if free else "."
        lines.append(text)
    return lines


PAIRS_TEXT = ("Two inputs together: points beyond what their own bins add up to, each rule "
              "kept for the ROC AUC it added on an inner hold-out of the training contacts")


def model_text(card: Scorecard, inputs: Inputs, *, name: str, header: Sequence[str],
               thresholds: tuple[int, int], description: str,
               probability: Sequence[str] = ()) -> str:
    """The scorecard as a model file: fit (properties) + engagement (events) = total."""
    used = [b for b in card.binned if any(x.points for x in b.bins)]
    fit = [b for b in used if b.characteristic.source == "property"]
    engagement = [b for b in used if b.characteristic.source == "event"]
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version: 1", f"name: {_q(name)}", f"description: {_q(description)}"]
    paired = [side.binned.characteristic for rule in card.pairs
              for side in (rule.first, rule.second)]
    declared = sorted({ch.property for ch in [*(b.characteristic for b in fit), *paired]
                       if ch.property in inputs.declared})
    if declared:
        lines.append("properties:")
        for prop in declared:
            kind = inputs.declared[prop]
            kind_text = "string" if kind is PropertyType.ENUM else kind.value
            lines.append(f"  {prop}: {{type: {kind_text}}}")
    events_used = sorted({ch.event_type or "" for ch in
                          [*(b.characteristic for b in engagement), *paired]}
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
    if card.pairs and parts:
        taken: set[str] = set()
        parts.append("pairs")
        lines += ["  pairs:", f"    description: {_q(PAIRS_TEXT)}", "    rules:"]
        for rule in card.pairs:
            lines += rule.rule_lines(taken)
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
        summed = "fit + engagement" + (" + pairs" if card.pairs else "")
        lines += ["  total:", f"    description: {_q(summed)}",
                  f"    sum: [{', '.join(parts)}]", *thresholds_lines, *probability]
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
