"""Importing a file into the store: read and check every row first, then write in one go.

Nothing is stored when any row is bad; everything is stored in one transaction otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leadscore.catalog import Catalog
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion.contacts import read_contact_rows
from leadscore.ingestion.events import read_event_rows
from leadscore.ingestion.mapping import ContactMapping
from leadscore.ingestion.source import Progress
from leadscore.storage.records import ContactInput, EventInput
from leadscore.storage.store import Store


@dataclass(frozen=True)
class ImportReport:
    """What an import did. For events, `unchanged` counts events the store already had."""

    file: str
    rows: int  # data rows read from the file
    inserted: int = 0  # new contacts / new events
    updated: int = 0  # existing contacts with at least one changed value
    unchanged: int = 0  # existing contacts with nothing new / events already stored
    duplicates: int = 0  # rows repeating an earlier row of the same file
    contacts_created: int = 0  # contacts created for events (create_missing_contacts)
    elapsed_seconds: float = 0.0


LOADED_TABLES = ("contacts", "property_changes", "events")


def import_contacts(store: Store, path: str | Path, *, catalog: Catalog,
                    mapping: ContactMapping | None = None, now: datetime | None = None,
                    progress: Progress | None = None) -> ImportReport:
    """Read and check the file, then upsert its contacts in one transaction."""
    started = time.perf_counter()
    found = read_contact_rows(path, catalog=catalog, mapping=mapping, now=now,
                              progress=progress)
    with store.write() as writer:
        counts = writer.upsert_contacts(found.contacts, source="import")
    if counts.inserted or counts.updated:
        store.refresh_statistics(LOADED_TABLES)
    return ImportReport(
        file=str(path), rows=found.rows, inserted=counts.inserted, updated=counts.updated,
        unchanged=counts.unchanged, duplicates=found.duplicates,
        elapsed_seconds=time.perf_counter() - started,
    )


def import_events(store: Store, path: str | Path, *, catalog: Catalog,
                  create_missing_contacts: bool = False,
                  progress: Progress | None = None) -> ImportReport:
    """Read and check the file, then add its events in one transaction.

    An event of a contact the store does not have is a row error, unless
    `create_missing_contacts` is set: then the contact is created, as of its first event.
    """
    started = time.perf_counter()
    found = read_event_rows(path, catalog=catalog, progress=progress)
    created = 0
    with store.write() as writer:
        known = writer.existing_contact_ids({event.contact_id for event in found.events})
        missing: dict[str, datetime] = {}
        for event in found.events:
            if event.contact_id not in known:
                first = missing.get(event.contact_id)
                if first is None or event.occurred_at < first:
                    missing[event.contact_id] = event.occurred_at
        if missing and not create_missing_contacts:
            _raise_missing(str(path), found.events, found.lines, known)
        if missing:
            writer.upsert_contacts(
                [ContactInput(contact_id, changed_at=first, created_at=first)
                 for contact_id, first in missing.items()], source="import")
            created = len(missing)
        counts = writer.add_events(found.events)
    if counts.inserted or created:
        store.refresh_statistics(LOADED_TABLES)
    return ImportReport(
        file=str(path), rows=found.rows, inserted=counts.inserted,
        unchanged=counts.unchanged, duplicates=found.duplicates, contacts_created=created,
        elapsed_seconds=time.perf_counter() - started,
    )


def _raise_missing(file: str, events: list[EventInput], lines: list[int],
                   known: set[str]) -> None:
    diagnostics = DiagnosticList()
    for event, line in zip(events, lines, strict=True):
        if event.contact_id not in known:
            diagnostics.error(
                "LS219", f"contact '{event.contact_id}' of this event is not in the store",
                Location(file=file, line=line, field="contact_id"), text=event.contact_id,
                hint="import the contacts first (leadscore import contacts …), or import the "
                     "events with --create-contacts",
            )
    diagnostics.raise_if_errors()
