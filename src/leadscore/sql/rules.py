"""A rule's points in SQL, as `evaluation.scoring` computes them: tiers pick one band,
per-event rules add each event, decay shrinks points by the age of the event that earned them
(rounded to 10⁻⁶; per-event sums in integer millionths), then the rule's own cap. A rule that
does not apply adds 0; `applied` says whether it applied (what makes its score *scored*).
With a schedule, each decaying rule that applies also gives the moment its points next
change (`decay_moment`, as `evaluation.schedule`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from leadscore.catalog import PropertyType
from leadscore.evaluation.arithmetic import micro_points
from leadscore.model import criteria as c
from leadscore.model.model import Decay, Rule
from leadscore.sql import expr as x
from leadscore.sql.context import CompileContext
from leadscore.sql.criteria import CriteriaSql

MICRO = 1_000_000.0
RECHECK_US = 86_400_000_000  # evaluation.schedule: half-life and linear decay, looked at daily
EDGE_US = 1_000  # evaluation.schedule: a boundary still counts; the change comes just after


@dataclass
class RuleSql:
    final: exp.Expression  # DOUBLE: what the rule adds, after its own cap
    moment: exp.Expression | None  # BIGINT: when its decayed points next change (NULL: never)
    applied: exp.Expression  # BOOLEAN, never NULL: whether the rule applied (gave points)


class RuleCompiler:
    def __init__(self, ctx: CompileContext, criteria: CriteriaSql, schedule: bool) -> None:
        self.ctx = ctx
        self.criteria = criteria
        self.scan = criteria.scan
        self.schedule = schedule

    # arithmetic (evaluation.arithmetic, model.Decay) -------------------------------------------
    def round6(self, value: exp.Expression) -> exp.Expression:
        return x.div(self.micro_points(value), x.double(MICRO))

    def micro_points(self, value: exp.Expression) -> exp.Expression:
        return self.ctx.dialect("floor", x.add(x.mul(value, x.double(MICRO)), x.double(0.5)))

    def factor(self, decay: Decay, age: exp.Expression) -> exp.Expression:
        """`Decay.factor_us(age)`: DOUBLE."""
        half_life, step_every, linear, expire_after = decay.micros
        branches = [(x.lte(age, x.bigint(0)), x.double(1.0))]
        if expire_after is not None:
            branches.append((x.gt(age, x.bigint(expire_after)), x.double(0.0)))
        value: exp.Expression
        if half_life is not None:
            value = self.ctx.dialect("pow", x.double(0.5),
                                     x.div(x.to_double(age), x.double(half_life)))
        elif step_every is not None and decay.step_lose is not None:
            steps = self.ctx.dialect("int_div", age, x.bigint(step_every))
            value = self.ctx.dialect("greatest", x.double(0.0), x.sub(
                x.double(1.0), x.mul(x.double(decay.step_lose), x.to_double(steps))))
        elif linear is not None:
            value = self.ctx.dialect("greatest", x.double(0.0), x.sub(
                x.double(1.0), x.div(x.to_double(age), x.double(linear))))
        else:
            value = x.double(1.0)
        return x.case(branches, value)

    def age(self, evidence: exp.Expression) -> exp.Expression:
        return x.sub(self.ctx.now(), evidence)

    def decayed(self, points: float, evidence: exp.Expression, decay: Decay | None,
                may_be_inf: bool = True) -> exp.Expression:
        """Points earned at `evidence` (BIGINT µs, or INF when `may_be_inf`), after decay."""
        if decay is None:
            return x.double(points)
        shrunk = self.round6(x.mul(x.double(points), self.factor(decay, self.age(evidence))))
        if not may_be_inf:
            return shrunk
        return x.case([(x.eq(evidence.copy(), x.bigint(x.INF)), x.double(points))], shrunk)

    def clamp(self, rule: Rule, points: exp.Expression) -> exp.Expression:
        if rule.max is not None:
            points = self.ctx.dialect("least", points, x.double(rule.max))
        if rule.min is not None:
            points = self.ctx.dialect("greatest", points, x.double(rule.min))
        return points

    # schedule (evaluation.schedule._decay_moment) ----------------------------------------------
    def decay_moment(self, decay: Decay, evidence: exp.Expression) -> exp.Expression:
        """When points earned at `evidence` (a time, not INF) next change: BIGINT or NULL."""
        half_life, step_every, linear, expire_after = decay.micros
        age = self.age(evidence)
        now = self.ctx.now()
        candidates: list[exp.Expression] = []
        if expire_after is not None:
            candidates.append(x.when(x.lte(age, x.bigint(expire_after)),
                                     x.add(evidence, x.bigint(expire_after + EDGE_US))))
        if step_every is not None and decay.step_lose is not None:
            steps = self.ctx.dialect("int_div", age, x.bigint(step_every))  # steps so far
            candidates.append(x.when(
                x.lt(x.mul(x.double(decay.step_lose), x.to_double(steps)), x.double(1.0)),
                x.add(evidence, x.mul(x.add(steps, x.bigint(1)), x.bigint(step_every)))))
        if half_life is not None:
            candidates.append(x.add(now, x.bigint(RECHECK_US)))
        if linear is not None:
            candidates.append(x.when(x.lt(age, x.bigint(linear)), self.ctx.dialect(
                "least", x.add(now, x.bigint(RECHECK_US)), x.add(evidence, x.bigint(linear)))))
        if len(candidates) == 1:
            return candidates[0]
        return self.ctx.dialect("least_ignoring_nulls", *candidates)

    def moment_of(self, decay: Decay | None, evidence: exp.Expression,
                  may_be_inf: bool = True) -> exp.Expression | None:
        """The decay moment of a rule that applied with `evidence` (NULL/INF: none)."""
        if decay is None or not self.schedule:
            return None
        applied = x.not_null(evidence.copy())
        if may_be_inf:
            applied = x.and_(applied, x.lt(evidence.copy(), x.bigint(x.INF)))
        return x.when(applied, self.decay_moment(decay, evidence.copy()))

    # rules ---------------------------------------------------------------------------------------
    def rule(self, rule: Rule) -> RuleSql:
        node = rule.criterion
        if rule.tiers and isinstance(node, c.PropertyCriterion):
            return self.property_tiers(rule, node)
        if rule.tiers:
            assert isinstance(node, c.EventCriterion)
            return self.event_tiers(rule, node)
        if rule.points_from is not None:
            value = self.criteria.values.value(rule.points_from, PropertyType.NUMBER)
            matched = x.and_(self.criteria.holds(node, truthy=True), x.not_null(value))
            return self.finish(rule, [(matched, value)])
        if rule.per_event:
            assert isinstance(node, c.EventCriterion)
            return self.per_event(rule, node)
        points = rule.points or 0.0
        if rule.decay is None or not self.criteria.needs_evidence(node):
            return self.finish(rule, [(self.criteria.holds(node, truthy=True),
                                       x.double(points))])
        evidence = self.criteria.evidence(node)
        inf = self.criteria.may_be_inf(node)
        return self.finish(rule, [(x.not_null(evidence.copy()),
                                   self.decayed(points, evidence, rule.decay, inf))],
                           self.moment_of(rule.decay, evidence, inf))

    def finish(self, rule: Rule, branches: list[tuple[exp.Expression, exp.Expression]],
               moment: exp.Expression | None = None) -> RuleSql:
        """The first branch that holds gives its points, capped; none: 0 (and the rule did
        not apply: `Scorer` gives a score with no rule that applied `scored = False`)."""
        final = x.case([(cond, self.clamp(rule, points)) for cond, points in branches],
                       x.double(0.0))
        applied = x.case([(cond.copy(), exp.true()) for cond, _ in branches], exp.false())
        return RuleSql(final, moment, applied)

    def property_tiers(self, rule: Rule, node: c.PropertyCriterion) -> RuleSql:
        value = self.criteria.values.value(node.property, PropertyType.NUMBER, node.options)
        branches = []
        for tier in rule.tiers:
            parts = [x.not_null(value)]
            if tier.low is not None:
                parts.append(x.gte(value, x.double(tier.low)))
            if tier.high is not None:
                parts.append(x.lte(value, x.double(tier.high)))
            branches.append((x.and_(*parts), x.double(tier.points)))
        return self.finish(rule, branches)

    def event_tiers(self, rule: Rule, node: c.EventCriterion) -> RuleSql:
        branches = []
        moments = []
        for tier in rule.tiers:
            holds = self.criteria.count_holds(node, tier.low, tier.high)
            k = int(tier.low or 0)
            if rule.decay is None or k == 0:
                branches.append((holds, x.double(tier.points)))
                continue
            evidence = self.scan.latest(node, k)
            branches.append((holds, self.decayed(tier.points, evidence, rule.decay, False)))
            moment = self.moment_of(rule.decay, evidence, False)
            if moment is not None:
                moments.append((holds, moment))
        return self.finish(rule, branches, x.case(moments) if moments else None)

    def per_event(self, rule: Rule, node: c.EventCriterion) -> RuleSql:
        each = rule.points or 0.0
        matched = self.criteria.holds(node, truthy=True)
        if node.count.low == 0:  # a count that includes none: still no points without events
            matched = x.and_(matched, x.not_null(self.scan.latest(node)))
        decay = rule.decay
        if rule.max_per_day is not None:
            return self.per_day(rule, node, matched)
        if decay is None:
            n = self.scan.count(node)
            return self.finish(rule, [(matched, x.mul(x.double(each), x.to_double(n)))])
        # each event on its own clock, in integer millionths: no order of adding matters
        def micro(age: exp.Expression) -> exp.Expression:
            return x.to_bigint(self.micro_points(x.mul(x.double(each), self.factor(decay, age))))

        total = self.scan.per_event(("micro", each, decay), node, exp.Sum, micro)
        points = x.div(x.to_double(total), x.double(MICRO))
        return self.finish(rule, [(matched, points)],
                           self.per_event_moment(decay, node, matched))

    def per_day(self, rule: Rule, node: c.EventCriterion, matched: exp.Expression) -> RuleSql:
        """A per-event rule with `max_per_day`: each event's points (decayed on its own clock)
        in whole millionths, added per UTC day, each day capped at the limit, then added."""
        each, decay = rule.points or 0.0, rule.decay
        assert rule.max_per_day is not None
        limit = micro_points(rule.max_per_day)

        def micro(age: exp.Expression) -> exp.Expression:
            factor = x.double(1.0) if decay is None else self.factor(decay, age)
            return x.to_bigint(self.micro_points(x.mul(x.double(each), factor)))

        total = self.scan.daily((each, decay), node, micro, limit)
        points = x.div(x.to_double(total), x.double(MICRO))
        moment = None if decay is None else self.per_event_moment(decay, node, matched)
        return self.finish(rule, [(matched, points)], moment)

    def per_event_moment(self, decay: Decay, node: c.EventCriterion,
                         matched: exp.Expression) -> exp.Expression | None:
        """The live events (factor > 0) are what the evaluator notes: the oldest for expiry,
        half-life and linear decay; every one for steps."""
        if not self.schedule:
            return None
        age = x.sub(self.ctx.now(), x.column("occurred_us"))
        live = x.gt(self.factor(decay, age), x.double(0.0))
        oldest_live = self.scan.per_event(("oldest_live", decay), node, exp.Min,
                                          lambda _: x.column("occurred_us"), extra=live)
        half_life, step_every, linear, expire_after = decay.micros
        if step_every is None or decay.step_lose is None:
            moment = self.decay_moment(decay, oldest_live)
        else:
            lose = decay.step_lose

            def step_moment(age: exp.Expression) -> exp.Expression:
                steps = self.ctx.dialect("int_div", age, x.bigint(step_every))
                return x.when(
                    x.lt(x.mul(x.double(lose), x.to_double(steps)), x.double(1.0)),
                    x.add(x.sub(self.ctx.now(), age),
                          x.mul(x.add(steps, x.bigint(1)), x.bigint(step_every))))

            first_step = self.scan.per_event(("step", decay), node, exp.Min, step_moment,
                                             extra=live.copy())
            parts = [first_step]
            if expire_after is not None:
                parts.append(x.add(oldest_live, x.bigint(expire_after + EDGE_US)))
            moment = (parts[0] if len(parts) == 1
                      else self.ctx.dialect("least_ignoring_nulls", *parts))
        return x.when(x.and_(matched, x.not_null(oldest_live)), moment)
