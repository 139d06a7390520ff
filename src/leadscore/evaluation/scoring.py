"""Scores of one contact under one model: a pure function of (model, snapshot).

Order of work for each score: every rule's points (tiers pick one band, per-event rules add
each event, decay shrinks points by the age of the event that earned them) → the rule's own
cap → each group's sum and cap → the score's sum and cap. Sum scores add their parts and apply
their own cap. Then thresholds label each score, the grade matrix combines two labels, and the
stage score's label names the lifecycle stage the contact qualifies for. The contact's score
ledger (`ledger.py`) adjusts each score after its cap, before its label and before a sum score
reads it.

The arithmetic is `arithmetic.py`'s, which every SQL engine reproduces: decayed points round
to 10⁻⁶, per-event decayed points add as integer millionths, sums add left to right (the
ungrouped rules, then the groups, in the model's order), a score's value rounds half up to
two decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from leadscore.catalog import PropertyType
from leadscore.evaluation import ledger as ledger_rules
from leadscore.evaluation.arithmetic import (
    MICROS,
    add_in_order,
    clamp,
    micro_points,
    round2,
    round6,
    seconds_to_micros,
)
from leadscore.evaluation.matchers import INF, Reason, compile_criterion, property_reader
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.model import criteria as c
from leadscore.model.daily import day_of
from leadscore.model.model import Decay, Group, Model, Rule, Score, Threshold, Tier

DECAYING = "decaying"  # memo key: (decay, evidence) of the decaying rules that applied
# (base points, points after decay (and the daily limit), tier, event count, time of the event
# that earned them, points the daily limit dropped)
Outcome = tuple[float, float, "Tier | None", "int | None", "float | None", float]


@dataclass(slots=True)
class RuleResult:
    rule: Rule
    matched: bool
    base: float = 0.0  # points before decay
    points: float = 0.0  # after decay, before the rule's cap
    final: float = 0.0  # after the rule's cap: what the rule adds
    tier: Tier | None = None
    count: int | None = None  # matching events (tiers and per-event rules)
    evidence: float | None = None  # time of the event that earned the points
    reason: Reason | None = None
    dropped: float = 0.0  # points over the rule's `max_per_day` (after decay)

    @property
    def capped(self) -> bool:
        return self.final != self.points

    @property
    def decay_factor(self) -> float:
        kept = self.points + self.dropped  # the daily limit comes after decay
        return kept / self.base if self.base else 1.0


@dataclass(slots=True)
class GroupResult:
    group: Group
    rules: list[RuleResult]
    total: float  # sum of the rules' points
    final: float  # after the group's cap

    @property
    def capped(self) -> bool:
        return self.final != self.total


@dataclass(slots=True)
class ScoreResult:
    score: Score
    value: float
    total: float  # before the score's cap
    threshold: Threshold | None
    rules: list[RuleResult] = field(default_factory=list)  # ungrouped rules
    groups: list[GroupResult] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)  # for sum scores
    model_value: float | None = None  # before the ledger, when ledger entries apply
    ledger: list[Any] = field(default_factory=list)  # the ledger entries that count
    # False: *unscored* — no rule of the score applied and no ledger entry applies (a sum:
    # none of its parts is scored); the value is then 0, as before, and `scored` tells it
    # apart from a 0 that rules gave
    scored: bool = True

    @property
    def name(self) -> str:
        return self.score.name

    @property
    def label(self) -> str | None:
        return self.threshold.label if self.threshold else None

    def all_rules(self) -> list[RuleResult]:
        return [*self.rules, *(r for g in self.groups for r in g.rules)]


@dataclass(slots=True)
class ContactScores:
    contact_id: str
    as_of: float
    scores: dict[str, ScoreResult]
    grade: str | None = None
    grade_label: str | None = None
    stage: str | None = None  # the stage the stage score's threshold qualifies for
    decaying: list[tuple[Decay, float | None]] = field(default_factory=list)

    def value(self, score: str) -> float:
        return self.scores[score].value

    def context(self) -> dict[str, tuple[float, str | None]]:
        """score → (value, label): what `score:` conditions read (`ContactSnapshot.scores`);
        `unscored()` goes beside it (`ContactSnapshot.unscored`)."""
        return {n: (s.value, s.label) for n, s in self.scores.items()}

    def unscored(self) -> frozenset[str]:
        """The scores no rule and no ledger entry gave a value (see `ScoreResult.scored`)."""
        return frozenset(n for n, s in self.scores.items() if not s.scored)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "scores": {n: {"value": s.value, "label": s.label, "scored": s.scored}
                       for n, s in self.scores.items()},
            "grade": self.grade,
            "grade_label": self.grade_label,
            "stage": self.stage,
        }


class _CompiledRule:
    """One rule, compiled: `apply` is the single computation of its points, which the scorer
    keeps whole (detail, explanations) or only as the number it adds."""

    __slots__ = ("rule", "matcher", "points", "decay", "per_event", "tiers", "tier_value",
                 "points_value", "low", "high", "capped", "daily")

    def __init__(self, rule: Rule, shared: dict) -> None:
        self.rule = rule
        self.points = rule.points or 0.0
        self.low, self.high = rule.min, rule.max  # the rule's own cap
        self.capped = rule.min is not None or rule.max is not None
        self.decay = rule.decay
        self.per_event = rule.per_event
        # the daily limit in millionths (`arithmetic.micro_points`), None: no limit
        self.daily = None if rule.max_per_day is None else micro_points(rule.max_per_day)
        self.tiers = rule.tiers
        self.tier_value: Any = None  # reads the number property of a property-tiered rule
        self.points_value: Any = None  # reads the number property of a points_from rule
        if rule.points_from is not None:
            self.points_value = property_reader(
                c.PropertyCriterion(rule.points_from, None, PropertyType.NUMBER))
        self.matcher: Any = None
        criterion = rule.criterion
        if rule.tiers and isinstance(criterion, c.PropertyCriterion):
            self.tier_value = property_reader(criterion)
        else:
            self.matcher = compile_criterion(criterion, shared)

    def cap(self, points: float) -> float:
        """The rule's own cap: max first, then min."""
        if self.high is not None and points > self.high:
            points = self.high
        if self.low is not None and points < self.low:
            points = self.low
        return points

    def apply(self, snap: ContactSnapshot, memo: dict) -> Outcome | None:
        """None when the rule does not apply; else (base points, points after decay, tier,
        matching event count, time of the event that earned the points); what the rule adds
        is `cap(points after decay)`. A decaying rule that applies notes (decay, evidence) in
        memo[DECAYING] for scheduling."""
        if self.tier_value is not None:
            value = self.tier_value(snap)
            if value is not None:
                for tier in self.tiers:
                    if tier.holds(value):
                        return tier.points, tier.points, tier, None, None, 0.0
            return None
        matcher = self.matcher
        if self.tiers:
            times = matcher.times(snap, memo)
            n = len(times)
            for tier in self.tiers:
                if tier.holds(n):
                    low = int(tier.low or 0)
                    evidence = times[n - low] if low > 0 else INF
                    return (tier.points, self._decayed(tier.points, evidence, snap, memo), tier,
                            n, evidence, 0.0)
            return None
        if self.rule.points_from is not None:
            if matcher.evidence(snap, memo) is None:
                return None
            value = self.points_value(snap)
            if value is None:
                return None
            return value, value, None, None, INF, 0.0
        if self.per_event:
            if matcher.evidence(snap, memo) is None:
                return None
            times = matcher.times(snap, memo)
            if not times:
                return None
            each, n = self.points, len(times)
            if self.daily is not None:
                points, dropped = self._per_day(times, snap, memo)
                return each * n, points, None, n, times[-1], dropped
            if self.decay is None:
                points = each * n
            else:
                points = self._per_event_decayed(times, snap, memo)
            return each * n, points, None, n, times[-1], 0.0
        evidence = matcher.evidence(snap, memo)
        if evidence is None:
            return None
        return (self.points, self._decayed(self.points, evidence, snap, memo), None, None,
                evidence, 0.0)

    def _decayed(self, points: float, evidence: float, snap: ContactSnapshot,
                 memo: dict) -> float:
        decay = self.decay
        if decay is None or evidence == INF:
            return points
        memo.setdefault(DECAYING, []).append((decay, evidence))
        return round6(points * decay.factor_us(snap.as_of_us - seconds_to_micros(evidence)))

    def _per_event_decayed(self, times: Any, snap: ContactSnapshot, memo: dict) -> float:
        """Each event decays on its own clock; the points are added as integer millionths.
        The live events (factor > 0) are noted for scheduling: an older one may expire or step
        down first (expiry and linear decay end first for the oldest; half-life is re-checked
        daily whatever the age, so the oldest stands for all)."""
        decay = self.decay
        assert decay is not None
        each, as_of_us, factor = self.points, snap.as_of_us, decay.factor_us
        total = 0
        live = []
        for t in times:
            f = factor(as_of_us - seconds_to_micros(t))
            if f > 0:
                live.append(t)
            total += micro_points(each * f)
        if decay.step_every is None:
            live = live[:1]
        memo.setdefault(DECAYING, []).extend((decay, t) for t in live)
        return total / MICROS

    def _per_day(self, times: Any, snap: ContactSnapshot, memo: dict) -> tuple[float, float]:
        """(points, points dropped) of a rule with `max_per_day`: each event's points (decayed
        on its own clock) in whole millionths, added per UTC day of the event, each day capped
        at the limit, the days added. Live events are noted for scheduling as for any
        per-event rule."""
        decay, each, as_of_us = self.decay, self.points, snap.as_of_us
        days: dict[int, int] = {}
        for t in times:
            at = seconds_to_micros(t)
            f = 1.0 if decay is None else decay.factor_us(as_of_us - at)
            day = day_of(at)
            days[day] = days.get(day, 0) + micro_points(each * f)
        if decay is not None:
            self._per_event_decayed(times, snap, memo)  # notes the live events
        limit = self.daily
        assert limit is not None
        kept = sum(min(total, limit) for total in days.values())
        over = sum(total - limit for total in days.values() if total > limit)
        return kept / MICROS, over / MICROS

    def result(self, snap: ContactSnapshot, memo: dict, outcome: Outcome | None,
               explain: bool) -> RuleResult:
        """The rule's whole result, from the outcome `apply` gave (nothing is computed again
        but the reason, and the count of a rule that did not apply)."""
        if outcome is None:
            result = RuleResult(self.rule, False, count=self.count(snap, memo))
        else:
            base, points, tier, count, evidence, dropped = outcome
            result = RuleResult(self.rule, True, base, points, self.cap(points), tier, count,
                                evidence, dropped=dropped)
        if explain:
            result.reason = self.explain(snap, memo, result)
        return result

    def count(self, snap: ContactSnapshot, memo: dict) -> int | None:
        """Matching events of a tiered or per-event rule (for the detail of one that did not
        apply)."""
        if self.matcher is not None and (self.tiers or self.per_event):
            return len(self.matcher.times(snap, memo))
        return None

    def explain(self, snap: ContactSnapshot, memo: dict, result: RuleResult) -> Reason:
        if self.tier_value is not None:
            value = self.tier_value(snap)
            bands = ", ".join(f"{t.describe()} → {t.points:+g}" for t in self.tiers)
            shown = "unknown" if value is None else f"{value:g}"
            where = f"in band {result.tier.describe()}" if result.tier else "in no band"
            name = self.rule.criterion.property  # type: ignore[union-attr]
            return Reason(result.matched, f"{name} is {shown}, {where} (bands: {bands})")
        reason = self.matcher.explain(snap, memo)
        if self.tiers:
            bands = ", ".join(f"{t.describe()} → {t.points:+g}" for t in self.tiers)
            where = f"band {result.tier.describe()}" if result.tier else "no band"
            reason = Reason(result.matched, f"{reason.text}; {where} (bands: {bands})",
                            reason.children)
        return reason


def properties_read(model: Model) -> frozenset[str]:
    """The contact properties a model's scores read (their values or change times): a change
    to any other property leaves every score as it was."""
    found: set[str] = set()
    for score in model.scores.values():
        for rule in (*score.rules, *(r for g in score.groups for r in g.rules)):
            if rule.points_from is not None:
                found.add(rule.points_from)
            found.update(node.property for node in c.walk(rule.criterion)
                         if isinstance(node, c.PropertyCriterion))
    return frozenset(found)


class Scorer:
    """A model compiled for evaluation. Build once, then score any number of snapshots."""

    def __init__(self, model: Model) -> None:
        self.model = model
        shared: dict = {}
        self._scores: list[tuple[Score, list[_CompiledRule],
                                 list[tuple[Group, list[_CompiledRule]]]]] = []
        for score in model.scores.values():
            rules = [_CompiledRule(r, shared) for r in score.rules]
            groups = [(g, [_CompiledRule(r, shared) for r in g.rules]) for g in score.groups]
            self._scores.append((score, rules, groups))
        self._grade = model.grade
        self._stage_score = model.stage_score.name if model.stage_score else None
        self.reads = properties_read(model)

    def score(self, snap: ContactSnapshot, *, detail: bool = False,
              explain: bool = False) -> ContactScores:
        """Scores, labels, grade and qualifying stage. `detail` keeps every rule's and group's
        result; `explain` adds the reasons too (and implies detail). Both come from the one
        computation that gives the scores."""
        memo: dict = {}
        results: dict[str, ScoreResult] = {}
        detail = detail or explain
        for score, rules, groups in self._scores:
            if score.sum_of:
                parts = {name: results[name].value for name in score.sum_of}
                total = add_in_order(parts.values())
                value = round2(clamp(total, score.min, score.max))
                # a sum is unscored only when every part is
                any_part = any(results[name].scored for name in score.sum_of)
                results[score.name] = self._adjusted(
                    ScoreResult(score, value, total, None, parts=parts, scored=any_part), snap)
                continue
            rule_results: list[RuleResult] = []
            group_results: list[GroupResult] = []
            total = 0.0
            applied = False  # whether any rule applied: the score is scored
            for rule in rules:
                outcome = rule.apply(snap, memo)
                if outcome is not None:
                    applied = True
                    total += rule.cap(outcome[1]) if rule.capped else outcome[1]
                if detail:
                    rule_results.append(rule.result(snap, memo, outcome, explain))
            for group, compiled in groups:
                in_group: list[RuleResult] = []
                group_total = 0.0
                for rule in compiled:
                    outcome = rule.apply(snap, memo)
                    if outcome is not None:
                        applied = True
                        group_total += rule.cap(outcome[1]) if rule.capped else outcome[1]
                    if detail:
                        in_group.append(rule.result(snap, memo, outcome, explain))
                group_final = clamp(group_total, group.min, group.max)
                if detail:
                    group_results.append(GroupResult(group, in_group, group_total, group_final))
                total += group_final
            value = round2(clamp(total, score.min, score.max))
            results[score.name] = self._adjusted(
                ScoreResult(score, value, total, None, rule_results, group_results,
                            scored=applied), snap)
        scored = ContactScores(snap.contact_id, snap.as_of, results,
                                decaying=memo.get(DECAYING, []))
        if self._grade is not None:
            row = results[self._grade.rows].label
            column = results[self._grade.columns].label
            if row is not None and column is not None:
                scored.grade = f"{row}{column}"
                scored.grade_label = self._grade.labels.get(scored.grade)
        if self._stage_score is not None:
            threshold = results[self._stage_score].threshold
            scored.stage = threshold.stage if threshold else None
        return scored

    @staticmethod
    def _adjusted(result: ScoreResult, snap: ContactSnapshot) -> ScoreResult:
        """The score after the contact's ledger entries that apply, labelled."""
        if snap.ledger:
            entries = ledger_rules.applying(snap.ledger, result.score.name, snap.as_of_us)
            if entries:
                result.model_value = result.value
                result.value = ledger_rules.adjust(result.value, entries)
                result.ledger = ledger_rules.in_effect(entries)
                result.scored = True  # a ledger entry that applies gives the score a value
        result.threshold = result.score.label_for(result.value)
        return result

    def matchers(self) -> list[Any]:
        """Every rule's compiled criterion (for `schedule.next_change_at`)."""
        return [rule.matcher for _, rules, groups in self._scores
                for rule in [*rules, *(r for _, compiled in groups for r in compiled)]
                if rule.matcher is not None]

    def score_all(self, snapshots: Iterable[ContactSnapshot]) -> Iterator[ContactScores]:
        for snap in snapshots:
            yield self.score(snap)


def score_contacts(model: Model, snapshots: Iterable[ContactSnapshot]) -> Iterator[ContactScores]:
    """Score every snapshot with `model` (a generator; nothing is stored)."""
    return Scorer(model).score_all(snapshots)
