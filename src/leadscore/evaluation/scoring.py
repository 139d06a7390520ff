"""Scores of one contact under one model: a pure function of (model, snapshot).

Order of work for each score: every rule's points (tiers pick one band, per-event rules add
each event, decay shrinks points by the age of the event that earned them) → the rule's own
cap → each group's sum and cap → the score's sum and cap. Sum scores add their parts and apply
their own cap. Then thresholds label each score, the grade matrix combines two labels, and the
stage score's label names the lifecycle stage the contact qualifies for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from leadscore.evaluation.matchers import INF, Reason, compile_criterion
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.model import criteria as c
from leadscore.model.model import Decay, Group, Model, Rule, Score, Threshold, Tier

DECAYING = "decaying"  # memo key: (decay, evidence) of the decaying rules that applied


def clamp(value: float, low: float | None, high: float | None) -> float:
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


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

    @property
    def capped(self) -> bool:
        return self.final != self.points

    @property
    def decay_factor(self) -> float:
        return self.points / self.base if self.base else 1.0


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "scores": {n: {"value": s.value, "label": s.label} for n, s in self.scores.items()},
            "grade": self.grade,
            "grade_label": self.grade_label,
            "stage": self.stage,
        }


class _CompiledRule:
    __slots__ = ("rule", "matcher", "points", "decay", "per_event", "tiers", "tier_property")

    def __init__(self, rule: Rule, shared: dict) -> None:
        self.rule = rule
        self.points = rule.points or 0.0
        self.decay = rule.decay
        self.per_event = rule.per_event
        self.tiers = rule.tiers
        self.tier_property: str | None = None
        self.matcher: Any = None  # an EventMatcher for tiers and per-event rules
        criterion = rule.criterion
        if rule.tiers and isinstance(criterion, c.PropertyCriterion):
            self.tier_property = criterion.property
        else:
            self.matcher = compile_criterion(criterion, shared)

    def points_for(self, snap: ContactSnapshot, memo: dict) -> float:
        """What the rule adds, after its own cap (the fast path: no result objects). A
        decaying rule that applies notes (decay, evidence) in memo[DECAYING] for scheduling."""
        outcome = self._compute(snap, memo)
        if outcome is None:
            return 0.0
        decay = self.decay
        if decay is not None:
            noted = memo.setdefault(DECAYING, [])
            if self.per_event:  # each event decays on its own clock: an older one may
                as_of, factor = snap.as_of, decay.factor  # expire or step down first
                live = [t for t in self.matcher.times(snap, memo) if factor(as_of - t) > 0]
                if decay.step_every is None:  # expiry and linear decay end first for the
                    live = live[:1]  # oldest; half-life is re-checked daily whatever the age
                noted.extend((decay, t) for t in live)
            else:
                noted.append((decay, outcome[4]))
        return clamp(outcome[1], self.rule.min, self.rule.max)

    def evaluate(self, snap: ContactSnapshot, memo: dict, explain: bool) -> RuleResult:
        """The rule's full result: points before and after decay and cap, tier, evidence."""
        rule = self.rule
        outcome = self._compute(snap, memo)
        if outcome is None:
            count = None
            if self.matcher is not None and (self.tiers or self.per_event):
                count = len(self.matcher.times(snap, memo))
            result = RuleResult(rule, False, count=count)
        else:
            base, points, tier, count, evidence = outcome
            result = RuleResult(rule, True, base, points, clamp(points, rule.min, rule.max),
                                tier, count, evidence)
        if explain:
            result.reason = self.explain(snap, memo, result)
        return result

    def _compute(self, snap: ContactSnapshot, memo: dict
                 ) -> tuple[float, float, Tier | None, int | None, float | None] | None:
        """None when the rule does not apply; else (base points, points after decay, tier,
        matching event count, time of the event that earned the points)."""
        if self.tier_property is not None:
            value = snap.properties.get(self.tier_property)
            if isinstance(value, int | float) and not isinstance(value, bool):
                for tier in self.tiers:
                    if tier.holds(value):
                        return tier.points, tier.points, tier, None, None
            return None
        matcher = self.matcher
        if self.tiers:
            times = matcher.times(snap, memo)
            n = len(times)
            for tier in self.tiers:
                if tier.holds(n):
                    low = int(tier.low or 0)
                    evidence = times[n - low] if low > 0 else INF
                    return tier.points, self._decayed(tier.points, evidence, snap.as_of), \
                        tier, n, evidence
            return None
        if self.rule.points_from is not None:
            if matcher.evidence(snap, memo) is None:
                return None
            value = snap.properties.get(self.rule.points_from)
            if not isinstance(value, int | float) or isinstance(value, bool):
                return None
            return value, value, None, None, INF
        if self.per_event:
            if matcher.evidence(snap, memo) is None:
                return None
            times = matcher.times(snap, memo)
            if not times:
                return None
            each = self.points
            if self.decay is None:
                points = each * len(times)
            else:
                factor, as_of = self.decay.factor, snap.as_of
                points = sum(each * factor(as_of - t) for t in times)
            return each * len(times), points, None, len(times), times[-1]
        evidence = matcher.evidence(snap, memo)
        if evidence is None:
            return None
        return self.points, self._decayed(self.points, evidence, snap.as_of), None, None, evidence

    def _decayed(self, points: float, evidence: float, as_of: float) -> float:
        if self.decay is None or evidence == INF:
            return points
        return points * self.decay.factor(as_of - evidence)

    def explain(self, snap: ContactSnapshot, memo: dict, result: RuleResult) -> Reason:
        if self.tier_property is not None:
            value = snap.properties.get(self.tier_property)
            bands = ", ".join(f"{t.describe()} → {t.points:+g}" for t in self.tiers)
            shown = "unknown" if value is None else f"{value:g}" if isinstance(
                value, int | float) else repr(value)
            where = f"in band {result.tier.describe()}" if result.tier else "in no band"
            return Reason(result.matched, f"{self.tier_property} is {shown}, {where} "
                          f"(bands: {bands})")
        reason = self.matcher.explain(snap, memo)
        if self.tiers:
            bands = ", ".join(f"{t.describe()} → {t.points:+g}" for t in self.tiers)
            where = f"band {result.tier.describe()}" if result.tier else "no band"
            reason = Reason(result.matched, f"{reason.text}; {where} (bands: {bands})",
                            reason.children)
        return reason


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

    def score(self, snap: ContactSnapshot, *, detail: bool = False,
              explain: bool = False) -> ContactScores:
        """Scores, labels, grade and qualifying stage. `detail` adds every rule's and group's
        result; `explain` adds the reasons too (and implies detail)."""
        memo: dict = {}
        results: dict[str, ScoreResult] = {}
        detail = detail or explain
        for score, rules, groups in self._scores:
            if score.sum_of:
                parts = {name: results[name].value for name in score.sum_of}
                total = sum(parts.values())
                value = clamp(total, score.min, score.max)
                results[score.name] = ScoreResult(score, round(value, 2), total,
                                                  score.label_for(round(value, 2)), parts=parts)
                continue
            if not detail:
                total = 0.0
                for rule in rules:
                    total += rule.points_for(snap, memo)
                for group, compiled in groups:
                    group_total = 0.0
                    for rule in compiled:
                        group_total += rule.points_for(snap, memo)
                    total += clamp(group_total, group.min, group.max)
                value = round(clamp(total, score.min, score.max), 2)
                results[score.name] = ScoreResult(score, value, total, score.label_for(value))
                continue
            rule_results = [r.evaluate(snap, memo, explain) for r in rules]
            total = sum(r.final for r in rule_results)
            group_results = []
            for group, compiled in groups:
                in_group = [r.evaluate(snap, memo, explain) for r in compiled]
                group_total = sum(r.final for r in in_group)
                group_final = clamp(group_total, group.min, group.max)
                group_results.append(GroupResult(group, in_group, group_total, group_final))
                total += group_final
            value = round(clamp(total, score.min, score.max), 2)
            results[score.name] = ScoreResult(score, value, total, score.label_for(value),
                                              rule_results, group_results)
        outcome = ContactScores(snap.contact_id, snap.as_of, results,
                                decaying=memo.get(DECAYING, []))
        if self._grade is not None:
            row = results[self._grade.rows].label
            column = results[self._grade.columns].label
            if row is not None and column is not None:
                outcome.grade = f"{row}{column}"
                outcome.grade_label = self._grade.labels.get(outcome.grade)
        if self._stage_score is not None:
            threshold = results[self._stage_score].threshold
            outcome.stage = threshold.stage if threshold else None
        return outcome

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
