"""Reading contacts as of a moment: the store's side of `ContactSnapshot`.

Contacts are read in batches (`storage.reading`): one read of property changes and one of
events per batch, merged into snapshots here. A declared property reads through its type from
the typed forms stored with each change (`catalog.forms`), exactly as the SQL engines read it;
an undeclared one keeps its JSON value. Each snapshot carries the contact's score ledger
entries that are not voided (`storage.ledger`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog import STANDARD_PROPERTIES, Catalog, PropertyDef
from leadscore.catalog import to_utc as _to_utc
from leadscore.catalog.forms import TypedForms, from_micros, read_forms, to_micros
from leadscore.evaluation.ledger import LedgerEntry
from leadscore.evaluation.snapshot import ContactSnapshot, EventRecord, EventSeries, PropertyChange
from leadscore.storage.ledger_reads import entries_of
from leadscore.storage.reading import Batch, HistoryRows, contact_batches

if TYPE_CHECKING:
    from sqlalchemy import Connection

_JSON_CACHE_LIMIT = 50_000


def standard_properties() -> dict[str, PropertyDef]:
    return dict(STANDARD_PROPERTIES)


def _definitions(catalog: Catalog | Mapping[str, PropertyDef] | None) -> dict[str, PropertyDef]:
    if catalog is None:
        return standard_properties()
    if isinstance(catalog, Catalog):
        return dict(catalog.properties)
    return dict(catalog)


class ValueReader:
    """Stored property values as typed values: declared properties through their type (a value
    that does not fit is unknown), undeclared ones as their JSON value."""

    def __init__(self, catalog: Catalog | Mapping[str, PropertyDef] | None = None) -> None:
        self.definitions = _definitions(catalog)
        self._json: dict[str, Any] = {}

    def json(self, raw: Any) -> Any:
        """A JSON column's value (SQLite may hand JSON numbers back as numbers)."""
        if raw is None or not isinstance(raw, str):
            return raw
        try:
            return self._json[raw]
        except KeyError:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            if len(self._json) < _JSON_CACHE_LIMIT:
                self._json[raw] = value
            return value

    def read(self, name: str, raw: Any, forms: tuple[Any, Any, Any, Any]) -> Any:
        definition = self.definitions.get(name)
        if definition is None:
            value = self.json(raw)
            return None if isinstance(value, dict | list) else value
        text, number, flag, micros = forms
        return read_forms(TypedForms(text, number, None if flag is None else bool(flag),
                                     micros), definition.type, definition.options)


def load_snapshots(connection: Connection, as_of: datetime, *,
                   catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                   contact_ids: Iterable[str] | None = None,
                   batch_size: int = 5000) -> Iterator[ContactSnapshot]:
    """Every contact created at or before `as_of` (or only `contact_ids`), as of `as_of`."""
    moment = _to_utc(as_of)
    until = to_micros(moment)
    cutoff = moment.timestamp()
    reader = ValueReader(catalog)
    rows = HistoryRows(connection, until_us=until)
    ids = None if contact_ids is None else sorted(set(contact_ids))
    for batch, contacts in contact_batches(connection, created_until_us=until, contact_ids=ids,
                                           size=batch_size):
        ledger = entries_of(connection, [c[0] for c in contacts])
        yield from _snapshots(rows, batch, contacts, cutoff, reader, ledger)


def _snapshots(rows: HistoryRows, batch: Batch, contacts: list[tuple[str, int, str | None]],
               cutoff: float, reader: ValueReader, ledger: dict[str, list[LedgerEntry]]
               ) -> Iterator[ContactSnapshot]:
    properties: dict[str, dict[str, Any]] = {c[0]: {} for c in contacts}
    changes: dict[str, dict[str, list[float]]] = {c[0]: {} for c in contacts}
    series: dict[str, dict[str, EventSeries]] = {c[0]: {} for c in contacts}
    read = reader.read
    for contact_id, name, changed_us, _seq, raw, text, number, flag, micros, _src in \
            rows.properties(batch):
        values = properties.get(contact_id)
        if values is None:
            continue
        per_contact = changes[contact_id]
        times = per_contact.get(name)
        if times is None:
            times = per_contact[name] = []
        times.append(changed_us / 1_000_000)
        value = read(name, raw, (text, number, flag, micros))
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    json_of = reader.json
    for contact_id, kind, occurred_us, _seq, attributes, _event_id in rows.events(batch):
        per_type = series.get(contact_id)
        if per_type is None:
            continue
        one = per_type.get(kind)
        if one is None:
            one = per_type[kind] = EventSeries()
        one.times.append(occurred_us / 1_000_000)
        one.attributes.append(json_of(attributes) or {})
    for contact_id, created_us, _email in contacts:
        created_at = from_micros(created_us)
        values = properties[contact_id]
        if "created_at" not in values:
            values["created_at"] = created_at
        yield ContactSnapshot.from_sorted(contact_id, cutoff, created_us / 1_000_000, values,
                                          changes[contact_id], series[contact_id],
                                          tuple(ledger.get(contact_id, ())))


def load_contact(connection: Connection, contact_id: str, *,
                 catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                 ) -> tuple[str | None, datetime, list[PropertyChange], list[EventRecord]] | None:
    """A contact's whole history (email, created_at, property changes, events), or None."""
    found = next(contact_batches(connection, created_until_us=2**62, contact_ids=[contact_id]),
                 None)
    if found is None:
        return None
    batch, contacts = found
    _, created_us, email = contacts[0]
    reader = ValueReader(catalog)
    rows = HistoryRows(connection)
    changes = [PropertyChange(name, reader.read(name, raw, (text, number, flag, micros)),
                              from_micros(changed_us))
               for _, name, changed_us, _seq, raw, text, number, flag, micros, _src
               in rows.properties(batch)]
    events = [EventRecord(kind, from_micros(occurred_us), reader.json(attributes) or {},
                          event_id)
              for _, kind, occurred_us, _seq, attributes, event_id in rows.events(batch)]
    return email, from_micros(created_us), changes, events

