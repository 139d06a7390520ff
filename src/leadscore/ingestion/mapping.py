"""How the columns of a contacts CSV become a contact: built-in names and mapping files.

Without a mapping, a column is recognised by its name: the canonical names (`contact_id` or
`id`, `email`, `created_at`, `updated_at`), the column names of a HubSpot contacts export
("Record ID", "Create Date", "Job Title", …), or, failing both, a custom property named after
the column in snake_case ("Lead Source" → `lead_source`).

A mapping file (YAML) says it explicitly; its format is described in docs/import.md:

    version: 1
    contact_id: Prospect ID          # the column holding the contact's id (required)
    email: Email                     # optional, like created_at and updated_at
    columns:                         # source column → property name
      Lead Source: original_source
      TotalVisits: total_visits
    null_values: [Select, "N/A"]     # cells meaning "unknown" (the empty cell always does)
    include_unmapped: false          # import the other columns too (by name, as above)?
    exclude: [Tags]                  # columns never imported (with include_unmapped: true)
    types: {total_visits: number}    # types of custom properties: string, number, bool,
                                     # date or enum (declared properties keep their type)
    defaults: {created_at: 2026-01-01}   # when the file has no such column / an empty cell
    outcome: {column: Converted, positive: ["1"], stage: won, at: 2015-06-30}
                                     # a label column (for backtests); never a property
    row_ids: true                    # no id column: row N (1-based, after the header) is
                                     # contact "row-N" (instead of contact_id)

This module is what a mapping is (`ContactMapping`) and the built-in names; reading a mapping
file, with every mistake placed, is `mapping_file.load_mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadscore.catalog import CoercionError, PropertyType, parse_datetime, parse_duration
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.ingestion.source import snake_case

FIELDS = ("contact_id", "email", "created_at", "updated_at")

# HubSpot contacts export → leadscore (lower-cased column name → field or property)
HUBSPOT_COLUMNS: dict[str, str] = {
    "record id": "contact_id",
    "contact id": "contact_id",
    "email": "email",
    "create date": "created_at",
    "last modified date": "updated_at",
    "first name": "first_name",
    "last name": "last_name",
    "company name": "company",
    "associated company": "company",
    "job title": "job_title",
    "industry": "industry",
    "number of employees": "employees",
    "annual revenue": "annual_revenue",
    "country/region": "country",
    "country": "country",
    "city": "city",
    "original source": "original_source",
    "original source type": "original_source",
    "original source drill-down 1": "original_source_detail_1",
    "original source drill-down 2": "original_source_detail_2",
    "first referring site": "referrer_url",
    "contact owner": "owner",
    "hubspot owner": "owner",
    "lifecycle stage": "lifecycle_stage",
    "unsubscribed from all email": "email_opt_out",
    "opted out of all email": "email_opt_out",
}

# HubSpot's internal values and labels of the lifecycle stage → leadscore's stages
LIFECYCLE_ALIASES: dict[str, str] = {
    "marketingqualifiedlead": "mql",
    "marketing qualified lead": "mql",
    "marketing-qualified lead": "mql",
    "salesqualifiedlead": "sql",
    "sales qualified lead": "sql",
    "sales-qualified lead": "sql",
}

_ALIASES = {"id": "contact_id", "contactid": "contact_id"}
# date parts a derived column can hold: each a text (a category), e.g. month "01" … "12"
DATE_PARTS = ("month", "weekday", "hour", "quarter")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROW_ID_PREFIX = "row-"


def default_target(column: str) -> str:
    """What an unmapped column becomes: a field name or a property name ('' if none)."""
    key = " ".join(column.lower().split())
    if key in HUBSPOT_COLUMNS:
        return HUBSPOT_COLUMNS[key]
    name = snake_case(column)
    return _ALIASES.get(name, name)


def normalize_lifecycle_stage(value: Any) -> Any:
    if isinstance(value, str):
        return LIFECYCLE_ALIASES.get(" ".join(value.lower().split()), value)
    return value


@dataclass(frozen=True)
class OutcomeColumn:
    """A label column of a flat export: which cells mean converted, as what, and when."""

    column: str
    positive: frozenset[str]
    negative: frozenset[str] = frozenset()  # when given, any other value is a row error
    stage: str = "won"  # "won" or "opportunity"
    at: datetime | None = None  # when the positive rows converted (default: the import time)
    at_column: str | None = None  # or: the column holding that date


@dataclass(frozen=True)
class RowOrder:
    """`created_at` from row order, for a file without dates: data row N (1-based) was created
    at start + (N − 1) × step."""

    start: datetime
    step: timedelta

    def moment(self, number: int) -> datetime:
        return self.start + (number - 1) * self.step

    def describe(self) -> str:
        return f"row N created at {self.start.isoformat()} + (N − 1) × {self.step}"


@dataclass(frozen=True)
class DerivedColumn:
    """A property computed from a date: `created_month: {from: created_at, part: month}`."""

    name: str
    source: str  # "created_at" (the contact's creation, however it is known) or a column
    part: str  # one of DATE_PARTS

    def value(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        if self.part == "month":
            return f"{moment.month:02d}"
        if self.part == "weekday":
            return _WEEKDAYS[moment.weekday()]
        if self.part == "hour":
            return f"{moment.hour:02d}"
        return f"q{(moment.month - 1) // 3 + 1}"


def parse_row_order(start: str, step: str, where: Location) -> RowOrder:
    """`--order-by-row START STEP` (or the mapping's `order_by_row`), checked: LS239."""
    try:
        begin = parse_datetime(start)
    except CoercionError as error:
        raise LeadscoreError.single("LS239", f"order by row: the start '{start}' is not a date "
                                             f"({error})", where, text=start,
                                    hint="write e.g. --order-by-row 2024-01-01 1h") from None
    try:
        span = parse_duration(step)
    except CoercionError as error:
        raise LeadscoreError.single("LS239", f"order by row: the step '{step}' is not a "
                                             f"duration ({error})", where, text=step,
                                    hint="write a duration such as 1h, 30min or 1d") from None
    if span.total_seconds() <= 0:
        raise LeadscoreError.single("LS239", f"order by row: the step '{step}' must be longer "
                                             "than zero", where, text=step,
                                    hint="write a duration such as 1h, 30min or 1d")
    return RowOrder(begin, span)


@dataclass(frozen=True)
class ContactMapping:
    """Which column of a contacts CSV holds what (see the module docstring for the format)."""

    contact_id: str
    email: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    null_values: frozenset[str] = frozenset()
    include_unmapped: bool = False
    exclude: frozenset[str] = frozenset()
    types: dict[str, PropertyType] = field(default_factory=dict)
    defaults: dict[str, datetime] = field(default_factory=dict)
    file: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # "columns.Lead Source" → line
    outcome: OutcomeColumn | None = None
    row_ids: bool = False
    delimiter: str | None = None  # None: detected from the file's first lines
    order_by_row: RowOrder | None = None
    derived: tuple[DerivedColumn, ...] = ()

    @property
    def declared_types(self) -> dict[str, PropertyType]:
        """The property types this mapping declares (`types:` and derived columns)."""
        return {**{d.name: PropertyType.STRING for d in self.derived}, **self.types}

    def row_id(self, number: int) -> str:
        """The contact id of the `number`-th data row (1-based) when `row_ids` is set."""
        return f"{ROW_ID_PREFIX}{number}"

    @property
    def label_columns(self) -> frozenset[str]:
        """Columns that hold the outcome: never imported as properties."""
        if self.outcome is None:
            return frozenset()
        return frozenset(c for c in (self.outcome.column, self.outcome.at_column) if c)

    def location(self, key: str) -> Location:
        """Where `key` ("contact_id", "columns.<column>", …) is written in the mapping file."""
        return Location(file=self.file, line=self.lines.get(key) or self.lines.get(
            key.split(".", 1)[0]), field=key)
