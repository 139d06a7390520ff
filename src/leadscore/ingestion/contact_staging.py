"""Importing a contacts file in bounded memory, whatever its size.

1. Every row is read and checked as it comes (`contacts._Builder`, the one set of rules for
   every import) and staged — a row per contact input, with its properties as JSON — in
   Parquet; mistakes are collected (the first thousand shown) and nothing is stored.
2. Rows repeating another row of the file for the same contact and moment count once; two
   that disagree are a mistake (LS214), reported with both lines.
3. The changes to record are planned by `storage.upsert.plan_upsert` — the rule every writer
   uses — contact by contact against what the store holds. A contact new to the store with
   one row in the file (the usual first import) needs no comparison: all of its values are
   recorded as they are, set-wise.
4. Everything is published in one transaction: new contacts, changed contacts, and the
   property changes (a Parquet segment on the embedded store when there are many). If
   another writer changed one of the file's contacts while the plan was made, nothing is
   stored and the import says so (run it again).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import Catalog, PropertyType
from leadscore.catalog.forms import from_micros, to_micros, typed_forms
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion.contacts import CsvOptions, _Builder, _moment, open_contacts
from leadscore.ingestion.event_staging import MAX_DIAGNOSTICS, raise_bounded
from leadscore.ingestion.mapping import ContactMapping
from leadscore.ingestion.source import Progress, require_rows
from leadscore.storage.bulk import SEGMENT_MIN_ROWS, Staging, count_rows, write_property_segment
from leadscore.storage.changes import contacts_changed_since, recorded_marks
from leadscore.storage.duck import record_batches
from leadscore.storage.json_value import dump_json, to_json_value
from leadscore.storage.reading import PROPERTY_COLUMNS, prefetch_sql
from leadscore.storage.records import ContactInput, WriteCounts
from leadscore.storage.segments import SegmentKind
from leadscore.storage.upsert import ContactRow, UpsertPlan, merge_same_moments, plan_upsert
from leadscore.storage.writer import Writer

CHUNK = 50_000
PLAN_BATCH = 20_000  # inputs planned at a time (a contact's inputs stay together)


@dataclass(frozen=True)
class StagedContacts:
    """A contacts file, staged: `source` is SQL of its unique inputs — ord, line,
    contact_id, moment_us, created_us, email, then the properties: for a CSV file one column
    per property (`columns`: name → how its cells are kept), for JSON Lines one `props`
    column (a JSON object)."""

    source: str
    rows: int
    duplicates: int
    columns: dict[str, str] | None  # property → "text" (a string), "json" or "bool"


_KEPT = {PropertyType.STRING: "text", PropertyType.ENUM: "text", PropertyType.BOOL: "bool"}


def stage_contacts(staged: Staging, path: str | Path, *, catalog: Catalog,
                   mapping: ContactMapping | None = None, now: datetime | None = None,
                   progress: Progress | None = None,
                   options: CsvOptions | None = None) -> StagedContacts:
    import pyarrow as pa

    path = Path(path)
    diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
    builder = _Builder(path, catalog, _moment(now), diagnostics)
    opened = open_contacts(path, builder, mapping=mapping, progress=progress, options=options)
    columns = (None if opened.properties is None else
               {name: _KEPT.get(kind, "json") for name, kind in opened.properties})
    fields = [("ord", pa.int64()), ("line", pa.int64()), ("contact_id", pa.string()),
              ("moment_us", pa.int64()), ("created_us", pa.int64()), ("email", pa.string())]
    if columns is None:
        fields.append(("props", pa.string()))
    else:
        fields += [(f"p{i}", pa.bool_() if kept == "bool" else pa.string())
                   for i, kept in enumerate(columns.values())]
    schema = pa.schema(fields)
    chunk: list[tuple[Any, ...]] = []
    parts: list[str] = []
    rows = 0

    def flush() -> None:
        if not chunk:
            return
        data = list(zip(*chunk, strict=True))
        table = pa.table([pa.array(c, type=f.type) for c, f in zip(data, schema, strict=True)],
                         schema=schema)
        name = f"ls_contact_rows_{len(parts)}"
        staged.duck.register(name, table)
        try:
            parts.append(staged.write("contacts", f"SELECT * FROM {name}"))
        finally:
            staged.duck.unregister(name)
        chunk.clear()

    kept = list(columns.items()) if columns is not None else []
    for line, contact in opened.rows:
        rows += 1
        if contact is None or len(diagnostics):
            continue
        head = (rows, line, contact.contact_id, to_micros(contact.changed_at),
                None if contact.created_at is None else to_micros(contact.created_at),
                contact.email)
        if columns is None:
            chunk.append((*head, _props_text(contact.properties)))
        else:
            values = contact.properties
            chunk.append((*head, *[values.get(name) if how != "json"
                                   else _kept(values.get(name), how) for name, how in kept]))
        if len(chunk) >= CHUNK:
            flush()
    if len(diagnostics):
        raise_bounded(diagnostics, path)
    require_rows(rows, path, "contacts")
    flush()
    source = "(" + " UNION ALL ".join(f"SELECT * FROM {p}" for p in parts) + ")"
    return _dedupe(staged, path, source, rows, columns)


def _kept(value: Any, how: str) -> Any:
    if value is None or how != "json":
        return value
    return dump_json(to_json_value(value))


def _props_text(properties: dict[str, Any]) -> str:
    return json.dumps({name: value if type(value) is str else to_json_value(value)
                       for name, value in properties.items()},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _properties(row: dict[str, Any], columns: dict[str, str] | None) -> dict[str, Any]:
    """A staged input's properties as `ContactInput` holds them (JSON-ready values)."""
    if columns is None:
        return json.loads(row["props"])
    found: dict[str, Any] = {}
    for i, (name, how) in enumerate(columns.items()):
        value = row[f"p{i}"]
        found[name] = json.loads(value) if how == "json" and value is not None else value
    return found


def _dedupe(staged: Staging, path: Path, source: str, rows: int,
            columns: dict[str, str] | None) -> StagedContacts:
    """One input per contact and moment: repeats count once, disagreements are mistakes."""
    duck = staged.duck
    values = "props" if columns is None else ", ".join(f"p{i}" for i in range(len(columns)))
    groups = duck.execute(f"SELECT count(DISTINCT (contact_id, moment_us)) FROM {source}"
                          ).fetchall()[0][0]
    if groups == rows:
        return StagedContacts(staged.write("unique", f"SELECT * FROM {source}"), rows, 0,
                              columns)
    conflicts = duck.execute(f"""
        SELECT list(ord ORDER BY ord), any_value(contact_id), any_value(moment_us)
        FROM {source} GROUP BY contact_id, moment_us
        HAVING count(DISTINCT (email, created_us, {values})) > 1
        ORDER BY min(ord) LIMIT {MAX_DIAGNOSTICS + 1}""").fetchall()
    if conflicts:
        diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
        for ords, contact_id, _ in conflicts:
            found = duck.execute(f"SELECT * FROM {source} WHERE ord IN (SELECT unnest($o)) "
                                 "ORDER BY ord", {"o": ords}).fetch_df().to_dict("records")
            first = found[0]
            first_props = _properties(first, columns)
            for other in found[1:]:
                props = _properties(other, columns)
                differing = sorted(n for n in set(first_props) | set(props)
                                   if first_props.get(n) != props.get(n))
                differing += [n for n, key in (("email", "email"), ("created_at", "created_us"))
                              if first[key] != other[key]]
                if not differing:
                    continue
                diagnostics.error(
                    "LS214", f"contact '{contact_id}' is also on line {first['line']}, with "
                             f"other values ({', '.join(differing[:5])})",
                    Location(file=str(path), line=int(other["line"]), field=differing[0]),
                    text=contact_id,
                    hint="keep one row per contact (or give the rows different updated_at "
                         "times: then they are its history)")
        raise_bounded(diagnostics, path)
    unique = staged.write("unique", f"SELECT * FROM {source} QUALIFY row_number() OVER "
                                    "(PARTITION BY contact_id, moment_us ORDER BY ord) = 1")
    return StagedContacts(unique, rows, rows - int(groups), columns)


# -- planning and publishing ------------------------------------------------------------------

@dataclass
class _Planned:
    contacts_new: str  # SQL: contact_id, email, created_us, updated_us
    contacts_changed: list[ContactRow]
    changes: str  # SQL: ord, contact_id, name, changed_us, source, value
    inserted: int
    updated: int
    unchanged: int


def publish_contacts(staged: Staging, found: StagedContacts, *,
                     source: str = "import") -> WriteCounts:
    store = staged.store
    with store.read() as connection:
        marks = recorded_marks(connection)
        revision = int(connection.exec_driver_sql(
            "SELECT coalesce(max(rev), 0) FROM contacts").scalar() or 0)
        known = _known_contacts(staged, connection)
    planned = _plan(staged, found, known, source)
    _write(staged, planned, found, source, marks, revision)
    return WriteCounts(inserted=planned.inserted, updated=planned.updated,
                       unchanged=planned.unchanged)


def _known_contacts(staged: Staging, connection: Any) -> str:
    """The staged inputs' contacts that the store has (an Arrow table of ids)."""
    import pyarrow as pa

    ids: list[str] = []
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SELECT contact_id FROM contacts")
        while True:
            part = cursor.fetchmany(100_000)
            if not part:
                break
            ids.extend(row[0] for row in part)
    finally:
        cursor.close()
    staged.duck.register("ls_known_contacts", pa.table({"contact_id": pa.array(ids,
                                                                                pa.string())}))
    try:
        return staged.write("known", "SELECT contact_id FROM ls_known_contacts")
    finally:
        staged.duck.unregister("ls_known_contacts")


def plan_contacts(staged: Staging, found: StagedContacts, *, source: str = "import"
                  ) -> _Planned:
    """The plan of a staged file against no store at all (every contact new): for scoring
    files as `import` would have stored them."""
    known = staged.write("known", "SELECT CAST(NULL AS VARCHAR) AS contact_id WHERE false")
    return _plan(staged, found, known, source)


def typed_changes(staged: Staging, planned: _Planned) -> str:
    """The planned property changes with their values' typed forms."""
    return _typed(staged, planned.changes)


def _plan(staged: Staging, found: StagedContacts, known: str, source: str) -> _Planned:
    # the usual case, set-wise: a contact new to the store with one input in the file
    simple = staged.write("simple", f"""
        SELECT u.* FROM {found.source} AS u
        WHERE u.contact_id IN (SELECT contact_id FROM {found.source} GROUP BY contact_id
                               HAVING count(*) = 1)
          AND u.contact_id NOT IN (SELECT contact_id FROM {known})""")
    simple_changes = staged.write("simple_changes", _simple_changes_sql(simple, found.columns,
                                                                       source))
    if found.columns is None:
        email = ("CASE WHEN json_exists(props, '$.email') THEN props ->> '$.email' "
                 "ELSE email END")
    elif "email" in found.columns:
        i = list(found.columns).index("email")
        how = found.columns["email"]
        email = f"CAST(p{i} AS VARCHAR)" if how != "json" else f"(p{i} ->> '$')"
    else:
        email = "email"
    simple_contacts = staged.write("simple_contacts", f"""
        SELECT s.contact_id, {email} AS email,
               coalesce(created_us, moment_us) AS created_us, moment_us AS updated_us
        FROM {simple} AS s""")
    inserted = count_rows(staged, simple_contacts)
    # every other input: planned in Python against the store, a batch of contacts at a time
    rest = staged.write("rest", f"SELECT * FROM {found.source} AS u ANTI JOIN {simple} AS s "
                                "ON s.ord = u.ord")
    new_parts: list[str] = [f"SELECT contact_id, email, created_us, updated_us "
                            f"FROM {simple_contacts}"]
    change_parts: list[str] = [f"SELECT * FROM {simple_changes}"]
    changed: list[ContactRow] = []
    updated = unchanged = 0
    store = staged.store
    if count_rows(staged, rest):
        with (store.read() if store is not None else nullcontext()) as connection:
            writer = Writer(connection) if store is not None else None
            # the stored history of every contact planned here, in one scan of the segments
            # (a scan per batch made a 6,000-row file against 3.6 million changes take 9 s)
            gathered = (prefetch_sql(connection, SegmentKind.PROPS, PROPERTY_COLUMNS, rest)
                        if connection is not None else None)
            prefetched = staged.write("history", gathered) if gathered else None
            for items in _batches(staged, rest, found.columns):
                ids = list(dict.fromkeys(item.contact_id for item in items))
                rows = writer.contact_rows(ids) if writer is not None else {}
                history = (writer.property_histories([i for i in ids if i in rows],
                                                     prefetched=prefetched)
                           if writer is not None else {})
                plan = plan_upsert(items, rows, history, source=source)
                new_parts.append(_stage_contacts(staged, plan.new))
                change_parts.append(_stage_changes(staged, plan))
                changed.extend(plan.changed)
                inserted += len(plan.new)
                updated += len(plan.changed)
                unchanged += plan.unchanged
    return _Planned(
        contacts_new=staged.write("new_contacts", " UNION ALL ".join(new_parts)),
        contacts_changed=changed,
        changes=staged.write("changes", " UNION ALL ".join(change_parts)),
        inserted=inserted, updated=updated, unchanged=unchanged)


def _simple_changes_sql(simple: str, columns: dict[str, str] | None, source: str) -> str:
    """SQL of the property changes of simple inputs (new contact, one input): every value
    given, at the input's moment, in name order (a name per row, as `plan_upsert` takes
    them)."""
    if columns is None:
        quoted = "replace(replace(name, '\\', '\\\\'), '\"', '\\\"')"
        return f"""
        SELECT ord * 1000 + k AS ord, contact_id, name, moment_us AS changed_us,
               {_text(source)} AS source, value
        FROM (SELECT ord, contact_id, moment_us, name, k,
                     CAST(json_extract(merged, '$."' || {quoted} || '"') AS VARCHAR) AS value
              FROM (SELECT ord, contact_id, moment_us, merged, unnest(keys) AS name,
                           unnest(range(1, len(keys) + 1)) AS k
                    FROM (SELECT *, json_keys(merged) AS keys FROM (
                      SELECT ord, contact_id, moment_us,
                             CASE WHEN email IS NOT NULL AND NOT json_exists(props, '$.email')
                                  THEN json_merge_patch(props, json_object('email', email))
                                  ELSE props END AS merged
                      FROM {simple}))))
        WHERE value IS NOT NULL AND value <> 'null'"""
    names = list(columns)
    values = [f"p{i}" if how == "json" else
              f"CASE WHEN p{i} IS NOT NULL THEN CAST(to_json(p{i}) AS VARCHAR) END"
              for i, how in enumerate(columns.values())]
    if "email" not in columns:
        names.append("email")
        values.append("CASE WHEN email IS NOT NULL THEN CAST(to_json(email) AS VARCHAR) END")
    listed = "[" + ", ".join(_text(n) for n in names) + "]"
    return f"""
        SELECT ord * 1000 + k AS ord, contact_id, name, moment_us AS changed_us,
               {_text(source)} AS source, value
        FROM (SELECT ord, contact_id, moment_us, unnest({listed}) AS name,
                     unnest(range(1, {len(names) + 1})) AS k,
                     unnest([{', '.join(values)}]) AS value
              FROM {simple})
        WHERE value IS NOT NULL"""


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _batches(staged: Staging, rest: str,
             columns: dict[str, str] | None) -> Iterator[list[ContactInput]]:
    """The inputs, ordered by contact and moment, in batches that keep a contact whole."""
    batch: list[ContactInput] = []
    last: str | None = None
    for record_batch in record_batches(
            staged.duck, f"SELECT * FROM {rest} ORDER BY contact_id, moment_us, ord", CHUNK):
        for row in record_batch.to_pylist():
            contact_id = row["contact_id"]
            if len(batch) >= PLAN_BATCH and contact_id != last:
                yield merge_same_moments(batch)
                batch = []
            created = row["created_us"]
            batch.append(ContactInput(contact_id, from_micros(row["moment_us"]),
                                      email=row["email"],
                                      created_at=None if created is None
                                      else from_micros(created),
                                      properties=_properties(row, columns)))
            last = contact_id
    if batch:
        yield merge_same_moments(batch)


def _arrow(staged: Staging, name: str, table: Any) -> str:
    staged.duck.register(name, table)
    try:
        return staged.write(name, f"SELECT * FROM {name}")
    finally:
        staged.duck.unregister(name)


def _stage_contacts(staged: Staging, rows: list[ContactRow]) -> str:
    import pyarrow as pa

    table = pa.table({
        "contact_id": pa.array([r.contact_id for r in rows], pa.string()),
        "email": pa.array([r.email for r in rows], pa.string()),
        "created_us": pa.array([r.created_us for r in rows], pa.int64()),
        "updated_us": pa.array([r.updated_us for r in rows], pa.int64())})
    return f"SELECT * FROM {_arrow(staged, 'ls_planned_contacts', table)}"


def _stage_changes(staged: Staging, plan: UpsertPlan) -> str:
    import pyarrow as pa

    base = 10**15  # after the set-wise changes, in plan order
    changes = plan.changes
    table = pa.table({
        "ord": pa.array([base + i for i in range(len(changes))], pa.int64()),
        "contact_id": pa.array([c[0] for c in changes], pa.string()),
        "name": pa.array([c[1] for c in changes], pa.string()),
        "changed_us": pa.array([c[3] for c in changes], pa.int64()),
        "source": pa.array([c[4] for c in changes], pa.string()),
        "value": pa.array([None if c[2] is None else dump_json(c[2]) for c in changes],
                          pa.string())})
    return f"SELECT * FROM {_arrow(staged, 'ls_planned_changes', table)}"


def _typed(staged: Staging, changes: str) -> str:
    """The changes with the typed forms of their values, computed once per distinct value."""
    import pyarrow as pa

    texts: list[str] = []
    forms: list[tuple[Any, ...]] = []
    for batch in record_batches(staged.duck, f"SELECT DISTINCT value FROM {changes} "
                                             "WHERE value IS NOT NULL", CHUNK):
        for text in batch.to_pydict()["value"]:
            texts.append(text)
            forms.append(typed_forms(json.loads(text)))
    table = pa.table({"value": pa.array(texts, pa.string()),
                      "v_text": pa.array([f[0] for f in forms], pa.string()),
                      "v_num": pa.array([f[1] for f in forms], pa.float64()),
                      "v_bool": pa.array([f[2] for f in forms], pa.bool_()),
                      "v_time": pa.array([f[3] for f in forms], pa.int64())})
    mapping = _arrow(staged, "ls_value_forms", table)
    return staged.write("typed", f"SELECT c.*, m.v_text, m.v_num, m.v_bool, m.v_time "
                                 f"FROM {changes} AS c LEFT JOIN {mapping} AS m "
                                 "ON m.value = c.value")


def _write(staged: Staging, planned: _Planned, found: StagedContacts, source: str,
           marks: Any, revision: int) -> None:
    store = staged.store
    count = count_rows(staged, planned.changes)
    typed = _typed(staged, planned.changes)
    segments = store.segments
    written = None
    first = 0
    if segments is not None and count >= SEGMENT_MIN_ROWS:
        with store.write() as writer:
            first = segments.reserve_seq(writer.connection, "property_changes", count)
        written = write_property_segment(staged, typed, first)
    with store.write() as writer:
        connection = writer.connection
        _stop_if_changed(writer, staged, found, marks, revision)
        new_rows = _rows(staged, planned.contacts_new,
                         ("contact_id", "email", "created_us", "updated_us"))
        plan = UpsertPlan(new=[ContactRow(*row) for row in new_rows],
                          changed=planned.contacts_changed)
        writer.write_plan(plan)  # the contacts (the property changes follow)
        if written is not None and segments is not None:
            segments.publish(connection, SegmentKind.PROPS, written, rows=count,
                             min_seq=first, max_seq=first + count - 1)
        else:
            for part in record_batches(staged.duck, f"SELECT contact_id, name, changed_us, "
                                                    f"source, value, v_text, v_num, v_bool, "
                                                    f"v_time FROM {typed} ORDER BY ord",
                                       CHUNK):
                data = part.to_pydict()
                writer.codec.insert_many(
                    connection, "property_changes",
                    ("contact_id", "name", "changed_us", "source", "value", "v_text",
                     "v_num", "v_bool", "v_time"),
                    list(zip(*(data[k] for k in data), strict=True)),
                    kinds=("text", "text", "int8", "text", "jsonb", "text", "float8", "bool",
                           "int8"))


def _rows(staged: Staging, source: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for batch in record_batches(staged.duck, f"SELECT {', '.join(columns)} FROM {source}",
                                CHUNK):
        data = batch.to_pydict()
        found.extend(zip(*(data[c] for c in columns), strict=True))
    return found


def _stop_if_changed(writer: Writer, staged: Staging, found: StagedContacts, marks: Any,
                     revision: int) -> None:
    """Contacts of the file that another writer touched while the plan was made: there is
    no such contact in the usual case; if there is, the import stops rather than record
    changes against a stale view (it can simply be run again)."""
    connection = writer.connection
    touched = contacts_changed_since(connection, marks)
    touched |= {row[0] for row in connection.exec_driver_sql(
        "SELECT contact_id FROM contacts WHERE rev > " + ("?" if writer.dialect == "sqlite"
                                                          else "%s"), (revision,))}
    if not touched:
        return
    overlap = staged.duck.execute(
        f"SELECT count(*) FROM {found.source} WHERE contact_id IN "
        f"(SELECT unnest($ids))", {"ids": sorted(touched)}).fetchall()[0][0]
    if overlap:
        from leadscore.diagnostics import LeadscoreError

        raise LeadscoreError.single(
            "LS243", f"{overlap:,} contact(s) of this file changed in the store while it was "
                     "being imported; nothing was stored",
            Location(field="contacts"), hint="run the import again")
