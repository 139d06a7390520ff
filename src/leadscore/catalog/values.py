from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from leadscore.catalog.catalog import PropertyType


class CoercionError(ValueError):
    """A value that cannot be read as the type it should have; the message is a plain sentence."""


_TRUE = {"true", "yes", "y", "1", "t", "on", "checked"}
_FALSE = {"false", "no", "n", "0", "f", "off", "unchecked"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|d|w|mo|y)\s*$", re.IGNORECASE)
_UNIT_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "w": 7, "mo": 30, "y": 365}


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# The forms read besides ISO 8601 and epoch numbers, tried in this order. Slashes are month
# first (US exports): 01/02/2026 is 2 January; dots are day first: 01.02.2026 is 1 February.
# docs/import.md ("Dates and times") lists every accepted form; a test keeps the two in step.
TEXT_FORMATS = ("%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y")


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 date or date-time, epoch seconds or milliseconds, or one of TEXT_FORMATS →
    aware UTC datetime (a time without an offset is UTC)."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        raise CoercionError(f"expected a date or time, got {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if value > 10_000_000_000 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise CoercionError(f"{_clip(value)} is not a time leadscore can read (epoch "
                                "seconds or milliseconds between the years 1 and 9999)") from None
    text = str(value).strip()
    if not text:
        raise CoercionError("expected a date or time, got an empty value")
    if not text[0].isdigit():  # every form below starts with a digit (a fast refusal:
        raise _not_a_time(text)  # most texts are not times, and strptime is slow)
    if re.fullmatch(r"\d{10}(\d{3})?", text):
        return parse_datetime(int(text))
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return to_utc(datetime.fromisoformat(candidate))
    except ValueError:
        pass
    if not any(mark in text for mark in "-/."):  # each of TEXT_FORMATS has one of them
        raise _not_a_time(text)
    for fmt in TEXT_FORMATS:
        try:
            return to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise _not_a_time(text)


def _not_a_time(text: str) -> CoercionError:
    return CoercionError(f"'{text}' is not a date or time (use ISO 8601, e.g. "
                         "2026-03-01T09:30:00Z)")


def parse_duration(value: Any) -> timedelta:
    """'30d', '12w', '6mo', '1y', '24h', '15min', '90s' → timedelta (a month is 30 days, a
    year 365)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise CoercionError(f"expected a duration such as 30d, got {value!r}")
    if isinstance(value, int | float):
        return _days(value, value)
    match = _DURATION.match(str(value))
    if not match:
        raise CoercionError(
            f"'{value}' is not a duration (write a number and a unit: 90s, 15min, 24h, 30d, "
            "12w, 6mo, 1y)"
        )
    amount, unit = float(match.group(1)), match.group(2).lower()
    return _days(amount * _UNIT_DAYS[unit], value)


def _days(days: float, written: Any) -> timedelta:
    try:
        return timedelta(days=float(days))
    except (OverflowError, ValueError):  # beyond timedelta's 999,999,999 days, or NaN
        raise CoercionError(f"'{_clip(written)}' is not a duration leadscore can use (at most "
                            "999,999,999 days)") from None


def _clip(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def format_duration(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    if days >= 1 and days == int(days):
        return f"{int(days)}d"
    hours = delta.total_seconds() / 3600
    return f"{hours:g}h"


def coerce_value(value: Any, kind: PropertyType, *, options: tuple[str, ...] = ()) -> Any:
    """Read `value` as a property of type `kind`. None and '' mean unknown (returned as None)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if kind is PropertyType.STRING:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    if kind is PropertyType.NUMBER:
        return _number(value)
    if kind is PropertyType.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = str(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CoercionError(f"'{value}' is not true or false (use true/false, yes/no or 1/0)")
    if kind is PropertyType.DATE:
        return parse_datetime(value)
    if kind is PropertyType.ENUM:
        text = coerce_value(value, PropertyType.STRING)  # 1.0 reads as "1", as for a string
        option = enum_option(text, options)
        if option is None:
            shown = ", ".join(options[:8]) + (" …" if len(options) > 8 else "")
            raise CoercionError(f"'{text}' is not one of the allowed values ({shown})")
        return option
    raise CoercionError(f"unknown property type {kind}")  # pragma: no cover


def enum_option(text: str | None, options: tuple[str, ...]) -> str | None:
    """The option that `text` names, ignoring case (str.lower), else None. Without options
    (an enumeration declared without values) the text itself."""
    if text is None or not options:
        return text
    lowered = text.lower()
    for option in options:
        if option.lower() == lowered:
            return option
    return None


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise CoercionError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _not_finite(value)
        return int(value) if value.is_integer() else value
    text = str(value).replace(",", "").replace("_", "").replace("$", "").replace("€", "").strip()
    try:
        number = float(text)
    except ValueError:
        raise CoercionError(f"'{value}' is not a number") from None
    if not math.isfinite(number):  # NaN, inf, infinity, 1e999 (beyond a double)
        raise _not_finite(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _not_finite(value: Any) -> CoercionError:
    return CoercionError(f"'{_clip(value)}' is not a finite number (NaN, infinities and "
                         "numbers beyond ±1.8e308 cannot be scored)")


def non_finite(value: Any) -> bool:
    """Whether a JSON value holds a number that is NaN or infinite (Python's json reads
    `NaN`, `Infinity` and `1e999` so; none of them is JSON a store can keep)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(non_finite(v) for v in value)
    return False
