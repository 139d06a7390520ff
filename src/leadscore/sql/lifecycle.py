"""Stage qualification in SQL, as `lifecycle.rules.StageRules.target` decides it: outcome
events (deal_won → customer, opportunity_created → opportunity) when they rank above the other
target; else, unless an exclusion holds, the highest stage whose criterion holds, or without
criteria the stage score's threshold stage. The result is the target and the kind of its cause,
before the forward-only check: the current stage lives in the store, and `forward_move_sql`
(the dialect's "forward_move") applies that check wherever the caller has it."""

from __future__ import annotations

from sqlglot import exp

from leadscore.lifecycle.rules import CRITERIA, OUTCOME_STAGES, THRESHOLD, outcome_reason
from leadscore.lifecycle.stage import stage_rank
from leadscore.model import criteria as c
from leadscore.model.model import Model
from leadscore.sql import expr as x
from leadscore.sql.criteria import CriteriaSql
from leadscore.sql.dialect import Dialect, dialect_named


def stage_target(model: Model, criteria: CriteriaSql, threshold_stage: exp.Expression | None
                 ) -> tuple[exp.Expression, exp.Expression]:
    """(stage_target, stage_reason) expressions."""
    lifecycle = model.lifecycle
    order = lifecycle.order
    with criteria.ctx.at("the lifecycle section"):
        excluded = x.or_(*(criteria.holds(node) for node in lifecycle.exclude))
        if lifecycle.qualify:
            chosen = x.case([(criteria.holds(node, truthy=True), x.string(name))
                             for name, node in lifecycle.qualify])
            reason = CRITERIA
        elif threshold_stage is not None:
            chosen, reason = threshold_stage, THRESHOLD
        else:
            chosen, reason = exp.null(), THRESHOLD
    target = x.case([(x.not_(excluded), chosen)]) if lifecycle.exclude else chosen
    base_reason = x.when(x.not_null(target), x.string(reason))

    def rank(stage: exp.Expression) -> exp.Expression:
        return x.case([(x.eq(stage, x.string(name)), x.bigint(i))
                       for i, name in enumerate(order)], x.bigint(-1))

    outcome_branches_stage = []
    outcome_branches_reason = []
    for event_type, outcome in OUTCOME_STAGES:
        outcome_rank = stage_rank(outcome, order)
        if outcome_rank is None:
            continue
        happened = criteria.holds(c.EventCriterion(event_type))
        cond = x.and_(happened, x.gt(x.bigint(outcome_rank), rank(target.copy())))
        outcome_branches_stage.append((cond, x.string(outcome)))
        outcome_branches_reason.append((cond.copy(), x.string(outcome_reason(event_type))))
    if not outcome_branches_stage:
        return target, base_reason
    return (x.case(outcome_branches_stage, target),
            x.case(outcome_branches_reason, base_reason))


def forward_move_sql(current: exp.Expression | str, target: exp.Expression | str,
                     order: tuple[str, ...], dialect: str | Dialect = "duckdb"
                     ) -> exp.Expression:
    """`lifecycle.stage.forward_move` as SQL: the stage an automatic assignment sets from
    `current` toward `target` (column names or expressions), or NULL — never backward, never
    sideways, never out of 'other'. Render it with the dialect's `render`."""
    found = dialect_named(dialect)
    if found is None:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    as_expr = [x.column(v) if isinstance(v, str) else v for v in (current, target)]
    return found("forward_move", as_expr[0], as_expr[1], tuple(order))
