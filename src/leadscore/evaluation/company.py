"""The reference evaluator of company scores, which the SQL engines must agree with.

A company is scored from two inputs, the same for every engine (`CompanyInput`): its
properties as of the moment (each read as its declared type), and its contacts (`Member`:
their current property values and their stored contact scores and labels). Each rule's
criterion gives a verdict and, for a tiered rule, a number (the count of matching contacts,
a contact score's aggregate, or a number property); points are capped rule → score and
rounded as contact scores are (`arithmetic`). Sums and averages of contact scores are taken
in whole hundredths, so the order in which an engine adds them cannot matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadscore.evaluation.arithmetic import add_in_order, clamp, round2
from leadscore.evaluation.matchers import PropertyMatcher, compile_criterion, describe_test
from leadscore.model import criteria as c
from leadscore.model.company import CompanyModel, ContactAggregate, ContactCount
from leadscore.model.model import Rule, Score


@dataclass
class Member:
    """One contact of a company: its current values and stored scores (value, label)."""

    contact_id: str
    properties: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, tuple[float | None, str | None]] = field(default_factory=dict)
    as_of_us: int = 0
    lists: frozenset[str] = frozenset()
    # company runs read the stored values alone: `is_known` there is "has a stored value"
    unscored: frozenset[str] = frozenset()


@dataclass
class CompanyInput:
    company_id: str
    properties: dict[str, Any]
    members: list[Member]
    as_of_us: int = 0


@dataclass(frozen=True)
class RuleVerdict:
    score: str
    rule: str
    matched: bool
    points: float
    reason: str
    details: tuple[str, ...] = ()


@dataclass
class CompanyResult:
    company_id: str
    values: dict[str, float]
    labels: dict[str, str | None]
    rules: list[RuleVerdict]
    contacts: int

    def to_dict(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "contacts": self.contacts,
                "scores": {n: {"value": v, "label": self.labels.get(n)}
                           for n, v in self.values.items()},
                "rules": [{"score": r.score, "rule": r.rule, "matched": r.matched,
                           "points": r.points, "reason": r.reason, "details": list(r.details)}
                          for r in self.rules]}


def hundredths(value: float) -> int:
    """A stored score (a round2 value) in whole hundredths (SQL: CAST(ROUND(v·100) AS BIGINT))."""
    return round(value * 100.0)


def aggregate(function: str, values: list[float]) -> float | None:
    """`ContactAggregate`'s number over the known values (what every engine computes)."""
    if function == "sum":
        return sum(hundredths(v) for v in values) / 100.0
    if not values:
        return None
    if function == "max":
        return max(values)
    if function == "min":
        return min(values)
    return round2(sum(hundredths(v) for v in values) / len(values) / 100.0)


class _Verdict:
    __slots__ = ("matched", "number", "reason", "details")

    def __init__(self, matched: bool, number: float | None, reason: str,
                 details: tuple[str, ...] = ()) -> None:
        self.matched, self.number, self.reason, self.details = matched, number, reason, details


class CompanyScorer:
    """Scores companies under a model's `companies:` section."""

    def __init__(self, companies: CompanyModel) -> None:
        self.companies = companies
        self._matchers: dict[int, Any] = {}

    def score(self, company: CompanyInput) -> CompanyResult:
        values: dict[str, float] = {}
        labels: dict[str, str | None] = {}
        verdicts: list[RuleVerdict] = []
        for score in self.companies.scores.values():
            if score.sum_of:
                total = add_in_order(values[p] for p in score.sum_of)
            else:
                parts = []
                for rule in score.rules:
                    verdict = self.rule(score, rule, company)
                    verdicts.append(verdict)
                    parts.append(verdict.points)
                total = add_in_order(parts)
            values[score.name] = round2(clamp(total, score.min, score.max))
            found = score.label_for(values[score.name])
            labels[score.name] = found.label if found else None
        return CompanyResult(company.company_id, values, labels, verdicts,
                             len(company.members))

    def rule(self, score: Score, rule: Rule, company: CompanyInput) -> RuleVerdict:
        verdict = self.verdict(rule.criterion, company)
        points = 0.0
        matched = verdict.matched
        if rule.tiers:
            matched = False
            if verdict.number is not None:
                for tier in rule.tiers:
                    if tier.holds(verdict.number):
                        points, matched = tier.points, True
                        break
        elif matched:
            points = rule.points or 0.0
        points = clamp(points, rule.min, rule.max) if matched else 0.0
        return RuleVerdict(score.name, rule.name, matched, points, verdict.reason,
                           verdict.details)

    # criteria --------------------------------------------------------------------------------
    def verdict(self, node: Any, company: CompanyInput) -> _Verdict:
        if isinstance(node, c.PropertyCriterion):
            return self.property(node, company)
        if isinstance(node, ContactCount):
            return self.count(node, company)
        if isinstance(node, ContactAggregate):
            return self.aggregate(node, company)
        if isinstance(node, c.AllOf | c.AnyOf):
            parts = [self.verdict(child, company) for child in node.children]
            held = sum(p.matched for p in parts)
            every = isinstance(node, c.AllOf)
            matched = held == len(parts) if every else held > 0
            return _Verdict(matched, None, f"{'all' if every else 'any'} of {len(parts)} "
                            f"({held} hold)", tuple(p.reason for p in parts))
        if isinstance(node, c.Not):
            inner = self.verdict(node.child, company)
            return _Verdict(not inner.matched, None, f"not ({inner.reason})", inner.details)
        raise TypeError(f"unknown company criterion {node!r}")  # pragma: no cover

    def property(self, node: c.PropertyCriterion, company: CompanyInput) -> _Verdict:
        view = Member(company.company_id, company.properties, as_of_us=company.as_of_us)
        if node.test is None:  # a tiered number property
            from leadscore.evaluation.matchers import property_reader

            number = property_reader(node)(view)  # type: ignore[arg-type]
            shown = "unknown" if number is None else f"{number:g}"
            return _Verdict(number is not None, number, f"{node.property} is {shown}")
        matcher = self._matcher(node, PropertyMatcher)
        reason = matcher.explain(view, {})
        return _Verdict(reason.matched, None, reason.text)

    def count(self, node: ContactCount, company: CompanyInput) -> _Verdict:
        if node.criterion is None:
            n = len(company.members)
            subject = "contacts"
        else:
            matcher = self._matcher(node.criterion, compile_criterion)
            n = sum(1 for m in company.members if matcher.evidence(m, {}) is not None)
            subject = f"contacts where {describe(node.criterion)}"
        matched = node.count.holds(n)
        return _Verdict(matched, float(n), f"{n} {subject}")

    def aggregate(self, node: ContactAggregate, company: CompanyInput) -> _Verdict:
        known = [v for m in company.members
                 if (v := m.scores.get(node.score, (None, None))[0]) is not None]
        number = aggregate(node.function, known)
        shown = "unknown (no scored contacts)" if number is None else f"{number:g}"
        text = f"{node.function} of contact score {node.score} over {len(known)} " \
               f"contact{'s' if len(known) != 1 else ''}: {shown}"
        if node.test is None:
            return _Verdict(number is not None, number, text)
        matcher = self._matcher(c.ScoreCriterion(node.score, node.test), compile_criterion)
        probe = Member("", scores={node.score: (number, None)}, as_of_us=company.as_of_us)
        matched = matcher.evidence(probe, {}) is not None
        return _Verdict(matched, number, f"{text} {describe_test(node.test)}: "
                        f"{'yes' if matched else 'no'}")

    def _matcher(self, node: Any, make: Any) -> Any:
        key = id(node)
        found = self._matchers.get(key)
        if found is None:
            found = self._matchers[key] = (make(node), node)
        return found[0]


def describe(node: c.Criterion) -> str:
    """A contact criterion in a few words, for explanations."""
    if isinstance(node, c.PropertyCriterion) and node.test is not None:
        return f"{node.property} {describe_test(node.test)}"
    if isinstance(node, c.ScoreCriterion):
        if node.labels is not None:
            return f"score {node.score} label " + " or ".join(sorted(node.labels))
        assert node.test is not None
        return f"score {node.score} {describe_test(node.test)}"
    if isinstance(node, c.AllOf | c.AnyOf):
        word = " and " if isinstance(node, c.AllOf) else " or "
        return "(" + word.join(describe(ch) for ch in node.children) + ")"
    if isinstance(node, c.Not):
        return f"not {describe(node.child)}"
    return repr(node)  # pragma: no cover
