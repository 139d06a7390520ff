"""`next_change_us` in SQL, as `evaluation.schedule.next_change_at`: the earliest moment after
the moment of scoring at which time alone changes something — the oldest event in a window
leaving it, a `since`/`until` date passing, a date property entering or leaving `within_last`,
a `changed_within` lapsing, or the points of a decaying rule that applied changing (the rules
give those moments, `rules.RuleCompiler.decay_moment`). NULL: never."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from leadscore.catalog import PropertyType, duration_micros, to_micros
from leadscore.model import criteria as c
from leadscore.sql import expr as x
from leadscore.sql.criteria import CriteriaSql
from leadscore.sql.rules import EDGE_US


def time_sensitive(nodes: Iterable[c.Criterion]) -> list[c.Criterion]:
    """The criteria, anywhere in these trees, whose verdict time alone can change (each
    distinct one once)."""
    found: dict[c.Criterion, None] = {}
    for root in nodes:
        for node in c.walk(root):
            if isinstance(node, c.EventCriterion) and not node.window.is_ever:
                found.setdefault(node)
            elif (isinstance(node, c.PropertyCriterion) and node.test is not None
                  and node.test.op in ("within_last", "changed_within")):
                found.setdefault(node)
    return list(found)


def moments(nodes: Iterable[c.Criterion], criteria: CriteriaSql) -> list[exp.Expression]:
    """Candidate moments (BIGINT µs, NULL when none), each later than the moment of scoring."""
    ctx = criteria.ctx
    now = ctx.as_of_us
    out: list[exp.Expression] = []
    for node in time_sensitive(nodes):
        if isinstance(node, c.EventCriterion):
            window = node.window
            if window.within_last is not None:
                # the oldest event in the window leaves just after its age reaches the window
                within = duration_micros(window.within_last)
                out.append(x.add(criteria.scan.oldest(node), x.bigint(within + EDGE_US)))
            for date in (window.until, window.since):
                if date is not None and to_micros(date) > now:
                    out.append(x.bigint(to_micros(date)))
            continue
        assert isinstance(node, c.PropertyCriterion) and node.test is not None
        kind = node.kind or ctx.model.catalog.property_type(node.property)
        if node.test.op == "within_last":
            value = criteria.values.value(node.property, kind, node.options)
            if kind is not PropertyType.DATE:
                continue
            for moment in (value, x.add(value, x.bigint(node.test.expected + EDGE_US))):
                out.append(x.when(x.gt(moment, ctx.now()), moment.copy()))
        else:  # changed_within
            changed = criteria.values.changed_at(node.property, kind)
            moment = x.add(changed, x.bigint(node.test.expected + EDGE_US))
            out.append(x.when(x.gt(moment, ctx.now()), moment.copy()))
    return out


def earliest(criteria: CriteriaSql, candidates: list[exp.Expression]) -> exp.Expression:
    if not candidates:
        return exp.cast(exp.null(), exp.DataType.build("BIGINT"))
    if len(candidates) == 1:
        return candidates[0]
    return criteria.ctx.dialect("least_ignoring_nulls", *candidates)

