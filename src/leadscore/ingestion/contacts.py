"""Reading contacts from a CSV file (canonical names, a HubSpot export, or a mapping) or JSONL.

Every row is checked before anything is stored: each bad cell becomes a diagnostic with the
file, the row's line and the column, and all of them are raised together.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import Catalog, CoercionError, PropertyType, coerce_value, parse_datetime
from leadscore.catalog.values import non_finite
from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean
from leadscore.ingestion.mapping import (
    FIELDS,
    ContactMapping,
    DerivedColumn,
    RowOrder,
    default_target,
    normalize_lifecycle_stage,
)
from leadscore.ingestion.source import (
    IDENTIFIER,
    FileFormat,
    Progress,
    detect_format,
    require_rows,
    snake_case,
    stream_csv,
    stream_jsonl,
)
from leadscore.storage.records import ContactInput

LIFECYCLE = "lifecycle_stage"
_UNSEEN = object()
_JSONL_KEYS = ("contact_id", "id", "email", "created_at", "updated_at", "properties")


@dataclass(frozen=True)
class ContactRows:
    """What a contacts file holds, checked: the contacts, their lines, rows and duplicates."""

    contacts: list[ContactInput]
    lines: list[int]
    rows: int
    duplicates: int


@dataclass(frozen=True)
class _Column:
    index: int
    name: str  # as written in the header
    target: str  # a field name (FIELDS) or a property name
    kind: PropertyType = PropertyType.STRING
    options: tuple[str, ...] = ()


def read_contacts(path: str | Path, *, catalog: Catalog, mapping: ContactMapping | None = None,
                  now: datetime | None = None, progress: Progress | None = None,
                  options: CsvOptions | None = None) -> list[ContactInput]:
    """The contacts of a .csv or .jsonl file, typed by `catalog`; raises on any bad row."""
    return read_contact_rows(path, catalog=catalog, mapping=mapping, now=now,
                             progress=progress, options=options).contacts


def read_contact_rows(path: str | Path, *, catalog: Catalog,
                      mapping: ContactMapping | None = None, now: datetime | None = None,
                      progress: Progress | None = None,
                      options: CsvOptions | None = None) -> ContactRows:
    """Every contact of a file, checked, in memory (for small files and tests; imports
    stream through `ingestion.contact_staging`)."""
    path = Path(path)
    diagnostics = DiagnosticList()
    builder = _Builder(path, catalog, _moment(now), diagnostics)
    count = 0
    for line, contact in iter_contacts(path, builder, mapping=mapping, progress=progress,
                                       options=options):
        count += 1
        if contact is not None:
            builder.add(line, contact)
    diagnostics.raise_if_errors()
    require_rows(count, path, "contacts")
    return ContactRows(builder.contacts, builder.lines, count, builder.duplicates)


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


@dataclass
class ContactFile:
    """A contacts file opened for reading: the properties its columns give (CSV; None for
    JSON Lines, where each row names its own) and its rows as they are read."""

    properties: list[tuple[str, PropertyType]] | None
    rows: Iterator[tuple[int, ContactInput | None]]


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV file is read beyond its mapping: the command line's --delimiter and
    --order-by-row (each wins over the mapping's own)."""

    delimiter: str | None = None
    order_by_row: RowOrder | None = None


def open_contacts(path: Path, builder: _Builder, *, mapping: ContactMapping | None = None,
                  progress: Progress | None = None,
                  options: CsvOptions | None = None) -> ContactFile:
    """Open a contacts file: (line, contact or None for a bad row) of every row, read as it
    goes; mistakes go to the builder's diagnostics."""
    file_format = detect_format(path)
    options = options or CsvOptions()
    order = options.order_by_row or (mapping.order_by_row if mapping is not None else None)
    if file_format is FileFormat.JSONL and options != CsvOptions():
        raise LeadscoreError.single(
            "LS237", "--delimiter and --order-by-row apply to CSV files; this file is JSON "
                     "Lines", Location(file=str(path)),
            hint="leave them out: a .jsonl contact names its fields and dates itself")
    if mapping is not None and file_format is FileFormat.JSONL:
        raise LeadscoreError.single(
            "LS237", "a mapping file applies to CSV files; this file is JSON Lines",
            Location(file=str(path)),
            hint="leave out the mapping: a .jsonl contact names its fields itself",
        )
    diagnostics = builder.diagnostics
    if file_format is FileFormat.CSV:
        delimiter = options.delimiter or (mapping.delimiter if mapping is not None else None)
        table = stream_csv(path, diagnostics, progress, delimiter=delimiter)
        columns = _plan_columns(path, table.header, builder.catalog, mapping, diagnostics)
        derived = _plan_derived(path, table.header, mapping, columns, order, diagnostics)
        if columns is None or derived is None:
            diagnostics.raise_if_errors()
        nulls = mapping.null_values if mapping is not None else frozenset()
        defaults = mapping.defaults if mapping is not None else {}
        row_ids = mapping is not None and mapping.row_ids

        def csv_rows() -> Iterator[tuple[int, ContactInput | None]]:
            for number, (line, cells) in enumerate(table.rows(), start=1):
                yield line, builder.csv_contact(
                    line, cells, columns or [], nulls, defaults,
                    row_id=mapping.row_id(number) if row_ids and mapping else None,
                    created=order.moment(number) if order is not None else None,
                    derived=derived or ())

        return ContactFile([(c.target, c.kind) for c in columns or []
                            if c.target not in FIELDS] +
                           [(d.name, PropertyType.STRING) for d, _ in derived or ()],
                           csv_rows())

    def json_rows() -> Iterator[tuple[int, ContactInput | None]]:
        for line, record in stream_jsonl(path, diagnostics, progress):
            yield line, builder.json_contact(line, record)

    return ContactFile(None, json_rows())


def iter_contacts(path: Path, builder: _Builder, *, mapping: ContactMapping | None = None,
                  progress: Progress | None = None, options: CsvOptions | None = None
                  ) -> Iterator[tuple[int, ContactInput | None]]:
    """The rows of `open_contacts`."""
    return open_contacts(path, builder, mapping=mapping, progress=progress,
                         options=options).rows


def _plan_columns(path: Path, header: list[str], catalog: Catalog,
                  mapping: ContactMapping | None,
                  diagnostics: DiagnosticList) -> list[_Column] | None:
    """Which column holds what; None when the header cannot be imported at all."""
    file = str(path)
    targets: dict[int, str] = {}
    index_of = {name: i for i, name in enumerate(header)}
    loose = {" ".join(name.lower().split()): i for i, name in enumerate(header)}

    def find(column: str, key: str) -> int | None:
        found = index_of.get(column)
        if found is None:
            found = loose.get(" ".join(column.lower().split()))
        if found is None and mapping is not None:
            diagnostics.error(
                "LS234", f"the mapping names the column '{column}', which is not in {path.name}",
                mapping.location(key), text=column,
                hint=did_you_mean(column, header) or
                f"the file's columns are: {_shown(header)}",
            )
        return found

    if mapping is not None:
        for name in FIELDS:
            column = getattr(mapping, name)
            if column:
                index = find(column, name)
                if index is not None:
                    targets[index] = name
        for column, prop in mapping.columns.items():
            index = find(column, f"columns.{column}")
            if index is not None:
                targets[index] = prop
        for column in mapping.exclude:
            find(column, "exclude")
    if mapping is None or mapping.include_unmapped:
        excluded = (mapping.exclude | mapping.label_columns) if mapping is not None \
            else frozenset()
        taken_fields = {name for name in FIELDS if mapping is not None and getattr(mapping, name)}
        for index, name in enumerate(header):
            if index in targets or name in excluded or not name:
                continue
            target = default_target(name)
            if target in taken_fields or not target:
                continue
            targets[index] = target
    owners: dict[str, int] = {}
    for index in sorted(targets):
        target = targets[index]
        if target in owners:
            first = header[owners[target]]
            where = (mapping.location(f"columns.{header[index]}") if mapping is not None
                     and header[index] in mapping.columns
                     else Location(file=file, line=1, field=header[index]))
            diagnostics.error(
                "LS206", f"the columns '{first}' and '{header[index]}' both give '{target}'",
                where, text=header[index],
                hint="use a mapping file to say which column to import (and exclude the other)",
            )
            continue
        owners[target] = index
    if "contact_id" not in owners and not (mapping is not None and mapping.row_ids):
        if mapping is None:
            diagnostics.error(
                "LS205", "the file has no contact id column",
                Location(file=file, line=1),
                hint=f"name the column 'contact_id' (or 'id', or HubSpot's 'Record ID'), or "
                     f"write a mapping file with 'contact_id: <column>'; the columns found "
                     f"are: {_shown(header)}",
            )
        return None
    columns: list[_Column] = []
    for target, index in owners.items():
        if target in FIELDS:
            columns.append(_Column(index, header[index], target))
            continue
        definition = catalog.property(target)
        kind = (mapping.types.get(target) if mapping is not None else None) or (
            definition.type if definition is not None else PropertyType.STRING)
        columns.append(_Column(index, header[index], target, kind,
                               definition.options if definition is not None else ()))
    return sorted(columns, key=lambda column: column.index)


def _plan_derived(path: Path, header: list[str], mapping: ContactMapping | None,
                  columns: list[_Column] | None, order: RowOrder | None,
                  diagnostics: DiagnosticList
                  ) -> list[tuple[DerivedColumn, int | None]] | None:
    """Each derived column with the index of the date column it reads (None: the contact's
    creation); None when one names a column the file does not have."""
    created_column = any(c.target == "created_at" for c in columns or [])
    if order is not None and created_column:
        diagnostics.error(
            "LS239", "--order-by-row gives created_at from the row order, but the file has a "
                     "created_at column", Location(file=str(path), line=1, field="created_at"),
            hint="leave out --order-by-row: the file's dates are used")
    if mapping is None:
        return []
    found: list[tuple[DerivedColumn, int | None]] = []
    loose = {" ".join(name.lower().split()): i for i, name in enumerate(header)}
    ok = True
    for d in mapping.derived:
        if d.source == "created_at":
            found.append((d, None))
            continue
        index = loose.get(" ".join(d.source.lower().split()))
        if index is None:
            ok = False
            diagnostics.error(
                "LS234", f"the derived column '{d.name}' reads the column '{d.source}', which "
                         f"is not in {path.name}", mapping.location(f"derived.{d.name}.from"),
                text=d.source, hint=did_you_mean(d.source, header) or "name a date column of "
                                                                       "the file, or created_at")
            continue
        found.append((d, index))
    return found if ok else None


def _shown(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" … ({len(names)} in all)" if len(names) > limit else "")


class _Builder:
    """Turns checked rows into ContactInputs, collecting every mistake."""

    def __init__(self, path: Path, catalog: Catalog, now: datetime,
                 diagnostics: DiagnosticList) -> None:
        self.file = str(path)
        self.unit = "line"  # what a row is called in messages ("item" in an API batch)
        self.catalog = catalog
        self.now = now
        self.diagnostics = diagnostics
        self.contacts: list[ContactInput] = []
        self.lines: list[int] = []
        self.duplicates = 0
        self._seen: dict[tuple[str, datetime], tuple[int, ContactInput]] = {}
        self._values: dict[tuple[int, str], Any] = {}  # (column, cell) → typed value

    def at(self, line: int, field: str | None = None) -> Location:
        return Location(file=self.file, line=line, field=field)

    # -- CSV -----------------------------------------------------------------------------

    def csv_contact(self, line: int, cells: list[str], columns: list[_Column],
                    nulls: frozenset[str], defaults: Mapping[str, datetime],
                    row_id: str | None = None, created: datetime | None = None,
                    derived: Sequence[tuple[DerivedColumn, int | None]] = ()
                    ) -> ContactInput | None:
        errors = len(self.diagnostics)
        fields: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        for column in columns:
            cell = cells[column.index].strip()
            if cell in nulls:
                cell = ""
            target = column.target
            if target in FIELDS:
                fields[target] = (column.name, cell)
            elif column.kind is PropertyType.STRING and target != LIFECYCLE:
                properties[target] = cell or None  # what coerce_value gives a text
            else:
                known = self._values.get((column.index, cell), _UNSEEN)
                if known is _UNSEEN:
                    before = len(self.diagnostics)
                    known = self.property_value(line, column.name, target, cell, column.kind,
                                                column.options)
                    if len(self.diagnostics) == before and len(self._values) < 100_000:
                        self._values[(column.index, cell)] = known
                properties[target] = known
        contact_id = row_id or fields.get("contact_id", ("contact_id", ""))[1]
        if not contact_id:
            self.diagnostics.error("LS211", "this row has no contact id",
                                   self.at(line, fields.get("contact_id", ("contact_id",))[0]),
                                   hint="every row needs the id of its contact")
        email_cell = fields.get("email", ("email", ""))[1]
        ordered = created  # from the row order: the values are as of the contact's creation
        created = self.moment(line, *fields.get("created_at", ("created_at", ""))) or ordered
        updated = self.moment(line, *fields.get("updated_at", ("updated_at", "")))
        creation = created or defaults.get("created_at")
        for spec, index in derived:
            if index is None:
                moment = creation
            else:
                cell = cells[index].strip()
                moment = self.moment(line, spec.source, "" if cell in nulls else cell)
            properties[spec.name] = spec.value(moment)
        if len(self.diagnostics) > errors:
            return None
        return ContactInput(
            contact_id=contact_id,
            changed_at=updated or ordered or defaults.get("updated_at") or self.now,
            email=email_cell or None,
            created_at=creation,
            properties=properties,
        )

    def property_value(self, line: int, column: str, name: str, raw: Any, kind: PropertyType,
                       options: tuple[str, ...]) -> Any:
        if name == LIFECYCLE:
            raw = normalize_lifecycle_stage(raw)
        try:
            return coerce_value(raw, kind, options=options)
        except CoercionError as error:
            self.diagnostics.error(
                "LS212", f"{error} (property '{name}' is a {kind.value})",
                self.at(line, column), text=str(raw),
                hint=_type_hint(name, kind, options),
            )
            return None

    def moment(self, line: int, column: str, raw: Any) -> datetime | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return parse_datetime(raw)
        except CoercionError as error:
            self.diagnostics.error("LS213", str(error), self.at(line, column), text=str(raw),
                                   hint="write dates as ISO 8601, e.g. 2026-03-01 or "
                                        "2026-03-01T09:30:00Z")
            return None

    # -- JSONL ---------------------------------------------------------------------------

    def json_contact(self, line: int, record: dict[str, Any]) -> ContactInput | None:
        errors = len(self.diagnostics)
        for key in record:
            if key not in _JSONL_KEYS:
                self.diagnostics.error(
                    "LS210", f"'{key}' is not a field of a contact", self.at(line, key),
                    text=key, hint=did_you_mean(key, _JSONL_KEYS) or
                    "put custom values inside \"properties\": {...}",
                )
        key = "contact_id" if "contact_id" in record else "id"
        raw_id = record.get(key)
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(
                raw_id).strip():
            self.diagnostics.error("LS211", "this contact has no contact id",
                                   self.at(line, "contact_id"),
                                   hint='add "contact_id": "<the id>" to the object')
        email = record.get("email")
        if email is not None and not isinstance(email, str):
            self.diagnostics.error("LS209", "the email must be a string", self.at(line, "email"),
                                   text=str(email), hint='write "email": "ann@example.com"')
        created = self.moment(line, "created_at", record.get("created_at"))
        updated = self.moment(line, "updated_at", record.get("updated_at"))
        properties: dict[str, Any] = {}
        given = record.get("properties") or {}
        if not isinstance(given, dict):
            self.diagnostics.error("LS209", "\"properties\" must be an object",
                                   self.at(line, "properties"),
                                   hint='write "properties": {"job_title": "CTO", ...}')
            given = {}
        for name, raw in given.items():
            properties[name] = self.json_property(line, name, raw)
        if len(self.diagnostics) > errors:
            return None
        return ContactInput(
            contact_id=str(raw_id).strip(),
            changed_at=updated or self.now,
            email=(email or "").strip() or None,
            created_at=created,
            properties=properties,
        )

    def json_property(self, line: int, name: str, raw: Any) -> Any:
        where = f"properties.{name}"
        if not IDENTIFIER.match(name):
            self.diagnostics.error(
                "LS222", f"'{name}' is not a valid property name", self.at(line, where),
                text=name, hint=f"use letters, digits and underscores, e.g. "
                                f"'{snake_case(name) or 'a_name'}'",
            )
            return None
        if isinstance(raw, dict | list):
            self.diagnostics.error(
                "LS212", f"property '{name}' holds a JSON "
                         f"{'object' if isinstance(raw, dict) else 'array'}; "
                         "a property holds one value",
                self.at(line, where), hint="write a text, a number, true/false or a date",
            )
            return None
        definition = self.catalog.property(name)
        if definition is None:  # undeclared: keep JSON numbers and bools as they are
            if non_finite(raw):
                self.diagnostics.error(
                    "LS224", f"property '{name}' holds a number that is not finite (NaN, "
                             "Infinity, or beyond ±1.8e308 such as 1e999)",
                    self.at(line, where), text=str(raw),
                    hint="give a finite number, or leave it out (null: unknown)")
                return None
            if isinstance(raw, str):
                return raw.strip() or None
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            return raw
        return self.property_value(line, where, name, raw, definition.type, definition.options)

    # -- both ----------------------------------------------------------------------------

    def add(self, line: int, contact: ContactInput) -> None:
        key = (contact.contact_id, contact.changed_at)
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = (line, contact)
            self.contacts.append(contact)
            self.lines.append(line)
            return
        first_line, first = seen
        if first == contact:
            self.duplicates += 1
            return
        differing = sorted(
            name for name in set(first.properties) | set(contact.properties)
            if first.properties.get(name) != contact.properties.get(name)
        ) + [name for name in ("email", "created_at")
             if getattr(first, name) != getattr(contact, name)]
        self.diagnostics.error(
            "LS214", f"contact '{contact.contact_id}' is also on {self.unit} {first_line}, "
                     f"with other values ({', '.join(differing[:5])})",
            self.at(line, differing[0] if differing else None), text=contact.contact_id,
            hint="keep one row per contact (or give the rows different updated_at times: "
                 "then they are its history)",
        )


def _type_hint(name: str, kind: PropertyType, options: tuple[str, ...]) -> str:
    if kind is PropertyType.ENUM and options:
        return f"use one of: {', '.join(options)}"
    if kind is PropertyType.NUMBER:
        return ("write a plain number such as 1200 or 1,200.50; or leave the cell empty when "
                "it is unknown")
    if kind is PropertyType.BOOL:
        return "write true/false, yes/no or 1/0; or leave the cell empty when it is unknown"
    if kind is PropertyType.DATE:
        return "write a date such as 2026-03-01 or 2026-03-01T09:30:00Z"
    return f"check the value of '{name}'"
