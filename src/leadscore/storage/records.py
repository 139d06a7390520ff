"""Plain records that cross the storage boundary (no SQLAlchemy types leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ContactInput:
    """A contact as an import delivers it. `properties` holds typed values; None clears one.

    `changed_at` is when these values became true (a file's 'last modified' column, or the
    import time); a property change is recorded only where the value differs from the value
    the contact had at that moment, so importing the same file twice changes nothing.
    """

    contact_id: str
    changed_at: datetime
    email: str | None = None
    created_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventInput:
    """An event; `event_id` is client-supplied (or derived from the content) and unique."""

    event_id: str
    contact_id: str
    type: str
    occurred_at: datetime
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One computed score of one contact under one model. `value` None for a grade."""

    contact_id: str
    score: str
    value: float | None
    label: str | None
    scored: bool | None = None  # False: unscored (value 0); None for a grade


@dataclass(frozen=True, slots=True)
class StageChange:
    contact_id: str
    stage: str
    previous: str | None
    changed_at: datetime
    cause: str


@dataclass(frozen=True, slots=True)
class StoredScore:
    contact_id: str
    email: str | None
    score: str
    value: float | None
    label: str | None
    computed_at: datetime
    model: str | None = None
    as_of: datetime | None = None
    version: int | None = None  # the published model version that computed it
