"""Moments as the command line and the API write them (`--at`, `--as-of`)."""

from __future__ import annotations

from datetime import UTC, datetime

from leadscore.catalog.values import parse_datetime, parse_duration


def parse_moment(text: str | None) -> datetime | None:
    """A --at / --as-of value: ISO date or time; 'now' or None means now; 'now-30d' (any
    duration) that long ago."""
    if text is None or text == "now":
        return None
    if text.startswith("now-"):
        try:
            return datetime.now(UTC) - parse_duration(text[len("now-"):])
        except OverflowError:
            raise ValueError(f"'{text}' is before the year 1") from None
    return parse_datetime(text)
