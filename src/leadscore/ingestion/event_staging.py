"""Staging an events file for a bulk import: every row checked, in bounded memory.

Two paths give the same staged rows:
- the *set path* reads a clean CSV or JSONL file with DuckDB and checks it set-wise; the few
  things that need Python's exact rules — declared attribute types, unusual time formats — are
  decided once per distinct value, in Python, with the very code of the row path;
- the *row path* (`events._Builder`) reads the file line by line and reports every mistake
  with its line. A file the set path cannot take exactly as the row path would — any mistake,
  any unusual form (numbers as ids, whitespace around values, duplicate keys, huge numbers) —
  goes the row path.

Staged rows: (line, event_id — NULL when the file gives none, contact_id, type, occurred_us,
attributes — their stored JSON text). `finish` derives missing ids (as `derive_event_id`
does), counts repeated rows and reports ids that a file gives to two different events.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.catalog import Catalog
from leadscore.catalog.forms import to_micros
from leadscore.diagnostics import DiagnosticList, LeadscoreError, Location
from leadscore.ingestion.events import (
    _FIELDS,
    EVENT_TYPE,
    _Builder,
    _plan_columns,
    canonical_attributes,
    iter_event_records,
)
from leadscore.ingestion.source import (
    FileFormat,
    Progress,
    detect_format,
    sniff_file_delimiter,
    stream_csv,
)
from leadscore.storage.bulk import Staging
from leadscore.storage.duck import quote_name, quote_text, record_batches

MAX_DIAGNOSTICS = 1000  # a file with more mistakes reports this many, then counts the rest
CHUNK = 50_000

# Python's str.isspace characters, as an RE2 class: `strip_sql` strips exactly these
SPACE = (r"[\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
         r"\x{202f}\x{205f}\x{3000}]")
# the ISO 8601 forms the set path reads (any other goes the row path, which names it)
_TIME_FORM = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
              r"(Z|[+-][0-9]{2}:[0-9]{2})?)?")
_EPOCH_LIMIT = 4_102_444_800_000  # 2100-01-01 in milliseconds
MAX_TYPES = 10_000  # more distinct event types than this: the row path says what they are
_BIG_NUMBER = re.compile(r"[0-9]{16,}")


def strip_sql(value: str) -> str:
    """SQL for Python's `value.strip()` (cheap for the usual text with no space at its ends)."""
    odd = (f"(ascii({value}) <= 32 OR ascii({value}) >= 127 OR ascii(right({value}, 1)) <= 32 "
           f"OR ascii(right({value}, 1)) >= 127)")
    return (f"CASE WHEN {odd} THEN regexp_replace({value}, '^{SPACE}+|{SPACE}+$', '', 'g') "
            f"ELSE {value} END")


def time_sql(text: str) -> str:
    """occurred_us of an ISO 8601 text in the forms the set path takes, as Python's
    `datetime.fromisoformat` reads them (NULL otherwise: the shape is checked separately)."""
    checks = (f"(length({text}) < 13 OR substr({text}, 12, 2) <= '23') AND "
              f"(length({text}) < 16 OR substr({text}, 15, 2) <= '59') AND "
              f"(length({text}) < 19 OR substr({text}, 18, 1) <> ':' "
              f"OR substr({text}, 18, 2) <= '59') AND "
              f"(NOT regexp_matches({text}, '[+-][0-9]{{2}}:[0-9]{{2}}$') "
              f"OR substr({text}, -5, 2) <= '23' AND substr({text}, -2, 2) <= '59')")
    return f"CASE WHEN {checks} THEN epoch_us(TRY_CAST({text} AS TIMESTAMPTZ)) END"


def shape_sql(text: str) -> str:
    """Whether a (stripped) text is in one of the time forms the set path reads."""
    return f"regexp_full_match({text}, '{_TIME_FORM}')"


@dataclass(frozen=True)
class StagedEvents:
    """An events file, staged: `source` is SQL reading its unique events."""

    source: str
    rows: int  # data rows read
    duplicates: int  # rows repeating an earlier row
    path: str  # "set" or "row": which path read it


def stage_events(staged: Staging, path: str | Path, *, catalog: Catalog,
                 progress: Progress | None = None,
                 delimiter: str | None = None) -> StagedEvents:
    """Read and check an events file into `staged`; raises with its mistakes. A CSV file's
    delimiter is detected from its first lines unless given."""
    path = Path(path)
    file_format = detect_format(path)
    if file_format is FileFormat.CSV and delimiter is None:
        delimiter = sniff_file_delimiter(path)
    raw = _set_path(staged, path, file_format, catalog, delimiter or ",")
    if raw is not None:
        try:
            return finish(staged, path, raw, "set")
        except _NeedsRows:
            pass
    return finish(staged, path, _row_path(staged, path, catalog, progress, delimiter), "row")


def restage_rows(staged: Staging, path: str | Path, *, catalog: Catalog,
                 progress: Progress | None = None,
                 delimiter: str | None = None) -> StagedEvents:
    """Stage the file again, the row path: every row with its line."""
    path = Path(path)
    return finish(staged, path, _row_path(staged, path, catalog, progress, delimiter), "row")


class _NeedsRows(Exception):
    """The set path met something only the row path reports well (e.g. an id conflict)."""


@dataclass(frozen=True)
class _Raw:
    source: str
    rows: int


def finish(staged: Staging, path: Path, raw: _Raw, how: str) -> StagedEvents:
    """Derive missing ids, drop repeated rows, report ids given to two different events."""
    if raw.rows == 0:
        raise LeadscoreError.single(
            "LS204", "the file holds no events", Location(file=str(path)),
            hint="check that you picked the right file" +
                 (" (a CSV file needs a header row and at least one row below it)"
                  if path.suffix.lower() == ".csv" else ""))
    duck = staged.duck
    rows, without_id, distinct = duck.execute(
        f"SELECT count(*), count(*) FILTER (WHERE event_id IS NULL), count(DISTINCT event_id) "
        f"FROM {raw.source}").fetchall()[0]
    ided = raw.source
    if without_id:
        derived = ("coalesce(event_id, sha256(contact_id || chr(31) || type || chr(31) || "
                   "CAST(occurred_us AS VARCHAR) || chr(31) || attributes))")
        ided = staged.write("ided", f"SELECT line, {derived} AS event_id, contact_id, type, "
                                    f"occurred_us, attributes FROM {raw.source}")
        (distinct,) = duck.execute(f"SELECT count(DISTINCT event_id) FROM {ided}"
                                   ).fetchall()[0]
    if distinct == rows:
        return StagedEvents(ided, raw.rows, 0, how)
    conflicts = duck.execute(
        f"SELECT event_id, list(line ORDER BY line) FROM {ided} GROUP BY event_id "
        "HAVING count(DISTINCT (contact_id, type, occurred_us, attributes)) > 1 "
        f"ORDER BY min(line) LIMIT {MAX_DIAGNOSTICS + 1}").fetchall()
    if conflicts:
        if how == "set":
            raise _NeedsRows()
        diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
        for event_id, lines in conflicts:
            diagnostics.error(
                "LS218", f"event id '{event_id}' is also on line {lines[0]}, with other "
                         "content", Location(file=str(path), line=lines[1], field="event_id"),
                text=event_id, hint="an event id names one event; give each event its own id")
        raise_bounded(diagnostics, path)
    unique = staged.write("unique", f"SELECT min(line) AS line, event_id, "
                                    f"any_value(contact_id) AS contact_id, any_value(type) AS "
                                    f"type, any_value(occurred_us) AS occurred_us, "
                                    f"any_value(attributes) AS attributes FROM {ided} "
                                    f"GROUP BY event_id")
    return StagedEvents(unique, raw.rows, int(rows) - int(distinct), how)


def raise_bounded(diagnostics: DiagnosticList, path: Path) -> None:
    """Raise the file's mistakes; past the limit, one more says how many were not shown."""
    if diagnostics.dropped:
        dropped, diagnostics.limit = diagnostics.dropped, None
        diagnostics.error("LS240", f"… and {dropped:,} more mistakes in this file",
                          Location(file=str(path)),
                          hint="fix the ones shown first; the rest are often alike")
    diagnostics.raise_if_errors()


# -- the row path -----------------------------------------------------------------------------

def _row_path(staged: Staging, path: Path, catalog: Catalog,
              progress: Progress | None, delimiter: str | None = None) -> _Raw:
    import pyarrow as pa

    diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
    builder = _Builder(path, catalog, diagnostics)
    rows = 0
    chunk: list[tuple[Any, ...]] = []
    parts: list[str] = []
    schema = pa.schema([("line", pa.int64()), ("event_id", pa.string()),
                        ("contact_id", pa.string()), ("type", pa.string()),
                        ("occurred_us", pa.int64()), ("attributes", pa.string())])

    def flush() -> None:
        if not chunk:
            return
        columns = list(zip(*chunk, strict=True))
        table = pa.table([pa.array(c, type=f.type) for c, f in zip(columns, schema,
                                                                    strict=True)],
                         schema=schema)
        name = f"ls_rows_{len(parts)}"
        staged.duck.register(name, table)
        parts.append(staged.write("rows", f"SELECT * FROM {name}"))
        staged.duck.unregister(name)
        chunk.clear()

    for line, record, extra, from_csv in iter_event_records(path, diagnostics, progress,
                                                            delimiter=delimiter):
        rows += 1
        event = builder.check(line, record, extra, from_csv=from_csv, derive=False)
        if event is None or len(diagnostics):
            continue
        chunk.append((line, event.event_id or None, event.contact_id, event.type,
                      to_micros(event.occurred_at), canonical_attributes(event.attributes)))
        if len(chunk) >= CHUNK:
            flush()
    if len(diagnostics):
        raise_bounded(diagnostics, path)
    flush()
    if not parts:
        return _Raw("(SELECT NULL::BIGINT AS line, NULL AS event_id, NULL AS contact_id, "
                    "NULL AS type, NULL::BIGINT AS occurred_us, NULL AS attributes "
                    "WHERE false)", rows)
    return _Raw("(" + " UNION ALL ".join(f"SELECT * FROM {p}" for p in parts) + ")", rows)


# -- the set path -----------------------------------------------------------------------------

def _set_path(staged: Staging, path: Path, file_format: FileFormat,
              catalog: Catalog, delimiter: str = ",") -> _Raw | None:
    """The file's rows staged set-wise, or None when it must go the row path."""
    try:
        if file_format is FileFormat.JSONL:
            fields = _jsonl_fields(staged, path)
        else:
            fields = _csv_fields(staged, path, delimiter)
    except LeadscoreError:
        raise
    except Exception:  # noqa: BLE001 - DuckDB could not read it: the row path will say why
        return None
    if fields is None:
        return None
    duck = staged.duck
    # every check in one pass over the staged fields
    total, good, odd_times, types = duck.execute(
        f"SELECT count(*), count(*) FILTER (WHERE ok AND contact_id IS NOT NULL AND type IS "
        f"NOT NULL AND occurred_us IS NOT NULL), count(*) FILTER (WHERE NOT shape), "
        f"list(DISTINCT type)[:{MAX_TYPES + 1}] FROM {fields}").fetchall()[0]
    if total != good or odd_times or len(types or []) > MAX_TYPES:
        return None
    if not all(EVENT_TYPE.match(kind) for kind in types or []):
        return None
    mapping = _attribute_mapping(staged, path, fields, catalog, csv=file_format is
                                 FileFormat.CSV)
    if mapping is None:
        return None
    source = staged.write(
        "set", f"SELECT CAST(NULL AS BIGINT) AS line, f.event_id, f.contact_id, f.type, "
               f"f.occurred_us, m.attributes FROM {fields} AS f JOIN {mapping} AS m "
               f"ON m.type = f.type AND m.raw = f.attributes_key")
    return _Raw(source, int(total))


def _jsonl_fields(staged: Staging, path: Path) -> str | None:
    duck = staged.duck
    # the few distinct key lists, checked here (per row in SQL it costs 3× more); the five
    # fields make at most 326 lists, so more than that means a mistake
    found = duck.execute(f"SELECT DISTINCT json_type(json), json_keys(json) "
                         f"FROM read_ndjson_objects({quote_text(str(path))}) LIMIT 327"
                         ).fetchall()
    if len(found) > 326:
        return None
    for kind, keys in found:
        if kind != "OBJECT" or not set(keys) <= set(_FIELDS) or len(set(keys)) != len(keys):
            return None
    columns = "{" + ", ".join(f"{quote_text(f)}: 'JSON'" for f in _FIELDS) + "}"
    source = (f"read_json({quote_text(str(path))}, format = 'newline_delimited', "
              f"columns = {columns})")
    # each step computes its values once (DuckDB does not share repeated expressions)
    typed = ", ".join(f"coalesce(json_type({name}), 'NULL') AS t_{name}, {name} ->> '$' AS "
                      f"r_{name}" for name in ("event_id", "contact_id", "type", "occurred_at"))
    stripped = ", ".join(f"nullif({strip_sql('r_' + name)}, '') AS s_{name}"
                         for name in ("event_id", "contact_id", "type", "occurred_at"))
    return staged.write("fields", f"""
        SELECT
          CASE WHEN t_event_id = 'VARCHAR' THEN s_event_id END AS event_id,
          CASE WHEN t_contact_id = 'VARCHAR' THEN s_contact_id END AS contact_id,
          CASE WHEN t_type = 'VARCHAR' THEN s_type END AS type,
          CASE WHEN t_occurred_at = 'VARCHAR' THEN {time_sql('s_occurred_at')}
               WHEN t_occurred_at IN ('BIGINT', 'UBIGINT') THEN
                 CASE WHEN TRY_CAST(r_occurred_at AS BIGINT) NOT BETWEEN 0 AND {_EPOCH_LIMIT}
                        THEN NULL
                      WHEN CAST(r_occurred_at AS BIGINT) > 10000000000
                        THEN CAST(r_occurred_at AS BIGINT) * 1000
                      ELSE CAST(r_occurred_at AS BIGINT) * 1000000 END
          END AS occurred_us,
          CASE WHEN t_occurred_at = 'VARCHAR' THEN {shape_sql('s_occurred_at')} END AS shape,
          attributes_key,
          t_event_id IN ('NULL', 'VARCHAR') AND t_attributes IN ('NULL', 'OBJECT') AS ok
        FROM (SELECT *, {stripped} FROM (
          SELECT {typed}, coalesce(json_type(attributes), 'NULL') AS t_attributes,
                 coalesce(CAST(attributes AS VARCHAR), 'null') AS attributes_key
          FROM {source}))""")


def _csv_fields(staged: Staging, path: Path, delimiter: str = ",") -> str | None:
    diagnostics = DiagnosticList()
    table = stream_csv(path, diagnostics, delimiter=delimiter)
    header = table.header
    columns = _plan_columns(path, header, diagnostics)
    if len(diagnostics) or table.header_line != 1 or len(set(header)) != len(header):
        return None
    reader = (f"read_csv({quote_text(str(path))}, header = true, auto_detect = false, "
              f"delim = {quote_text(delimiter)}, quote = '\"', escape = '\"', "
              f"strict_mode = true, "
              f"null_padding = false, columns = {{"
              + ", ".join(f"{quote_text(n)}: 'VARCHAR'" for n in header) + "})")

    stripped = ", ".join("nullif(" + strip_sql(f"coalesce({quote_name(header[i])}, '')")
                         + f", '') AS c{i}" for i in columns)
    field_of = {target: index for index, target in columns.items() if target in _FIELDS}
    extras = [(index, target) for index, target in columns.items() if target not in _FIELDS]

    def field(name: str) -> str:
        return f"c{field_of[name]}" if name in field_of else "CAST(NULL AS VARCHAR)"

    epoch = ("CASE WHEN regexp_matches(o, '^[0-9]{10}([0-9]{3})?$') THEN "
             "CASE WHEN CAST(o AS BIGINT) > 10000000000 THEN CAST(o AS BIGINT) * 1000 "
             "ELSE CAST(o AS BIGINT) * 1000000 END END")
    key = "to_json([" + ", ".join([field("attributes")] + [f"c{i}" for i, _ in extras]) + "])"
    staged.extra_names = [target for _, target in extras]  # type: ignore[attr-defined]
    return staged.write("fields", f"""
        SELECT event_id, contact_id, type,
               coalesce({time_sql('o')}, {epoch}) AS occurred_us,
               CASE WHEN {epoch} IS NULL THEN {shape_sql('o')} END AS shape,
               attributes_key, true AS ok
        FROM (SELECT {field('event_id')} AS event_id, {field('contact_id')} AS contact_id,
                     {field('type')} AS type, {field('occurred_at')} AS o,
                     {key} AS attributes_key
              FROM (SELECT {stripped} FROM {reader}))""")


def _attribute_mapping(staged: Staging, path: Path, fields: str, catalog: Catalog, *,
                       csv: bool) -> str | None:
    """(type, raw, attributes) for every distinct (type, attributes) of the file: the stored
    JSON text the row path would give, decided in Python once per distinct value; None when
    any of them is a mistake (the row path reports it, with its line)."""
    import pyarrow as pa

    builder = _Builder(path, catalog, DiagnosticList())
    extra_names: list[str] = getattr(staged, "extra_names", []) if csv else []
    types: list[str] = []
    raws: list[str] = []
    outs: list[str] = []
    for batch in record_batches(staged.duck, f"SELECT DISTINCT type, attributes_key "
                                             f"FROM {fields}", CHUNK):
        data = batch.to_pydict()
        for kind, raw in zip(data["type"], data["attributes_key"], strict=True):
            if _BIG_NUMBER.search(raw):
                return None  # DuckDB may have read a long number otherwise than Python
            if csv:
                cells = json.loads(raw)
                extra = {name: value for name, value in zip(extra_names, cells[1:],
                                                            strict=True) if value is not None}
                attributes = builder.attributes(0, cells[0], extra, kind)
            else:
                attributes = builder.attributes(0, json.loads(raw), {}, kind)
            if len(builder.diagnostics):
                return None
            types.append(kind)
            raws.append(raw)
            outs.append(canonical_attributes(attributes))
    table = pa.table({"type": pa.array(types, pa.string()), "raw": pa.array(raws, pa.string()),
                      "attributes": pa.array(outs, pa.string())})
    staged.duck.register("ls_attribute_mapping", table)
    try:
        return staged.write("mapping", "SELECT * FROM ls_attribute_mapping")
    finally:
        staged.duck.unregister("ls_attribute_mapping")


__all__ = ["MAX_DIAGNOSTICS", "StagedEvents", "restage_rows", "stage_events"]
