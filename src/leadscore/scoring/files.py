"""Scoring files without a store: `leadscore score --events PATH [--contacts PATH]`.

CSV and JSON Lines files are read exactly as `leadscore import` reads them — the same checks,
the same coercion, the same derived ids and property history (staged and planned the import's
way) — and scored from there, so a file scores as it would once imported. Parquet files are
read as they are typed, at scan speed:

- contacts: one row per contact, `contact_id`, optional `created_at` and `updated_at`
  (timestamps), and a column per property, read with its type: a number property needs a
  numeric column, a bool a BOOLEAN, a date a timestamp, text VARCHAR (stripped; empty is
  unknown); a column of another type gives no value. The values are known from `updated_at`
  (else `created_at`).
- events: `contact_id`, `type`, `occurred_at` (a timestamp, or microseconds since the epoch)
  and a column per attribute: a text column is a text attribute, a numeric one a number, a
  boolean one a bool; or an `attributes` column of JSON objects.

With no contacts file, the contacts are those of the events, each created at its first event.
The results go to `--out` (Parquet or CSV) and the best are shown.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import PropertyType
from leadscore.catalog.forms import to_micros
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model import Model
from leadscore.scoring.runs import ScoredContact, ScoreRun, unscored_of
from leadscore.storage.bulk import Staging, staging
from leadscore.storage.duck import (
    attribute_sql,
    open_duck,
    quote_name,
    quote_text,
    typed_attribute_sql,
)

NUMERIC = {"DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
           "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "REAL"}
TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS",
              "TIMESTAMP_S", "DATE"}
FORM = {PropertyType.STRING: "text", PropertyType.ENUM: "text", PropertyType.NUMBER: "num",
        PropertyType.BOOL: "bool", PropertyType.DATE: "time"}


@dataclass(frozen=True)
class FileInputs:
    events: Path | None
    contacts: Path | None


def score_files(model: Model, *, events: Path | None, contacts: Path | None,
                as_of: datetime | None = None, out: Path | None = None,
                keep: int = 10, mapping: Any = None, threads: int | None = None,
                memory_limit: str | None = None) -> ScoreRun:
    """Score the contacts of these files under `model` (nothing is stored anywhere)."""
    from leadscore.sql import compile_model

    if events is None and contacts is None:
        raise LeadscoreError.single("LS332", "name the files to score", Location(
            field="--events"), hint="--events FILE and/or --contacts FILE")
    for path in (events, contacts):
        if path is not None and not Path(path).is_file():
            raise LeadscoreError.single("LS202", f"the file {path} does not exist",
                                        Location(file=str(path)),
                                        hint="check the path (it is relative to the current "
                                             "folder)")
    if out is not None:
        out = _out_path(Path(out))  # before scoring: a mistake here costs no query
    started = time.perf_counter()
    moment = as_of or datetime.now(UTC)
    as_of_us = to_micros(moment)
    duck = open_duck(threads=threads, memory_limit=memory_limit)
    run = ScoreRun(model.name, moment, written=False, engine="duckdb",
                   labels={name: Counter() for name in model.scores})
    try:
        query = compile_model(model, as_of=as_of_us, dialect="duckdb", stage_rules=True,
                              schedule=False)
        with staging(None, duck=duck) as staged:
            contacts_sql, values_sql = _contacts(staged, model, contacts, as_of_us,
                                                 query.required_properties, mapping)
            events_sql = _events(staged, model, events, query.required_attributes)
            if contacts_sql is None:
                contacts_sql = (f"(SELECT contact_id, min(occurred_us) AS created_us "
                                f"FROM {events_sql} GROUP BY contact_id)")
            for name, sql in (("ls_contacts", contacts_sql), ("ls_values", values_sql),
                              ("ls_events", events_sql)):
                duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {sql}")
            # the files are read (staging keeps parsing under its import limit): the query
            # gets the memory it was given (at 400 MB it spilled: 49.6 s for the 10M record)
            duck.execute(f"SET memory_limit = {quote_text(staged.memory_limit)}")
            if out is not None and out.suffix.lower() == ".parquet":
                results = _write_out(duck, query.sql, out)  # once, straight to the file
            else:
                results = staged.write("results", query.sql)
                if out is not None:
                    _write_out(duck, f"SELECT * FROM {results} ORDER BY contact_id", out)
            run.contacts = int(duck.execute(f"SELECT count(*) FROM {results}").fetchall()[0][0])
            run.events = int(duck.execute("SELECT count(*) FROM ls_events").fetchall()[0][0])
            for name in model.scores:
                run.labels[name] = Counter({(label or "—"): int(n) for label, n in duck.execute(
                    f"SELECT {quote_name(name + ':label')}, count(*) FROM {results} GROUP BY 1"
                ).fetchall()})
            primary = model.primary_score.name
            top = duck.execute(
                f"SELECT * FROM {results} ORDER BY {quote_name(primary)} DESC NULLS LAST, "
                f"contact_id LIMIT {int(keep)}").fetch_df().to_dict("records") if keep else []
            run.results = [ScoredContact(
                row["contact_id"], {n: _number(row.get(n)) for n in model.scores},
                {n: row.get(f"{n}:label") for n in model.scores}, row.get("grade"),
                row.get("grade_label"), row.get("stage_target"), row.get("stage_target"),
                unscored_of(row, model))
                for row in top]
    finally:
        duck.close()
    run.full = True
    run.seconds = time.perf_counter() - started
    return run


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


def _out_path(out: Path) -> Path:
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise LeadscoreError.single("LS333", f"cannot write results as '{suffix or out.name}'",
                                    Location(file=str(out), field="--out"),
                                    hint="name a .parquet or .csv file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(out, error.strerror or str(error)) from None
    if out.is_dir():
        raise _unwritable(out, "it is a folder")
    return out


def _write_out(duck: Any, sql: str, out: Path) -> str:
    """Write the rows of `sql` to `out` (Parquet as they come, CSV with a header); returns SQL
    reading the file back."""
    import duckdb

    parquet = out.suffix.lower() == ".parquet"
    form = "parquet" if parquet else "csv, HEADER true"
    try:
        duck.execute(f"COPY ({sql}) TO {quote_text(str(out))} (FORMAT {form})")
    except duckdb.IOException as error:
        raise _unwritable(out, str(error).splitlines()[0]) from None
    return (f"read_parquet({quote_text(str(out))})" if parquet else
            f"read_csv({quote_text(str(out))}, header = true)")


def _unwritable(out: Path, reason: str) -> LeadscoreError:
    return LeadscoreError.single("LS340", f"cannot write the results to {out}: {reason}",
                                 Location(file=str(out), field="--out"),
                                 hint="choose a path in a folder you can write to")


# -- events -----------------------------------------------------------------------------------

def _events(staged: Staging, model: Model, path: Path | None,
            required: frozenset[tuple[str, str]]) -> str:
    if path is None:
        columns = ", ".join(f"CAST(NULL AS {_sql_type(kind)}) AS "
                            f"{quote_name(name + ':' + kind)}" for name, kind in required)
        extra = f", {columns}" if columns else ""
        return (f"(SELECT CAST(NULL AS VARCHAR) AS contact_id, CAST(NULL AS VARCHAR) AS type, "
                f"CAST(NULL AS BIGINT) AS occurred_us{extra} WHERE false)")
    if path.suffix.lower() == ".parquet":
        return _parquet_events(staged, path, required)
    from leadscore.ingestion.event_staging import stage_events

    found = stage_events(staged, path, catalog=model.catalog)
    columns = ", ".join(f"{attribute_sql('attributes', name, kind)} AS "
                        f"{quote_name(name + ':' + kind)}" for name, kind in sorted(required))
    extra = f", {columns}" if columns else ""
    return f"(SELECT contact_id, type, occurred_us{extra} FROM {found.source})"


def _describe(duck: Any, source: str) -> dict[str, str]:
    return {row[0]: str(row[1]).upper() for row in duck.execute(
        f"DESCRIBE SELECT * FROM {source}").fetchall()}


def _parquet_events(staged: Staging, path: Path, required: frozenset[tuple[str, str]]) -> str:
    source = f"read_parquet({quote_text(str(path))})"
    types = _describe(staged.duck, source)
    for column in ("contact_id", "type", "occurred_at"):
        if column not in types and not (column == "occurred_at" and "occurred_us" in types):
            raise LeadscoreError.single(
                "LS205", f"the events file lacks the column {column}", Location(file=str(path)),
                hint="events need contact_id, type and occurred_at (a timestamp)")
    if "occurred_at" in types:
        kind = types["occurred_at"]
        occurred = ("epoch_us(occurred_at)" if kind in TIMESTAMPS else
                    "CAST(occurred_at AS BIGINT)" if kind in NUMERIC else
                    "epoch_us(CAST(occurred_at AS TIMESTAMPTZ))")
    else:
        occurred = "CAST(occurred_us AS BIGINT)"
    picks = []
    for name, kind in sorted(required):
        target = quote_name(f"{name}:{kind}")
        physical = types.get(name)
        if physical is not None:
            picks.append(f"{_typed_column(quote_name(name), physical, kind)} AS {target}")
        elif "attributes" in types:
            picks.append(f"{attribute_sql('CAST(attributes AS VARCHAR)', name, kind)} AS "
                         f"{target}")
        else:
            picks.append(f"CAST(NULL AS {_sql_type(kind)}) AS {target}")
    extra = f", {', '.join(picks)}" if picks else ""
    return (f"(SELECT CAST(contact_id AS VARCHAR) AS contact_id, CAST(type AS VARCHAR) AS type, "
            f"{occurred} AS occurred_us{extra} FROM {source})")


def _typed_column(column: str, physical: str, kind: str) -> str:
    """A typed Parquet attribute column as `kind` (the attribute-kind rule: a value of another
    type is unknown)."""
    if kind == "string":
        return f"{column}" if physical == "VARCHAR" else "CAST(NULL AS VARCHAR)"
    if kind == "number":
        return f"CAST({column} AS DOUBLE)" if physical in NUMERIC else "CAST(NULL AS DOUBLE)"
    if kind == "bool":
        return f"{column}" if physical == "BOOLEAN" else "CAST(NULL AS BOOLEAN)"
    if physical in TIMESTAMPS:
        return f"epoch_us({column})"
    if physical == "VARCHAR":  # a text column: the attribute-date rule of JSON texts
        return typed_attribute_sql("'VARCHAR'", column, "date")
    return "CAST(NULL AS BIGINT)"


def _sql_type(kind: str) -> str:
    return {"string": "VARCHAR", "number": "DOUBLE", "bool": "BOOLEAN"}.get(kind, "BIGINT")


# -- contacts ---------------------------------------------------------------------------------

def _contacts(staged: Staging, model: Model, path: Path | None, as_of_us: int,
              required: dict[str, tuple[PropertyType, bool]], mapping: Any
              ) -> tuple[str | None, str]:
    """(ls_contacts SQL or None without a contacts file, ls_values SQL)."""
    if path is None:
        return None, "(SELECT CAST(NULL AS VARCHAR) AS contact_id WHERE false)"
    if path.suffix.lower() == ".parquet":
        return _parquet_contacts(staged, model, path, as_of_us, required)
    from leadscore.ingestion.contact_staging import plan_contacts, stage_contacts, typed_changes
    from leadscore.storage.values import FORM_OF, pivot_sql
    from leadscore.storage.values import column as form_column

    found = stage_contacts(staged, path, catalog=model.catalog, mapping=mapping)
    planned = plan_contacts(staged, found)
    changes = typed_changes(staged, planned)
    pivot = pivot_sql(f"(SELECT *, ord AS seq FROM {changes})", sorted(required),
                      until_us=as_of_us)
    picks = []
    for name, (kind, changed) in required.items():
        picks.append(f"{form_column(name, FORM_OF[kind])} AS {quote_name(name)}")
        if changed:
            picks.append(f"{form_column(name, 'changed')} AS {quote_name(name + ':changed')}")
    values = (f"(SELECT contact_id{', ' if picks else ''}{', '.join(picks)} FROM {pivot})"
              if required else "(SELECT CAST(NULL AS VARCHAR) AS contact_id WHERE false)")
    contacts = f"(SELECT contact_id, created_us FROM {planned.contacts_new})"
    return contacts, values


def _parquet_contacts(staged: Staging, model: Model, path: Path, as_of_us: int,
                      required: dict[str, tuple[PropertyType, bool]]) -> tuple[str, str]:
    source = f"read_parquet({quote_text(str(path))})"
    types = _describe(staged.duck, source)
    if "contact_id" not in types:
        raise LeadscoreError.single("LS205", "the contacts file lacks the column contact_id",
                                    Location(file=str(path)),
                                    hint="name the id column contact_id")
    created = ("epoch_us(created_at)" if types.get("created_at") in TIMESTAMPS
               else "CAST(NULL AS BIGINT)")
    known = ("epoch_us(updated_at)" if types.get("updated_at") in TIMESTAMPS else created)
    now = to_micros(datetime.now(UTC))
    contacts = (f"(SELECT CAST(contact_id AS VARCHAR) AS contact_id, "
                f"coalesce({created}, {known}, {now}) AS created_us FROM {source})")
    picks = []
    for name, (kind, changed) in required.items():
        target = quote_name(name)
        physical = types.get(name)
        if name == "created_at" and physical is None:
            picks.append(f"{created} AS {target}")
        elif physical is None:
            picks.append(f"CAST(NULL AS {_property_sql_type(kind)}) AS {target}")
        else:
            value = _property_column(staged, model, source, name, physical, kind)
            picks.append(f"CASE WHEN coalesce({known}, {now}) <= {as_of_us} THEN {value} END "
                         f"AS {target}")
        if changed:
            picks.append(f"CASE WHEN {quote_name(name)} IS NOT NULL THEN "
                         f"coalesce({known}, {now}) END AS {quote_name(name + ':changed')}"
                         if physical is not None else
                         f"CAST(NULL AS BIGINT) AS {quote_name(name + ':changed')}")
    values = (f"(SELECT CAST(contact_id AS VARCHAR) AS contact_id"
              f"{', ' if picks else ''}{', '.join(picks)} FROM {source})")
    return contacts, values


def _property_sql_type(kind: PropertyType) -> str:
    return {PropertyType.NUMBER: "DOUBLE", PropertyType.BOOL: "BOOLEAN",
            PropertyType.DATE: "BIGINT"}.get(kind, "VARCHAR")


def _property_column(staged: Staging, model: Model, source: str, name: str, physical: str,
                     kind: PropertyType) -> str:
    """A contacts column read as its property's declared type. Parquet is typed: a column
    whose type is not the property's gives no value (as every engine reads it)."""
    column = quote_name(name)
    if kind is PropertyType.NUMBER:
        return f"CAST({column} AS DOUBLE)" if physical in NUMERIC else "CAST(NULL AS DOUBLE)"
    if kind is PropertyType.BOOL:
        return column if physical == "BOOLEAN" else "CAST(NULL AS BOOLEAN)"
    if kind is PropertyType.DATE:
        return f"epoch_us({column})" if physical in TIMESTAMPS else "CAST(NULL AS BIGINT)"
    if physical == "VARCHAR":
        from leadscore.ingestion.event_staging import strip_sql

        return f"nullif({strip_sql(column)}, '')"
    return "CAST(NULL AS VARCHAR)"
