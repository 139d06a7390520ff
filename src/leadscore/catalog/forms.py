"""A stored value's typed forms: what it reads as when a model declares it a string, a number,
a bool or a date.

The store keeps every property value as its JSON text and, computed once when it is written,
as these four forms. Every engine — the Python evaluator, DuckDB, PostgreSQL, Spark — then
reads a property through its declared type from the same forms, so they cannot disagree on
what `"1,200"`, `"yes"` or `"2026-01-05"` mean.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from leadscore.catalog.catalog import PropertyType
from leadscore.catalog.values import CoercionError, coerce_value

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

Forms = tuple[str | None, float | None, bool | None, int | None]
NO_FORMS: Forms = (None, None, None, None)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware (or UTC-naive) datetime, exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(micros))


def typed_forms(raw: Any) -> Forms:
    """(text, number, bool, time in µs) of a stored JSON value; a form is None where
    `coerce_value` to that type fails. Mappings, lists and None have no forms."""
    if raw is None or isinstance(raw, dict | list):
        return NO_FORMS
    return (_form(raw, PropertyType.STRING), _number(raw), _form(raw, PropertyType.BOOL),
            _time(raw))


def read_form(forms: Forms, kind: PropertyType, options: tuple[str, ...] = ()) -> Any:
    """The value of a property of type `kind` from its forms (None: unknown). An enumeration
    reads its text form, matched without case against the options (the option's spelling)."""
    text, number, flag, micros = forms
    if kind is PropertyType.STRING:
        return text
    if kind is PropertyType.NUMBER:
        return number
    if kind is PropertyType.BOOL:
        return flag
    if kind is PropertyType.DATE:
        return None if micros is None else from_micros(micros)
    if text is None or not options:
        return text
    return _options(options).get(text.lower())


_OPTIONS: dict[tuple[str, ...], dict[str, str]] = {}


def _options(options: tuple[str, ...]) -> dict[str, str]:
    found = _OPTIONS.get(options)
    if found is None:
        found = _OPTIONS[options] = {option.lower(): option for option in options}
    return found


def _form(raw: Any, kind: PropertyType) -> Any:
    try:
        return coerce_value(raw, kind)
    except CoercionError:
        return None


def _number(raw: Any) -> float | None:
    value = _form(raw, PropertyType.NUMBER)
    if value is None:
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _time(raw: Any) -> int | None:
    try:
        value = coerce_value(raw, PropertyType.DATE)
    except (CoercionError, ValueError, OverflowError, OSError):
        return None
    return None if value is None else to_micros(value)
