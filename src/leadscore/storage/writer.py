"""Writes to the store. One `Writer` lives inside one transaction: all of it or none of it.

`Store.write()` opens the transaction and hands out a Writer; the `Store` methods of the same
names are shortcuts that open a transaction for a single write.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from leadscore.catalog import to_utc
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage.codec import Codec
from leadscore.storage.json_value import dump_json, same_number, same_value, to_json_value
from leadscore.storage.records import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    WriteCounts,
)
from leadscore.storage.schema import (
    contacts,
    score_history,
    scores,
    stage_changes,
)

CHUNK = 5_000  # rows per executemany / ids per IN (...) list
LIFECYCLE_PROPERTY = "lifecycle_stage"


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class _PropertyHistory:
    """The recorded changes of one property of one contact, oldest first."""

    times: list[datetime] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def value_at(self, moment: datetime) -> Any:
        index = bisect_right(self.times, moment)
        return self.values[index - 1] if index else None

    def reported_by(self, source: str, moment: datetime, value: Any) -> bool:
        """Whether `source`'s own latest value up to `moment` is `value` (a repeat)."""
        for index in range(bisect_right(self.times, moment) - 1, -1, -1):
            if self.sources[index] == source:
                return same_value(self.values[index], value)
        return False

    def insert(self, moment: datetime, value: Any, source: str) -> None:
        index = bisect_right(self.times, moment)
        self.times.insert(index, moment)
        self.values.insert(index, value)
        self.sources.insert(index, source)

    def latest(self) -> Any:
        return self.values[-1] if self.values else None


def _merge_same_moments(items: Sequence[ContactInput]) -> list[ContactInput]:
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
    # oldest first, so each input is compared with the state the earlier ones left
    found.sort(key=lambda item: to_utc(item.changed_at))
    return found


class Writer:
    """Every write of the store, on one connection inside one transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.codec = Codec(self.dialect)
        self._known: set[str] = set()  # contacts read in this transaction: they exist

    def note_existing(self, ids: Iterable[str]) -> None:
        """Contacts the caller has just read in this transaction, so writes about them need
        not check again that they exist."""
        self._known.update(ids)

    # -- contacts ------------------------------------------------------------------------

    def existing_contact_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        column = contacts.c.contact_id
        for part in chunked(wanted):
            found.update(self.connection.execute(select(column).where(column.in_(part))).scalars())
        return found

    def upsert_contacts(self, items: Sequence[ContactInput], *,
                        source: str = "import") -> WriteCounts:
        """Insert new contacts, record property changes where a value differs (see ContactInput).

        A value is recorded when it differs from the contact's value as of `changed_at` and
        is not merely what `source` itself last reported: re-importing an unchanged export
        after leadscore moved a lifecycle stage does not move the stage back.
        """
        return self._upsert(items, source=source, repeats_are_news=False)

    def _upsert(self, items: Sequence[ContactInput], *, source: str,
                repeats_are_news: bool) -> WriteCounts:
        items = _merge_same_moments(items)
        ids = list(dict.fromkeys(item.contact_id for item in items))
        rows = self._contact_rows(ids)
        history = self._property_histories([i for i in ids if i in rows])
        new_ids: set[str] = set()
        changed: set[str] = set()
        new_changes: list[tuple[str, str, Any, datetime]] = []
        for item in items:
            moment = to_utc(item.changed_at)
            row = rows.get(item.contact_id)
            if row is None:
                created = to_utc(item.created_at) if item.created_at is not None else moment
                row = rows[item.contact_id] = {
                    "contact_id": item.contact_id, "email": None, "created_at": created,
                    "updated_at": moment, "lifecycle_stage": None,
                }
                new_ids.add(item.contact_id)
            elif item.created_at is not None and to_utc(item.created_at) != row["created_at"]:
                row["created_at"] = to_utc(item.created_at)
                changed.add(item.contact_id)
            elif item.created_at is None and moment < row["created_at"]:
                # values known before the contact's recorded creation (an older file
                # imported later): the contact existed by then
                row["created_at"] = moment
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
                    past = contact_history[name] = _PropertyHistory()
                elif same_value(past.value_at(moment), value) or (
                        not repeats_are_news and past.reported_by(source, moment, value)):
                    continue
                past.insert(moment, value, source)
                new_changes.append((item.contact_id, name, value, moment))
                changed.add(item.contact_id)
                if moment > row["updated_at"]:
                    row["updated_at"] = moment
        for contact_id in changed | new_ids:
            row = rows[contact_id]
            contact_history = history.get(contact_id, {})
            if "email" in contact_history:
                row["email"] = contact_history["email"].latest()
            if LIFECYCLE_PROPERTY in contact_history:
                stage = contact_history[LIFECYCLE_PROPERTY].latest()
                row["lifecycle_stage"] = None if stage is None else str(stage)
        time_in = self.codec.time_in
        self.codec.insert_many(
            self.connection, "contacts",
            ("contact_id", "email", "created_at", "updated_at", "lifecycle_stage"),
            [(r["contact_id"], r["email"], time_in(r["created_at"]), time_in(r["updated_at"]),
              r["lifecycle_stage"]) for r in (rows[i] for i in ids if i in new_ids)],
            kinds=("text", "text", "timestamptz", "timestamptz", "text"),
        )
        updates = [{"key": i, **{k: v for k, v in rows[i].items() if k != "contact_id"}}
                   for i in ids if i in changed and i not in new_ids]
        if updates:
            statement = update(contacts).where(contacts.c.contact_id == bindparam("key"))
            for part in chunked(updates):
                self.connection.execute(statement, list(part))
        bound_times: dict[datetime, Any] = {}
        for *_, moment in new_changes:
            if moment not in bound_times:
                bound_times[moment] = time_in(moment)
        self.codec.insert_many(
            self.connection, "property_changes",
            ("contact_id", "name", "value", "changed_at", "source"),
            [(contact_id, name, None if value is None else dump_json(value), bound_times[moment],
              source) for contact_id, name, value, moment in new_changes],
            kinds=("text", "text", "jsonb", "timestamptz", "text"),
        )
        updated = len(changed - new_ids)
        return WriteCounts(inserted=len(new_ids), updated=updated,
                           unchanged=len(ids) - len(new_ids) - updated)

    def _contact_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for part in chunked(ids):
            query = select(contacts).where(contacts.c.contact_id.in_(part))
            for row in self.connection.execute(query).mappings():
                rows[row["contact_id"]] = dict(row)
        return rows

    def _property_histories(self, ids: Sequence[str]) -> dict[str, dict[str, _PropertyHistory]]:
        found: dict[str, dict[str, _PropertyHistory]] = {}
        codec = self.codec
        for part in chunked(ids):
            sql = (f"SELECT contact_id, name, {codec.json_text('value')}, changed_at, source "
                   f"FROM property_changes WHERE contact_id IN ({codec.params(len(part))}) "
                   "ORDER BY contact_id, changed_at, id")
            for contact_id, name, value, changed_at, source in codec.rows(self.connection, sql,
                                                                         part):
                per_contact = found.setdefault(contact_id, {})
                past = per_contact.get(name)
                if past is None:
                    past = per_contact[name] = _PropertyHistory()
                past.times.append(codec.time_out(changed_at))
                past.values.append(codec.json_out(value))
                past.sources.append(source)
        return found

    # -- events --------------------------------------------------------------------------

    def add_events(self, items: Sequence[EventInput], *,
                   received_at: datetime | None = None) -> WriteCounts:
        """Insert events; an event whose event_id is already stored (or repeated) is ignored."""
        received = to_utc(received_at) if received_at is not None else datetime.now(UTC)
        unique: dict[str, EventInput] = {}
        for item in items:
            unique.setdefault(item.event_id, item)
        self._require_contacts({item.contact_id for item in unique.values()}, "events")
        time_in = self.codec.time_in
        received_in = time_in(received)
        rows = [(e.event_id, e.contact_id, e.type, time_in(e.occurred_at),
                 dump_json(e.attributes), received_in) for e in unique.values()]
        inserted = self.codec.insert_many(
            self.connection, "events",
            ("event_id", "contact_id", "type", "occurred_at", "attributes", "received_at"),
            rows, kinds=("text", "text", "text", "timestamptz", "jsonb", "timestamptz"),
            ignore_conflict_on="event_id",
        )
        return WriteCounts(inserted=inserted, unchanged=len(items) - inserted)

    # -- scores --------------------------------------------------------------------------

    def save_scores(self, model: str, records: Sequence[ScoreRecord], *, computed_at: datetime,
                    as_of: datetime, only_changed: bool = False) -> int:
        """Upsert the current scores; append history where value or label changed. With
        `only_changed`, a score whose value and label are as stored keeps its row (and its
        computed_at: when that value was first computed) — what continuous processing wants,
        where most recomputations change one score of several."""
        computed, cutoff = to_utc(computed_at), to_utc(as_of)
        latest: dict[tuple[str, str], ScoreRecord] = {}
        for record in records:
            latest[(record.contact_id, record.score)] = record
        self._require_contacts({contact_id for contact_id, _ in latest}, "scores")
        sc = scores.c
        previous: dict[tuple[str, str], tuple[float | None, str | None]] = {}
        ids = sorted({contact_id for contact_id, _ in latest})
        for part in chunked(ids):
            query = (select(sc.contact_id, sc.score, sc.value, sc.label)
                     .where(sc.model == model, sc.contact_id.in_(part)))
            for contact_id, score, value, label in self.connection.execute(query):
                previous[(contact_id, score)] = (value, label)
        rows: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for (contact_id, score), record in latest.items():
            value = None if record.value is None else float(record.value)
            row = {"contact_id": contact_id, "model": model, "score": score, "value": value,
                   "label": record.label, "computed_at": computed, "as_of": cutoff}
            before = previous.get((contact_id, score))
            changed = (before is None or not same_number(before[0], value)
                       or before[1] != record.label)
            if changed or not only_changed:
                rows.append(row)
            if changed:
                history.append(row)
        self.codec.insert_rows(self.connection, scores, rows,
                               upsert_on=("contact_id", "model", "score"))
        self.codec.insert_rows(self.connection, score_history, history)
        return len(history)

    # -- lifecycle stages ----------------------------------------------------------------

    def record_stage_changes(self, changes: Sequence[StageChange]) -> None:
        """Append stage changes, set contacts.lifecycle_stage and the lifecycle_stage property."""
        ordered = sorted(changes, key=lambda change: to_utc(change.changed_at))
        self._require_contacts({change.contact_id for change in ordered}, "stage changes")
        self.codec.insert_rows(self.connection, stage_changes, [
            {"contact_id": c.contact_id, "stage": c.stage, "previous": c.previous,
             "changed_at": to_utc(c.changed_at), "cause": c.cause} for c in ordered
        ])
        self._upsert(
            [ContactInput(c.contact_id, c.changed_at, properties={LIFECYCLE_PROPERTY: c.stage})
             for c in ordered],
            source="lifecycle", repeats_are_news=True,
        )

    # -- shared --------------------------------------------------------------------------

    def _require_contacts(self, ids: set[str], what: str) -> None:
        ids = ids - self._known
        if not ids:
            return
        missing = sorted(ids - self.existing_contact_ids(ids))
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise LeadscoreError.single(
                "LS293", f"{len(missing)} contact(s) of these {what} are not in the store: {shown}",
                Location(field="contact_id"),
                hint="import or create the contacts first",
            )

