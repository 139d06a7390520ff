"""The API's routes by concept: ingestion, contacts, leads and lists, tasks and outbox."""

from __future__ import annotations

from datetime import datetime

from leadscore.diagnostics import LeadscoreError, Location


def moment(text: str | None, field: str = "as_of") -> datetime | None:
    """An `as_of` query value: an ISO date or time, or now-30d (as the command line reads)."""
    if text is None or not text.strip():
        return None
    from leadscore.project.moments import parse_moment

    try:
        return parse_moment(text)
    except ValueError as error:
        raise LeadscoreError.single("LS303", f"{field}: {error}", Location(field=field),
                                    text=text[:40], hint="write a date like 2026-03-01 or "
                                    "2026-03-01T09:30Z, or now-30d") from None
