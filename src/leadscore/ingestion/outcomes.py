"""Reading outcomes: when each contact became an opportunity, was won or was lost.

Two sources:
- an outcomes file (CSV or JSONL) with `contact_id`, `opportunity_at`, `won_at`, `lost_at`
  (an empty cell or null: not happened); `leadscore generate` writes one;
- a flat export with a label column, through a mapping file with an `outcome:` section
  (`{column: Converted, positive: ["1"], stage: won, at: 2015-06-30}`): a row whose label is
  positive converted at `at` (or at the date in `at_column`), any other row did not.

Every row is checked before anything is stored; a bad row is reported with file:line:field
(codes LS400–LS409), and an import stores all rows or none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import CoercionError, parse_datetime
from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean
from leadscore.ingestion.mapping import ContactMapping, OutcomeColumn
from leadscore.ingestion.source import (
    FileFormat,
    Progress,
    detect_format,
    read_csv,
    read_jsonl,
    read_text,
    require_rows,
)
from leadscore.storage.outcomes import OutcomeRecord, save_outcomes
from leadscore.storage.store import Store

FIELDS = ("contact_id", "opportunity_at", "won_at", "lost_at")
_TIMES = FIELDS[1:]
_ALIASES = {"id": "contact_id"}


@dataclass(frozen=True)
class OutcomeRows:
    outcomes: list[OutcomeRecord]
    lines: list[int]
    rows: int
    duplicates: int


@dataclass(frozen=True)
class OutcomeImportReport:
    file: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    converted: int = 0  # rows with an opportunity or a win
    elapsed_seconds: float = 0.0


def read_outcomes(path: str | Path, *, mapping: ContactMapping | None = None,
                  now: datetime | None = None, progress: Progress | None = None,
                  delimiter: str | None = None) -> OutcomeRows:
    """The outcomes of a file; raises with every bad row's diagnostic."""
    path = Path(path)
    file_format = detect_format(path)
    if mapping is not None and file_format is FileFormat.JSONL:
        raise LeadscoreError.single(
            "LS237", "a mapping file applies to CSV files; this file is JSON Lines",
            Location(file=str(path)),
            hint="leave out the mapping: a .jsonl outcome names its fields itself")
    if mapping is not None and mapping.outcome is None:
        raise LeadscoreError.single(
            "LS406", "the mapping file has no 'outcome' section, so it does not say which "
                     "column holds the label",
            Location(file=mapping.file, field="outcome"),
            hint="add e.g. 'outcome: {column: Converted, positive: [\"1\"], at: 2015-06-30}'")
    text = read_text(path)
    diagnostics = DiagnosticList()
    builder = _Builder(str(path), diagnostics)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    if file_format is FileFormat.CSV:
        table = read_csv(path, text, diagnostics, progress, delimiter=delimiter or (
            mapping.delimiter if mapping is not None else None))
        if mapping is not None:
            _read_labels(table.header, table.rows, mapping, builder, moment)
        else:
            _read_outcome_columns(table.header, table.rows, builder)
        count = len(table.rows)
    else:
        objects = read_jsonl(path, text, diagnostics, progress)
        for line, record in objects:
            builder.add_json(line, record)
        count = len(objects)
    diagnostics.raise_if_errors()
    require_rows(count, path, "outcomes")
    return OutcomeRows(builder.records, builder.lines, count, builder.duplicates)


def import_outcomes(store: Store, path: str | Path, *, mapping: ContactMapping | None = None,
                    now: datetime | None = None, progress: Progress | None = None,
                    delimiter: str | None = None) -> OutcomeImportReport:
    """Read and check the file, then store its outcomes in one transaction. Every contact
    must already be in the store (import contacts first)."""
    started = time.perf_counter()
    found = read_outcomes(path, mapping=mapping, now=now, progress=progress,
                          delimiter=delimiter)
    known = store.existing_contact_ids(r.contact_id for r in found.outcomes)
    missing = DiagnosticList()
    for record, line in zip(found.outcomes, found.lines, strict=True):
        if record.contact_id not in known:
            missing.error(
                "LS403", f"contact '{record.contact_id}' of this outcome is not in the store",
                Location(file=str(path), line=line, field="contact_id"), text=record.contact_id,
                hint="import the contacts first (leadscore import contacts …)")
    missing.raise_if_errors()
    counts = save_outcomes(store, found.outcomes, source=f"import:{Path(path).name}")
    if counts.inserted or counts.updated:
        store.refresh_statistics(("outcomes",))
    converted = sum(1 for r in found.outcomes if r.opportunity_at or r.won_at)
    return OutcomeImportReport(str(path), found.rows, counts.inserted, counts.updated,
                               counts.unchanged, found.duplicates, converted,
                               time.perf_counter() - started)


# -- outcome files -------------------------------------------------------------------------

def _read_outcome_columns(header: list[str], rows: list[tuple[int, list[str]]],
                          builder: _Builder) -> None:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        key = _ALIASES.get(name.strip().lower(), name.strip().lower())
        if key in FIELDS and key not in index:
            index[key] = i
    if "contact_id" not in index:
        builder.diagnostics.error(
            "LS205", "the outcomes file has no contact_id column",
            Location(file=builder.file, line=1),
            hint=f"the columns are {', '.join(FIELDS)}; found: {', '.join(header[:8])}")
        return
    if not any(key in index for key in _TIMES):
        builder.diagnostics.error(
            "LS205", "the outcomes file has none of the columns opportunity_at, won_at, lost_at",
            Location(file=builder.file, line=1),
            hint=did_you_mean(header[-1], _TIMES) or "name the columns as in `leadscore "
                                                     "generate`'s outcomes.csv")
        return
    for line, cells in rows:
        values = {key: cells[i].strip() for key, i in index.items()}
        builder.add(line, values)


def _read_labels(header: list[str], rows: list[tuple[int, list[str]]], mapping: ContactMapping,
                 builder: _Builder, now: datetime) -> None:
    outcome = mapping.outcome
    assert outcome is not None
    loose = {" ".join(name.lower().split()): i for i, name in enumerate(header)}

    def find(column: str | None, key: str) -> int | None:
        if column is None:
            return None
        found = loose.get(" ".join(column.lower().split()))
        if found is None:
            builder.diagnostics.error(
                "LS234", f"the mapping names the column '{column}', which is not in the file",
                mapping.location(key), text=column,
                hint=did_you_mean(column, header) or f"the file's columns: {', '.join(header)}")
        return found

    id_index = None if mapping.row_ids else find(mapping.contact_id, "contact_id")
    label_index = find(outcome.column, "outcome")
    at_index = find(outcome.at_column, "outcome")
    if builder.diagnostics.errors:
        return
    assert label_index is not None
    field = "won_at" if outcome.stage == "won" else "opportunity_at"
    for number, (line, cells) in enumerate(rows, start=1):
        contact_id = (mapping.row_id(number) if id_index is None else cells[id_index].strip())
        raw = cells[label_index].strip()
        values = {"contact_id": contact_id}
        if raw in outcome.positive:
            if at_index is not None:
                values[field] = cells[at_index].strip()
                builder.where[field] = header[at_index]
            else:
                values[field] = (outcome.at or now).isoformat()
        elif outcome.negative and raw not in outcome.negative:
            builder.diagnostics.error(
                "LS407", f"'{raw}' is neither a positive nor a negative value of the label",
                Location(file=builder.file, line=line, field=outcome.column), text=raw or None,
                hint=f"positive: {', '.join(sorted(outcome.positive))}; negative: "
                     f"{', '.join(sorted(outcome.negative))}")
            continue
        builder.add(line, values)


class _Builder:
    def __init__(self, file: str, diagnostics: DiagnosticList) -> None:
        self.file = file
        self.unit = "line"  # what a row is called in messages ("item" in an API batch)
        self.diagnostics = diagnostics
        self.records: list[OutcomeRecord] = []
        self.lines: list[int] = []
        self.duplicates = 0
        self.where: dict[str, str] = {}  # field → column name shown in diagnostics
        self._seen: dict[str, tuple[int, OutcomeRecord]] = {}

    def at(self, line: int, field: str) -> Location:
        return Location(file=self.file, line=line, field=self.where.get(field, field))

    def add(self, line: int, values: dict[str, Any]) -> None:
        errors = len(self.diagnostics.errors)
        contact_id = str(values.get("contact_id") or "").strip()
        if not contact_id:
            self.diagnostics.error("LS400", "this outcome has no contact id",
                                   self.at(line, "contact_id"),
                                   hint="every row needs the id of its contact")
        times: dict[str, datetime | None] = {}
        for key in _TIMES:
            times[key] = self.moment(line, key, values.get(key))
        if times["won_at"] is not None and times["lost_at"] is not None:
            self.diagnostics.error(
                "LS402", "this contact is both won and lost", self.at(line, "lost_at"),
                hint="keep the outcome that happened last (a deal is won or lost, not both)")
        if len(self.diagnostics.errors) > errors:
            return
        record = OutcomeRecord(contact_id, times["opportunity_at"], times["won_at"],
                               times["lost_at"])
        seen = self._seen.get(contact_id)
        if seen is not None:
            if seen[1] == record:
                self.duplicates += 1
                return
            self.diagnostics.error(
                "LS404", f"contact '{contact_id}' is also on {self.unit} {seen[0]}, with other "
                         "outcomes",
                self.at(line, "contact_id"), text=contact_id,
                hint="keep one row per contact")
            return
        self._seen[contact_id] = (line, record)
        self.records.append(record)
        self.lines.append(line)

    def moment(self, line: int, key: str, raw: Any) -> datetime | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return parse_datetime(raw)
        except CoercionError as error:
            self.diagnostics.error("LS401", f"{key}: {error}", self.at(line, key),
                                   text=str(raw), hint="write a date such as 2026-03-01 or "
                                                       "2026-03-01T09:30:00Z, or leave it empty")
            return None

    def add_json(self, line: int, record: dict[str, Any]) -> None:
        for key in record:
            if _ALIASES.get(key, key) not in FIELDS:
                self.diagnostics.error(
                    "LS405", f"'{key}' is not a field of an outcome", self.at(line, key),
                    text=key, hint=did_you_mean(key, FIELDS) or f"use {', '.join(FIELDS)}")
        values = {_ALIASES.get(k, k): v for k, v in record.items()}
        raw_id = values.get("contact_id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | type(None)):
            raw_id = None
        values["contact_id"] = "" if raw_id is None else str(raw_id)
        self.add(line, values)


__all__ = ["FIELDS", "OutcomeColumn", "OutcomeImportReport", "OutcomeRows", "import_outcomes",
           "read_outcomes"]
