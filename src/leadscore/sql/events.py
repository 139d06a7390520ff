"""Event criteria in the compiled query: one scan of `ls_events`, grouped by contact, with a
conditional aggregate per distinct fact a criterion needs, instead of a scan per rule:

- the latest passing event's time (which also says whether at least one passed),
- the k latest times as one list per criterion, for the largest k any count or tier needs
  (k ≥ 2 only; each k is read from the same list),
- how many passed (only where a count has an upper bound, or tiers or per-event points need
  the number),
- the oldest passing time (schedules), per-event sums and minima (per-event decay).

Equal criteria share their aggregates. Each attribute's lowered text is computed once per event
row, in a projection under the aggregation, and tests inside the aggregates' FILTER clauses
skip null guards that a NULL already gives (a NULL filter counts nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlglot import exp

from leadscore.catalog import PropertyType, duration_micros, to_micros
from leadscore.model import criteria as c
from leadscore.model.daily import DAY_US
from leadscore.model.operators import OPERATORS
from leadscore.sql import expr as x
from leadscore.sql.context import CompileContext, OperatorContext
from leadscore.sql.relations import attribute_column, attribute_kind

EventKey = tuple[str, tuple[c.AttributeFilter, ...], c.Window, tuple[c.EventExclusion, ...]]
TIME = "occurred_us"


def event_key(node: c.EventCriterion) -> EventKey:
    return (node.event_type, node.filters, node.window, node.excluding)


def value_test(ctx: CompileContext, value: exp.Expression, test: c.ValueTest, kind: Any, *,
               operators: OperatorContext | None = None,
               in_filter: bool = False) -> exp.Expression:
    """A value test: an unknown (NULL) value gives the operator's `when_unknown`, a known one
    its SQL meaning. Two-valued, except that `in_filter` (a conjunct of a WHERE or FILTER,
    where NULL counts as false) leaves out the guard of an operator that is false when
    unknown: its meaning is NULL on a NULL value already."""
    op = OPERATORS[test.op]
    if test.op in ("is_known", "is_unknown"):
        present = test.expected if test.op == "is_known" else not test.expected
        return x.not_null(value) if present else x.is_null(value)
    assert op.sql is not None, f"{test.op} has no SQL meaning"
    meaning = op.sql(value, test.expected, operators or OperatorContext(ctx, kind))
    if op.when_unknown:
        return x.or_(x.is_null(value), meaning)
    return meaning if in_filter else x.and_(x.not_null(value), meaning)


class _ScanOperators(OperatorContext):
    """Operators inside the scan: a lowered attribute is the projected column, not LOWER()
    again for every test."""

    def __init__(self, scan: EventScan, kind: PropertyType) -> None:
        super().__init__(scan.ctx, kind)
        self.scan = scan

    def fold(self, value: exp.Expression) -> exp.Expression:
        if self.kind not in (PropertyType.STRING, PropertyType.ENUM) or not isinstance(
                value, exp.Column):
            return super().fold(value)
        return self.scan.lowered(value.name)


class EventScan:
    """Collects the aggregates the model needs; `select()` is the one scan."""

    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self.attributes: set[tuple[str, str]] = set()
        self.types: list[str] = []
        self._conditions: dict[EventKey, exp.Expression] = {}
        self._aggregates: dict[Any, tuple[str, Callable[[], exp.Expression], bool]] = {}
        self._top: dict[EventKey, set[int]] = {}  # the k (≥ 2) needed per criterion
        self._top_nodes: dict[EventKey, c.EventCriterion] = {}
        self._lowered: dict[str, str] = {}  # attribute column → its lowered projection
        self._exclusions: dict[c.EventExclusion, str] = {}  # → its column of the event rows
        # per-day sums capped by a limit: key → (column, day sum builder, limit in millionths)
        self._daily: dict[Any, tuple[str, Callable[[], exp.Expression], int]] = {}

    # conditions --------------------------------------------------------------------------------
    def lowered(self, column: str) -> exp.Expression:
        if column not in self._lowered:
            self._lowered[column] = f"t{len(self._lowered) + 1}"
        return x.column(self._lowered[column])

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
        if node.excluding:  # the model's exclusions: two-valued, so NOT keeps what they do not
            parts.append(x.not_(x.or_(*(self.excluded(e) for e in node.excluding))))
        for flt in node.filters:
            parts.append(self.passes(flt, in_filter=True))
        found = self._conditions[key] = x.and_(*parts)
        return found.copy()

    def passes(self, flt: c.AttributeFilter, *, in_filter: bool) -> exp.Expression:
        """Whether one event row's attribute passes the filter."""
        kind = attribute_kind(flt.kind)
        self.attributes.add((flt.attribute, kind))
        column = x.column(attribute_column(flt.attribute, kind))
        return value_test(self.ctx, column, flt.test, flt.kind, in_filter=in_filter,
                          operators=_ScanOperators(self, flt.kind))

    def excluded(self, exclusion: c.EventExclusion) -> exp.Expression:
        """Whether the exclusion leaves one event row out (TRUE or FALSE, never NULL): a
        column of the event rows, computed once per row however many criteria read it."""
        if exclusion not in self._exclusions:
            self._exclusions[exclusion] = f"x{len(self._exclusions) + 1}"
            for flt in exclusion.filters:
                self.attributes.add((flt.attribute, attribute_kind(flt.kind)))
        return x.column(self._exclusions[exclusion])

    def _exclusion_columns(self) -> list[exp.Expression]:
        out = []
        for exclusion, name in self._exclusions.items():
            tests: list[exp.Expression] = []  # the types first: the attribute tests run only
            # for their rows
            if exclusion.types:
                tests.append(exp.In(this=x.column("type"),
                                    expressions=[x.string(t) for t in exclusion.types]))
            for flt in exclusion.filters:
                column = x.column(attribute_column(flt.attribute, attribute_kind(flt.kind)))
                tests.append(value_test(self.ctx, column, flt.test, flt.kind))
            out.append(x.alias(x.and_(*tests), name))
        return out

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
            found = (f"e{len(self._aggregates) + 1}", build, zero)
            self._aggregates[key] = found
        return x.column(found[0])

    def _filtered(self, agg: exp.Expression, node: c.EventCriterion,
                  extra: exp.Expression | None = None) -> exp.Expression:
        cond = self.condition(node) if extra is None else x.and_(self.condition(node), extra)
        return exp.Filter(this=agg, expression=exp.Where(this=cond))

    def count(self, node: c.EventCriterion) -> exp.Expression:
        return self._aggregate(("count", event_key(node)), lambda: self._filtered(
            exp.Count(this=exp.Star()), node), zero=True)

    def latest(self, node: c.EventCriterion, k: int = 1) -> exp.Expression:
        """Time of the k-th latest passing event (NULL when fewer pass)."""
        key = event_key(node)
        if k == 1:
            return self._aggregate(("latest", key), lambda: self._filtered(
                exp.Max(this=x.column(TIME)), node))
        self._top.setdefault(key, set()).add(k)
        self._top_nodes[key] = node
        return x.column(f"{self._top_name(key)}_{k}")

    def _top_name(self, key: EventKey) -> str:
        self._aggregate(("top", key), lambda: self.ctx.dialect(
            "top_latest", x.column(TIME), self.condition(self._top_nodes[key]),
            max(self._top[key])))
        return self._aggregates[("top", key)][0]

    def oldest(self, node: c.EventCriterion) -> exp.Expression:
        return self._aggregate(("oldest", event_key(node)), lambda: self._filtered(
            exp.Min(this=x.column(TIME)), node))

    def per_event(self, tag: Any, node: c.EventCriterion, kind: type[exp.AggFunc],
                  value: Callable[[exp.Expression], exp.Expression],
                  extra: exp.Expression | None = None) -> exp.Expression:
        """An aggregate (`kind`: Sum, Min) of `value(age)` over the passing events (and
        `extra`), `age` being the event's age in microseconds."""
        def build() -> exp.Expression:
            age = x.sub(self.ctx.now(), x.column(TIME))
            return self._filtered(cast(exp.Expression, kind(this=value(age))), node, extra)

        return self._aggregate(("per_event", tag, event_key(node)), build)

    def daily(self, tag: Any, node: c.EventCriterion,
              value: Callable[[exp.Expression], exp.Expression], limit: int) -> exp.Expression:
        """The sum over UTC days of min(the day's sum of `value(age)` over the passing events,
        `limit`): a column of the per-day layer (`daily_select`), NULL without passing
        events. Values and limit are whole millionths."""
        key = ("daily", tag, limit, event_key(node))
        found = self._daily.get(key)
        if found is None:
            def build() -> exp.Expression:
                age = x.sub(self.ctx.now(), x.column(TIME))
                return self._filtered(exp.Sum(this=value(age)), node)

            found = self._daily[key] = (f"d{len(self._daily) + 1}", build, limit)
        return x.column(found[0])

    # the scan ------------------------------------------------------------------------------------
    def has_aggregates(self) -> bool:
        return bool(self._aggregates)

    def has_daily(self) -> bool:
        return bool(self._daily)

    def _rows(self, events: str, extra: tuple[exp.Expression, ...] = ()) -> exp.Expression:
        """(<event rows, lowered text>) ev: the rows at or before the moment, of the types
        used."""
        inner_columns: list[exp.Expression] = [x.column("contact_id"), x.column("type"),
                                               x.column(TIME), *extra]
        inner_columns += [x.column(attribute_column(a, k)) for a, k in sorted(self.attributes)]
        inner_columns += [x.alias(x.func("LOWER", x.column(column)), name)
                          for column, name in self._lowered.items()]
        inner_columns += self._exclusion_columns()
        # an IN list: DuckDB runs it as a hash lookup, cheaper per row than a chain of ORs
        where = x.and_(x.lte(x.column(TIME), self.ctx.now()),
                       exp.In(this=x.column("type"),
                              expressions=[x.string(t) for t in self.types]))
        rows = (exp.select(*inner_columns)
                .from_(exp.to_table(events, dialect=self.ctx.dialect.sqlglot)).where(where))
        return cast(exp.Expression, exp.alias_(exp.Subquery(this=rows), "ev"))

    def select(self, events: str) -> exp.Select:
        """SELECT contact_id, <aggregates> FROM (<event rows, lowered text>) GROUP BY
        contact_id."""
        aggregates = [(name, build()) for name, build, _ in self._aggregates.values()]
        columns = [x.column("contact_id")] + [x.alias(agg, name) for name, agg in aggregates]
        return (exp.select(*columns).from_(self._rows(events))
                .group_by(x.column("contact_id")))

    def daily_select(self, events: str) -> exp.Select:
        """The per-day layer: each contact's day sums (GROUP BY contact_id, its UTC day), each
        capped at its limit, added over the days (GROUP BY contact_id)."""
        sums = [(name, build(), limit) for name, build, limit in self._daily.values()]
        time = x.column(TIME)
        day = x.case([(x.gte(time, x.bigint(0)),
                       self.ctx.dialect("int_div", time, x.bigint(DAY_US)))],
                     x.sub(x.sub(x.bigint(0), self.ctx.dialect(
                         "int_div", x.sub(x.sub(x.bigint(0), time.copy()), x.bigint(1)),
                         x.bigint(DAY_US))), x.bigint(1)))  # floor division before 1970 too
        per_day = (exp.select(x.column("contact_id"),
                              *(x.alias(total, name) for name, total, _ in sums))
                   .from_(self._rows(events, (x.alias(day, "ls_day"),)))
                   .group_by(x.column("contact_id"), x.column("ls_day")))
        capped = [x.alias(exp.Sum(this=x.case([(x.gt(x.column(name), x.bigint(limit)),
                                                x.bigint(limit))], x.column(name))), name)
                  for name, _, limit in sums]
        return (exp.select(x.column("contact_id"), *capped)
                .from_(exp.alias_(exp.Subquery(this=per_day), "dd"))
                .group_by(x.column("contact_id")))

    def daily_columns(self, alias: str) -> list[exp.Expression]:
        return [x.alias(x.column(name, alias), name) for name, _, _ in self._daily.values()]

    def base_columns(self, alias: str) -> list[exp.Expression]:
        """The aggregates as base-layer columns (counts of contacts without events are 0; the
        k latest times as one column per k)."""
        out = []
        for key, (name, _, zero) in self._aggregates.items():
            column = x.column(name, alias)
            if key[0] == "top":
                for k in sorted(self._top[key[1]]):
                    out.append(x.alias(self.ctx.dialect("nth", column.copy(), k), f"{name}_{k}"))
                continue
            out.append(x.alias(x.func("COALESCE", column, x.bigint(0)) if zero else column,
                               name))
        return out
