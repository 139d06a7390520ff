"""Reading contacts as of a moment: the store's side of `ContactSnapshot`.

Contacts are read in batches ordered by contact_id; for each batch one query fetches the
property changes and one the events up to `as_of`, merged in Python into snapshots. No ORM
objects are made, so 100k contacts with millions of events stream in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from leadscore.catalog import STANDARD_PROPERTIES, CoercionError, PropertyType, coerce_value
from leadscore.catalog import to_utc as _to_utc
from leadscore.evaluation.snapshot import ContactSnapshot, EventRecord, EventSeries, PropertyChange
from leadscore.storage.codec import Codec
from leadscore.storage.schema import contacts, events, property_changes


def standard_property_types() -> dict[str, PropertyType]:
    return {name: definition.type for name, definition in STANDARD_PROPERTIES.items()}


class ValueReader:
    """Turns stored JSON values into typed values; a value that no longer fits reads as None.

    Declared properties are coerced to their type; undeclared ones keep their JSON value
    (strings stay strings, numbers and bools stay numbers and bools).
    """

    def __init__(self, property_types: Mapping[str, PropertyType] | None) -> None:
        self.types = dict(standard_property_types() if property_types is None else property_types)
        self._cache: dict[tuple[PropertyType, type, Any], Any] = {}

    def read(self, name: str, raw: Any) -> Any:
        if raw is None:
            return None
        kind = self.types.get(name)
        if kind is None:
            return raw
        if isinstance(raw, dict | list):
            return None
        key = (kind, type(raw), raw)
        try:
            return self._cache[key]
        except KeyError:
            pass
        try:
            value = coerce_value(raw, kind)
        except CoercionError:
            value = None
        if len(self._cache) < 100_000:
            self._cache[key] = value
        return value


def load_snapshots(connection: Connection, as_of: datetime, *,
                   property_types: Mapping[str, PropertyType] | None = None,
                   contact_ids: Iterable[str] | None = None,
                   batch_size: int = 5000) -> Iterator[ContactSnapshot]:
    """Every contact created at or before `as_of` (or only `contact_ids`), as of `as_of`."""
    codec = Codec(connection.dialect.name)
    moment = codec.time_in(_to_utc(as_of))
    reader = ValueReader(property_types)
    batches = (_all_batches(connection, codec, moment, batch_size) if contact_ids is None
               else _id_batches(connection, codec, moment, sorted(set(contact_ids)), batch_size))
    for batch, where, params in batches:
        yield from _snapshots(connection, codec, _to_utc(as_of).timestamp(), moment, batch,
                              where, params, reader)


_Batch = tuple[list[tuple[str, Any]], str, tuple[Any, ...]]


def _all_batches(connection: Connection, codec: Codec, moment: Any,
                 size: int) -> Iterator[_Batch]:
    p = codec.param()
    last: str | None = None
    while True:
        after = f" AND contact_id > {p}" if last is not None else ""
        sql = (f"SELECT contact_id, created_at FROM contacts WHERE created_at <= {p}{after} "
               f"ORDER BY contact_id LIMIT {int(size)}")
        params = (moment,) if last is None else (moment, last)
        batch = [(row[0], row[1]) for row in connection.exec_driver_sql(sql, params)]
        if not batch:
            return
        yield batch, f"contact_id BETWEEN {p} AND {p}", (batch[0][0], batch[-1][0])
        if len(batch) < size:
            return
        last = batch[-1][0]


def _id_batches(connection: Connection, codec: Codec, moment: Any, ids: Sequence[str],
                size: int) -> Iterator[_Batch]:
    p = codec.param()
    for start in range(0, len(ids), size):
        part = tuple(ids[start:start + size])
        where = f"contact_id IN ({codec.params(len(part))})"
        sql = f"SELECT contact_id, created_at FROM contacts WHERE {where} AND created_at <= {p}"
        found = {row[0]: row[1] for row in connection.exec_driver_sql(sql, (*part, moment))}
        batch = [(i, found[i]) for i in part if i in found]
        if batch:
            yield batch, where, part


def _snapshots(connection: Connection, codec: Codec, cutoff: float, moment: Any,
               batch: list[tuple[str, Any]], where: str, params: tuple[Any, ...],
               reader: ValueReader) -> Iterator[ContactSnapshot]:
    properties: dict[str, dict[str, Any]] = {cid: {} for cid, _ in batch}
    changes: dict[str, dict[str, list[float]]] = {cid: {} for cid, _ in batch}
    series: dict[str, dict[str, EventSeries]] = {cid: {} for cid, _ in batch}
    p = codec.param()
    seconds, json_out, read = codec.seconds_out, codec.json_out, reader.read
    sql = (f"SELECT contact_id, name, {codec.json_text('value')}, changed_at "
           f"FROM property_changes WHERE {where} AND changed_at <= {p} "
           "ORDER BY contact_id, changed_at, id")
    for contact_id, name, raw, changed_at in codec.rows(connection, sql, (*params, moment)):
        values = properties.get(contact_id)
        if values is None:
            continue
        per_contact = changes[contact_id]
        times = per_contact.get(name)
        if times is None:
            times = per_contact[name] = []
        times.append(seconds(changed_at))
        value = read(name, json_out(raw))
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    sql = (f"SELECT contact_id, type, occurred_at, {codec.json_text('attributes')} "
           f"FROM events WHERE {where} AND occurred_at <= {p} "
           "ORDER BY contact_id, occurred_at, id")
    for contact_id, kind, occurred_at, attributes in codec.rows(connection, sql,
                                                                (*params, moment)):
        per_type = series.get(contact_id)
        if per_type is None:
            continue
        one = per_type.get(kind)
        if one is None:
            one = per_type[kind] = EventSeries()
        one.times.append(seconds(occurred_at))
        one.attributes.append(json_out(attributes))
    for contact_id, raw_created in batch:
        created_at = codec.time_out(raw_created)
        values = properties[contact_id]
        if "created_at" not in values:
            values["created_at"] = created_at
        yield ContactSnapshot.from_sorted(contact_id, cutoff, created_at.timestamp(), values,
                                          changes[contact_id], series[contact_id])


def load_contact(connection: Connection, contact_id: str, *,
                 property_types: Mapping[str, PropertyType] | None = None,
                 ) -> tuple[str | None, datetime, list[PropertyChange], list[EventRecord]] | None:
    """A contact's whole history (email, created_at, property changes, events), or None."""
    c = contacts.c
    row = connection.execute(
        select(c.email, c.created_at).where(c.contact_id == contact_id)
    ).first()
    if row is None:
        return None
    reader = ValueReader(property_types)
    pc = property_changes.c
    changes = [
        PropertyChange(name, reader.read(name, value), changed_at)
        for name, value, changed_at in connection.execute(
            select(pc.name, pc.value, pc.changed_at).where(pc.contact_id == contact_id)
            .order_by(pc.changed_at, pc.id)
        )
    ]
    ev = events.c
    records = [
        EventRecord(kind, occurred_at, attributes, event_id)
        for event_id, kind, occurred_at, attributes in connection.execute(
            select(ev.event_id, ev.type, ev.occurred_at, ev.attributes)
            .where(ev.contact_id == contact_id).order_by(ev.occurred_at, ev.id)
        )
    ]
    return row[0], row[1], changes, records
