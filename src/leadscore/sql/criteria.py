"""The criteria tree in SQL, with the evaluator's two answers (`evaluation.matchers`):

- `holds(node)`: a two-valued boolean (or, where only TRUE matters, one that may be NULL);
- `evidence(node)`: NULL when the criterion does not hold, else the time (BIGINT µs) of the
  event that earned it — `expr.INF` when no event did (a property, `not`, a count that
  includes none). An event criterion's evidence is its `low`-th latest passing event; `all`
  takes the oldest of its parts, `any` the newest that holds.

Both read columns of the base layer (properties, event aggregates) and, for lists and stage
rules, the score, label and list columns of later layers (`Resolver`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.model import criteria as c
from leadscore.sql import expr as x
from leadscore.sql.context import CompileContext
from leadscore.sql.events import EventScan, value_test
from leadscore.sql.values import PropertyValues


@dataclass
class Resolver:
    """Columns of computed results, for `score:` and `list:` conditions."""

    score_value: Callable[[str], exp.Expression] | None = None
    score_label: Callable[[str], exp.Expression] | None = None
    list_member: Callable[[str], exp.Expression] | None = None
    company_value: Callable[[str], exp.Expression] | None = None
    company_label: Callable[[str], exp.Expression] | None = None
    # a score's BOOLEAN scored column, for `is_known` / `is_unknown` (None: the value's
    # NULL-ness, as in company runs, which read stored values alone)
    score_scored: Callable[[str], exp.Expression] | None = None


class CriteriaSql:
    def __init__(self, ctx: CompileContext, scan: EventScan, values: PropertyValues,
                 resolver: Resolver | None = None) -> None:
        self.ctx = ctx
        self.scan = scan
        self.values = values
        self.resolver = resolver or Resolver()

    # holds -----------------------------------------------------------------------------------
    def holds(self, node: c.Criterion, *, truthy: bool = False) -> exp.Expression:
        """Whether the criterion holds: TRUE or FALSE. With `truthy` the caller only asks
        whether it is TRUE (a WHEN, a FILTER, a conjunct of one), so a NULL may stand for
        FALSE and the null guards of operators that are false when unknown drop out; under a
        `not` the answer is two-valued again."""
        if isinstance(node, c.PropertyCriterion):
            return self.property_holds(node, truthy)
        if isinstance(node, c.EventCriterion):
            return self.count_holds(node, node.count.low, node.count.high)
        if isinstance(node, c.AllOf):
            return x.and_(*(self.holds(child, truthy=truthy) for child in node.children))
        if isinstance(node, c.AnyOf):
            return x.or_(*(self.holds(child, truthy=truthy) for child in node.children))
        if isinstance(node, c.Not):
            return x.not_(self.holds(node.child))
        if isinstance(node, c.ScoreCriterion):
            return self.score_holds(node)
        if isinstance(node, c.CompanyScoreCriterion):
            return self.company_score_holds(node)
        if isinstance(node, c.CompanyListCriterion):
            # a membership is a row of `ls_company_scores` under its key (value 1)
            assert self.resolver.company_value is not None
            return x.not_null(self.resolver.company_value(c.company_list_key(node.list_name)))
        if isinstance(node, c.ListCriterion):
            assert self.resolver.list_member is not None, "list conditions belong in lists"
            return self.resolver.list_member(node.list_name)
        raise TypeError(f"unknown criterion {node!r}")  # pragma: no cover

    def property_holds(self, node: c.PropertyCriterion, truthy: bool = False
                       ) -> exp.Expression:
        assert node.test is not None, "a bare property criterion only appears in tiered rules"
        kind = node.kind or self.ctx.model.catalog.property_type(node.property)
        if node.test.op == "changed_within":
            changed = self.values.changed_at(node.property, kind)
            return x.and_(x.not_null(changed),
                          x.gte(changed, x.bigint(self.ctx.as_of_us - node.test.expected)))
        value = self.values.value(node.property, kind, node.options)
        return value_test(self.ctx, value, node.test, kind, in_filter=truthy)

    def count_holds(self, node: c.EventCriterion, low: float | None,
                    high: float | None) -> exp.Expression:
        """Whether the number of passing events lies in low..high (both included). "At least
        one" reads the latest time (an aggregate evidence shares), anything else the count."""
        k = int(low or 0)
        if high is None:
            if k == 0:
                return exp.true()
            if k == 1:
                return x.not_null(self.scan.latest(node))
        n = self.scan.count(node)
        parts = []
        if k:
            parts.append(x.gte(n, x.bigint(k)))
        if high is not None:
            parts.append(x.lte(n, x.bigint(int(high))))
        return x.and_(*parts)

    def score_holds(self, node: c.ScoreCriterion) -> exp.Expression:
        if node.labels is not None:
            assert self.resolver.score_label is not None
            label = self.resolver.score_label(node.score)
            return x.and_(x.not_null(label), exp.In(
                this=x.func("LOWER", label),
                expressions=[x.string(v) for v in sorted(node.labels)]))
        assert self.resolver.score_value is not None and node.test is not None
        value = self.resolver.score_value(node.score)
        test = node.test
        if test.op in ("is_known", "is_unknown") and self.resolver.score_scored is not None:
            # unscored compares as 0; `is_known` / `is_unknown` read the scored flag
            present = test.expected if test.op == "is_known" else not test.expected
            scored = self.resolver.score_scored(node.score)
            return scored if present else x.not_(scored)
        return value_test(self.ctx, value, test, PropertyType.NUMBER)

    def company_score_holds(self, node: c.CompanyScoreCriterion) -> exp.Expression:
        """The contact's company's stored score (NULL without a company or a stored value:
        unknown, as `value_test` reads NULL)."""
        assert self.resolver.company_value is not None and self.resolver.company_label
        if node.labels is not None:
            label = self.resolver.company_label(node.score)
            return x.and_(x.not_null(label), exp.In(
                this=x.func("LOWER", label),
                expressions=[x.string(v) for v in sorted(node.labels)]))
        assert node.test is not None
        value = self.resolver.company_value(node.score)
        return value_test(self.ctx, value, node.test, PropertyType.NUMBER)

    # evidence --------------------------------------------------------------------------------
    def evidence(self, node: c.Criterion) -> exp.Expression:
        if isinstance(node, c.EventCriterion):
            return self.count_evidence(node, node.count.low, node.count.high)
        if isinstance(node, c.AllOf):
            parts = [self.evidence(child) for child in node.children]
            if len(parts) == 1:
                return parts[0]
            # where every part holds, none is NULL
            return x.when(self.holds(node, truthy=True), self.ctx.dialect("least", *parts))
        if isinstance(node, c.AnyOf):
            parts = [self.evidence(child) for child in node.children]
            return (parts[0] if len(parts) == 1
                    else self.ctx.dialect("greatest_ignoring_nulls", *parts))
        # a property, not, a score or a list: no event earned it
        return x.when(self.holds(node, truthy=True), x.bigint(x.INF))

    def count_evidence(self, node: c.EventCriterion, low: float | None,
                       high: float | None) -> exp.Expression:
        """The `low`-th latest passing event when the count lies in low..high; INF when low
        is 0 (no event needed). Without an upper bound the k-th latest time alone says it:
        it is NULL exactly when fewer than k events pass."""
        k = int(low or 0)
        if k == 0:
            return x.when(self.count_holds(node, low, high), x.bigint(x.INF))
        if high is None:
            return self.scan.latest(node, k)
        return x.when(self.count_holds(node, low, high), self.scan.latest(node, k))

    def may_be_inf(self, node: c.Criterion) -> bool:
        """Whether `evidence(node)` can be INF (no event earned it)."""
        if isinstance(node, c.EventCriterion):
            return node.count.low == 0
        if isinstance(node, c.AllOf):
            return all(self.may_be_inf(child) for child in node.children)
        if isinstance(node, c.AnyOf):
            return any(self.may_be_inf(child) for child in node.children)
        return True

    def needs_evidence(self, node: c.Criterion) -> bool:
        """Whether an event time can come out of `evidence(node)` (else it is INF or NULL)."""
        if isinstance(node, c.EventCriterion):
            return node.count.low > 0
        if isinstance(node, c.AllOf | c.AnyOf):
            return any(self.needs_evidence(child) for child in node.children)
        return False

