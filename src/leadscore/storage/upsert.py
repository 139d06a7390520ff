"""Which property changes an upsert records: the one rule, for a batch of the automation as
for a million-row import.

A value is recorded when it differs from the contact's value as of its moment and is not
merely what its source itself last reported — so re-importing an unchanged export after
leadscore moved a lifecycle stage does not move the stage back. Inputs of one contact are
taken oldest first, each compared with the state the earlier ones left. A contact exists from
the creation time its inputs give; without one, from its first known moment (a value known
before the recorded creation moves the creation back).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadscore.catalog import to_utc
from leadscore.catalog.forms import to_micros
from leadscore.storage.json_value import same_value, to_json_value
from leadscore.storage.records import ContactInput

LIFECYCLE_PROPERTY = "lifecycle_stage"


@dataclass
class PropertyHistory:
    """The recorded changes of one property of one contact, oldest first (times in µs)."""

    times: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def value_at(self, moment: int) -> Any:
        index = bisect_right(self.times, moment)
        return self.values[index - 1] if index else None

    def reported_by(self, source: str, moment: int, value: Any) -> bool:
        """Whether `source`'s own latest value up to `moment` is `value` (a repeat)."""
        for index in range(bisect_right(self.times, moment) - 1, -1, -1):
            if self.sources[index] == source:
                return same_value(self.values[index], value)
        return False

    def insert(self, moment: int, value: Any, source: str) -> None:
        index = bisect_right(self.times, moment)
        self.times.insert(index, moment)
        self.values.insert(index, value)
        self.sources.insert(index, source)

    def latest(self) -> Any:
        return self.values[-1] if self.values else None


@dataclass
class ContactRow:
    contact_id: str
    email: str | None
    created_us: int
    updated_us: int


@dataclass
class UpsertPlan:
    new: list[ContactRow] = field(default_factory=list)  # contacts to insert
    changed: list[ContactRow] = field(default_factory=list)  # existing contacts to update
    changes: list[tuple[str, str, Any, int, str]] = field(default_factory=list)
    # (contact_id, name, JSON value, changed_us, source) of the property changes to record
    unchanged: int = 0


def merge_same_moments(items: Sequence[ContactInput]) -> list[ContactInput]:
    """One input per contact and moment, oldest first. What a contact is at one moment is one
    state, so later inputs for the same moment override earlier ones (the last word wins)."""
    merged: dict[tuple[str, datetime], ContactInput] = {}
    for item in items:
        key = (item.contact_id, to_utc(item.changed_at))
        before = merged.get(key)
        if before is None:
            merged[key] = item
            continue
        merged[key] = ContactInput(
            item.contact_id, item.changed_at,
            email=item.email if item.email is not None else before.email,
            created_at=item.created_at if item.created_at is not None else before.created_at,
            properties={**before.properties, **item.properties},
        )
    found = list(merged.values()) if len(merged) < len(items) else list(items)
    found.sort(key=lambda item: to_utc(item.changed_at))
    return found


def plan_upsert(items: Sequence[ContactInput], rows: dict[str, ContactRow],
                history: dict[str, dict[str, PropertyHistory]], *, source: str,
                repeats_are_news: bool = False) -> UpsertPlan:
    """What to write for `items` (merged, oldest first) given the stored `rows` and `history`
    of their contacts (both are updated in place to the state after the plan)."""
    plan = UpsertPlan()
    ids = list(dict.fromkeys(item.contact_id for item in items))
    new_ids: set[str] = set()
    changed: set[str] = set()
    for item in items:
        moment = to_micros(to_utc(item.changed_at))
        row = rows.get(item.contact_id)
        if row is None:
            created = (to_micros(to_utc(item.created_at)) if item.created_at is not None
                       else moment)
            row = rows[item.contact_id] = ContactRow(item.contact_id, None, created, moment)
            new_ids.add(item.contact_id)
        elif item.created_at is not None and to_micros(to_utc(item.created_at)) != \
                row.created_us:
            row.created_us = to_micros(to_utc(item.created_at))
            changed.add(item.contact_id)
        elif item.created_at is None and moment < row.created_us:
            # values known before the contact's recorded creation (an older file imported
            # later): the contact existed by then
            row.created_us = moment
            changed.add(item.contact_id)
        properties = dict(item.properties)
        if item.email is not None:
            properties.setdefault("email", item.email)
        contact_history = history.setdefault(item.contact_id, {})
        for name, raw in properties.items():
            value = raw if type(raw) is str else to_json_value(raw)
            past = contact_history.get(name)
            if past is None:
                if value is None:  # clearing a value that was never known
                    continue
                past = contact_history[name] = PropertyHistory()
            elif same_value(past.value_at(moment), value) or (
                    not repeats_are_news and past.reported_by(source, moment, value)):
                continue
            past.insert(moment, value, source)
            plan.changes.append((item.contact_id, name, value, moment, source))
            changed.add(item.contact_id)
            if moment > row.updated_us:
                row.updated_us = moment
    for contact_id in changed | new_ids:
        emails = history.get(contact_id, {}).get("email")
        if emails is not None:
            email = emails.latest()
            rows[contact_id].email = None if email is None else str(email)
    plan.new = [rows[i] for i in ids if i in new_ids]
    plan.changed = [rows[i] for i in ids if i in changed and i not in new_ids]
    plan.unchanged = len(ids) - len(plan.new) - len(plan.changed)
    return plan
