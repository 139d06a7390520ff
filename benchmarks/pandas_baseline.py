"""A naive pandas engine for scoring models: the benchmark's baseline and the second engine of
the differential test (`tests/evaluation/test_differential.py`).

It interprets the model's criteria tree generically over two frames — contacts (one row per
contact, one column per property) and events (one row per event: contact_id, type, time and
one column per attribute) — computing each rule for all contacts at once: property tests as
vectorised string/number operations, event criteria by filtering the events frame and
grouping by contact (count, the time of the event that earned the points), all/any/not as
operations on those per-contact columns, then tiers, per-event points, decay, and the caps of
rule → group → score, and sum scores. Nothing about the example model is written here: rules,
operators, windows and points are all read from the `Model`.

Supported: property and attribute operators equals, not_equals, any_of, none_of, contains,
not_contains, starts_with, ends_with, matches, regex, greater_than, at_least, less_than,
at_most, between, is_known, is_unknown; event windows (within_last, since, until) and counts;
all/any/not; property and event-count tiers; per-event rules; every decay kind; rule, group
and score minimum/maximum; sum scores. Not supported (raises `Unsupported`): changed_within
and within_last on date properties — the example model uses neither.

Contact ids are integer codes (the contact's position) in both frames, as a pandas user would
do with a categorical, so that grouping is not dominated by string hashing. Times are integer
microseconds; the arithmetic is `leadscore.evaluation.arithmetic`'s (round2, round6, per-event
decayed points as integer millionths, sums left to right), text is lowered with `str.lower`,
patterns run on RE2 (pyarrow strings), and an attribute counts only when its JSON type fits the
filter's kind.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadscore.catalog import duration_micros, read_attribute, to_micros
from leadscore.evaluation.arithmetic import seconds_to_micros
from leadscore.model import criteria as c
from leadscore.model.model import Decay, Model, Rule, Score
from leadscore.model.operators import OPERATORS
from leadscore.model.patterns import case_insensitive, glob_regex, parse_glob
from leadscore.synthetic import PROPERTY_COLUMNS, SyntheticData
from leadscore.synthetic.people import FEEDBACK_COLUMNS

INF = np.inf
NAN = np.nan
MICROS = 1_000_000


class Unsupported(NotImplementedError):
    """A construct of the model this baseline does not interpret."""


def build_frames(data: SyntheticData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(contacts, events) frames of generated data, events sorted by contact, type and time."""
    columns: dict[str, Any] = {"contact_id": np.arange(data.contact_count, dtype=np.int64),
                               "created_at": data.contacts.created_at.astype(np.int64) * MICROS}
    if data.contacts.feedback_at is not None:  # -1: never judged
        at = data.contacts.feedback_at.astype(np.int64)
        columns["feedback_at"] = np.where(at >= 0, at * MICROS, -1)
    for name in PROPERTY_COLUMNS:
        values = data.contacts.columns[name]
        if name in ("employees", "annual_revenue"):
            columns[name] = pd.Series(values, dtype="float64")
        else:
            columns[name] = pd.Series(values, dtype=object)
    contacts = pd.DataFrame(columns)
    ev = data.events
    frame: dict[str, Any] = {
        "contact_id": ev.contact.astype(np.int64),
        "type": np.asarray(data.event_types, dtype=object)[ev.type],
        "time": ev.time.astype(np.int64) * MICROS,  # microseconds
    }
    names = sorted({key for attributes in data.attributes for key in attributes})
    for name in names:
        values = np.asarray([a.get(name) for a in data.attributes] + [None], dtype=object)
        frame[name] = values[ev.attributes]
    return contacts, pd.DataFrame(frame)


def decay_factors(decay: Decay, age: np.ndarray) -> np.ndarray:
    """`Decay.factor_us` for an array of ages in microseconds (int64)."""
    half_life, step_every, linear, expire_after = decay.micros
    if half_life is not None:
        factor = np.power(0.5, age / half_life)
    elif step_every is not None and decay.step_lose is not None:
        factor = np.maximum(0.0, 1.0 - decay.step_lose * (age // step_every))
    elif linear is not None:
        factor = np.maximum(0.0, 1.0 - age / linear)
    else:
        factor = np.ones(len(age))
    if expire_after is not None:
        factor = np.where(age > expire_after, 0.0, factor)
    return np.where(age <= 0, 1.0, factor)


def round2(values: np.ndarray) -> np.ndarray:
    return np.floor(values * 100.0 + 0.5) / 100.0


def round6(values: np.ndarray) -> np.ndarray:
    return np.floor(values * 1_000_000.0 + 0.5) / 1_000_000.0


def _arrow_text(values: pd.Series) -> pd.Series:
    """Text as pyarrow strings, whose regular expressions are RE2's (as the evaluator's)."""
    return values.astype(str).astype("string[pyarrow]")


def test_values(values: pd.Series, test: c.ValueTest) -> np.ndarray:
    """The value test on every row (unknown values give the operator's `when_unknown`)."""
    name, expected = test.op, test.expected
    known = values.notna().to_numpy()
    if name == "is_known":
        return known == expected
    if name == "is_unknown":
        return (~known) == expected
    if name in ("changed_within", "within_last"):
        raise Unsupported(f"the pandas baseline does not interpret '{name}'")
    if name in ("equals", "not_equals", "any_of", "none_of"):
        sample = next(iter(expected)) if name in ("any_of", "none_of") else expected
        lhs = values.str.lower() if isinstance(sample, str) else values
        hit = lhs.isin(expected) if name in ("any_of", "none_of") else lhs.eq(expected)
        result = hit.fillna(False).to_numpy(dtype=bool)
        if name in ("not_equals", "none_of"):
            result = ~result
    elif name in ("contains", "not_contains", "starts_with", "ends_with", "matches"):
        text = _arrow_text(values).str.lower()
        if name in ("contains", "not_contains"):
            hit = np.zeros(len(values), dtype=bool)
            for part in expected:
                hit |= text.str.contains(part, regex=False).to_numpy(dtype=bool,
                                                                      na_value=False)
            result = ~hit if name == "not_contains" else hit
        elif name == "starts_with":
            result = text.str.startswith(expected).to_numpy(dtype=bool, na_value=False)
        elif name == "ends_with":
            result = text.str.endswith(expected).to_numpy(dtype=bool, na_value=False)
        else:
            result = np.zeros(len(values), dtype=bool)
            for pattern in expected:
                hit = text.str.fullmatch(glob_regex(parse_glob(pattern)))
                result |= hit.to_numpy(dtype=bool, na_value=False)
    elif name == "regex":
        with warnings.catch_warnings():  # pandas warns about groups, which do not matter here
            warnings.simplefilter("ignore", UserWarning)
            hit = _arrow_text(values).str.contains(case_insensitive(expected), regex=True)
        result = hit.to_numpy(dtype=bool, na_value=False)
    elif name in ("greater_than", "at_least", "less_than", "at_most", "between"):
        numbers = values.to_numpy()
        with np.errstate(invalid="ignore"):
            if name == "greater_than":
                result = numbers > expected
            elif name == "at_least":
                result = numbers >= expected
            elif name == "less_than":
                result = numbers < expected
            elif name == "at_most":
                result = numbers <= expected
            else:
                result = (numbers >= expected[0]) & (numbers <= expected[1])
        result = np.asarray(result, dtype=bool)
    else:
        raise Unsupported(f"the pandas baseline does not interpret '{name}'")
    return np.where(known, result, OPERATORS[name].when_unknown)


@dataclass
class BaselineScores:
    scores: pd.DataFrame  # one row per contact (index: contact code), one column per score
    rules: pd.DataFrame  # one column per rule ("score/rule"): the points it adds


class PandasBaseline:
    """Scores every contact of the frames as of `as_of` (POSIX seconds, read in microseconds
    as the evaluator reads a snapshot's moment)."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def score(self, contacts: pd.DataFrame, events: pd.DataFrame, as_of: float
              ) -> BaselineScores:
        as_of = seconds_to_micros(as_of)
        contacts = contacts[contacts["created_at"] <= as_of].reset_index(drop=True)
        if "feedback_at" in contacts:  # sales's verdict is known from its own moment on
            later = ~((contacts["feedback_at"] >= 0) & (contacts["feedback_at"] <= as_of))
            contacts = contacts.copy()
            for name in FEEDBACK_COLUMNS:
                contacts.loc[later, name] = None
        known = contacts["contact_id"].to_numpy()
        events = events[(events["time"] <= as_of) & events["contact_id"].isin(known)]
        run = _Run(contacts, events, as_of)
        values: dict[str, np.ndarray] = {}
        rule_points: dict[str, np.ndarray] = {}
        for score in self.model.scores.values():
            values[score.name] = run.score(score, values, rule_points)
        index = pd.Index(known, name="contact_id")
        return BaselineScores(pd.DataFrame(values, index=index),
                              pd.DataFrame(rule_points, index=index))


class _Run:
    """One scoring pass: the frames, and the filtered events per event criterion."""

    def __init__(self, contacts: pd.DataFrame, events: pd.DataFrame, as_of: int) -> None:
        self.contacts = contacts
        self.events = events
        self.as_of = as_of
        self.n = len(contacts)
        # contact code → row position in the contacts frame
        self.position = pd.Series(np.arange(self.n), index=contacts["contact_id"].to_numpy())
        self._matching: dict[Any, pd.DataFrame] = {}

    # event criteria ---------------------------------------------------------------------------
    def matching(self, node: c.EventCriterion) -> pd.DataFrame:
        """Rows (contact position, time) of the events that pass type, window and filters."""
        key = (node.event_type, node.filters, node.window)
        found = self._matching.get(key)
        if found is not None:
            return found
        ev = self.events
        mask = (ev["type"] == node.event_type).to_numpy().copy()
        window = node.window
        low = self.as_of - duration_micros(window.within_last) if window.within_last else None
        if window.since is not None:
            since = to_micros(window.since)
            low = since if low is None or since > low else low
        high = self.as_of
        if window.until is not None and to_micros(window.until) < high:
            high = to_micros(window.until)
        times = ev["time"].to_numpy()
        if low is not None:
            mask &= times >= low
        mask &= times <= high
        selected = ev[mask]
        for f in node.filters:
            column = selected[f.attribute] if f.attribute in selected else pd.Series(
                [None] * len(selected), index=selected.index, dtype=object)
            typed = column.map(lambda v, kind=f.kind: read_attribute(v, kind))
            selected = selected[test_values(typed.astype(object), f.test)]
        found = pd.DataFrame({
            "row": self.position.loc[selected["contact_id"].to_numpy()].to_numpy(),
            "time": selected["time"].to_numpy(),
        })
        self._matching[key] = found
        return found

    def counts(self, node: c.EventCriterion) -> np.ndarray:
        rows = self.matching(node)["row"].to_numpy()
        return np.bincount(rows, minlength=self.n)

    def nth_latest(self, node: c.EventCriterion, nth: int) -> np.ndarray:
        """Per contact, the time of its `nth` most recent matching event (NaN if fewer)."""
        frame = self.matching(node)
        rank = frame.groupby("row").cumcount(ascending=False).to_numpy()
        chosen = frame[rank == nth - 1]
        out = np.full(self.n, NAN)
        out[chosen["row"].to_numpy()] = chosen["time"].to_numpy()
        return out

    def evidence(self, node: c.Criterion) -> np.ndarray:
        """Per contact: NaN when the criterion fails, else the time of the event that earned
        it (inf when none did), as the evaluator defines it."""
        if isinstance(node, c.PropertyCriterion):
            if node.test is None:
                raise Unsupported("a bare property criterion outside a tiered rule")
            column = self.contacts[node.property] if node.property in self.contacts else \
                pd.Series([None] * self.n, dtype=object)
            return np.where(test_values(column, node.test), INF, NAN)
        if isinstance(node, c.EventCriterion):
            n = self.counts(node)
            low, high = node.count.low, node.count.high
            held = (n >= low) & ((n <= high) if high is not None else True)
            earned = self.nth_latest(node, low) if low > 0 else np.full(self.n, INF)
            return np.where(held, earned, NAN)
        if isinstance(node, c.AllOf):
            return np.vstack([self.evidence(ch) for ch in node.children]).min(axis=0)
        if isinstance(node, c.AnyOf):
            return np.fmax.reduce(np.vstack([self.evidence(ch) for ch in node.children]), axis=0)
        if isinstance(node, c.Not):
            return np.where(np.isnan(self.evidence(node.child)), INF, NAN)
        raise Unsupported(f"unknown criterion {node!r}")

    # rules and scores -------------------------------------------------------------------------
    def decayed(self, points: np.ndarray, evidence: np.ndarray, decay: Decay | None
                ) -> np.ndarray:
        if decay is None:
            return points
        finite = np.isfinite(evidence)
        age = np.where(finite, self.as_of - np.where(finite, evidence, 0.0), 0.0)
        return np.where(finite, round6(points * decay_factors(decay, age)), points)

    def rule(self, rule: Rule) -> np.ndarray:
        """Points the rule adds to each contact (after decay and its own cap; 0 if unmatched)."""
        node = rule.criterion
        if rule.tiers and isinstance(node, c.PropertyCriterion):
            values = self.contacts[node.property]
            if values.dtype.kind in "if":
                numbers = values.to_numpy(dtype=float)
            else:  # only real numbers take part, as in the evaluator (not text, not bools)
                numeric = values.map(lambda x: isinstance(x, int | float)
                                     and not isinstance(x, bool)).to_numpy(dtype=bool)
                numbers = np.where(numeric, values.where(numeric, 0).to_numpy(), NAN) \
                    .astype(float)
            points = np.full(self.n, NAN)
            for tier in rule.tiers:
                holds = np.ones(self.n, dtype=bool)
                if tier.low is not None:
                    holds &= numbers >= tier.low
                if tier.high is not None:
                    holds &= numbers <= tier.high
                points[holds & np.isnan(points)] = tier.points
            matched = ~np.isnan(points)
        elif rule.tiers:
            assert isinstance(node, c.EventCriterion)
            n = self.counts(node)
            points = np.full(self.n, NAN)
            for tier in rule.tiers:
                holds = (n >= tier.low if tier.low is not None else True) & \
                        (n <= tier.high if tier.high is not None else True)
                holds = holds & np.isnan(points)
                low = int(tier.low or 0)
                earned = self.nth_latest(node, low) if low > 0 else np.full(self.n, INF)
                points = np.where(holds, self.decayed(np.full(self.n, tier.points), earned,
                                                      rule.decay), points)
            matched = ~np.isnan(points)
        elif rule.points_from is not None:
            values = self.contacts[rule.points_from]
            numeric = values.map(lambda x: isinstance(x, int | float)
                                 and not isinstance(x, bool) and x == x).to_numpy(dtype=bool)
            matched = numeric & ~np.isnan(self.evidence(node))
            points = np.where(numeric, values.where(numeric, 0).to_numpy(), 0.0).astype(float)
        elif rule.per_event:
            assert isinstance(node, c.EventCriterion)
            held = ~np.isnan(self.evidence(node))
            frame = self.matching(node)
            each = rule.points or 0.0
            if rule.decay is None:
                per_event = np.full(len(frame), each)
            else:
                # integer millionths per event, added exactly
                per_event = np.floor(each * decay_factors(
                    rule.decay, self.as_of - frame["time"].to_numpy()) * 1_000_000.0 + 0.5)
            points = np.bincount(frame["row"].to_numpy(), weights=per_event, minlength=self.n)
            if rule.decay is not None:
                points = points / 1_000_000.0
            matched = held & (self.counts(node) > 0)
        else:
            evidence = self.evidence(node)
            matched = ~np.isnan(evidence)
            points = self.decayed(np.full(self.n, rule.points or 0.0), evidence, rule.decay)
        final = _clamp(np.where(matched, points, 0.0), rule.min, rule.max)
        return np.where(matched, final, 0.0)

    def score(self, score: Score, values: dict[str, np.ndarray],
              rule_points: dict[str, np.ndarray]) -> np.ndarray:
        if score.sum_of:
            total = np.zeros(self.n)
            for name in score.sum_of:  # left to right
                total = total + values[name]
            return round2(_clamp(total, score.min, score.max))
        total = np.zeros(self.n)
        for rule in score.rules:
            points = rule_points[f"{score.name}/{rule.name}"] = self.rule(rule)
            total = total + points
        for group in score.groups:
            group_total = np.zeros(self.n)
            for rule in group.rules:
                points = rule_points[f"{score.name}/{rule.name}"] = self.rule(rule)
                group_total = group_total + points
            total = total + _clamp(group_total, group.min, group.max)
        return round2(_clamp(total, score.min, score.max))


def _clamp(values: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    if high is not None:
        values = np.minimum(values, high)
    if low is not None:
        values = np.maximum(values, low)
    return values
