"""Importing a file into the store: read and check every row first, then write in one go.

Nothing is stored when any row is bad; everything is stored in one transaction otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.ingestion.contacts import CsvOptions
from leadscore.ingestion.mapping import ContactMapping
from leadscore.ingestion.source import Progress
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
    conflicts_kept: int = 0  # events stored with other content, kept (on_conflict="keep")
    conflicts_replaced: int = 0  # … replaced by the file's version (on_conflict="replace")
    elapsed_seconds: float = 0.0


LOADED_TABLES = ("contacts", "property_changes", "events")


def import_contacts(store: Store, path: str | Path, *, catalog: Catalog,
                    mapping: ContactMapping | None = None, now: datetime | None = None,
                    progress: Progress | None = None,
                    future_tolerance: timedelta | None = None,
                    options: CsvOptions | None = None) -> ImportReport:
    """Read and check the file, then upsert its contacts in one transaction (bounded memory,
    whatever the file's size; nothing is stored when any row is bad). With
    `future_tolerance`, an `updated_at` or `created_at` later than now plus it is a row error
    (LS223)."""
    from leadscore.ingestion.contact_staging import publish_contacts, stage_contacts
    from leadscore.storage.bulk import staging

    started = time.perf_counter()
    with staging(store) as staged:
        found = stage_contacts(staged, path, catalog=catalog, mapping=mapping, now=now,
                               progress=progress, options=options)
        if future_tolerance is not None:
            from leadscore.ingestion.future import check_future

            check_future(staged, found.source, [("moment_us", "updated_at"),
                                                ("created_us", "created_at")],
                         _limit_us(future_tolerance), future_tolerance, Path(path))
        counts = publish_contacts(staged, found, source="import")
    if counts.inserted or counts.updated:
        store.refresh_statistics(LOADED_TABLES)
    if mapping is not None:
        from leadscore.storage.declared import record_declared_types

        record_declared_types(store, mapping.declared_types)
    return ImportReport(
        file=str(path), rows=found.rows, inserted=counts.inserted, updated=counts.updated,
        unchanged=counts.unchanged, duplicates=found.duplicates,
        elapsed_seconds=time.perf_counter() - started,
    )


def import_events(store: Store, path: str | Path, *, catalog: Catalog,
                  create_missing_contacts: bool = False, on_conflict: str = "error",
                  progress: Progress | None = None,
                  future_tolerance: timedelta | None = None,
                  delimiter: str | None = None) -> ImportReport:
    """Read and check the file, then add its new events in one transaction.

    The file is staged and checked set-wise (bounded memory, whatever its size); nothing is
    stored when any row is bad. An event of a contact the store does not have is a row
    error, unless `create_missing_contacts` is set: then the contact is created, as of its
    first event. An event id the store already has with other content is a conflict
    (`on_conflict`: "error", "keep" the stored event, or "replace" it with the file's; the
    contacts of replaced events count as changed for incremental scoring). With
    `future_tolerance`, an `occurred_at` later than now plus it is a row error (LS223)."""
    from leadscore.ingestion.event_publishing import CONFLICT_CHOICES, publish_events
    from leadscore.ingestion.event_staging import restage_rows, stage_events
    from leadscore.storage.bulk import staging

    if on_conflict not in CONFLICT_CHOICES:
        raise LeadscoreError.single(
            "LS242", f"'{on_conflict}' is not a way to settle a conflicting event id",
            Location(field="--on-conflict"), text=on_conflict,
            hint="use " + " or ".join(CONFLICT_CHOICES))
    started = time.perf_counter()
    with staging(store) as staged:
        found = stage_events(staged, path, catalog=catalog, progress=progress,
                             delimiter=delimiter)
        if future_tolerance is not None:
            from leadscore.ingestion.future import check_future, has_future

            limit, times = _limit_us(future_tolerance), [("occurred_us", "occurred_at")]
            if found.path == "set" and has_future(staged, found.source, times, limit):
                found = restage_rows(staged, path, catalog=catalog, progress=progress,
                                     delimiter=delimiter)
            check_future(staged, found.source, times, limit, future_tolerance, Path(path))
        written = publish_events(
            staged, found, Path(path), create_missing_contacts=create_missing_contacts,
            on_conflict=on_conflict,
            restage=lambda: restage_rows(staged, path, catalog=catalog, progress=progress,
                                         delimiter=delimiter))
    if written.inserted or written.contacts_created or written.conflicts_replaced:
        store.refresh_statistics(LOADED_TABLES)
    return ImportReport(
        file=str(path), rows=found.rows, inserted=written.inserted,
        unchanged=written.unchanged, duplicates=found.duplicates,
        contacts_created=written.contacts_created, conflicts_kept=written.conflicts_kept,
        conflicts_replaced=written.conflicts_replaced,
        elapsed_seconds=time.perf_counter() - started,
    )




def _limit_us(tolerance: timedelta) -> int:
    from leadscore.catalog.forms import to_micros

    try:
        return to_micros(datetime.now(UTC) + tolerance)
    except OverflowError:  # a tolerance past the year 9999: nothing is too late
        return 2**63 - 1
