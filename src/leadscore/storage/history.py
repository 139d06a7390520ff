"""Reading each contact's whole history once, to see it as of a moment of its own.

A backtest that scores every contact at its own cutoff (14 days after its creation, just
before its opportunity) cannot use one `as_of` for all. `iter_histories` streams contacts in
batches with every property change and event (two queries per batch, like
`load_snapshots`), and `ContactHistory.snapshot_at(t)` cuts one history at t: the snapshot
equals `ContactSnapshot.build` on the same history, without re-sorting or copying it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog import Catalog, PropertyDef
from leadscore.evaluation.snapshot import ContactSnapshot, EventSeries
from leadscore.storage.ledger_reads import entries_of
from leadscore.storage.reading import Batch, HistoryRows, contact_batches
from leadscore.storage.snapshots import ValueReader

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(slots=True)
class ContactHistory:
    """One contact: creation time, every property change (time order) and every event."""

    contact_id: str
    created_at: float  # POSIX seconds
    change_times: list[float] = field(default_factory=list)
    change_names: list[str] = field(default_factory=list)
    change_values: list[Any] = field(default_factory=list)
    events: dict[str, EventSeries] = field(default_factory=dict)
    ledger: tuple[Any, ...] = ()  # score ledger entries, not voided (the scorer picks by time)

    def snapshot_at(self, cutoff: float) -> ContactSnapshot:
        """The contact as of `cutoff`: only changes and events at or before it count."""
        properties: dict[str, Any] = {}
        changes: dict[str, list[float]] = {}
        end = bisect_right(self.change_times, cutoff)
        names, values, times = self.change_names, self.change_values, self.change_times
        for i in range(end):
            name = names[i]
            times_of = changes.get(name)
            if times_of is None:
                times_of = changes[name] = []
            times_of.append(times[i])
            value = values[i]
            if value is None:
                properties.pop(name, None)
            else:
                properties[name] = value
        if "created_at" not in properties and self.created_at <= cutoff:
            properties["created_at"] = datetime.fromtimestamp(self.created_at, tz=UTC)
        series: dict[str, EventSeries] = {}
        for kind, full in self.events.items():
            n = bisect_right(full.times, cutoff)
            if n == 0:
                continue
            if n == len(full.times):
                series[kind] = full  # shared, read-only
                continue
            part = EventSeries()
            part.times = full.times[:n]
            part.attributes = full.attributes[:n]
            series[kind] = part
        return ContactSnapshot.from_sorted(self.contact_id, cutoff, self.created_at, properties,
                                           changes, series, self.ledger)


def iter_histories(connection: Connection, *,
                   catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                   contact_ids: Iterable[str] | None = None,
                   batch_size: int = 5000) -> Iterator[ContactHistory]:
    """Every contact (or `contact_ids`) with its whole history, in contact id order."""
    reader = ValueReader(catalog)
    rows = HistoryRows(connection)
    ids = None if contact_ids is None else sorted(set(contact_ids))
    for batch, contacts in contact_batches(connection, created_until_us=2**62,
                                           contact_ids=ids, size=batch_size):
        ledger = entries_of(connection, [c[0] for c in contacts])
        for history in _histories(rows, batch, contacts, reader):
            history.ledger = tuple(ledger.get(history.contact_id, ()))
            yield history


def _histories(rows: HistoryRows, batch: Batch, contacts: list[tuple[str, int, str | None]],
               reader: ValueReader) -> Iterator[ContactHistory]:
    found = {cid: ContactHistory(cid, created_us / 1_000_000) for cid, created_us, _ in contacts}
    read = reader.read
    for contact_id, name, changed_us, _seq, raw, text, number, flag, micros, _src in \
            rows.properties(batch):
        history = found.get(contact_id)
        if history is None:
            continue
        history.change_times.append(changed_us / 1_000_000)
        history.change_names.append(name)
        history.change_values.append(read(name, raw, (text, number, flag, micros)))
    json_of = reader.json
    for contact_id, kind, occurred_us, _seq, attributes, _event_id in rows.events(batch):
        history = found.get(contact_id)
        if history is None:
            continue
        one = history.events.get(kind)
        if one is None:
            one = history.events[kind] = EventSeries()
        one.times.append(occurred_us / 1_000_000)
        one.attributes.append(json_of(attributes) or {})
    for contact_id, _, _ in contacts:
        yield found[contact_id]


def load_histories(store: Any, *, catalog: Catalog | Mapping[str, PropertyDef] | None = None,
                   contact_ids: Iterable[str] | None = None,
                   batch_size: int = 5000) -> Iterator[ContactHistory]:
    """`iter_histories` on a `Store`, in one consistent read."""
    with store.read() as connection:
        yield from iter_histories(connection, catalog=catalog, contact_ids=contact_ids,
                                  batch_size=batch_size)
