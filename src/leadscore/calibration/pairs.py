"""Pair rules: points for two inputs together ("A in these bins AND B in those"), chosen on an
inner hold-out of the training contacts.

A scorecard adds one number per bin of each input; it cannot say that a contact who viewed
many product pages *and* left few of them at once converts more than the two bins' points
add up to. A pair rule does, and stays a rule of the model language: `when: {all: [A's bin
condition, B's bin condition]}`, `points: N` — every engine scores it, `compile` writes it
to SQL, people read and edit it.

Choosing them must not fit the training period's noise (an earlier attempt that chose pairs
by the training contacts alone gained 0.014 held-out ROC AUC on Online Shoppers with a
random split and lost 0.016 with a time split). So:

1. Inner validation within the training contacts: with a time split forward — the third
   quarter of them (by creation) checked on the first half, the last quarter on the first
   three (`TIME_FOLDS`, `INNER_SHARE`); otherwise 4 folds by a hash of the contact id. The
   bins stay the scorecard's (learnt on all training contacts); their weights of evidence
   and the regression are refitted on each fold's fitting part (a bin it hardly holds is
   neutral).
2. Candidates: for the `PAIR_INPUTS` (16) strongest inputs, every pair of them and every
   combination of one *side* of each — a bin, or for a number or count the bins up to or
   from one (a range) — whose cell holds at least `CELL_SHARE` (5 %) of the training
   contacts and of every check part.
3. Greedy, at most `MAX_PAIRS` (4) rules: the candidates are ranked by their score test
   against the current model (how far the converters in the cell exceed what it expects, in
   standard errors); the `SHORTLIST` (6) best untried are each fitted, and the one with the
   best mean inner ROC AUC among those better in every fold is kept when it adds at least
   `PAIR_MARGIN` (0.003) to the mean. Otherwise the search stops.
4. A rule's weight is fitted with the scorecard's linear predictor held fixed (its inputs
   keep their points), on all training contacts, and rounded to points. With no rule kept
   the scorecard is exactly what it was without this step. ARCHITECTURE.md has the
   measurements that chose all this.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import yaml

from leadscore.calibration import metrics
from leadscore.calibration.binning import Bin, Binned, number, range_label, woe_table
from leadscore.calibration.features import CATEGORICAL, COUNT
from leadscore.calibration.model_file import category_when, unique_name
from leadscore.calibration.population import unit_hash
from leadscore.calibration.scorecard import Scorecard, fit_weights

INNER_SHARE = 0.25
PAIR_INPUTS = 16
MAX_PAIRS = 4
SHORTLIST = 6
PAIR_MARGIN = 0.003
CELL_SHARE = 0.05
TIME_FOLDS = 2
# training contacts the search reads at most (a sample by a hash of the id, the same in every
# run): the search refits the scorecard per fold, and at 100,000 contacts it took 11–17 s of
# `suggest` (load 8) — the 60 s goal of `make bench-suggest` (P8 item 7) had no room for it
SEARCH_ROWS = 50_000


@dataclass
class Side:
    """One input's part of a pair rule: some of its bins."""

    binned: Binned
    bins: tuple[int, ...]  # indices into binned.bins
    label: str
    mask: np.ndarray  # bool per contact

    @property
    def name(self) -> str:
        return self.binned.characteristic.name

    def criterion(self) -> dict[str, Any]:
        """The side as a criterion of the model language (a dict, written as flow JSON)."""
        ch = self.binned.characteristic
        chosen = [self.binned.bins[i] for i in self.bins]
        if ch.kind == CATEGORICAL:
            return json.loads(category_when(ch, chosen[0]))
        if chosen[0].unknown:
            return {"property": ch.property, "is_unknown": True}
        low, high = chosen[0].low, chosen[-1].high
        if ch.kind == COUNT:
            when = dict(yaml.safe_load(ch.when or "{}"))
            if low is None:
                count: dict[str, Any] = {"at_most": _n(high), "include_none": True}
            elif high is None:
                count = {"at_least": _n(low)}
            else:
                count = {"between": [_n(low), _n(high)]}
            when["count"] = count
            return when
        if low is not None and high is not None:
            return {"property": ch.property, "between": [_n(low), _n(high)]}
        if low is not None:
            return {"property": ch.property, "at_least": _n(low)}
        return {"property": ch.property, "at_most": _n(high)}


def _n(value: float | None) -> int | float:
    text = number(value or 0.0)
    return int(text) if "." not in text else float(text)


@dataclass
class PairRule:
    first: Side
    second: Side
    inner_before: float  # inner hold-out ROC AUC without the rule, and with it
    inner_after: float
    coefficient: float = 0.0
    points: int = 0

    @property
    def mask(self) -> np.ndarray:
        return self.first.mask & self.second.mask

    @property
    def name(self) -> str:
        return f"{self.first.name}: {self.first.label} and {self.second.name}: " \
               f"{self.second.label}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.name, "points": self.points,
                "inner_roc_auc": [metrics._r(self.inner_before), metrics._r(self.inner_after)]}

    def rule_lines(self, taken: set[str]) -> list[str]:
        when = {"all": [self.first.criterion(), self.second.criterion()]}
        return [f"      # chosen on the inner validation: ROC AUC {self.inner_before:.4f} → "
                f"{self.inner_after:.4f}",
                f"      - name: {json.dumps(unique_name(self.name, taken), ensure_ascii=False)}",
                f"        when: {json.dumps(when, ensure_ascii=False)}",
                f"        points: {self.points}"]


def inner_folds(ids: Sequence[str], created: np.ndarray, train: np.ndarray, kind: str,
                seed: int = 7, share: float = INNER_SHARE,
                limit: int = SEARCH_ROWS) -> list[Fold]:
    """The inner validation within the training contacts (at most `limit` of them, chosen by
    a hash of the id), as (fit, check) masks: with a time split `TIME_FOLDS` forward folds,
    each block of `share` of them (by creation) checked on all created before it;
    otherwise round(1 / share) folds by a hash of the contact id, each checked once."""
    rows = np.flatnonzero(train)
    if not len(rows):
        return []
    if len(rows) > limit:  # a sample of them, by a hash of the id
        keys = np.array([unit_hash(ids[int(i)], seed, "pairs") for i in rows])
        rows = np.sort(rows[np.argsort(keys, kind="stable")[:limit]])
        train = np.zeros(len(train), dtype=bool)
        train[rows] = True
    if kind == "time":  # forward: each block of `share` checked on all before it
        order = rows[np.argsort(created[rows], kind="stable")]
        folds = []
        for k in range(TIME_FOLDS, 0, -1):
            start = len(order) - int(round(k * share * len(order)))
            end = len(order) - int(round((k - 1) * share * len(order)))
            fit, check = np.zeros(len(train), dtype=bool), np.zeros(len(train), dtype=bool)
            fit[order[:start]] = True
            check[order[start:end]] = True
            folds.append((fit, check))
        return folds
    count = int(round(1 / share))
    bucket = np.full(len(train), -1)
    bucket[rows] = [min(int(unit_hash(ids[int(i)], seed, "inner") * count), count - 1)
                    for i in rows]
    return [(train & (bucket != k), bucket == k) for k in range(count)]


def sides(binned: Binned, rows: np.ndarray, min_rows: int) -> list[Side]:
    """The candidate sides of an input: each bin, and for numbers and counts the ranges of
    bins up to or from one; those with at least `min_rows` (and not all but `min_rows`)
    of `rows`."""
    codes = binned.codes
    found: list[Side] = []
    for i, b in enumerate(binned.bins):
        found.append(Side(binned, (i,), b.label, codes == i))
    if binned.characteristic.kind != CATEGORICAL:
        ranges = [i for i, b in enumerate(binned.bins) if not b.unknown]
        for k in range(2, len(ranges)):
            low, high = ranges[:k], ranges[len(ranges) - k:]
            found.append(Side(binned, tuple(low), _label(binned.bins, low),
                              np.isin(codes, low)))
            found.append(Side(binned, tuple(high), _label(binned.bins, high),
                              np.isin(codes, high)))
    total = int(rows.sum())
    return [s for s in found if min_rows <= int(s.mask[rows].sum()) <= total - min_rows]


def _label(bins: list[Bin], chosen: Sequence[int]) -> str:
    return range_label(bins[chosen[0]].low, bins[chosen[-1]].high)


def _woe_columns(card: Scorecard, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each input's WoE per contact, the tables learnt on `rows` (the neutral level 0)."""
    columns = []
    for b in card.binned:
        size = len(b.bins) + 1
        table = woe_table(b.codes[rows] + 1, labels[rows], size)
        # the neutral level, and a bin the rows hardly hold (a month only the check rows
        # have), say nothing
        held = np.bincount(b.codes[rows] + 1, minlength=size)
        table[held < card.min_share / 2 * rows.sum()] = 0.0
        table[0] = 0.0
        columns.append(table[b.codes + 1])
    return np.column_stack(columns)


def _score_tests(sides: dict[int, np.ndarray], groups: Sequence[tuple[int, int, np.ndarray,
                                                                     np.ndarray]],
                 labels: np.ndarray, p: np.ndarray) -> np.ndarray:
    """|score test| of adding each candidate's 0/1 column (the cells of `groups`, in order)
    to a logistic model that gave the rows the probabilities p: how many standard errors its
    converters are above or below what the model expects."""
    residual = (labels.astype(np.float64) - p).astype(np.float32)
    variance = (p * (1 - p)).astype(np.float32)
    tests = []
    for a, b, first, second in groups:
        num = (sides[a] * residual) @ sides[b].T
        den = (sides[a] * variance) @ sides[b].T
        tests.append(np.abs(num[first, second]) / np.sqrt(np.maximum(den[first, second],
                                                                     1e-12)))
    return np.concatenate(tests) if tests else np.zeros(0)


Fold = tuple[np.ndarray, np.ndarray]  # (rows the rules are fitted on, rows they are judged on)


def select_pairs(card: Scorecard, labels: np.ndarray, folds: Sequence[Fold], *,
                 max_pairs: int = MAX_PAIRS, margin: float | None = None,
                 strength: float = 0.0) -> list[PairRule]:
    """The pair rules that each improve the inner validation's ROC AUC (the mean over
    `folds`) by `margin` (module docstring), in the order they were chosen; their points
    are not fitted yet."""
    margin = PAIR_MARGIN if margin is None else margin
    folds = [(f, c) for f, c in folds
             if f.sum() >= 40 and c.sum() >= 20 and labels[c].any() and not labels[c].all()]
    if max_pairs <= 0 or len(card.binned) < 2 or not folds:
        return []
    ranking = np.logical_or.reduce([f for f, _ in folds])
    strongest = sorted(range(len(card.binned)),
                       key=lambda i: -card.binned[i].information_value)[:PAIR_INPUTS]
    share = CELL_SHARE
    min_rows = int(np.ceil(share * ranking.sum()))
    side_lists = {i: found for i in strongest
                  if (found := sides(card.binned[i], ranking, min_rows))}

    def matrix(i: int, rows: np.ndarray) -> np.ndarray:
        return np.stack([side.mask[rows] for side in side_lists[i]]).astype(np.float32)

    # cell counts of every pair of sides at once: a product of the sides' 0/1 matrices
    ranked = {i: matrix(i, ranking) for i in side_lists}
    checked = [({i: matrix(i, c) for i in side_lists}, share * c.sum()) for _, c in folds]
    total = int(ranking.sum())
    candidates: list[tuple[Side, Side]] = []
    groups: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # inputs, their sides' indices
    for a, b in combinations(sorted(side_lists), 2):
        counts = ranked[a] @ ranked[b].T
        ok = (counts >= min_rows) & (counts <= total - min_rows)
        for check, least in checked:
            ok &= check[a] @ check[b].T >= least
        first, second = np.nonzero(ok)
        if len(first):
            groups.append((a, b, first, second))
            candidates += [(side_lists[a][i], side_lists[b][j])
                           for i, j in zip(first, second, strict=True)]
    if not candidates:
        return []
    c = strength or card.strength or 1.0
    # the scorecard's linear predictor, learnt on the ranking rows and on each fold's
    # fitting rows; a rule's weight is fitted with it held fixed
    offsets = [_linear(_woe_columns(card, labels, rows), labels, rows, c)
               for rows in (ranking, *(f for f, _ in folds))]

    def fitted(extra: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """p on the ranking rows, and the inner ROC AUC of each fold."""
        aucs = []
        for (fit_rows, check_rows), eta in zip(folds, offsets[1:], strict=True):
            added = offset_fit(eta[fit_rows], extra, fit_rows, labels, c)
            aucs.append(metrics.roc_auc(eta[check_rows] + added(check_rows),
                                        labels[check_rows]))
        eta = offsets[0][ranking] + offset_fit(offsets[0][ranking], extra, ranking, labels,
                                               c)(ranking)
        return 1 / (1 + np.exp(-eta)), np.asarray(aucs)

    chosen: list[PairRule] = []
    extra: list[np.ndarray] = []
    p, auc = fitted(extra)
    tried: set[int] = set()  # each candidate is tried once
    while len(chosen) < max_pairs:
        tests = _score_tests(ranked, groups, labels[ranking], p)
        shortlist = [int(k) for k in np.argsort(-tests, kind="stable")
                     if int(k) not in tried][:SHORTLIST]
        best: tuple[np.ndarray, int, np.ndarray] | None = None
        for k in shortlist:
            tried.add(k)
            sa, sb = candidates[k]
            p_trial, auc_trial = fitted([*extra, (sa.mask & sb.mask).astype(np.float64)])
            # better in every fold, and the best on average
            if (auc_trial > auc).all() and (best is None or auc_trial.mean() > best[0].mean()):
                best = (auc_trial, k, p_trial)
        if best is None or best[0].mean() < auc.mean() + margin:
            break
        sa, sb = candidates[best[1]]
        chosen.append(PairRule(sa, sb, float(auc.mean()), float(best[0].mean())))
        extra.append((sa.mask & sb.mask).astype(np.float64))
        p, auc = best[2], best[0]
    return chosen


def _linear(columns: np.ndarray, labels: np.ndarray, rows: np.ndarray,
            strength: float) -> np.ndarray:
    return fit_weights(columns[rows], labels[rows], strength).decision_function(columns)


def offset_fit(offset: np.ndarray, extra: Sequence[np.ndarray], rows: np.ndarray,
               labels: np.ndarray, strength: float) -> Any:
    """Fit weights of the 0/1 columns `extra` (and a shift of the intercept) on `rows`, the
    linear predictor `offset` held fixed (an L2 penalty 1 / strength on the weights, as
    scikit-learn's C); returns a function: rows → their added log-odds."""
    x = np.column_stack([np.ones(int(rows.sum())), *(e[rows] for e in extra)])
    y = labels[rows].astype(np.float64)
    penalty = np.full(x.shape[1], 1.0 / max(strength, 1e-6))
    penalty[0] = 0.0
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(offset + x @ beta)))
        gradient = x.T @ (y - p) - penalty * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.abs(step).max() < 1e-10:
            break

    def added(where: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(int(where.sum())), *(e[where] for e in extra)]) @ beta

    added.beta = beta  # type: ignore[attr-defined]
    return added


def add_pairs(card: Scorecard, pairs: list[PairRule], labels: np.ndarray, train: np.ndarray,
              held_out: np.ndarray, strength: float = 0.0) -> Scorecard:
    """Fit the pair rules' weights on all training contacts, the scorecard's own weights held
    fixed, and round them to points; the card is returned unchanged without any rule."""
    if not pairs:
        return card
    woe = np.column_stack([b.woe for b in card.binned])
    masks = np.column_stack([r.mask for r in pairs]).astype(np.float64)
    base = woe @ np.asarray([b.weight for b in card.binned]) + card.intercept
    beta = offset_fit(base[train], list(masks.T), train, labels,
                      strength or card.strength or 1.0).beta
    for rule, weight in zip(pairs, beta[1:], strict=True):
        rule.coefficient = float(weight)
        rule.points = int(round(weight * card.scale))
    card.pairs = [r for r in pairs if r.points != 0]
    card.intercept += float(beta[0])
    linear = base + masks @ beta[1:]
    card.training_auc = metrics.roc_auc(linear[train], labels[train])
    card.unrounded_auc = metrics.roc_auc(linear[held_out], labels[held_out])
    card.integer_auc = metrics.roc_auc(card.totals()[held_out], labels[held_out])
    return card
