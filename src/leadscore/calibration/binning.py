"""Binning one input for a fitted points model: numbers and event counts into ranges by a
shallow tree (monotonic or free, chosen by an internal validation), categories grouped by their
smoothed conversion rates, a missing value its own bin or the neutral level; the weight of
evidence of each bin and the information value of the input (see `scorecard.py`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from leadscore.calibration import metrics
from leadscore.calibration.features import CATEGORICAL, COUNT, Characteristic

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
        bins.append(Bin(range_label(low, high), low, high))
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


def range_label(low: float | None, high: float | None) -> str:
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

