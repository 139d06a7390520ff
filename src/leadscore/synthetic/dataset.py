"""`SyntheticData`: generated contacts, events and outcomes held as compact columns, and the two
ways to see one contact — its full history (`contact_history`, what an importer would store)
and its snapshot as of a moment (`iter_snapshots`, built straight from the columns).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadscore.catalog import to_utc
from leadscore.evaluation import ContactSnapshot, EventRecord, EventSeries, PropertyChange
from leadscore.synthetic.activity import NONE, EventTable, Outcomes
from leadscore.synthetic.people import FEEDBACK_COLUMNS, ContactTable
from leadscore.synthetic.site import EVENT_TYPES

# the contact properties (after contact_id, created_at); all but the feedback columns are known
# from creation, the feedback columns from the verdict's moment (`ContactTable.feedback_at`)
PROPERTY_COLUMNS = ("email", "first_name", "last_name", "company", "job_title", "industry",
                    "employees", "annual_revenue", "country", "city", "original_source",
                    "referrer_url", "owner", "lifecycle_stage", "email_opt_out", "is_employee",
                    "is_partner", "is_competitor", "is_vendor", "sales_feedback",
                    "score_adjustment")


@dataclass
class SyntheticData:
    """What `generate` returns. Contact i is `contact_ids[i]`; event columns are sorted by
    (contact, type, time). All times are whole POSIX seconds (UTC)."""

    now: datetime
    seed: int
    contacts: ContactTable
    events: EventTable
    attributes: list[dict[str, Any]]  # interned: events refer to them by index
    outcomes: Outcomes
    event_types: tuple[str, ...] = EVENT_TYPES
    _segments: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None,
                                                                       repr=False)

    @property
    def contact_ids(self) -> list[str]:
        return self.contacts.ids

    @property
    def contact_count(self) -> int:
        return len(self.contacts)

    @property
    def event_count(self) -> int:
        return len(self.events)

    def created_at(self, index: int) -> datetime:
        return datetime.fromtimestamp(int(self.contacts.created_at[index]), tz=UTC)

    def properties(self, index: int) -> dict[str, Any]:
        """Properties of contact `index` known by `now` (unknown ones are absent), typed."""
        columns = self.contacts.columns
        out: dict[str, Any] = {}
        for name in PROPERTY_COLUMNS:
            value = columns[name][index]
            if value is not None:
                out[name] = value
        return out

    def won(self) -> np.ndarray:
        """Bool per contact: closed won by `now`."""
        return self.outcomes.won_at != NONE

    def event_range(self, index: int) -> tuple[int, int]:
        """Positions of contact `index`'s events in the event columns."""
        starts = self._contact_starts()
        return int(starts[index]), int(starts[index + 1])

    def _contact_starts(self) -> np.ndarray:
        return self._segment_index()[2]

    def _segment_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment starts, first segment of each contact, first event of each contact), where
        a segment is a run of one contact's events of one type."""
        if self._segments is None:
            ev = self.events
            n = len(ev)
            change = np.ones(n + 1, dtype=bool)
            if n:
                change[1:n] = (ev.contact[1:] != ev.contact[:-1]) | (ev.type[1:] != ev.type[:-1])
            seg_starts = np.flatnonzero(change)  # ends with n
            contacts = np.arange(self.contact_count + 1)
            first_event = np.searchsorted(ev.contact, contacts, side="left")
            first_segment = np.searchsorted(seg_starts, first_event, side="left")
            self._segments = (seg_starts, first_segment, first_event)
        return self._segments


def contact_history(data: SyntheticData, index: int
                    ) -> tuple[datetime, list[PropertyChange], list[EventRecord]]:
    """Contact `index` as an importer would store it: created_at, one change per known
    property at creation (sales's verdict at its own moment), and every event (with its id)."""
    created = data.created_at(index)
    judged = feedback_moment(data, index) or created
    changes = [PropertyChange(name, value, judged if name in FEEDBACK_COLUMNS else created)
               for name, value in data.properties(index).items()]
    lo, hi = data.event_range(index)
    ev = data.events
    records = [
        EventRecord(data.event_types[ev.type[i]],
                    datetime.fromtimestamp(int(ev.time[i]), tz=UTC),
                    data.attributes[ev.attributes[i]], event_id(data, i))
        for i in range(lo, hi)
    ]
    return created, changes, records


def feedback_moment(data: SyntheticData, index: int) -> datetime | None:
    """When sales gave its verdict on contact `index` (None: not judged)."""
    at = data.contacts.feedback_at
    if at is None or at[index] < 0:
        return None
    return datetime.fromtimestamp(int(at[index]), tz=UTC)


def event_id(data: SyntheticData, position: int) -> str:
    """The id of the event at `position` in the event columns (stable for a seed)."""
    return f"e{data.seed:x}-{position:09d}"


def iter_snapshots(data: SyntheticData, as_of: datetime) -> Iterator[ContactSnapshot]:
    """Every contact created by `as_of`, as of `as_of`, in contact order — built straight from
    the columns (equal to `ContactSnapshot.build` on `contact_history`, much faster)."""
    cutoff = to_utc(as_of).timestamp()
    seg_starts, first_segment, _ = data._segment_index()
    ev = data.events
    times = ev.time.astype(np.float64)
    attr_ids = ev.attributes
    get = data.attributes.__getitem__
    n_segments = len(seg_starts) - 1
    bounds = seg_starts.tolist()
    heads = seg_starts[:-1]
    kind_names = [data.event_types[k] for k in ev.type[heads].tolist()] if n_segments else []
    first_times = times[heads].tolist() if n_segments else []
    last_times = times[seg_starts[1:] - 1].tolist() if n_segments else []
    segment_of = first_segment.tolist()
    created_all = data.contacts.created_at.tolist()
    ids = data.contacts.ids
    columns = [(name, data.contacts.columns[name]) for name in PROPERTY_COLUMNS
               if name not in FEEDBACK_COLUMNS]
    feedback = [(name, data.contacts.columns[name]) for name in FEEDBACK_COLUMNS]
    judged_at = (data.contacts.feedback_at.tolist() if data.contacts.feedback_at is not None
                 else [-1] * data.contact_count)
    for c in range(data.contact_count):
        created = float(created_all[c])
        if created > cutoff:
            continue
        properties: dict[str, Any] = {}
        for name, column in columns:
            value = column[c]
            if value is not None:
                properties[name] = value
        changes = dict.fromkeys(properties, [created])
        if 0 <= judged_at[c] <= cutoff:
            for name, column in feedback:
                if column[c] is not None:
                    properties[name] = column[c]
                    changes[name] = [float(judged_at[c])]
        properties["created_at"] = datetime.fromtimestamp(created, tz=UTC)
        events: dict[str, EventSeries] = {}
        for k in range(segment_of[c], segment_of[c + 1]):
            if first_times[k] > cutoff:
                continue
            lo, hi = bounds[k], bounds[k + 1]
            if last_times[k] > cutoff:
                hi = lo + int(np.searchsorted(times[lo:hi], cutoff, side="right"))
            series = EventSeries()
            series.times = times[lo:hi].tolist()
            series.attributes = list(map(get, attr_ids[lo:hi].tolist()))
            events[kind_names[k]] = series
        yield ContactSnapshot.from_sorted(ids[c], cutoff, created, properties, changes, events)
