"""Settling many due contacts at once: the first `process` after a bulk import.

When at least `BULK_MIN` contacts are due, `settle_in_bulk` runs the compiled model (the SQL
`leadscore score` runs) over them, with their lists, the stage target, each workflow trigger's
verdict and the schedule, and selects set-wise — in DuckDB, over the results and the stored
automation state — the contacts whose outcome the per-contact path could change:

- a list membership that differs from the stored one (a join or a leave),
- a forward stage move (the stage rules' target above the current stage),
- a workflow trigger that fires (a state trigger matching where it did not, or matching with
  no state yet; an occurrence newer than the trigger's last check),
- an active enrollment (its steps may run), or no result at all (deleted, created later).

Those stay due, and `Automation.process_due` — the one place that decides joins, leaves,
stage moves, enrollments, steps, notifications and tasks — processes them next. Every other
due contact is settled here in ONE transaction, exactly as the per-contact path would leave
it: its scores (history where one changed), its trigger states, and its next due time (or
done). A crash rolls that transaction back and leaves everyone due; nothing is sent here.

A model, list or trigger the SQL compiler cannot express (an LS55x diagnostic) makes the
whole run go the per-contact way: `settle_in_bulk` returns None.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import Connection, func, select

from leadscore.catalog.forms import to_micros
from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation.arithmetic import micros_to_seconds
from leadscore.storage.automation_reads import due_automation_state
from leadscore.storage.automation_schema import (
    automation_state,
    contact_schedule,
)
from leadscore.storage.codec import Codec
from leadscore.storage.duck import quote_name, quote_text
from leadscore.storage.records import ScoreRecord
from leadscore.storage.schedule import write_schedule, write_schedule_rows
from leadscore.storage.score_writes import forward_move_sql

if TYPE_CHECKING:
    from leadscore.automation.processor import Automation, ProcessReport
    from leadscore.sql import CompiledQuery

BULK_MIN = 2_000  # due contacts from which `process` settles set-wise first
BULK_CHUNK = 200_000  # due contacts per run of the compiled query: the whole of 1,000,000
# at once outgrew DuckDB's memory limit (1 GB) in its lists, stage rules and probes
LIFECYCLE = "lifecycle_stage"
NEXT_REASON = "a timeframe or decay changes"  # as the per-contact path words it
log = logging.getLogger("leadscore.automation")


@dataclass(frozen=True)
class _Trigger:
    key: str  # the probe columns' key
    workflow: str
    occurrence: bool
    column: str  # holds:KEY (state) | latest:KEY | changed:KEY (occurrence)


def due_count(connection: Connection, moment: datetime) -> int:
    return int(connection.execute(select(func.count()).where(
        contact_schedule.c.due_at <= moment)).scalar_one())


def settle_in_bulk(automation: Automation, moment: datetime, report: ProcessReport
                   ) -> int | None:
    """Settle the due contacts whose outcome cannot change beyond their scores (see the
    module); returns how many were settled, or None when the compiled path cannot be exact
    for this project (everyone then goes the per-contact way)."""
    started = clock.perf_counter()
    triggers = _triggers(automation)
    try:
        query = _compile(automation, moment, triggers, "duckdb"
                         if automation.store.dialect == "sqlite" else "postgres")
    except LeadscoreError as problem:
        log.info("bulk processing not possible, contact by contact instead: %s", problem)
        return None
    store = automation.store
    with store.write() as writer:
        connection = writer.connection
        cs = contact_schedule.c
        versions: dict[str, int] = dict(connection.execute(  # type: ignore[arg-type]
            select(cs.contact_id, cs.version).where(cs.due_at <= moment)).all())
        if len(versions) < BULK_MIN:
            return 0
        due = sorted(versions)
        results = _joined([_run(connection, query, due[start:start + BULK_CHUNK])
                           for start in range(0, len(due), BULK_CHUNK)])
        settled = _select(automation, connection, results, versions, triggers, moment)
        _write(automation, writer, settled, triggers, versions, moment)
        count = settled.num_rows
    report.contacts += count
    log.info("settled %d of %d due contacts set-wise in %.1fs", count, len(versions),
             clock.perf_counter() - started)
    return count


def _triggers(automation: Automation) -> list[_Trigger]:
    found = []
    for i, wf in enumerate(automation.workflows):
        key = f"w{i + 1}"
        trigger = wf.trigger
        if trigger.criterion is not None:
            found.append(_Trigger(key, wf.name, False, f"holds:{key}"))
        elif trigger.event is not None:
            found.append(_Trigger(key, wf.name, True, f"latest:{key}"))
        else:
            found.append(_Trigger(key, wf.name, True, f"changed:{key}"))
    return found


def _compile(automation: Automation, moment: datetime, triggers: list[_Trigger],
             dialect: str) -> CompiledQuery:
    from leadscore.sql import Probes, compile_model

    holds, latest, changed = {}, {}, {}
    for trigger, wf in zip(triggers, automation.workflows, strict=True):
        if wf.trigger.criterion is not None:
            holds[trigger.key] = wf.trigger.criterion
        elif wf.trigger.event is not None:
            latest[trigger.key] = wf.trigger.event
        else:
            assert wf.trigger.changed_property is not None
            changed[trigger.key] = wf.trigger.changed_property
    probes = Probes(holds=holds, latest=latest, changed=changed, values=(LIFECYCLE,))
    return compile_model(automation.model, as_of=to_micros(moment), dialect=dialect,
                         lists=automation.lists, stage_rules=True, schedule=True,
                         targets=True, probes=probes, ledger=True)


def _joined(parts: list[pa.Table]) -> pa.Table:
    """The chunks' results as one table (a chunk without rows has no column types; on
    PostgreSQL a column with no value in a chunk comes as the null type: promoted)."""
    found = [part for part in parts if part.num_rows]
    return pa.concat_tables(found, promote_options="default") if found else parts[0]


def _run(connection: Connection, query: CompiledQuery, targets: list[str]) -> pa.Table:
    """The compiled query's results for `targets` as of its moment, in this transaction."""
    if connection.dialect.name == "postgresql":
        from leadscore.scoring.postgres import bind_views

        cursor = connection.connection.cursor()
        try:
            cursor.execute("SET LOCAL jit = off")
            bind_views(cursor, query, query.as_of_us, targets)
            cursor.execute(query.sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            cursor.execute("DROP VIEW IF EXISTS ls_events, ls_values, ls_history, ls_contacts, "
                           "ls_ledger, ls_company_scores")
            cursor.execute("DROP TABLE IF EXISTS ls_targets")
        finally:
            cursor.close()
        return pa.table({name: pa.array([row[i] for row in rows])
                         for i, name in enumerate(names)}) if rows else \
            pa.table({name: pa.array([], pa.null()) for name in names})
    from leadscore.scoring.sources import bind_embedded, drop_views
    from leadscore.storage.views import DataView

    with DataView(connection) as view:
        bound = bind_embedded(view, required_properties=query.required_properties,
                              required_attributes=query.required_attributes,
                              event_types=query.event_types or None, as_of_us=query.as_of_us,
                              targets=targets, now=False,
                              company_scores_of=(query.model.name
                                                 if query.reads_company_scores else None))
        try:
            return view.duck.sql(query.sql).to_arrow_table()
        finally:
            drop_views(view.duck, bound)


def _select(automation: Automation, connection: Connection, results: pa.Table,
            versions: dict[str, int], triggers: list[_Trigger], moment: datetime) -> pa.Table:
    """The results of the contacts to settle here (every other due contact stays due), with
    each trigger's stored state beside them (`t:KEY:state`, `t:KEY:matching`,
    `t:KEY:enrollments`)."""
    import duckdb

    now_us = to_micros(moment)
    stored = due_automation_state(connection, moment)
    members, states, active = stored["members"], stored["states"], stored["active"]
    activated = {name.removeprefix("workflow:"): to_micros(_utc(at)) for name, at in
                 connection.execute(select(automation_state.c.name,
                                           automation_state.c.activated_at))}
    duck = duckdb.connect()
    try:
        duck.register("r", results)
        duck.register("mem", members)
        duck.register("st", states)
        duck.register("act", active)
        order = automation.model.lifecycle.order
        current = quote_name(f"value:{LIFECYCLE}")
        changes = [f"{forward_move_sql(f'r.{current}', 'r.stage_target', order)} IS NOT NULL",
                   "r.contact_id IN (SELECT contact_id FROM act)"]
        for item in automation.lists:
            name = quote_text(item.name)
            changes.append(f"coalesce(r.{quote_name('list:' + item.name)}, false) IS DISTINCT "
                           f"FROM coalesce(list_contains(ml.lists, {name}), false)")
        extra, joins = [], []
        for trigger in triggers:
            alias = f"t_{trigger.key}"
            joins.append(f"LEFT JOIN st AS {alias} ON {alias}.contact_id = r.contact_id AND "
                         f"{alias}.workflow = {quote_text(trigger.workflow)}")
            value = f"r.{quote_name(trigger.column)}"
            if trigger.occurrence:  # fires on an occurrence after the last check
                since = f"coalesce({alias}.checked_us, {activated.get(trigger.workflow, now_us)})"
                changes.append(f"coalesce({value} > {since}, false)")
            else:  # fires on not matching → matching; with no state yet, let the path decide
                changes.append(f"(coalesce({value}, false) AND NOT coalesce({alias}.matching, "
                               f"false))")
            extra += [f"{alias}.contact_id IS NOT NULL AS {quote_name(f't:{trigger.key}:state')}",
                      f"{alias}.matching AS {quote_name(f't:{trigger.key}:matching')}",
                      f"{alias}.enrollments AS {quote_name(f't:{trigger.key}:enrollments')}"]
        sql = f"""
            SELECT r.*{''.join(', ' + x for x in extra)}
            FROM r LEFT JOIN (SELECT contact_id, list(list) AS lists FROM mem GROUP BY 1) AS ml
                 ON ml.contact_id = r.contact_id
            {' '.join(joins)}
            WHERE NOT ({' OR '.join(f'({c})' for c in changes)})"""
        return duck.sql(sql).to_arrow_table()
    finally:
        duck.close()


def _write(automation: Automation, writer: Any, settled: pa.Table, triggers: list[_Trigger],
           versions: dict[str, int], moment: datetime) -> None:
    """What the per-contact path would write for these contacts: scores, trigger states and
    the schedule — each kind set-wise, its rows made in DuckDB."""
    import duckdb

    ids: list[str] = settled.column("contact_id").to_pylist()
    writer.note_existing(ids)
    _write_scores(automation, writer, settled, ids, moment)
    connection = writer.connection
    codec = Codec(connection.dialect.name)
    sqlite = codec.sqlite
    duck = duckdb.connect()
    try:
        duck.register("s", settled)
        parts = []
        for trigger in triggers:
            key = trigger.key
            known = quote_name(f"t:{key}:state")
            stored = quote_name(f"t:{key}:matching")
            count = quote_name(f"t:{key}:enrollments")
            matching = "false" if trigger.occurrence else \
                f"coalesce({quote_name(trigger.column)}, false)"
            keep = "true" if trigger.occurrence else \
                f"NOT {known} OR {stored} IS DISTINCT FROM {matching}"
            parts.append(f"SELECT {quote_text(trigger.workflow)} AS workflow, contact_id, "
                         f"{matching} AS matching, coalesce({count}, 0) AS enrollments "
                         f"FROM s WHERE {keep}")
        if parts:
            rows = duck.execute(" UNION ALL ".join(parts)  # in the table's key order
                                + " ORDER BY contact_id, workflow").fetchall()
            at = codec.time_in(moment)
            codec.insert_many(connection, "trigger_states",
                              ("workflow", "contact_id", "matching", "enrollments",
                               "checked_at"),
                              [(*row, at) for row in rows],
                              kinds=("text", "text", "bool", "int8", "timestamptz"),
                              upsert_on=("contact_id", "workflow"),
                              update=("matching", "enrollments", "checked_at"), chunk=50_000)
        if sqlite:  # the schedule's rows made here, bound as SQLite keeps times
            duck.register("v", pa.table({"contact_id": pa.array(list(versions), pa.string()),
                                         "version": pa.array(list(versions.values()),
                                                             pa.int64())}))
            done = duck.execute("SELECT s.contact_id, v.version FROM s JOIN v USING "
                                "(contact_id) WHERE s.next_change_us IS NULL").fetchall()
            later = duck.execute(
                "SELECT s.contact_id, strftime(make_timestamp(s.next_change_us), "
                f"'%Y-%m-%d %H:%M:%S.%f'), {quote_text(NEXT_REASON)}, v.version "
                "FROM s JOIN v USING (contact_id) WHERE s.next_change_us IS NOT NULL"
            ).fetchall()
            write_schedule_rows(connection, done, later)
            return
    finally:
        duck.close()
    schedule: dict[str, tuple[datetime, str] | None] = {}
    for cid, later_us in zip(ids, settled.column("next_change_us").to_pylist(), strict=True):
        schedule[cid] = None if later_us is None else (
            datetime.fromtimestamp(micros_to_seconds(later_us), tz=UTC), NEXT_REASON)
    write_schedule(connection, schedule, {cid: versions[cid] for cid in ids})


def _write_scores(automation: Automation, writer: Any, settled: pa.Table, ids: list[str],
                  moment: datetime) -> None:
    """On the embedded store as `leadscore score` stores a run (a score segment and history
    where a value or label changed); on PostgreSQL as rows, only the changed ones."""
    model = automation.model
    store = automation.store
    if store.segments is not None:
        from leadscore.storage.bulk import staging
        from leadscore.storage.score_writes import store_results
        from leadscore.storage.views import DataView

        at = to_micros(moment)
        with staging(store) as staged, DataView(writer.connection) as view:
            results = view.register(settled)
            store_results(staged, view, model, results, as_of_us=at, computed_us=at,
                          full=False, stage_rules=False, writer=writer)
        return
    records: list[ScoreRecord] = []
    for name in model.scores:
        values = settled.column(name).to_pylist()
        labels = settled.column(f"{name}:label").to_pylist()
        scored = settled.column(f"{name}:scored").to_pylist()
        records += map(ScoreRecord, ids, [name] * len(ids), values, labels, scored)
    if "grade" in settled.column_names:
        records += [ScoreRecord(cid, "grade", None, grade) for cid, grade
                    in zip(ids, settled.column("grade").to_pylist(), strict=True)
                    if grade is not None]
    writer.save_scores(model.name, records, computed_at=moment, as_of=moment, only_changed=True,
                       version=model.published)


_TYPES = {"contact_id": pa.string(), "list": pa.string(), "workflow": pa.string(),
          "matching": pa.bool_(), "enrollments": pa.int64(), "checked_us": pa.int64()}


def _arrow(rows: Sequence[Any], names: tuple[str, ...]) -> pa.Table:
    """Rows read from the store as an Arrow table (typed even when there are none)."""
    return pa.table({name: pa.array([row[i] for row in rows], _TYPES[name])
                     for i, name in enumerate(names)})


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


__all__ = ["BULK_MIN", "due_count", "settle_in_bulk"]
