"""Reading a mapping file (docs/import.md; what it holds: `ingestion.mapping`): YAML read
with its lines, every key checked, every mistake collected with file:line and a hint."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from leadscore.catalog import CoercionError, PropertyType, parse_datetime
from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location, did_you_mean
from leadscore.ingestion.delimiters import parse_delimiter
from leadscore.ingestion.mapping import (
    DATE_PARTS,
    FIELDS,
    ContactMapping,
    DerivedColumn,
    OutcomeColumn,
    RowOrder,
    parse_row_order,
)
from leadscore.ingestion.source import IDENTIFIER, snake_case
from leadscore.model.source import compose_yaml, read_source

_KEYS = ("version", "contact_id", "email", "created_at", "updated_at", "columns", "null_values",
         "include_unmapped", "exclude", "types", "defaults", "outcome", "row_ids", "delimiter",
         "order_by_row", "derived")
_ORDER_KEYS = ("start", "step")
_DERIVED_KEYS = ("from", "part")
_OUTCOME_KEYS = ("column", "positive", "negative", "stage", "at", "at_column")


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


__all__ = ["load_mapping"]
