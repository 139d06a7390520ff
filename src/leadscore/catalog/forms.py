"""A stored value's typed forms, and the one rule for reading a value as a type.

A property's stored JSON value is kept by an engine in four typed forms — text, number, bool
and time (integer microseconds since the epoch) — each what `coerce_value` makes of it for that
type, or None when it cannot. Reading a declared property of type T takes T's form
(`read_forms`); the Python store reads the raw value the same way (`read_value`), so both sides
agree on every value, including those that do not fit.

Event attributes follow a stricter rule (`read_attribute`): a stored attribute counts only when
its JSON type fits the kind the criterion compares it as — a string for string and enum, a
number (not a bool) for number, a bool for bool, an ISO 8601 date or date-time string
(`ATTRIBUTE_TIME`) for date — and is unknown otherwise. Every engine checks a date attribute
against the same pattern before it casts (`attribute_time_us` here; the DuckDB, PostgreSQL
and Spark SQL of the same rule beside their casts), so that no engine reads a form another
does not (DuckDB's cast takes `2026-1-3` and `24:00`, Python's `20260113` and `2026-W02`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from leadscore.catalog.catalog import PropertyType
from leadscore.catalog.values import CoercionError, coerce_value, enum_option

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class TypedForms(NamedTuple):
    """The four forms of one stored value; each None when the value cannot be read so."""

    text: str | None
    number: float | None
    flag: bool | None
    time_us: int | None


NO_FORMS = TypedForms(None, None, None, None)

# An event attribute read as a date: YYYY-MM-DD (years 1000–9998, so that no offset takes it
# out of range), optionally `T` or a space and HH:MM[:SS[.ffffff]], optionally `Z` or ±HH:MM
# (none: UTC). The same text in every engine's regular expressions (POSIX, RE2, Java).
ATTRIBUTE_TIME = (r"^(1[0-9]{3}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
                  r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                  r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"
                  r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)?$")
ATTRIBUTE_OFFSET = r"(Z|[+-][0-9]{2}:[0-9]{2})$"  # a time that names its offset
_ATTRIBUTE_TIME = re.compile(ATTRIBUTE_TIME)


def to_micros(moment: datetime) -> int:
    """Integer microseconds since the epoch of an aware (or naive UTC) datetime, exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def duration_micros(delta: timedelta) -> int:
    """A duration in whole microseconds (timedelta keeps microseconds exactly)."""
    return delta // MICROSECOND


def typed_forms(raw: Any) -> TypedForms:
    """(text, number, bool, time µs) of a stored JSON value: each form is what
    `coerce_value(raw, STRING / NUMBER / BOOL / DATE)` gives, None when it raises. Mappings and
    lists have no forms; nor do non-finite numbers."""
    if raw is None or isinstance(raw, dict | list):
        return NO_FORMS
    if isinstance(raw, float) and not math.isfinite(raw):
        return NO_FORMS
    return TypedForms(_form(raw, PropertyType.STRING), _number_form(raw),
                      _form(raw, PropertyType.BOOL), _time_form(raw))


def read_forms(forms: TypedForms, kind: PropertyType, options: tuple[str, ...] = ()) -> Any:
    """A declared property of type `kind` read from its forms: the typed value, or None
    (unknown). An enumeration takes the text form, matched ignoring case against its options,
    as the canonical option; a text that is not an option is unknown."""
    if kind is PropertyType.STRING:
        return forms.text
    if kind is PropertyType.NUMBER:
        return forms.number
    if kind is PropertyType.BOOL:
        return forms.flag
    if kind is PropertyType.DATE:
        return None if forms.time_us is None else from_micros(forms.time_us)
    if kind is PropertyType.ENUM:
        return enum_option(forms.text, options)
    raise ValueError(f"unknown property type {kind}")  # pragma: no cover


def read_value(raw: Any, kind: PropertyType, options: tuple[str, ...] = ()) -> Any:
    """A stored JSON value read as a declared property of type `kind`: equal to
    `read_forms(typed_forms(raw), kind, options)`, computing only the form it needs."""
    if raw is None or isinstance(raw, dict | list):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    if kind is PropertyType.NUMBER:
        return _number_form(raw)
    if kind is PropertyType.DATE:
        micros = _time_form(raw)
        return None if micros is None else from_micros(micros)
    if kind is PropertyType.ENUM:
        return enum_option(_form(raw, PropertyType.STRING), options)
    return _form(raw, kind)


def read_attribute(raw: Any, kind: PropertyType) -> Any:
    """An event attribute's stored JSON value as `kind`, or None (unknown) when its JSON type
    does not fit: string/enum need a string, number a finite number that is not a bool, bool a
    bool, date a date-time string (its instant)."""
    if kind is PropertyType.STRING or kind is PropertyType.ENUM:
        return raw if isinstance(raw, str) else None
    if kind is PropertyType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return None
        return raw if math.isfinite(raw) else None
    if kind is PropertyType.BOOL:
        return raw if isinstance(raw, bool) else None
    if kind is PropertyType.DATE:
        micros = attribute_time_us(raw)
        return None if micros is None else from_micros(micros)
    raise ValueError(f"unknown property type {kind}")  # pragma: no cover


def attribute_time_us(raw: Any) -> int | None:
    """An event attribute's instant in microseconds when it is a string of `ATTRIBUTE_TIME`
    naming a real day (not 30 February), else None."""
    if not isinstance(raw, str) or _ATTRIBUTE_TIME.fullmatch(raw) is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:  # a day the month does not have
        return None
    return to_micros(moment)


def attribute_forms(raw: Any) -> TypedForms:
    """The four columns an engine keeps for one attribute value, each by `read_attribute`
    (text for string and enum; time in microseconds for date)."""
    moment = read_attribute(raw, PropertyType.DATE)
    number = read_attribute(raw, PropertyType.NUMBER)
    return TypedForms(read_attribute(raw, PropertyType.STRING),
                      None if number is None else float(number),
                      read_attribute(raw, PropertyType.BOOL),
                      None if moment is None else to_micros(moment))


def _form(raw: Any, kind: PropertyType) -> Any:
    try:
        return coerce_value(raw, kind)
    except (CoercionError, ValueError, OverflowError, OSError):
        return None


def _number_form(raw: Any) -> float | None:
    value = _form(raw, PropertyType.NUMBER)
    if value is None or not math.isfinite(value):
        return None
    return value


def _time_form(raw: Any) -> int | None:
    moment = _form(raw, PropertyType.DATE)
    return None if moment is None else to_micros(moment)
