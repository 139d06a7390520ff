"""`leadscore export parquet`: the store's data as Parquet files any tool reads.

    contacts.parquet          contact_id, email, created_at, updated_at and a column per
                              property with its current value, typed as the model declares it
                              (number DOUBLE, bool BOOLEAN, date TIMESTAMPTZ, text VARCHAR;
                              an undeclared property as text)
    property_history.parquet  every property change: seq, contact_id, name, changed_at, source,
                              value (the stored JSON text)
    events.parquet            event_id, contact_id, type, occurred_at, received_at, attributes
                              (JSON text)
    scores.parquet            one model's current scores, wide: contact_id, "<score>",
                              "<score>:label" for each score, grade, stage, computed_at, as_of

Times are UTC instants (TIMESTAMP WITH TIME ZONE, microseconds). `score --contacts … --events
…` reads contacts.parquet and events.parquet back (the contacts' values as known at
`updated_at`; their history is in property_history.parquet).

Each file is written under a temporary name and renamed when complete, so a failed export
leaves the files of an earlier one as they were. The embedded store streams through DuckDB
(segments and tail alike, memory bounded); PostgreSQL streams through a server-side cursor
into a Parquet writer, a batch at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.catalog import Catalog, PropertyType
from leadscore.storage.duck import quote_name, quote_text, transpose
from leadscore.storage.views import DataView

if TYPE_CHECKING:
    import pyarrow as pa

TABLES = ("contacts", "property_history", "events", "scores")
BATCH_ROWS = 100_000
BASE_COLUMNS = ("contact_id", "email", "created_at", "updated_at")
_PG_TIME = "(timestamptz 'epoch' + ({} * interval '1 microsecond'))"
_DUCK_TIME = "CAST(make_timestamp({}) AS TIMESTAMPTZ)"


@dataclass(frozen=True)
class Exported:
    table: str
    path: Path
    rows: int


@dataclass(frozen=True)
class ExportPlan:
    """What to write: the tables, and the model whose scores and declared types to use."""

    tables: tuple[str, ...]
    model: str
    scores: tuple[str, ...]
    catalog: Catalog
    properties: tuple[str, ...] | None = None  # contacts: only these properties (None: all)
    contact_ids: tuple[str, ...] | None = None  # contacts and scores: only these (None: all)


def _only(view: DataView, plan: ExportPlan, column: str, joiner: str) -> str:
    """`joiner column IN (…)` when the plan names its contacts, else nothing: in DuckDB the
    ids as a relation of the view (a literal list of 83,000 ids took 3.5 s a query there, the
    relation a fraction of that); in PostgreSQL a literal list, which it hashes."""
    if plan.contact_ids is None:
        return ""
    if view.embedded:
        ids = view.register_columns([("contact_id", "VARCHAR", list(plan.contact_ids))])
        return f" {joiner} {column} IN (SELECT contact_id FROM {ids})"
    listed = ", ".join(quote_text(i) for i in plan.contact_ids) or "NULL"
    return f" {joiner} {column} IN ({listed})"


def export_parquet(view: DataView, folder: Path, plan: ExportPlan,
                   progress: Callable[[int, int], None] | None = None) -> list[Exported]:
    """Write the planned tables into `folder` (made if missing); returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for done, table in enumerate(plan.tables):
        target = folder / f"{table}.parquet"
        temporary = folder / f".{table}.parquet.tmp"
        try:
            if view.embedded:
                rows = _duck_copy(view, _DUCK_QUERIES[table](view, plan), temporary)
            else:
                rows = _pg_copy(view, *_PG_QUERIES[table](view, plan), temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        written.append(Exported(table, target, rows))
        if progress is not None:
            progress(done + 1, len(plan.tables))
    return written


# -- the embedded store: DuckDB over segments and tail -----------------------------------------

def _duck_copy(view: DataView, sql: str, target: Path) -> int:
    found = view.duck.execute(f"COPY ({sql}) TO {quote_text(str(target))} "
                              f"(FORMAT parquet, COMPRESSION zstd)").fetchall()
    return int(found[0][0]) if found else 0


def _duck_events(view: DataView, plan: ExportPlan) -> str:
    return (f"SELECT event_id, contact_id, type, {_DUCK_TIME.format('occurred_us')} AS "
            f"occurred_at, {_DUCK_TIME.format('received_us')} AS received_at, attributes "
            f"FROM {view.relation('events')}")


def _duck_history(view: DataView, plan: ExportPlan) -> str:
    return (f"SELECT seq, contact_id, name, {_DUCK_TIME.format('changed_us')} AS changed_at, "
            f"source, value FROM {view.relation('property_changes')}")


def _duck_contacts(view: DataView, plan: ExportPlan) -> str:
    from leadscore.storage.values import FORM_OF, values_sql
    from leadscore.storage.values import column as form_column

    names = _property_names(view, plan)
    base = (f"SELECT c.contact_id, c.email, {_DUCK_TIME.format('c.created_us')} AS created_at, "
            f"{_DUCK_TIME.format('c.updated_us')} AS updated_at")
    if not names:
        only = _only(view, plan, "c.contact_id", "WHERE")
        return f"{base} FROM {view.relation('contacts')} AS c{only}"
    picks = []
    for name in names:
        kind = _kind(plan.catalog, name)
        value = f"v.{form_column(name, FORM_OF[kind])}"
        if kind is PropertyType.DATE:
            value = _DUCK_TIME.format(value)
        picks.append(f"{value} AS {quote_name(name)}")
    return (f"{base}, {', '.join(picks)} FROM {view.relation('contacts')} AS c "
            f"LEFT JOIN {values_sql(view, names)} AS v ON v.contact_id = c.contact_id"
            f"{_only(view, plan, 'c.contact_id', 'WHERE')}")


def _duck_scores(view: DataView, plan: ExportPlan) -> str:
    from leadscore.storage.leads import stage_relation
    from leadscore.storage.scores import current_wide_sql

    picks = ", ".join(f"s.{quote_name(n)}, s.{quote_name(n + ':label')}" for n in plan.scores)
    return (f"SELECT s.contact_id, {picks}, s.grade, v.stage, "
            f"{_DUCK_TIME.format('s.computed_us')} AS computed_at, "
            f"{_DUCK_TIME.format('s.as_of_us')} AS as_of "
            f"FROM {current_wide_sql(view, plan.model, plan.scores)} AS s "
            f"LEFT JOIN {stage_relation(view)} AS v ON v.contact_id = s.contact_id"
            f"{_only(view, plan, 's.contact_id', 'WHERE')}")


_DUCK_QUERIES: dict[str, Callable[[DataView, ExportPlan], str]] = {
    "contacts": _duck_contacts, "property_history": _duck_history, "events": _duck_events,
    "scores": _duck_scores}


def _property_names(view: DataView, plan: ExportPlan) -> list[str]:
    """Every property name the history holds (of `plan.properties`, when given), but those
    the contact row already has."""
    found = view.query(f"SELECT DISTINCT name FROM {view.relation('property_changes')} "
                       "ORDER BY name")
    return [name for (name,) in found if name not in BASE_COLUMNS
            and (plan.properties is None or name in plan.properties)]


def _kind(catalog: Catalog, name: str) -> PropertyType:
    definition = catalog.property(name)
    return definition.type if definition is not None else PropertyType.STRING


# -- PostgreSQL: a server-side cursor into a Parquet writer ----------------------------------------

_PgQuery = tuple[str, list[tuple[str, str]]]  # SQL, (column, Arrow type name)


def _pg_events(view: DataView, plan: ExportPlan) -> _PgQuery:
    return (f"SELECT event_id, contact_id, type, {_PG_TIME.format('occurred_us')}, "
            f"{_PG_TIME.format('received_us')}, CAST(attributes AS TEXT) FROM events",
            [("event_id", "string"), ("contact_id", "string"), ("type", "string"),
             ("occurred_at", "time"), ("received_at", "time"), ("attributes", "string")])


def _pg_history(view: DataView, plan: ExportPlan) -> _PgQuery:
    return (f"SELECT seq, contact_id, name, {_PG_TIME.format('changed_us')}, source, "
            f"CAST(value AS TEXT) FROM property_changes",
            [("seq", "int64"), ("contact_id", "string"), ("name", "string"),
             ("changed_at", "time"), ("source", "string"), ("value", "string")])


_PG_FORM = {PropertyType.NUMBER: ("v_num", "float64"), PropertyType.BOOL: ("v_bool", "bool"),
            PropertyType.DATE: ("v_time", "time"), PropertyType.STRING: ("v_text", "string"),
            PropertyType.ENUM: ("v_text", "string")}


def _pg_contacts(view: DataView, plan: ExportPlan) -> _PgQuery:
    names = _property_names(view, plan)
    columns = [("contact_id", "string"), ("email", "string"), ("created_at", "time"),
               ("updated_at", "time")]
    picks = []
    for name in names:
        form, arrow = _PG_FORM[_kind(plan.catalog, name)]
        value = f"max(l.{form}) FILTER (WHERE l.name = {quote_text(name)})"
        if form == "v_bool":  # max() takes no booleans
            value = f"bool_or(l.{form}) FILTER (WHERE l.name = {quote_text(name)})"
        picks.append(_PG_TIME.format(value) if form == "v_time" else value)
        columns.append((name, arrow))
    latest = ("(SELECT DISTINCT ON (contact_id, name) contact_id, name, v_text, v_num, "
              "v_bool, v_time FROM property_changes "
              "ORDER BY contact_id, name, changed_us DESC, seq DESC)")
    extra = "".join(f", {p}" for p in picks)
    return (f"SELECT c.contact_id, c.email, {_PG_TIME.format('c.created_us')}, "
            f"{_PG_TIME.format('c.updated_us')}{extra} FROM contacts AS c "
            f"LEFT JOIN {latest} AS l ON l.contact_id = c.contact_id"
            f"{_only(view, plan, 'c.contact_id', 'WHERE')} "
            f"GROUP BY c.contact_id, c.email, c.created_us, c.updated_us", columns)


def _pg_scores(view: DataView, plan: ExportPlan) -> _PgQuery:
    from leadscore.storage.leads import stage_relation

    picks, columns = [], [("contact_id", "string")]
    for name in plan.scores:
        picks.append(f"max(CASE WHEN s.score = {quote_text(name)} THEN s.value END)")
        picks.append(f"max(CASE WHEN s.score = {quote_text(name)} THEN s.label END)")
        columns += [(name, "float64"), (name + ":label", "string")]
    columns += [("grade", "string"), ("stage", "string"), ("computed_at", "time"),
                ("as_of", "time")]
    return (f"SELECT s.contact_id, {', '.join(picks)}, "
            f"max(CASE WHEN s.score = 'grade' THEN s.label END), max(v.stage), "
            f"{_PG_TIME.format('max(s.computed_us)')}, {_PG_TIME.format('max(s.as_of_us)')} "
            f"FROM scores AS s LEFT JOIN {stage_relation(view)} AS v "
            f"ON v.contact_id = s.contact_id WHERE s.model = {quote_text(plan.model)}"
            f"{_only(view, plan, 's.contact_id', 'AND')} GROUP BY s.contact_id", columns)


_PG_QUERIES: dict[str, Callable[[DataView, ExportPlan], _PgQuery]] = {
    "contacts": _pg_contacts, "property_history": _pg_history, "events": _pg_events,
    "scores": _pg_scores}


def _pg_copy(view: DataView, sql: str, columns: Sequence[tuple[str, str]],
             target: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns])
    driver = _driver(view.connection)
    rows = 0
    with pq.ParquetWriter(str(target), schema, compression="zstd") as writer, \
            driver.cursor(name="leadscore_export") as cursor:
        cursor.itersize = BATCH_ROWS
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH_ROWS):
            writer.write_table(_arrow_batch(schema, batch))
            rows += len(batch)
    return rows


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    return {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
            "bool": pa.bool_(), "time": pa.timestamp("us", tz="UTC")}[kind]


def _arrow_batch(schema: pa.Schema, rows: list[Any]) -> pa.Table:
    import pyarrow as pa

    data = transpose(rows, len(schema))
    return pa.table([pa.array([_plain(v) for v in values], type=field.type)
                     for values, field in zip(data, schema, strict=True)], schema=schema)


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


def _driver(connection: Any) -> Any:
    """The psycopg connection under a SQLAlchemy or raw connection."""
    raw = getattr(connection, "driver", None)
    if raw is not None:
        return raw
    return connection.connection.driver_connection


__all__ = ["TABLES", "ExportPlan", "Exported", "export_parquet"]
