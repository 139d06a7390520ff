"""Reading events (activities) from a CSV or JSONL file.

CSV columns: `contact_id`, `type`, `occurred_at`, optional `event_id`, and either an
`attributes` column holding a JSON object or any other columns, which become attributes.
JSONL: one `{"event_id", "contact_id", "type", "occurred_at", "attributes": {...}}` per line.
An event without an id gets one derived from its content, so importing a file twice is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import (
    Catalog,
    CoercionError,
    PropertyType,
    coerce_value,
    parse_datetime,
    to_utc,
)
from leadscore.catalog.forms import to_micros
from leadscore.catalog.values import non_finite
from leadscore.diagnostics import DiagnosticList, Location, did_you_mean
from leadscore.ingestion.source import (
    FileFormat,
    Progress,
    detect_format,
    require_rows,
    snake_case,
    stream_csv,
    stream_jsonl,
)
from leadscore.storage.json_value import to_json_value
from leadscore.storage.records import EventInput

EVENT_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELDS = ("event_id", "contact_id", "type", "occurred_at", "attributes")
_FIELD_SET = frozenset(_FIELDS)
_CSV_ALIASES = {"id": "event_id", "event_type": "type", "timestamp": "occurred_at",
                "time": "occurred_at", "date": "occurred_at"}


@dataclass(frozen=True)
class EventRows:
    """What an events file holds, checked: events, their lines, rows and in-file repeats."""

    events: list[EventInput]
    lines: list[int]
    rows: int
    duplicates: int


def canonical_attributes(attributes: dict[str, Any]) -> str:
    """The stored JSON text of an event's attributes (what a derived event id is made from)."""
    return json.dumps(attributes, separators=(",", ":"), ensure_ascii=False,
                      default=to_json_value)


def derive_event_id(contact_id: str, event_type: str, occurred_at: datetime,
                    attributes: dict[str, Any]) -> str:
    """A stable id from the event's content: sha256 of contact, type, time (µs) and the
    attributes' JSON text, joined by U+001F (the bulk importer derives the same in SQL)."""
    content = "\x1f".join((contact_id, event_type, str(to_micros(to_utc(occurred_at))),
                           canonical_attributes(attributes)))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def read_events(path: str | Path, *, catalog: Catalog,
                progress: Progress | None = None) -> list[EventInput]:
    """The events of a .csv or .jsonl file; raises with every bad row's diagnostic."""
    return read_event_rows(path, catalog=catalog, progress=progress).events


def read_event_rows(path: str | Path, *, catalog: Catalog,
                    progress: Progress | None = None,
                    delimiter: str | None = None) -> EventRows:
    """Every event of a file, checked, in memory (for small files and tests; imports stream
    through `ingestion.event_staging`)."""
    path = Path(path)
    diagnostics = DiagnosticList()
    builder = _Builder(path, catalog, diagnostics)
    count = 0
    for line, record, extra, from_csv in iter_event_records(path, diagnostics, progress,
                                                            delimiter=delimiter):
        count += 1
        builder.add(line, record, extra, from_csv=from_csv)
    diagnostics.raise_if_errors()
    require_rows(count, path, "events")
    return EventRows(builder.events, builder.lines, count, builder.duplicates)


def iter_event_records(path: Path, diagnostics: DiagnosticList,
                       progress: Progress | None = None, *, delimiter: str | None = None
                       ) -> Iterator[tuple[int, dict[str, Any], dict[str, Any], bool]]:
    """(line, record, extra attributes, from CSV) of every row of an events file, read as it
    goes. Structural mistakes are added to `diagnostics` (and their rows skipped)."""
    if detect_format(path) is FileFormat.CSV:
        table = stream_csv(path, diagnostics, progress, delimiter=delimiter)
        columns = _plan_columns(path, table.header, diagnostics)
        if any(d.code == "LS205" for d in diagnostics):
            diagnostics.raise_if_errors()
        for line, cells in table.rows():
            record: dict[str, Any] = {}
            extra: dict[str, Any] = {}
            for index, target in columns.items():
                cell = cells[index].strip()
                if target in _FIELDS:
                    record[target] = cell
                elif cell:
                    extra[target] = cell
            yield line, record, extra, True
        return
    for line, record in stream_jsonl(path, diagnostics, progress):
        yield line, record, {}, False


def _plan_columns(path: Path, header: list[str], diagnostics: DiagnosticList) -> dict[int, str]:
    columns: dict[int, str] = {}
    owners: dict[str, str] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        target = snake_case(name)
        target = _CSV_ALIASES.get(target, target)
        if target in owners:
            diagnostics.error(
                "LS206", f"the columns '{owners[target]}' and '{name}' both give '{target}'",
                Location(file=str(path), line=1, field=name), text=name,
                hint="rename or delete one of the two columns",
            )
            continue
        owners[target] = name
        columns[index] = target
    missing = [name for name in ("contact_id", "type", "occurred_at") if name not in owners]
    if missing:
        diagnostics.error(
            "LS205", f"the file lacks the column{'s' if len(missing) > 1 else ''} "
                     f"{', '.join(missing)}",
            Location(file=str(path), line=1),
            hint=f"an events CSV needs contact_id, type and occurred_at (event_id and "
                 f"attribute columns are optional); the columns found are: "
                 f"{', '.join(repr(h) for h in header[:12])}",
        )
    return columns


class _Builder:
    def __init__(self, path: Path, catalog: Catalog, diagnostics: DiagnosticList) -> None:
        self.file = str(path)
        self.unit = "line"  # what a row is called in messages ("item" in an API batch)
        self.catalog = catalog
        self.diagnostics = diagnostics
        self.events: list[EventInput] = []
        self.lines: list[int] = []
        self.duplicates = 0
        self._seen: dict[str, tuple[int, EventInput]] = {}
        self._types: dict[str, dict[str, PropertyType]] = {}

    def at(self, line: int, field: str | None = None) -> Location:
        return Location(file=self.file, line=line, field=field)

    def add(self, line: int, record: dict[str, Any], extra: dict[str, Any], *,
            from_csv: bool) -> None:
        event = self.check(line, record, extra, from_csv=from_csv)
        if event is None:
            return
        seen = self._seen.get(event.event_id)
        if seen is None:
            self._seen[event.event_id] = (line, event)
            self.events.append(event)
            self.lines.append(line)
        elif seen[1] == event:
            self.duplicates += 1
        else:
            self.diagnostics.error(
                "LS218", f"event id '{event.event_id}' is also on {self.unit} {seen[0]}, "
                         "with other content",
                self.at(line, "event_id"), text=event.event_id,
                hint="an event id names one event; give each event its own id",
            )

    def check(self, line: int, record: dict[str, Any], extra: dict[str, Any], *,
              from_csv: bool, derive: bool = True) -> EventInput | None:
        """The event of one row, or None (its mistakes added to the diagnostics). Without
        `derive`, an event with no id keeps an empty id (the caller derives it)."""
        errors = len(self.diagnostics)
        if not from_csv and not _FIELD_SET.issuperset(record):
            for key in record:
                if key not in _FIELD_SET:
                    self.diagnostics.error(
                        "LS210", f"'{key}' is not a field of an event", self.at(line, key),
                        text=key, hint=did_you_mean(key, _FIELDS) or
                        "put other values inside \"attributes\": {...}",
                    )
        contact_id = self.text(line, record, "contact_id")
        if contact_id is None:
            self.diagnostics.error("LS211", "this event has no contact id",
                                   self.at(line, "contact_id"),
                                   hint="every event needs the id of its contact")
        kind = self.text(line, record, "type")
        if kind is None or not EVENT_TYPE.match(kind):
            self.diagnostics.error(
                "LS215", "this event has no type" if kind is None else
                f"'{kind}' is not a valid event type", self.at(line, "type"), text=kind,
                hint="use a name made of letters, digits and underscores, such as page_view "
                     "or form_submission" + (
                         f" ({did_you_mean(kind, self.catalog.event_types)})"
                         if kind and did_you_mean(kind, self.catalog.event_types) else ""),
            )
        occurred = self.occurred_at(line, record.get("occurred_at"))
        attributes = self.attributes(line, record.get("attributes"), extra, kind or "")
        event_id = self.text(line, record, "event_id")
        if len(self.diagnostics) > errors:
            return None
        assert contact_id is not None and kind is not None and occurred is not None
        if event_id is None:
            event_id = derive_event_id(contact_id, kind, occurred, attributes) if derive else ""
        return EventInput(event_id, contact_id, kind, occurred, attributes)

    def text(self, line: int, record: dict[str, Any], key: str) -> str | None:
        value = record.get(key)
        if value is None:
            return None
        if type(value) is str:
            return value.strip() or None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.diagnostics.error("LS209", f"'{key}' must be a string", self.at(line, key),
                                   text=str(value), hint=f'write "{key}": "<text>"')
            return None
        text = str(value).strip()
        return text or None

    def occurred_at(self, line: int, raw: Any) -> datetime | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.diagnostics.error("LS216", "this event has no time (occurred_at)",
                                   self.at(line, "occurred_at"),
                                   hint="give the time it happened, e.g. 2026-03-01T09:30:00Z")
            return None
        if type(raw) is str and len(raw) >= 10 and raw[4] == "-":  # the usual ISO 8601 case
            try:
                return to_utc(datetime.fromisoformat(raw))
            except ValueError:
                pass
        try:
            return parse_datetime(raw)
        except CoercionError as error:
            self.diagnostics.error("LS213", str(error), self.at(line, "occurred_at"),
                                   text=str(raw),
                                   hint="write times as ISO 8601, e.g. 2026-03-01T09:30:00Z, "
                                        "or as epoch seconds")
            return None

    def attributes(self, line: int, raw: Any, extra: dict[str, Any],
                   kind: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if isinstance(raw, str):
            if raw.strip():
                try:
                    raw = json.loads(raw)
                except json.JSONDecodeError as error:
                    self.diagnostics.error(
                        "LS217", f"the attributes are not valid JSON: {error.msg}",
                        self.at(line, "attributes"), text=raw[:40],
                        hint='write a JSON object, e.g. {"url": "/pricing"} (in CSV, double '
                             'the quotes inside a quoted cell)',
                    )
                    return attributes
            else:
                raw = None
        if raw is not None and not isinstance(raw, dict):
            self.diagnostics.error("LS217", "the attributes must be a JSON object",
                                   self.at(line, "attributes"), text=str(raw)[:40],
                                   hint='write {"name": value, ...}')
            return attributes
        attributes.update(raw or {})
        attributes.update(extra)
        declared = self._declared(kind)
        for name, value in attributes.items():
            wanted = declared.get(name)
            if wanted is None and non_finite(value):
                self.diagnostics.error(
                    "LS224", f"attribute '{name}' holds a number that is not finite "
                             "(NaN, Infinity, or beyond ±1.8e308 such as 1e999)",
                    self.at(line, name if name in extra else "attributes"),
                    text=str(value)[:40], hint="give a finite number, or leave it out")
                continue
            if wanted is None or value is None:
                continue
            if wanted is PropertyType.STRING and type(value) is str:
                attributes[name] = value.strip() or None
                continue
            try:
                attributes[name] = coerce_value(value, wanted)
            except CoercionError as error:
                self.diagnostics.error(
                    "LS220", f"{error} (attribute '{name}' of {kind} is a {wanted.value})",
                    self.at(line, name if name in extra else "attributes"), text=str(value),
                    hint=f"give '{name}' a {wanted.value} value, or leave it out",
                )
        return attributes

    def _declared(self, kind: str) -> dict[str, PropertyType]:
        found = self._types.get(kind)
        if found is None:
            definition = self.catalog.event_type(kind)
            found = self._types[kind] = dict(definition.attributes) if definition else {}
        return found
