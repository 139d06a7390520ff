"""Value operators of the criteria language: name, the types they apply to, how a written value
is read, and what they mean in Python. A SQL compiler adds its meaning per operator name."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadscore.catalog import CoercionError, PropertyType, coerce_value, parse_duration

T = PropertyType
TEXT = frozenset({T.STRING, T.ENUM})
ORDERED = frozenset({T.NUMBER, T.DATE})
ANY = frozenset(T)


@dataclass(frozen=True)
class Operator:
    name: str
    types: frozenset[PropertyType]
    shape: str  # value | values | texts | range | flag | duration | pattern
    phrase: str  # how an explanation says it
    when_unknown: bool  # the result when the property or attribute has no value
    test: Callable[[Any, Any, float], bool] | None  # (actual, expected, as_of) -> bool


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _equals(actual: Any, expected: Any, _: float) -> bool:
    return _fold(actual) == expected


def _in(actual: Any, expected: Any, _: float) -> bool:
    return _fold(actual) in expected


def _contains(actual: Any, expected: Any, _: float) -> bool:
    text = str(actual).casefold()
    return any(part in text for part in expected)


def _starts(actual: Any, expected: Any, _: float) -> bool:
    return str(actual).casefold().startswith(expected)


def _ends(actual: Any, expected: Any, _: float) -> bool:
    return str(actual).casefold().endswith(expected)


def _glob(actual: Any, expected: Any, _: float) -> bool:
    text = str(actual).casefold()
    return any(pattern.match(text) for pattern in expected)


def _regex(actual: Any, expected: Any, _: float) -> bool:
    return expected.search(str(actual)) is not None


def _within_last(actual: Any, expected: Any, as_of: float) -> bool:
    ts = actual.timestamp()
    return as_of - expected <= ts <= as_of


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in [
        Operator("equals", ANY, "value", "is", False, _equals),
        Operator("not_equals", ANY, "value", "is not", True, lambda a, e, t: not _equals(a, e, t)),
        Operator("any_of", ANY, "values", "is one of", False, _in),
        Operator("none_of", ANY, "values", "is none of", True, lambda a, e, t: not _in(a, e, t)),
        Operator("contains", TEXT, "texts", "contains", False, _contains),
        Operator("not_contains", TEXT, "texts", "contains none of", True,
                 lambda a, e, t: not _contains(a, e, t)),
        Operator("starts_with", TEXT, "texts", "starts with", False, _starts),
        Operator("ends_with", TEXT, "texts", "ends with", False, _ends),
        Operator("matches", TEXT, "pattern", "matches", False, _glob),
        Operator("regex", TEXT, "regex", "matches the regular expression", False, _regex),
        Operator("greater_than", ORDERED, "value", ">", False, lambda a, e, _: a > e),
        Operator("at_least", ORDERED, "value", "≥", False, lambda a, e, _: a >= e),
        Operator("less_than", ORDERED, "value", "<", False, lambda a, e, _: a < e),
        Operator("at_most", ORDERED, "value", "≤", False, lambda a, e, _: a <= e),
        Operator("between", ORDERED, "range", "is between", False,
                 lambda a, e, _: e[0] <= a <= e[1]),
        Operator("within_last", frozenset({T.DATE}), "duration", "is within the last", False,
                 _within_last),
        # presence and history are answered by the evaluator, not by a value test
        Operator("is_known", ANY, "flag", "is known", False, None),
        Operator("is_unknown", ANY, "flag", "is unknown", True, None),
        Operator("changed_within", ANY, "duration", "changed within the last", False, None),
    ]
}


def read_expected(op: Operator, written: Any, kind: PropertyType,
                  options: tuple[str, ...] = ()) -> Any:
    """Turn the value written in the file into what the operator compares against.
    Raises CoercionError with a plain sentence when it does not fit."""
    shape = op.shape
    if shape == "flag":
        if not isinstance(written, bool):
            raise CoercionError(f"'{op.name}' takes true or false")
        return written
    if shape == "duration":
        return parse_duration(written).total_seconds()
    if shape == "values":
        if not isinstance(written, list) or not written:
            raise CoercionError(f"'{op.name}' takes a list of values, e.g. [a, b]")
        return frozenset(_fold(coerce_value(v, kind, options=options)) for v in written)
    if shape == "texts":
        items = written if isinstance(written, list) else [written]
        if not items or not all(isinstance(v, str | int | float) for v in items):
            raise CoercionError(f"'{op.name}' takes a text or a list of texts")
        return tuple(str(v).casefold() for v in items)
    if shape == "pattern":
        items = written if isinstance(written, list) else [written]
        return tuple(re.compile(fnmatch.translate(str(p).casefold())) for p in items)
    if shape == "regex":
        try:
            return re.compile(str(written), re.IGNORECASE)
        except re.error as exc:
            raise CoercionError(f"not a valid regular expression: {exc}") from None
    if shape == "range":
        if not isinstance(written, list) or len(written) != 2:
            raise CoercionError("'between' takes two values: [low, high]")
        low, high = (coerce_value(v, kind) for v in written)
        if low is None or high is None:
            raise CoercionError("'between' needs both a low and a high value")
        if low > high:
            raise CoercionError(f"'between' is written high before low: {written}")
        return (low, high)
    value = coerce_value(written, kind, options=options)
    if value is None:
        raise CoercionError(f"'{op.name}' needs a value")
    return _fold(value)

