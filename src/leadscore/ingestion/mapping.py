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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from leadscore.catalog import CoercionError, PropertyType, parse_datetime, parse_duration
from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean
from leadscore.ingestion.source import IDENTIFIER, parse_delimiter, snake_case
from leadscore.model.source import compose_yaml, read_source

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
_KEYS = ("version", "contact_id", "email", "created_at", "updated_at", "columns", "null_values",
         "include_unmapped", "exclude", "types", "defaults", "outcome", "row_ids", "delimiter",
         "order_by_row", "derived")
_ORDER_KEYS = ("start", "step")
_DERIVED_KEYS = ("from", "part")
# date parts a derived column can hold: each a text (a category), e.g. month "01" … "12"
DATE_PARTS = ("month", "weekday", "hour", "quarter")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OUTCOME_KEYS = ("column", "positive", "negative", "stage", "at", "at_column")
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


def load_mapping(path: str | Path) -> ContactMapping:
    """Read and check a mapping file; every mistake is reported with its line."""
    path = Path(path)
    file = str(path)
    text = read_source(path, code="LS230", what="the mapping file",  # size-limited: LS107
                       hint="check the path and that the file is UTF-8 text")
    try:
        root = compose_yaml(text, file)  # nesting and values limited: LS107
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise LeadscoreError.single(
            "LS230", f"the mapping file is not valid YAML: {problem}",
            Location(file=file, line=mark.line + 1 if mark else None,
                     column=mark.column + 1 if mark else None),
            hint="check the indentation and that a value holding ': ' or '#' is quoted",
        ) from None
    return _MappingReader(file).read(root)


class _MappingReader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics = DiagnosticList()
        self.lines: dict[str, int] = {}

    def at(self, node: yaml.Node, key: str | None = None) -> Location:
        return Location(file=self.file, line=node.start_mark.line + 1,
                        column=node.start_mark.column + 1, field=key)

    def read(self, root: yaml.Node | None) -> ContactMapping:
        if not isinstance(root, yaml.MappingNode):
            raise LeadscoreError.single(
                "LS233", "a mapping file is a set of 'key: value' lines, starting with "
                         "'version: 1'",
                Location(file=self.file, line=1 if root is None else root.start_mark.line + 1),
                hint="see docs/import.md for an example",
            )
        entries = self.entries(root, "")
        found: dict[str, Any] = {}
        for key, (key_node, value_node) in entries.items():
            if key not in _KEYS:
                self.diagnostics.error(
                    "LS232", f"'{key}' is not a key of a mapping file", self.at(key_node, key),
                    text=key, hint=did_you_mean(key, _KEYS) or f"use one of: {', '.join(_KEYS)}",
                )
                continue
            self.lines[key] = key_node.start_mark.line + 1
            found[key] = value_node
        self.check_version(found.get("version"), root)
        contact_id = self.scalar(found.get("contact_id"), "contact_id")
        row_ids = self.boolean(found.get("row_ids"), "row_ids")
        if "contact_id" not in found and not row_ids:
            self.diagnostics.error(
                "LS233", "the mapping does not say which column holds the contact id",
                Location(file=self.file, line=1, field="contact_id"),
                hint="add a line such as 'contact_id: Prospect ID' (or 'row_ids: true' when the "
                     "file has no id column)",
            )
        columns = self.columns(found.get("columns"))
        types = self.types(found.get("types"))
        defaults = self.defaults(found.get("defaults"))
        mapping = ContactMapping(
            contact_id=contact_id or "",
            email=self.scalar(found.get("email"), "email"),
            created_at=self.scalar(found.get("created_at"), "created_at"),
            updated_at=self.scalar(found.get("updated_at"), "updated_at"),
            columns=columns,
            null_values=frozenset(self.strings(found.get("null_values"), "null_values")),
            include_unmapped=self.boolean(found.get("include_unmapped"), "include_unmapped"),
            exclude=frozenset(self.strings(found.get("exclude"), "exclude")),
            types=types,
            defaults=defaults,
            file=self.file,
            lines=self.lines,
            outcome=self.outcome(found.get("outcome")),
            row_ids=row_ids,
            delimiter=self.delimiter(found.get("delimiter")),
            order_by_row=self.row_order(found.get("order_by_row")),
            derived=self.derived(found.get("derived"), columns, types),
        )
        if mapping.order_by_row is not None and mapping.created_at:
            self.diagnostics.error(
                "LS239", "'order_by_row' gives created_at from the row order, but the mapping "
                         f"also reads it from the column '{mapping.created_at}'",
                mapping.location("order_by_row"), text=mapping.created_at,
                hint="keep one of the two: the dates of the file, or the row order")
        self.diagnostics.raise_if_errors()
        return mapping

    def delimiter(self, node: yaml.Node | None) -> str | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.diagnostics.error("LS238", "'delimiter' must be one character or its name",
                                   self.at(node, "delimiter"), hint="write 'delimiter: \";\"'")
            return None
        try:
            return parse_delimiter(str(node.value), self.at(node, "delimiter"))
        except LeadscoreError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def row_order(self, node: yaml.Node | None) -> RowOrder | None:
        """`order_by_row: {start: 2024-01-01, step: 1h}`."""
        if node is None:
            return None
        example = "order_by_row: {start: 2024-01-01, step: 1h}"
        if not isinstance(node, yaml.MappingNode):
            self.diagnostics.error("LS239", "'order_by_row' must say its start and step",
                                   self.at(node, "order_by_row"), hint=f"write '{example}'")
            return None
        values: dict[str, yaml.Node] = {}
        for key, (key_node, value_node) in self.entries(node, "order_by_row.").items():
            if key not in _ORDER_KEYS:
                self.diagnostics.error(
                    "LS239", f"'{key}' is not a key of 'order_by_row'", self.at(key_node, key),
                    text=key, hint=did_you_mean(key, _ORDER_KEYS) or f"write '{example}'")
                continue
            values[key] = value_node
        if set(values) != set(_ORDER_KEYS):
            self.diagnostics.error("LS239", "'order_by_row' needs both 'start' and 'step'",
                                   self.at(node, "order_by_row"), hint=f"write '{example}'")
            return None
        start, step = (str(getattr(values[k], "value", "")) for k in _ORDER_KEYS)
        try:
            return parse_row_order(start, step, self.at(values["start"], "order_by_row"))
        except LeadscoreError as error:
            self.diagnostics.extend(error.diagnostics)
            return None

    def derived(self, node: yaml.Node | None, columns: dict[str, str],
                types: dict[str, PropertyType]) -> tuple[DerivedColumn, ...]:
        """`derived: {created_month: {from: created_at, part: month}}`."""
        found: list[DerivedColumn] = []
        example = "created_month: {from: created_at, part: month}"
        taken = set(columns.values())
        for name, (key_node, value_node) in self.mapping_entries(node, "derived").items():
            where = f"derived.{name}"
            self.lines[where] = key_node.start_mark.line + 1
            if not IDENTIFIER.match(name) or name in FIELDS:
                self.diagnostics.error(
                    "LS222", f"'{name}' is not a valid property name for a derived column",
                    self.at(key_node, where), text=name,
                    hint=f"use letters, digits and underscores, e.g. '{snake_case(name) or 'x'}"
                         "_month'")
                continue
            if name in taken:
                self.diagnostics.error(
                    "LS206", f"the derived column '{name}' has the name of a mapped column's "
                             "property", self.at(key_node, where), text=name,
                    hint="give the derived column another name")
                continue
            if name in types and types[name] is not PropertyType.STRING:
                self.diagnostics.error(
                    "LS236", f"the derived column '{name}' is a text, not a "
                             f"{types[name].value}", self.at(key_node, where), text=name,
                    hint=f"remove '{name}' from 'types' (a date part is a category)")
                continue
            if not isinstance(value_node, yaml.MappingNode):
                self.diagnostics.error("LS233", f"'{where}' must say 'from' and 'part'",
                                       self.at(value_node, where), hint=f"write '{example}'")
                continue
            values: dict[str, str] = {}
            nodes: dict[str, yaml.Node] = {}
            for key, (inner_key, inner_value) in self.entries(value_node, f"{where}.").items():
                if key not in _DERIVED_KEYS:
                    self.diagnostics.error(
                        "LS232", f"'{key}' is not a key of a derived column",
                        self.at(inner_key, f"{where}.{key}"), text=key,
                        hint=did_you_mean(key, _DERIVED_KEYS) or f"write '{example}'")
                    continue
                values[key] = str(getattr(inner_value, "value", "")).strip()
                nodes[key] = inner_value
            if set(values) != set(_DERIVED_KEYS) or not values["from"]:
                self.diagnostics.error("LS233", f"'{where}' needs 'from' and 'part'",
                                       self.at(value_node, where), hint=f"write '{example}'")
                continue
            part = values["part"].lower()
            if part not in DATE_PARTS:
                self.diagnostics.error(
                    "LS236", f"'{values['part']}' is not a date part",
                    self.at(nodes["part"], f"{where}.part"), text=values["part"] or None,
                    hint=did_you_mean(part, DATE_PARTS) or f"use one of: {', '.join(DATE_PARTS)}")
                continue
            self.lines[f"{where}.from"] = nodes["from"].start_mark.line + 1
            taken.add(name)
            found.append(DerivedColumn(name, values["from"], part))
        return tuple(found)

    def entries(self, node: yaml.MappingNode,
                prefix: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value).strip()
            if key in found:
                first = found[key][0].start_mark.line + 1
                self.diagnostics.error(
                    "LS235", f"'{key}' is written twice (first on line {first})",
                    self.at(key_node, prefix + key), text=key,
                    hint="keep one of the two lines; YAML would silently use the last one",
                )
                continue
            found[key] = (key_node, value_node)
        return found

    def check_version(self, node: yaml.Node | None, root: yaml.Node) -> None:
        if node is None:
            self.diagnostics.error(
                "LS231", "the mapping file does not say its version",
                Location(file=self.file, line=root.start_mark.line + 1, field="version"),
                hint="add 'version: 1' as the first line",
            )
        elif not (isinstance(node, yaml.ScalarNode) and node.value.strip() == "1"):
            self.diagnostics.error(
                "LS231", f"mapping version {getattr(node, 'value', '?')} is not supported",
                self.at(node, "version"), text=str(getattr(node, "value", "")),
                hint="this version of leadscore reads 'version: 1'",
            )

    def scalar(self, node: yaml.Node | None, key: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.diagnostics.error("LS233", f"'{key}' must be a column name",
                                   self.at(node, key), hint=f"write '{key}: <column name>'")
            return None
        return str(node.value).strip()

    def strings(self, node: yaml.Node | None, key: str) -> list[str]:
        if node is None:
            return []
        if isinstance(node, yaml.ScalarNode):
            return [str(node.value).strip()]
        if not isinstance(node, yaml.SequenceNode) or not all(
                isinstance(item, yaml.ScalarNode) for item in node.value):
            self.diagnostics.error("LS233", f"'{key}' must be a list of texts",
                                   self.at(node, key), hint=f"write '{key}: [Select, N/A]'")
            return []
        return [str(item.value).strip() for item in node.value]

    def boolean(self, node: yaml.Node | None, key: str) -> bool:
        if node is None:
            return False
        text = str(getattr(node, "value", "")).strip().lower()
        if isinstance(node, yaml.ScalarNode) and text in ("true", "false", "yes", "no"):
            return text in ("true", "yes")
        self.diagnostics.error("LS233", f"'{key}' must be true or false", self.at(node, key),
                               text=text or None, hint=f"write '{key}: true' or '{key}: false'")
        return False

    def mapping_entries(self, node: yaml.Node | None,
                        key: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if node is None:
            return {}
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.diagnostics.error("LS233", f"'{key}' must be a set of 'name: value' lines",
                                   self.at(node, key),
                                   hint="indent the lines below it, one 'name: value' each")
            return {}
        return self.entries(node, f"{key}.")

    def columns(self, node: yaml.Node | None) -> dict[str, str]:
        found: dict[str, str] = {}
        for column, (key_node, value_node) in self.mapping_entries(node, "columns").items():
            where = f"columns.{column}"
            self.lines[where] = key_node.start_mark.line + 1
            name = str(getattr(value_node, "value", "")).strip()
            if not isinstance(value_node, yaml.ScalarNode) or not IDENTIFIER.match(name):
                suggestion = snake_case(column) or "a_name"
                self.diagnostics.error(
                    "LS222", f"'{name}' is not a valid property name",
                    self.at(value_node, where), text=name or None,
                    hint=f"use letters, digits and underscores, e.g. '{column}: {suggestion}'",
                )
                continue
            if name in FIELDS:
                self.diagnostics.error(
                    "LS222", f"'{name}' is not a property: map it with '{name}: {column}' "
                             "at the top level",
                    self.at(value_node, where), text=name,
                    hint=f"replace this line with '{name}: {column}' (not indented)",
                )
                continue
            found[column] = name
        return found

    def types(self, node: yaml.Node | None) -> dict[str, PropertyType]:
        found: dict[str, PropertyType] = {}
        names = [kind.value for kind in PropertyType]
        for name, (key_node, value_node) in self.mapping_entries(node, "types").items():
            self.lines[f"types.{name}"] = key_node.start_mark.line + 1
            text = str(getattr(value_node, "value", "")).strip().lower()
            if text not in names:
                self.diagnostics.error(
                    "LS236", f"'{text}' is not a property type", self.at(value_node,
                                                                        f"types.{name}"),
                    text=text or None,
                    hint=did_you_mean(text, names) or f"use one of: {', '.join(names)}",
                )
                continue
            found[name] = PropertyType(text)
        return found

    def defaults(self, node: yaml.Node | None) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        allowed = ("created_at", "updated_at")
        for name, (key_node, value_node) in self.mapping_entries(node, "defaults").items():
            where = f"defaults.{name}"
            self.lines[where] = key_node.start_mark.line + 1
            if name not in allowed:
                self.diagnostics.error(
                    "LS232", f"'{name}' cannot have a default", self.at(key_node, where),
                    text=name, hint=did_you_mean(name, allowed) or "defaults are for "
                                                                   "created_at and updated_at",
                )
                continue
            try:
                found[name] = parse_datetime(str(getattr(value_node, "value", "")))
            except CoercionError as error:
                self.diagnostics.error("LS236", str(error), self.at(value_node, where),
                                       text=str(getattr(value_node, "value", "")) or None,
                                       hint="write a date such as 2026-01-01")
        return found

    def outcome(self, node: yaml.Node | None) -> OutcomeColumn | None:
        """`outcome: {column: Converted, positive: ["1"], stage: won, at: 2015-06-30}`."""
        if node is None:
            return None
        example = "outcome: {column: Converted, positive: [\"1\"]}"
        if not isinstance(node, yaml.MappingNode):
            self.diagnostics.error("LS406", "'outcome' must be a set of 'key: value' lines",
                                   self.at(node, "outcome"), hint=f"write '{example}'")
            return None
        entries = self.entries(node, "outcome.")
        values: dict[str, yaml.Node] = {}
        for key, (key_node, value_node) in entries.items():
            if key not in _OUTCOME_KEYS:
                self.diagnostics.error(
                    "LS406", f"'{key}' is not a key of 'outcome'", self.at(key_node, key),
                    text=key, hint=did_you_mean(key, _OUTCOME_KEYS)
                    or f"use: {', '.join(_OUTCOME_KEYS)}")
                continue
            values[key] = value_node
        column = self.scalar(values.get("column"), "outcome.column")
        positive = self.strings(values.get("positive"), "outcome.positive")
        if column is None or not positive:
            self.diagnostics.error(
                "LS406", "'outcome' needs the label 'column' and its 'positive' values",
                self.at(node, "outcome"), hint=f"write '{example}'")
            return None
        stage = (self.scalar(values.get("stage"), "outcome.stage") or "won").lower()
        if stage not in ("won", "opportunity"):
            self.diagnostics.error("LS406", f"outcome stage '{stage}' is not won or opportunity",
                                   self.at(values["stage"], "outcome.stage"), text=stage,
                                   hint="write 'stage: won' or 'stage: opportunity'")
        at: datetime | None = None
        if "at" in values:
            raw = str(getattr(values["at"], "value", ""))
            try:
                at = parse_datetime(raw)
            except CoercionError as error:
                self.diagnostics.error("LS406", f"outcome 'at': {error}",
                                       self.at(values["at"], "outcome.at"), text=raw or None,
                                       hint="write a date such as 2015-06-30")
        return OutcomeColumn(column, frozenset(positive),
                             frozenset(self.strings(values.get("negative"), "outcome.negative")),
                             stage, at, self.scalar(values.get("at_column"), "outcome.at_column"))
