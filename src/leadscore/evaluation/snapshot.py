"""A contact as of one moment: the only input the evaluator sees.

`ContactSnapshot.build` drops everything that happened after `as_of`, so scores are a pure
function of (model, contact data as of t) whoever calls it, whatever history they pass in.
Times are kept as POSIX seconds (floats, exactly what `datetime.timestamp()` gives) because
the evaluator compares millions of them; bounds are computed in integer microseconds
(`as_of_us`) and compared as such floats, which order exactly as their microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadscore.catalog import to_utc
from leadscore.evaluation.arithmetic import seconds_to_micros


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """One recorded change of a contact's property; `value` None means it was cleared."""

    name: str
    value: Any
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    type: str
    occurred_at: datetime
    attributes: Mapping[str, Any]
    event_id: str | None = None


class EventSeries:
    """The events of one type of one contact, oldest first."""

    __slots__ = ("times", "attributes")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.attributes: list[Mapping[str, Any]] = []

    def __len__(self) -> int:
        return len(self.times)


EMPTY_SERIES = EventSeries()


class ContactSnapshot:
    __slots__ = ("contact_id", "as_of", "as_of_us", "created_at", "properties", "changes",
                 "events", "ledger", "scores", "unscored", "lists", "company_scores")

    def __init__(self, contact_id: str, as_of: float, created_at: float | None,
                 properties: dict[str, Any], changes: dict[str, list[float]],
                 events: dict[str, EventSeries], ledger: tuple[Any, ...] = ()) -> None:
        self.contact_id = contact_id
        self.as_of = as_of
        self.as_of_us = seconds_to_micros(as_of)  # the moment in exact microseconds
        self.created_at = created_at
        self.properties = properties  # value as of `as_of` (unknown properties are absent)
        self.changes = changes  # property → times of its recorded changes, oldest first
        self.events = events  # event type → series
        # the contact's score ledger entries (`evaluation.ledger.LedgerEntry`, not voided),
        # those not in effect yet included: the scorer applies only those in effect at as_of,
        # and the schedule wakes the contact when one starts or stops applying
        self.ledger = ledger
        # computed context for lists, workflows and stage rules (never for scoring rules):
        self.scores: dict[str, tuple[float, str | None]] = {}  # score → (value, label)
        # the scores of `scores` that are unscored (`ScoreResult.scored`): their value is 0,
        # `is_known` / `is_unknown` on them read this
        self.unscored: frozenset[str] = frozenset()
        self.lists: set[str] = set()  # lists the contact is a member of
        # its company's stored scores: company score → (value or None, label)
        self.company_scores: dict[str, tuple[float | None, str | None]] = {}

    @classmethod
    def build(cls, contact_id: str, as_of: datetime, *, created_at: datetime | None = None,
              property_changes: Iterable[PropertyChange] = (),
              events: Iterable[EventRecord] = (),
              ledger: Iterable[Any] = ()) -> ContactSnapshot:
        """Build the snapshot from any amount of history; anything after `as_of` is ignored."""
        cutoff = to_utc(as_of).timestamp()
        ordered = sorted(
            ((to_utc(c.changed_at).timestamp(), c) for c in property_changes),
            key=lambda pair: pair[0],
        )
        properties: dict[str, Any] = {}
        changes: dict[str, list[float]] = {}
        for ts, change in ordered:
            if ts > cutoff:
                break
            changes.setdefault(change.name, []).append(ts)
            if change.value is None:
                properties.pop(change.name, None)
            else:
                properties[change.name] = change.value
        series: dict[str, EventSeries] = {}
        for ts, event in sorted(
            ((to_utc(e.occurred_at).timestamp(), e) for e in events), key=lambda pair: pair[0]
        ):
            if ts > cutoff:
                break
            s = series.get(event.type)
            if s is None:
                s = series[event.type] = EventSeries()
            s.times.append(ts)
            s.attributes.append(event.attributes)
        created = to_utc(created_at).timestamp() if created_at is not None else None
        if created is not None and "created_at" not in properties and created <= cutoff:
            properties["created_at"] = to_utc(created_at)  # type: ignore[arg-type]
        return cls(contact_id, cutoff, created, properties, changes, series,
                   tuple(e for e in ledger if e.voided_us is None))

    @classmethod
    def from_sorted(cls, contact_id: str, as_of: float, created_at: float | None,
                    properties: dict[str, Any], changes: dict[str, list[float]],
                    events: dict[str, EventSeries], ledger: tuple[Any, ...] = ()
                    ) -> ContactSnapshot:
        """Fast path for loaders that already hold sorted data up to `as_of` (no copies)."""
        return cls(contact_id, as_of, created_at, properties, changes, events, ledger)

    def with_scores(self, scores: dict[str, tuple[float, str | None]],
                    unscored: frozenset[str] = frozenset()) -> ContactSnapshot:
        """The same contact with `scores` as its computed context (score → (value, label);
        `unscored`: those of them no rule or ledger entry gave a value), sharing the data:
        stage rules read a contact's scores without changing the input."""
        found = ContactSnapshot(self.contact_id, self.as_of, self.created_at, self.properties,
                                self.changes, self.events, self.ledger)
        found.scores = scores
        found.unscored = unscored
        found.lists = self.lists
        found.company_scores = self.company_scores
        return found

    def set_scores(self, result: Any) -> None:
        """Take the computed context of `result` (`evaluation.scoring.ContactScores`)."""
        self.scores = result.context()
        self.unscored = result.unscored()

    def as_of_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.as_of, tz=UTC)

    def series(self, event_type: str) -> EventSeries:
        return self.events.get(event_type, EMPTY_SERIES)

    def event_count(self) -> int:
        return sum(len(s) for s in self.events.values())

    def changed_since(self, name: str, since: float) -> bool:
        """Whether `name` had a recorded change at or after `since` (and up to as_of)."""
        times = self.changes.get(name)
        if not times:
            return False
        return times[-1] >= since
