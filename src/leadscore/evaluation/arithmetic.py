"""The arithmetic of scores, defined once so that every engine reproduces it bit for bit.

Python's `round` rounds halves to even on the exact binary value, which SQL cannot reproduce,
and `sum` is compensated (Python ≥ 3.12), which SQL's SUM is not. So:

- a score value is `round2(x) = floor(x·100 + 0.5) / 100`;
- wherever a decay factor multiplies points, the product is `round6` (the same at 10⁻⁶), so that
  a last-bit difference in pow() between engines cannot change a label;
- a per-event decayed sum adds each event's points as integer millionths (`micro_points`), so
  the order in which an engine adds them cannot matter;
- sums over rules, groups and the parts of a sum score add left to right in the model's order
  (`add_in_order`).

Times and ages are compared in integer microseconds (`catalog.to_micros`): an event exactly
`within_last` old, a point exactly `expire_after` old, and `since` / `until` are included
exactly, whatever the float seconds of a snapshot would round to. The SQL compiler
(`leadscore.sql`) mirrors each function here with the same operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MICROS = 1_000_000


def round2(value: float) -> float:
    """A score's value: half up at the second decimal, on the binary value."""
    return math.floor(value * 100.0 + 0.5) / 100.0


def round6(value: float) -> float:
    """Decayed points: half up at the sixth decimal."""
    return math.floor(value * 1_000_000.0 + 0.5) / 1_000_000.0


def micro_points(value: float) -> int:
    """Points as integer millionths, the unit per-event decayed points are added in."""
    return math.floor(value * 1_000_000.0 + 0.5)


def add_in_order(values: Iterable[float]) -> float:
    """The sum, left to right (never `sum`, which is compensated in Python ≥ 3.12)."""
    total = 0.0
    for value in values:
        total += value
    return total


def clamp(value: float, low: float | None, high: float | None) -> float:
    """A cap: `high` first, then `low` (a floor above the cap wins, as it always has)."""
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


def seconds_to_micros(seconds: float) -> int:
    """Microseconds of a snapshot's float POSIX seconds. Exact for times that came from a
    datetime (`timestamp()` is microseconds / 10⁶ correctly rounded): the float is within half
    a microsecond of the true value for any year before 2106."""
    return round(seconds * 1_000_000.0)


def micros_to_seconds(micros: int) -> float:
    """Float POSIX seconds of microseconds, exactly as `datetime.timestamp()` gives them; a
    comparison of such floats orders them exactly as their microseconds."""
    return micros / MICROS
