"""Items sent one by one — the HTTP API's batches of contacts, events and outcomes — checked by
exactly the rules of a file's rows (the same builders), each mistake placed by the item's
0-based index in the batch and its field (`Location.index`) instead of a file and line.

Every item is checked before anything is returned; any mistake raises with all of them (up to
a thousand), so a batch is stored whole or not at all, as a file import is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import Catalog
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion import contacts, events, outcomes
from leadscore.storage.outcomes import OutcomeRecord
from leadscore.storage.records import ContactInput, EventInput

LIMIT = 1000  # mistakes reported per batch; beyond it they are counted (LS240)


@dataclass(frozen=True)
class Checked:
    """The checked items of a batch (repeats of an item dropped) and their indexes."""

    items: list[Any]
    indexes: list[int]
    repeated: int


class _ItemPlace:
    """Mixed into a file builder: a row's place is its index in the batch."""

    unit: str

    def at(self, line: int, field: str | None = None) -> Location:
        return Location(index=line, field=field)


class _ContactItems(_ItemPlace, contacts._Builder):
    pass


class _EventItems(_ItemPlace, events._Builder):
    pass


class _OutcomeItems(_ItemPlace, outcomes._Builder):
    pass


def _finish(diagnostics: DiagnosticList) -> None:
    if diagnostics.dropped:
        diagnostics.limit = None
        diagnostics.error("LS240", f"{diagnostics.dropped:,} more mistakes in this batch",
                          Location(), hint="fix the mistakes above and send it again")
    diagnostics.raise_if_errors()


def check_contacts(items: Sequence[dict[str, Any]], *, catalog: Catalog,
                   now: datetime | None = None) -> Checked:
    """Contacts as a JSONL file's lines are read: `contact_id`, `email`, `created_at`,
    `updated_at` (when the values became true; default now) and `properties`."""
    diagnostics = DiagnosticList(limit=LIMIT)
    builder = _ContactItems(Path("items"), catalog, (now or datetime.now(UTC)).astimezone(UTC),
                            diagnostics)
    builder.unit = "item"
    for index, item in enumerate(items):
        contact = builder.json_contact(index, item)
        if contact is not None:
            builder.add(index, contact)
    _finish(diagnostics)
    found: list[ContactInput] = builder.contacts
    return Checked(found, builder.lines, builder.duplicates)


def check_events(items: Sequence[dict[str, Any]], *, catalog: Catalog) -> Checked:
    """Events as a JSONL file's lines are read: `event_id` (derived from the content when
    missing, so a resend is a no-op), `contact_id`, `type`, `occurred_at`, `attributes`."""
    diagnostics = DiagnosticList(limit=LIMIT)
    builder = _EventItems(Path("items"), catalog, diagnostics)
    builder.unit = "item"
    for index, item in enumerate(items):
        builder.add(index, item, {}, from_csv=False)
    _finish(diagnostics)
    found: list[EventInput] = builder.events
    return Checked(found, builder.lines, builder.duplicates)


def check_outcomes(items: Sequence[dict[str, Any]]) -> Checked:
    """Outcomes as a JSONL file's lines are read: `contact_id`, `opportunity_at`, `won_at`,
    `lost_at`."""
    diagnostics = DiagnosticList(limit=LIMIT)
    builder = _OutcomeItems("items", diagnostics)
    builder.unit = "item"
    for index, item in enumerate(items):
        builder.add_json(index, item)
    _finish(diagnostics)
    found: list[OutcomeRecord] = builder.records
    return Checked(found, builder.lines, builder.duplicates)


__all__ = ["Checked", "check_contacts", "check_events", "check_outcomes"]
