"""How property values and attributes are kept as JSON, and when two of them are the same."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from leadscore.catalog import to_utc


def to_json_value(value: Any) -> Any:
    """A JSON-ready value: numbers, bools and strings as they are, datetimes as ISO strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return to_json_value(float(value))
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return str(value)


def same_value(a: Any, b: Any) -> bool:
    """Equality of JSON values that tells `true` from `1` (Python's `True == 1`)."""
    if type(a) is type(b):
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def dump_json(value: Any) -> str:
    """Compact JSON text of `value` (datetimes as ISO strings, NaN and infinity as null)."""
    if not value and isinstance(value, dict):
        return "{}"
    try:
        return _ENCODER.encode(value)
    except ValueError:  # NaN or infinity somewhere
        return _ENCODER.encode(to_json_value(value))


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                            default=to_json_value)  # datetimes, dates, decimals and the like
