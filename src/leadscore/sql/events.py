"""Event criteria in the compiled query: one scan of `ls_events`, grouped by contact, with a
conditional aggregate per distinct fact a criterion needs — how many events pass (type,
filters, window), the time of the latest or k-th latest, the oldest, or a per-event sum —
instead of a scan per rule. Equal criteria share their aggregates; the k-th latest time is
computed only where a count or tier needs k ≥ 2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from leadscore.catalog import duration_micros, to_micros
from leadscore.model import criteria as c
from leadscore.model.operators import OPERATORS
from leadscore.sql import expr as x
from leadscore.sql.context import CompileContext, OperatorContext
from leadscore.sql.relations import attribute_column, attribute_kind

EventKey = tuple[str, tuple[c.AttributeFilter, ...], c.Window]
TIME = "occurred_us"


def event_key(node: c.EventCriterion) -> EventKey:
    return (node.event_type, node.filters, node.window)


def value_test(ctx: CompileContext, value: exp.Expression, test: c.ValueTest,
               kind: Any) -> exp.Expression:
    """A value test as a two-valued boolean: an unknown (NULL) value gives the operator's
    `when_unknown`, a known one its SQL meaning."""
    op = OPERATORS[test.op]
    if test.op in ("is_known", "is_unknown"):
        present = test.expected if test.op == "is_known" else not test.expected
        return x.not_null(value) if present else x.is_null(value)
    assert op.sql is not None, f"{test.op} has no SQL meaning"
    meaning = op.sql(value, test.expected, OperatorContext(ctx, kind))
    if op.when_unknown:
        return x.or_(x.is_null(value), meaning)
    return x.and_(x.not_null(value), meaning)


class EventScan:
    """Collects the aggregates the model needs; `select()` is the one scan."""

    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self.attributes: set[tuple[str, str]] = set()
        self.types: list[str] = []
        self._conditions: dict[EventKey, exp.Expression] = {}
        self._aggregates: dict[Any, tuple[str, exp.Expression, bool]] = {}

    # conditions --------------------------------------------------------------------------------
    def condition(self, node: c.EventCriterion) -> exp.Expression:
        """Whether one event row passes the criterion's type, window and filters."""
        key = event_key(node)
        found = self._conditions.get(key)
        if found is not None:
            return found.copy()
        if node.event_type not in self.types:
            self.types.append(node.event_type)
        time = x.column(TIME)
        parts = [x.eq(x.column("type"), x.string(node.event_type))]
        low, high = self.bounds(node.window)
        if low is not None:
            parts.append(x.gte(time, x.bigint(low)))
        if high < self.ctx.as_of_us:
            parts.append(x.lte(time, x.bigint(high)))  # as_of itself bounds the whole scan
        for flt in node.filters:
            kind = attribute_kind(flt.kind)
            self.attributes.add((flt.attribute, kind))
            parts.append(value_test(self.ctx, x.column(attribute_column(flt.attribute, kind)),
                                    flt.test, flt.kind))
        found = self._conditions[key] = x.and_(*parts)
        return found.copy()

    def bounds(self, window: c.Window) -> tuple[int | None, int]:
        """The window in microseconds, as `EventMatcher.bounds`."""
        as_of = self.ctx.as_of_us
        low = as_of - duration_micros(window.within_last) if window.within_last else None
        if window.since is not None:
            since = to_micros(window.since)
            low = since if low is None or since > low else low
        high = as_of if window.until is None else min(as_of, to_micros(window.until))
        return low, high

    # aggregates (columns of the base layer) ---------------------------------------------------
    def _aggregate(self, key: Any, build: Callable[[], exp.Expression],
                   zero: bool = False) -> exp.Expression:
        """A base-layer column for an aggregate; `zero`: a contact without events gets 0."""
        found = self._aggregates.get(key)
        if found is None:
            found = (f"e{len(self._aggregates) + 1}", build(), zero)
            self._aggregates[key] = found
        return x.column(found[0])

    def count(self, node: c.EventCriterion) -> exp.Expression:
        key = event_key(node)
        return self._aggregate(("count", key), lambda: exp.Filter(
            this=exp.Count(this=exp.Star()), expression=exp.Where(this=self.condition(node))),
            zero=True)

    def latest(self, node: c.EventCriterion, k: int = 1) -> exp.Expression:
        """Time of the k-th latest passing event (NULL when fewer)."""
        key = event_key(node)
        if k == 1:
            return self._aggregate(("latest", key), lambda: exp.Filter(
                this=exp.Max(this=x.column(TIME)), expression=exp.Where(this=self.condition(node))))
        return self._aggregate(("kth", key, k), lambda: self.ctx.dialect(
            "kth_latest", x.column(TIME), self.condition(node), k))

    def oldest(self, node: c.EventCriterion) -> exp.Expression:
        key = event_key(node)
        return self._aggregate(("oldest", key), lambda: exp.Filter(
            this=exp.Min(this=x.column(TIME)), expression=exp.Where(this=self.condition(node))))

    def per_event(self, tag: Any, node: c.EventCriterion, kind: type[exp.AggFunc],
                  value: Callable[[exp.Expression], exp.Expression],
                  extra: exp.Expression | None = None) -> exp.Expression:
        """An aggregate (`kind`: Sum, Min) of `value(age)` over the passing events (and
        `extra`), `age` being the event's age in microseconds."""
        key = ("per_event", tag, event_key(node))

        def build() -> exp.Expression:
            age = x.sub(self.ctx.now(), x.column(TIME))
            cond = self.condition(node) if extra is None else x.and_(self.condition(node), extra)
            return exp.Filter(this=kind(this=value(age)), expression=exp.Where(this=cond))

        return self._aggregate(key, build)

    # the scan ------------------------------------------------------------------------------------
    def has_aggregates(self) -> bool:
        return bool(self._aggregates)

    def select(self, events: str) -> exp.Select:
        """SELECT contact_id, <aggregates> FROM ls_events WHERE … GROUP BY contact_id."""
        where = x.and_(x.lte(x.column(TIME), self.ctx.now()),
                       exp.In(this=x.column("type"),
                              expressions=[x.string(t) for t in self.types]))
        columns = [x.column("contact_id")] + [x.alias(agg, name)
                                              for name, agg, _ in self._aggregates.values()]
        return (exp.select(*columns).from_(exp.to_table(events, dialect=self.ctx.dialect.sqlglot))
                .where(where).group_by(x.column("contact_id")))

    def base_columns(self, alias: str) -> list[exp.Expression]:
        """The aggregates as base-layer columns (counts of contacts without events are 0)."""
        out = []
        for name, _, zero in self._aggregates.values():
            column = x.column(name, alias)
            out.append(x.alias(x.func("COALESCE", column, x.bigint(0)) if zero else column,
                               name))
        return out
