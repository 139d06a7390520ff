"""Building blocks of the compiled SQL: sqlglot expressions that say exactly one thing.

A tree built by hand is rendered as it stands — sqlglot adds no parentheses — so every
arithmetic operand that is not atomic is wrapped, and a float literal is written as
`CAST('<repr>' AS DOUBLE)`: the shortest repr round-trips, and no engine reads it as a
DECIMAL. Times are BIGINT microseconds; `INF` stands for "no event earned it" (a property,
a `not`, a count that includes none), NULL for "does not hold".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlglot import exp

from leadscore.catalog import to_micros

INF = 9_223_372_036_854_775_807  # the largest BIGINT: evidence that is no event's time
ATOMS = (exp.Column, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Func, exp.Cast,
         exp.Anonymous, exp.Case, exp.Identifier, exp.Filter)


def wrap(node: exp.Expression) -> exp.Expression:
    """`node`, parenthesized unless it is atomic."""
    return node if isinstance(node, ATOMS) else exp.Paren(this=node)


def add(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Add(this=wrap(a), expression=wrap(b))


def sub(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Sub(this=wrap(a), expression=wrap(b))


def mul(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Mul(this=wrap(a), expression=wrap(b))


def div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """Float division (both sides are DOUBLE where it is used)."""
    return exp.Div(this=wrap(a), expression=wrap(b))


def compare(kind: type[exp.Expression], a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return kind(this=wrap(a), expression=wrap(b))


def eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return compare(exp.EQ, a, b)


def gt(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return compare(exp.GT, a, b)


def gte(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return compare(exp.GTE, a, b)


def lt(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return compare(exp.LT, a, b)


def lte(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return compare(exp.LTE, a, b)


def and_(*parts: exp.Expression) -> exp.Expression:
    items = [p for p in parts if p is not None]
    if not items:
        return exp.true()
    return items[0] if len(items) == 1 else cast(exp.Expression, exp.and_(*items))


def or_(*parts: exp.Expression) -> exp.Expression:
    items = [p for p in parts if p is not None]
    if not items:
        return exp.false()
    return items[0] if len(items) == 1 else cast(exp.Expression, exp.or_(*items))


def not_(node: exp.Expression) -> exp.Expression:
    return exp.not_(wrap(node))


def is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=wrap(node), expression=exp.Null())


def not_null(node: exp.Expression) -> exp.Expression:
    return exp.not_(is_null(node))


def case(branches: Sequence[tuple[exp.Expression, exp.Expression]],
         default: exp.Expression | None = None) -> exp.Expression:
    if not branches:
        return default if default is not None else exp.null()
    return exp.Case(ifs=[exp.If(this=cond, true=value) for cond, value in branches],
                    default=default)


def when(cond: exp.Expression, value: exp.Expression,
         otherwise: exp.Expression | None = None) -> exp.Expression:
    return case([(cond, value)], otherwise)


def func(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call rendered as written, in every dialect."""
    return exp.Anonymous(this=name, expressions=list(args))


def double(value: float) -> exp.Expression:
    """A DOUBLE literal with exactly this value."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return exp.cast(exp.Literal.string(repr(value)), exp.DataType.build("DOUBLE"))


def bigint(value: int) -> exp.Expression:
    return exp.Literal.number(int(value))


def string(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def boolean(value: bool) -> exp.Expression:
    return exp.true() if value else exp.false()


def to_double(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("DOUBLE"))


def to_bigint(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("BIGINT"))


def literal(value: Any) -> exp.Expression:
    """A typed literal of a criterion's expected value: text, bool, date (BIGINT
    microseconds) or number (DOUBLE)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, datetime):
        return bigint(to_micros(value))
    if isinstance(value, int | float):
        return double(value)
    raise TypeError(f"no SQL literal for {value!r}")  # pragma: no cover


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def alias(node: exp.Expression, name: str) -> exp.Expression:
    return cast(exp.Expression, exp.alias_(node, name, quoted=True))


def add_all(values: Iterable[exp.Expression]) -> exp.Expression:
    """Left to right: ((a + b) + c) + …, as `arithmetic.add_in_order`."""
    items = list(values)
    if not items:
        return double(0.0)
    total = items[0]
    for item in items[1:]:
        total = add(total, item)
    return total
