"""Scoring a PostgreSQL store in the database: the compiled model's results land in a
temporary table, and scores, history and stage changes are written from it with INSERT …
SELECT — no row leaves the server.

The canonical relations are temporary views over the store's tables: `ls_values` pivots the
property history as of the moment of scoring; `ls_events` reads each attribute the query
compares from the JSONB attributes, counting a value only when its JSON type fits the kind.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from leadscore.catalog.forms import ATTRIBUTE_OFFSET, ATTRIBUTE_TIME, to_micros
from leadscore.model import Model
from leadscore.scoring.runs import STATE_PREFIX, ScoredContact, ScoreRun, unscored_of
from leadscore.storage import Store
from leadscore.storage.changes import Marks, contacts_changed_since, recorded_marks
from leadscore.storage.duck import quote_name, quote_text
from leadscore.storage.score_writes import cause_sql, forward_move_sql
from leadscore.storage.state import read_state, write_state

LIFECYCLE = "lifecycle_stage"
JSON_TYPES = {"string": "string", "number": "number", "bool": "boolean", "date": "string"}


def attribute_sql(name: str, kind: str) -> str:
    """PostgreSQL SQL for attribute `name` of `events.attributes` read as `kind`."""
    value = f"attributes -> {quote_text(name)}"
    fits = f"jsonb_typeof({value}) = '{JSON_TYPES[kind]}'"
    text = f"attributes ->> {quote_text(name)}"
    if kind == "number":
        return f"CASE WHEN {fits} THEN ({text})::double precision END"
    if kind == "bool":
        return f"CASE WHEN {fits} THEN ({text})::boolean END"
    if kind == "date":
        return date_attribute_sql(text, fits)
    return f"CASE WHEN {fits} THEN {text} END"


def date_attribute_sql(text: str, fits: str = "true") -> str:
    """PostgreSQL SQL of a text read as an attribute date (`catalog.ATTRIBUTE_TIME`): the
    pattern, then the day checked against its month's length (a cast of 30 February would
    fail the query, and PostgreSQL 15 has no TRY_CAST), then the cast — with no offset the
    time is UTC whatever the session's time zone."""
    day, year, month = (f"substr({text}, 9, 2)::int", f"substr({text}, 1, 4)::int",
                        f"substr({text}, 6, 2)::int")
    last_day = (f"extract(day FROM make_date({year}, {month}, 1) + interval '1 month' "
                "- interval '1 day')")
    instant = (f"CASE WHEN {text} ~ {quote_text(ATTRIBUTE_OFFSET)} "
               f"THEN ({text})::timestamptz ELSE ({text})::timestamp AT TIME ZONE 'UTC' END")
    return (f"CASE WHEN {fits} AND {text} ~ {quote_text(ATTRIBUTE_TIME)} "
            f"THEN CASE WHEN {day} <= {last_day} "
            f"THEN (extract(epoch FROM {instant}) * 1000000)::bigint END END")


def bind_views(cursor: Any, query: Any, as_of_us: int, targets: Iterable[str] | None) -> None:
    from leadscore.sql.pivot import pivot_values
    from leadscore.storage.ledger_reads import LEDGER_SELECT

    view = "CREATE OR REPLACE TEMPORARY VIEW"
    cursor.execute(f"{view} ls_contacts AS SELECT contact_id, created_us FROM contacts")
    cursor.execute(f"{view} ls_history AS SELECT contact_id, name, changed_us, seq, v_text, "
                   "v_num, v_bool, v_time FROM property_changes")
    if query.required_properties:
        pivot = pivot_values(query.required_properties, as_of_us, "postgres", "ls_history")
        cursor.execute(f"{view} ls_values AS {pivot.sql(dialect='postgres')}")
    else:
        cursor.execute(f"{view} ls_values AS SELECT contact_id FROM contacts WHERE false")
    attributes = "".join(f", {attribute_sql(name, kind)} AS {quote_name(name + ':' + kind)}"
                         for name, kind in sorted(query.required_attributes))
    kinds = ""
    if query.event_types:
        kinds = " AND type IN (" + ", ".join(quote_text(t) for t in query.event_types) + ")"
    cursor.execute(f"{view} ls_events AS SELECT contact_id, type, occurred_us{attributes} "
                   f"FROM events WHERE occurred_us <= {int(as_of_us)}{kinds}")
    cursor.execute(f"{view} ls_ledger AS {LEDGER_SELECT}")
    if query.reads_company_scores:  # `company_score:` conditions
        from leadscore.storage.companies import company_scores_select

        cursor.execute(f"{view} ls_company_scores AS "
                       f"{company_scores_select(query.model.name)}")
    if targets is not None:
        cursor.execute("CREATE TEMPORARY TABLE ls_targets (contact_id TEXT PRIMARY KEY) "
                       "ON COMMIT DROP")
        with cursor.copy("COPY ls_targets (contact_id) FROM STDIN") as copy:
            for contact_id in targets:
                copy.write_row((contact_id,))


def score_postgres(store: Store, model: Model, *, as_of: datetime | None, write: bool,
                   full: bool, keep_results: bool,
                   finish: Callable[[Any], None] | None = None,
                   only: Sequence[str] | None = None) -> ScoreRun:
    """`only`: see `runs.score_store`."""
    from leadscore.scoring.runs import remember_own
    from leadscore.sql import compile_model

    started = time.perf_counter()
    now = datetime.now(UTC)
    moment = as_of or now
    as_of_us, computed_us = to_micros(moment), to_micros(now)
    run = ScoreRun(model.name, moment, written=write, engine="postgres",
                   labels={name: Counter() for name in model.scores})
    with _transaction(store, write) as connection:
        marks = recorded_marks(connection)
        revision = int(connection.exec_driver_sql(
            "SELECT coalesce(max(rev), 0) FROM contacts").scalar() or 0)
        if only is not None:
            targets: set[str] | None = set(only)
        else:
            targets = None if (full or as_of is not None or not write) else \
                _targets(connection, model, marks, computed_us)
        run.full = targets is None
        cursor = connection.connection.cursor()
        # compiling this wide query to machine code costs seconds and saves little
        cursor.execute("SET LOCAL jit = off")
        try:
            if targets is not None and not targets:
                if write and only is None:
                    _remember(connection, model, marks, revision, as_of_us, [])
                run.seconds = time.perf_counter() - started
                return run
            query = compile_model(model, as_of=as_of_us, dialect="postgres", stage_rules=True,
                                  schedule=True, targets=targets is not None, ledger=True)
            bind_views(cursor, query, as_of_us, sorted(targets) if targets is not None else None)
            cursor.execute(f"CREATE TEMPORARY TABLE ls_results ON COMMIT DROP AS {query.sql}")
            cursor.execute("SELECT count(*) FROM events")
            run.events = int(cursor.fetchone()[0])
            if keep_results or not write:
                run.results = _results(cursor, model)
            for name in model.scores:
                cursor.execute(f"SELECT {quote_name(name + ':label')}, count(*) FROM "
                               "ls_results GROUP BY 1")
                run.labels[name] = Counter({(label or "—"): int(n)
                                            for label, n in cursor.fetchall()})
            cursor.execute("SELECT count(*) FROM ls_results")
            run.contacts = int(cursor.fetchone()[0])
            if write:
                run.changed, run.stage_moves, own = _store(cursor, model, as_of_us,
                                                           computed_us)
                if only is None:
                    _remember(connection, model, marks, revision, as_of_us, own)
                else:
                    remember_own(connection, model, own)
                if finish is not None:
                    finish(connection)
            cursor.execute("DROP VIEW IF EXISTS ls_events, ls_values, ls_history, ls_contacts, "
                           "ls_ledger, ls_company_scores")
        finally:
            cursor.close()
    if write:
        store.refresh_statistics(("scores", "score_history", "stage_changes",
                                  "property_changes"))
    run.seconds = time.perf_counter() - started
    return run


@contextmanager
def _transaction(store: Store, write: bool) -> Iterator[Any]:
    """A write transaction (the store's write lock), or a read one for a dry run."""
    if write:
        with store.write() as writer:
            yield writer.connection
    else:
        with store.read() as connection:
            yield connection


def _results(cursor: Any, model: Model) -> list[ScoredContact]:
    cursor.execute("SELECT * FROM ls_results")
    names = [d[0] for d in cursor.description]
    found = []
    for row in cursor.fetchall():
        data = dict(zip(names, row, strict=True))
        found.append(ScoredContact(
            data["contact_id"], {n: data.get(n) for n in model.scores},
            {n: data.get(f"{n}:label") for n in model.scores}, data.get("grade"),
            data.get("grade_label"), data.get("stage_target"),
            data.get("stage_target"), unscored_of(data, model)))
    return found


def _store(cursor: Any, model: Model, as_of_us: int, computed_us: int
           ) -> tuple[int, Counter, list[tuple[int, int]]]:
    """Scores, history and stage moves from ls_results; returns (changed values, moves,
    own property-change sequence ranges)."""
    name_literal = quote_text(model.name)
    version = "NULL::integer" if model.published is None else f"{int(model.published)}"
    parts = []
    for name in model.scores:
        parts.append(f"SELECT contact_id, {quote_text(name)} AS score, "
                     f"{quote_name(name)}::double precision AS value, "
                     f"{quote_name(name + ':label')}::text AS label, next_change_us, "
                     f"{quote_name(name + ':scored')}::boolean AS scored FROM ls_results")
    if model.grade is not None:
        parts.append("SELECT contact_id, 'grade', NULL::double precision, grade::text, "
                     "next_change_us, NULL::boolean FROM ls_results")
    cursor.execute("CREATE TEMPORARY TABLE ls_new_scores ON COMMIT DROP AS "
                   + " UNION ALL ".join(parts))
    cursor.execute(
        f"INSERT INTO score_history (contact_id, model, score, value, label, computed_us, "
        f"as_of_us, version) SELECT n.contact_id, {name_literal}, n.score, n.value, n.label, "
        f"{computed_us}, {as_of_us}, {version} FROM ls_new_scores n LEFT JOIN scores s "
        f"ON s.contact_id = n.contact_id AND s.model = {name_literal} AND s.score = n.score "
        f"WHERE s.contact_id IS NULL OR s.label IS DISTINCT FROM n.label "
        f"OR s.version IS DISTINCT FROM {version} OR NOT "
        f"(abs(coalesce(s.value, 'NaN') - coalesce(n.value, 'NaN')) <= 1e-9 "
        f"OR (s.value IS NULL AND n.value IS NULL))")
    changed = cursor.rowcount
    cursor.execute(
        f"INSERT INTO scores (contact_id, model, score, value, label, computed_us, as_of_us, "
        f"next_change_us, version, scored) SELECT contact_id, {name_literal}, score, value, "
        f"label, {computed_us}, {as_of_us}, next_change_us, {version}, scored "
        f"FROM ls_new_scores "
        f"ON CONFLICT (contact_id, model, score) DO UPDATE SET value = excluded.value, "
        f"label = excluded.label, computed_us = excluded.computed_us, "
        f"as_of_us = excluded.as_of_us, next_change_us = excluded.next_change_us, "
        f"version = excluded.version, scored = excluded.scored")
    current = ("(SELECT DISTINCT ON (contact_id) contact_id, v_text AS stage FROM "
               f"property_changes WHERE name = '{LIFECYCLE}' "
               "ORDER BY contact_id, changed_us DESC, seq DESC)")
    moved = forward_move_sql("c.stage", "r.stage_target", model.lifecycle.order)
    cursor.execute(
        f"CREATE TEMPORARY TABLE ls_moves ON COMMIT DROP AS SELECT * FROM ("
        f"SELECT r.contact_id, {moved} AS stage, c.stage AS previous, "
        f"{cause_sql(model, 'r.stage_reason', moved, dialect='postgres')} AS cause "
        f"FROM ls_results r LEFT JOIN {current} c ON c.contact_id = r.contact_id) m "
        f"WHERE stage IS NOT NULL")
    cursor.execute("SELECT stage, count(*) FROM ls_moves GROUP BY 1")
    moves = Counter({stage: int(n) for stage, n in cursor.fetchall()})
    own: list[tuple[int, int]] = []
    if moves:
        cursor.execute(f"INSERT INTO stage_changes (contact_id, stage, previous, changed_us, "
                       f"cause) SELECT contact_id, stage, previous, {as_of_us}, cause "
                       f"FROM ls_moves")
        cursor.execute(
            f"INSERT INTO property_changes (contact_id, name, changed_us, source, value, "
            f"v_text) SELECT contact_id, '{LIFECYCLE}', {as_of_us}, 'lifecycle', "
            f"to_jsonb(stage), stage FROM ls_moves RETURNING seq")
        seqs = [row[0] for row in cursor.fetchall()]
        own.append((min(seqs), max(seqs)))
    return changed, moves, own


def _targets(connection: Any, model: Model, marks: Marks, now_us: int) -> set[str] | None:
    found_state = read_state(connection, STATE_PREFIX + model.name)
    state = None if found_state is None else found_state[1]
    if state is None or state.get("digest") != model.digest:
        return None
    before = Marks.from_state(state)
    found = contacts_changed_since(connection, before, except_properties=[
        (int(a), int(b)) for a, b in state.get("own", [])])
    found.update(row[0] for row in connection.exec_driver_sql(
        "SELECT contact_id FROM contacts WHERE rev > %s", (int(state["contacts"]),)))
    found.update(row[0] for row in connection.exec_driver_sql(
        "SELECT DISTINCT contact_id FROM scores WHERE model = %s AND next_change_us <= %s",
        (model.name, now_us)))
    found.update(row[0] for row in connection.exec_driver_sql(
        "SELECT c.contact_id FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM scores s "
        "WHERE s.contact_id = c.contact_id AND s.model = %s)", (model.name,)))
    return found


def _remember(connection: Any, model: Model, marks: Marks, revision: int, as_of_us: int,
              own: list[tuple[int, int]]) -> None:
    write_state(connection, STATE_PREFIX + model.name, as_of_us, {
        "digest": model.digest, **marks.to_dict(),
        "contacts": revision, "as_of_us": as_of_us, "own": [list(r) for r in own]})
