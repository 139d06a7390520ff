"""Value operators of the criteria language, one row each: the types they apply to, how a
written value is read, and their meaning in Python and in SQL, side by side.

`expected` (what `read_expected` makes of the written value) is plain data — texts lowered with
`str.lower`, numbers, bools, datetimes, durations in integer microseconds, frozensets and
tuples of them, glob and RE2 pattern strings — so that every engine can read it. The Python
meaning may `prepare` it once (compile a pattern); the SQL meaning builds a sqlglot expression
from (the value's expression, expected, a `SqlContext` of the dialect). Both meanings see only
known values: an unknown one gives the operator's `when_unknown` in every engine.
sqlglot is imported by the SQL builders alone, so loading a model stays light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from leadscore.catalog import (
    CoercionError,
    PropertyType,
    coerce_value,
    duration_micros,
    parse_duration,
    to_micros,
)
from leadscore.model.patterns import (
    RegexError,
    case_insensitive,
    compile_re2,
    glob_regex,
    parse_glob,
)

T = PropertyType
TEXT = frozenset({T.STRING, T.ENUM})
ORDERED = frozenset({T.NUMBER, T.DATE})
ANY = frozenset(T)


class SqlContext(Protocol):
    """What an operator's SQL meaning may ask of the dialect it is compiled for."""

    as_of_us: int

    def fold(self, value: Any) -> Any: ...  # lower() for text, the value otherwise
    def literal(self, value: Any) -> Any: ...  # a typed literal (dates as microseconds)
    def contains(self, text: Any, part: str) -> Any: ...
    def starts_with(self, text: Any, prefix: str) -> Any: ...
    def ends_with(self, text: Any, suffix: str) -> Any: ...
    def glob(self, text: Any, globs: tuple[str, ...]) -> Any: ...  # text already lowered
    def regex(self, text: Any, pattern: str) -> Any: ...  # case-insensitive RE2 search


PythonTest = Callable[[Any, Any, int], bool]  # (known value, prepared expected, as_of µs)
SqlTest = Callable[[Any, Any, SqlContext], Any]  # (value expression, expected, context)


@dataclass(frozen=True)
class Operator:
    name: str
    types: frozenset[PropertyType]
    shape: str  # value | values | texts | range | flag | duration | pattern | regex
    phrase: str  # how an explanation says it
    when_unknown: bool  # the result when the property or attribute has no value
    test: PythonTest | None  # None: answered by the evaluator (is_known, changed_within …)
    sql: SqlTest | None
    prepare: Callable[[Any], Any] | None = None  # expected → what `test` compares against


def fold(value: Any) -> Any:
    """Text compares ignoring case: `str.lower` (SQL lower())."""
    return value.lower() if isinstance(value, str) else value


# --- Python meaning ----------------------------------------------------------------------------

def _equals(actual: Any, expected: Any, _: int) -> bool:
    return fold(actual) == expected


def _in(actual: Any, expected: Any, _: int) -> bool:
    return fold(actual) in expected


def _contains(actual: Any, expected: Any, _: int) -> bool:
    text = str(actual).lower()
    return any(part in text for part in expected)


def _starts(actual: Any, expected: Any, _: int) -> bool:
    return str(actual).lower().startswith(expected)


def _ends(actual: Any, expected: Any, _: int) -> bool:
    return str(actual).lower().endswith(expected)


def _glob(actual: Any, prepared: Any, _: int) -> bool:
    return prepared.fullmatch(str(actual).lower()) is not None


def _regex(actual: Any, prepared: Any, _: int) -> bool:
    return prepared.search(str(actual)) is not None


def _within_last(actual: Any, expected: int, as_of_us: int) -> bool:
    moment = to_micros(actual)
    return as_of_us - expected <= moment <= as_of_us


def _prepare_globs(globs: tuple[str, ...]) -> Any:
    """One RE2 full-match expression for any of the globs."""
    return compile_re2("|".join(f"(?:{glob_regex(parse_glob(g))})" for g in globs))


def _prepare_regex(pattern: str) -> Any:
    return compile_re2(case_insensitive(pattern))


# --- SQL meaning -------------------------------------------------------------------------------

def _any(parts: Iterable[Any]) -> Any:
    from sqlglot import exp

    items = list(parts)
    return exp.or_(*items) if len(items) > 1 else items[0]


def _ordered(values: Iterable[Any]) -> list[Any]:
    return sorted(values, key=lambda v: (type(v).__name__, repr(v)))


def _sql_equals(value: Any, expected: Any, ctx: SqlContext) -> Any:
    return ctx.fold(value).eq(ctx.literal(expected))


def _sql_in(value: Any, expected: Any, ctx: SqlContext) -> Any:
    return ctx.fold(value).isin(*(ctx.literal(v) for v in _ordered(expected)))


def _sql_contains(value: Any, expected: Any, ctx: SqlContext) -> Any:
    text = ctx.fold(value)
    return _any(ctx.contains(text, part) for part in expected)


def _sql_starts(value: Any, expected: Any, ctx: SqlContext) -> Any:
    text = ctx.fold(value)
    return _any(ctx.starts_with(text, part) for part in expected)


def _sql_ends(value: Any, expected: Any, ctx: SqlContext) -> Any:
    text = ctx.fold(value)
    return _any(ctx.ends_with(text, part) for part in expected)


def _sql_not(test: SqlTest) -> SqlTest:
    def negated(value: Any, expected: Any, ctx: SqlContext) -> Any:
        from sqlglot import exp

        return exp.not_(exp.paren(test(value, expected, ctx), copy=False))

    return negated


def _sql_compare(kind: str) -> SqlTest:
    def compare(value: Any, expected: Any, ctx: SqlContext) -> Any:
        from sqlglot import exp

        node = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[kind]
        return node(this=value, expression=ctx.literal(expected))

    return compare


def _sql_between(value: Any, expected: Any, ctx: SqlContext) -> Any:
    from sqlglot import exp

    low, high = expected
    return exp.and_(value >= ctx.literal(low), value <= ctx.literal(high))


def _sql_within_last(value: Any, expected: int, ctx: SqlContext) -> Any:
    from sqlglot import exp

    return exp.and_(value >= ctx.literal(ctx.as_of_us - expected),
                    value <= ctx.literal(ctx.as_of_us))


def _sql_glob(value: Any, expected: Any, ctx: SqlContext) -> Any:
    return ctx.glob(ctx.fold(value), expected)


def _sql_regex(value: Any, expected: Any, ctx: SqlContext) -> Any:
    return ctx.regex(value, expected)


def _negate(test: PythonTest) -> PythonTest:
    return lambda actual, expected, as_of_us: not test(actual, expected, as_of_us)


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("equals", ANY, "value", "is", False, _equals, _sql_equals),
        Operator("not_equals", ANY, "value", "is not", True, _negate(_equals),
                 _sql_not(_sql_equals)),
        Operator("any_of", ANY, "values", "is one of", False, _in, _sql_in),
        Operator("none_of", ANY, "values", "is none of", True, _negate(_in), _sql_not(_sql_in)),
        Operator("contains", TEXT, "texts", "contains", False, _contains, _sql_contains),
        Operator("not_contains", TEXT, "texts", "contains none of", True, _negate(_contains),
                 _sql_not(_sql_contains)),
        Operator("starts_with", TEXT, "texts", "starts with", False, _starts, _sql_starts),
        Operator("ends_with", TEXT, "texts", "ends with", False, _ends, _sql_ends),
        Operator("matches", TEXT, "pattern", "matches", False, _glob, _sql_glob,
                 _prepare_globs),
        Operator("regex", TEXT, "regex", "matches the regular expression", False, _regex,
                 _sql_regex, _prepare_regex),
        Operator("greater_than", ORDERED, "value", ">", False, lambda a, e, _: a > e,
                 _sql_compare("gt")),
        Operator("at_least", ORDERED, "value", "≥", False, lambda a, e, _: a >= e,
                 _sql_compare("gte")),
        Operator("less_than", ORDERED, "value", "<", False, lambda a, e, _: a < e,
                 _sql_compare("lt")),
        Operator("at_most", ORDERED, "value", "≤", False, lambda a, e, _: a <= e,
                 _sql_compare("lte")),
        Operator("between", ORDERED, "range", "is between", False,
                 lambda a, e, _: e[0] <= a <= e[1], _sql_between),
        Operator("within_last", frozenset({T.DATE}), "duration", "is within the last", False,
                 _within_last, _sql_within_last),
        # presence and history are answered by the evaluator and the compiler, not by a test
        Operator("is_known", ANY, "flag", "is known", False, None, None),
        Operator("is_unknown", ANY, "flag", "is unknown", True, None, None),
        Operator("changed_within", ANY, "duration", "changed within the last", False, None,
                 None),
    ]
}


def read_expected(op: Operator, written: Any, kind: PropertyType,
                  options: tuple[str, ...] = ()) -> Any:
    """Turn the value written in the file into what the operator compares against (plain
    data). Raises CoercionError with a plain sentence when it does not fit."""
    shape = op.shape
    if shape == "flag":
        if not isinstance(written, bool):
            raise CoercionError(f"'{op.name}' takes true or false")
        return written
    if shape == "duration":
        return duration_micros(parse_duration(written))
    if shape == "values":
        if not isinstance(written, list) or not written:
            raise CoercionError(f"'{op.name}' takes a list of values, e.g. [a, b]")
        values = frozenset(fold(_finite(coerce_value(v, kind, options=options)))
                           for v in written)
        if None in values:  # an empty item can never equal a known value
            raise CoercionError(f"'{op.name}' takes values, not an empty one")
        return values
    if shape == "texts":
        items = written if isinstance(written, list) else [written]
        if not items or not all(_is_text(v) for v in items):
            raise CoercionError(f"'{op.name}' takes a text or a list of texts")
        return tuple(str(v).lower() for v in items)
    if shape == "pattern":
        items = written if isinstance(written, list) else [written]
        if not items or not all(_is_text(v) for v in items):
            raise CoercionError(f"'{op.name}' takes a pattern or a list of patterns")
        return tuple(str(p).lower() for p in items)
    if shape == "regex":
        try:
            compile_re2(case_insensitive(str(written)))
        except RegexError as exc:
            raise CoercionError(f"not a regular expression RE2 can run ({exc}); backreferences "
                                "and lookaround are not supported") from None
        return str(written)
    if shape == "range":
        if not isinstance(written, list) or len(written) != 2:
            raise CoercionError("'between' takes two values: [low, high]")
        low, high = (_finite(coerce_value(v, kind)) for v in written)
        if low is None or high is None:
            raise CoercionError("'between' needs both a low and a high value")
        if low > high:
            raise CoercionError(f"'between' is written high before low: {written}")
        return (low, high)
    value = _finite(coerce_value(written, kind, options=options))
    if value is None:
        raise CoercionError(f"'{op.name}' needs a value")
    return fold(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise CoercionError(f"expected a finite number, got {value}")
    return value


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float)  # a number or a bool reads as its text
