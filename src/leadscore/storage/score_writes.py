"""Storing a bulk run's results set-wise: scores, score history, stage changes.

The results of a compiled model (one row per scored contact: every score and label, the grade,
the threshold stage, the stage target and the kind of its cause) become, in one transaction:
- the contacts' current scores (on the embedded store a score segment; on PostgreSQL rows
  of `scores`),
- a score history row wherever a value or label changed,
- a stage change wherever the target is a forward move from the contact's current stage, with
  its cause, and the lifecycle_stage property set accordingly.
A run that scored every contact retires the model's older score segments.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from leadscore.lifecycle.stage import OTHER
from leadscore.model import Model
from leadscore.storage.bulk import ROW_GROUP_ROWS, Staging
from leadscore.storage.duck import quote_name, quote_text, record_batches
from leadscore.storage.scores import GRADE, SCORED, current_wide_sql, wide_columns
from leadscore.storage.segments import SegmentKind
from leadscore.storage.values import column as value_column
from leadscore.storage.values import values_sql
from leadscore.storage.views import DataView

# a run that scored at least this many contacts writes a score segment (a patch over the
# base), fewer go to the `scores` table: rows there are read into DuckDB through Arrow, and
# 50,000 of them cost a `leads` call 1.5 s
SCORE_SEGMENT_MIN = 1_000

log = logging.getLogger("leadscore.scores")
LIFECYCLE = "lifecycle_stage"
CHUNK = 50_000


@dataclass
class StoredRun:
    contacts: int = 0
    changed: int = 0  # score values (contact × score) whose value or label changed
    labels: dict[str, Counter] = field(default_factory=dict)
    stage_moves: Counter = field(default_factory=Counter)
    # sequence numbers of the property changes the run itself recorded (lifecycle stages):
    # not news to the model's next run
    own_changes: tuple[int, int] | None = None


def forward_move_sql(current: str, target: str, order: tuple[str, ...]) -> str:
    """`lifecycle.stage.forward_move` in SQL: the stage an automatic assignment sets, or NULL
    — never backward, never sideways, never out of 'other'."""
    def rank(value: str) -> str:
        return ("CASE " + " ".join(f"WHEN {value} = {quote_text(s)} THEN {i}"
                                   for i, s in enumerate(order)) + " END")
    return (f"CASE WHEN {target} IS NULL OR {target} IS NOT DISTINCT FROM {current} THEN NULL "
            f"WHEN {current} IS NOT DISTINCT FROM {quote_text(OTHER)} THEN NULL "
            f"WHEN {rank(target)} IS NULL THEN NULL "
            f"WHEN {rank(current)} IS NOT NULL AND {rank(target)} <= {rank(current)} THEN NULL "
            f"ELSE {target} END")


def cause_sql(model: Model, reason: str, target: str, *, dialect: str = "duckdb") -> str:
    """The recorded cause of a stage move, as `lifecycle.rules.StageRules` words it."""
    stage_score = model.stage_score
    threshold = "NULL"
    if stage_score is not None:
        value = quote_name(stage_score.name)
        label = quote_name(stage_score.name + ":label")
        described = "CASE " + " ".join(
            f"WHEN {label} = {quote_text(t.label)} THEN {quote_text(t.describe())}"
            for t in stage_score.thresholds) + " ELSE '' END" if stage_score.thresholds \
            else "''"
        shown = (f"printf('%g', {value})" if dialect == "duckdb"
                 else f"({value})::double precision::text")  # both as Python's :g for scores
        threshold = (f"'score {stage_score.name} ' || {shown} || ' reached ' || "
                     f"coalesce({label}, '') || ' (' || {described} || ') under model "
                     f"{model.name.replace(chr(39), chr(39) * 2)}'")
    return (f"CASE WHEN {reason} = 'criteria' THEN 'met the ' || {target} || ' criteria' "
            f"WHEN {reason} = 'threshold' THEN {threshold} ELSE {reason} END")


def store_results(staged: Staging, view: DataView, model: Model, results: str, *,
                  as_of_us: int, computed_us: int, full: bool,
                  stage_rules: bool = True, writer: Any = None,
                  finish: Callable[[Any], None] | None = None) -> StoredRun:
    """Store `results` (SQL of the compiled query's output in the store's DuckDB) of the
    embedded store. `full`: every contact was scored. `writer`: write in that open
    transaction (the caller commits), not in one of its own. `finish(connection)` runs last
    in the same transaction (a publish makes its version live there).

    Every row names the version that computed it (`model.published`, a constant of the run);
    a score whose value and label are unchanged but whose version is new gains a history row,
    so that the history says under which version each score held."""
    store = staged.store
    segments = store.segments
    assert segments is not None
    duck = staged.duck
    names = list(model.scores)
    started = time.perf_counter()
    wide = ", ".join(f"r.{c}" for c in _wide(names))
    stage = ("CAST(NULL AS VARCHAR)" if not stage_rules else
             forward_move_sql(f"v.{value_column(LIFECYCLE, 'text')}", "r.stage_target",
                              model.lifecycle.order))
    current = values_sql(view, [LIFECYCLE], within=None if full else results)
    joined = staged.write("joined", f"""
        SELECT r.contact_id, {wide}, r.grade,
               {stage} AS moved_to, v.{value_column(LIFECYCLE, 'text')} AS stage_before,
               {('r.stage_reason' if stage_rules else 'CAST(NULL AS VARCHAR)')} AS reason,
               {('r.next_change_us' if _has(duck, results, 'next_change_us')
                 else 'CAST(NULL AS BIGINT)')} AS next_change_us
        FROM {results} AS r LEFT JOIN {current} AS v ON v.contact_id = r.contact_id""")
    run = StoredRun(contacts=_count(duck, joined))
    counted = duck.execute(
        "SELECT " + ", ".join(f"histogram(coalesce({quote_name(n + ':label')}, '—'))"
                              for n in names)
        + f", histogram(moved_to) FILTER (WHERE moved_to IS NOT NULL) FROM {joined}"
    ).fetchall()[0]
    for name, found in zip(names, counted, strict=False):
        run.labels[name] = Counter({label: int(n) for label, n in (found or {}).items()})
    run.stage_moves = Counter({stage: int(n) for stage, n in (counted[-1] or {}).items()})
    # the previous current scores of these contacts → history where something changed: one
    # join, each score's verdict unnested from it (a join per score cost 5× as much)
    previous = current_wide_sql(view, model.name, names)
    new_version = f"p.version IS DISTINCT FROM {version_sql(model)}"
    facts = []
    for name in names:
        value, label = quote_name(name), quote_name(name + ":label")
        same_value = (f"(abs(coalesce(p.{value}, 'nan'::DOUBLE) - coalesce(r.{value}, "
                      f"'nan'::DOUBLE)) <= 1e-9 OR (p.{value} IS NULL AND r.{value} IS NULL))")
        changed = (f"p.contact_id IS NULL OR NOT {same_value} "
                   f"OR p.{label} IS DISTINCT FROM r.{label} OR {new_version}")
        facts.append(f"{{'score': {quote_text(name)}, 'value': CAST(r.{value} AS DOUBLE), "
                     f"'label': r.{label}, 'changed': {changed}}}")
    if model.grade is not None:
        facts.append(f"{{'score': '{GRADE}', 'value': CAST(NULL AS DOUBLE), 'label': r.grade, "
                     f"'changed': p.contact_id IS NULL OR p.grade IS DISTINCT FROM r.grade "
                     f"OR {new_version}}}")
    history = staged.write("history", f"""
        SELECT contact_id, f.score AS score, f.value AS value, f.label AS label FROM (
          SELECT r.contact_id, unnest([{', '.join(facts)}]) AS f
          FROM {joined} AS r LEFT JOIN {previous} AS p ON p.contact_id = r.contact_id)
        WHERE f.changed""")
    run.changed = _count(duck, history)
    moves = staged.write("moves", f"""
        SELECT contact_id, moved_to AS stage, stage_before AS previous,
               {cause_sql(model, 'reason', 'moved_to')} AS cause
        FROM {joined} WHERE moved_to IS NOT NULL""")
    log.debug("compared %d results in %.2fs", run.contacts, time.perf_counter() - started)
    _publish(staged, model, joined, history, moves, as_of_us=as_of_us,
             computed_us=computed_us, full=full, run=run, writer=writer, finish=finish)
    return run


def version_sql(model: Model) -> str:
    """The version a model's rows name, as a SQL constant (NULL for a model file)."""
    return "CAST(NULL AS BIGINT)" if model.published is None else \
        f"CAST({int(model.published)} AS BIGINT)"


def _wide(names: list[str]) -> list[str]:
    return wide_columns(names)


def _has(duck: Any, relation: str, name: str) -> bool:
    return name in [row[0] for row in duck.execute(
        f"DESCRIBE SELECT * FROM {relation}").fetchall()]


def _count(duck: Any, relation: str) -> int:
    return int(duck.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])


def _publish(staged: Staging, model: Model, joined: str, history: str, moves: str, *,
             as_of_us: int, computed_us: int, full: bool, run: StoredRun,
             writer: Any = None, finish: Callable[[Any], None] | None = None) -> None:
    store = staged.store
    segments = store.segments
    assert segments is not None
    duck = staged.duck
    names = list(model.scores)
    wide = ", ".join(_wide(names))
    moved = run.stage_moves.total()
    big = run.contacts >= SCORE_SEGMENT_MIN
    score_file = None
    if big:
        score_file = segments.new_file(SegmentKind.SCORES)
        duck.execute(f"""
            COPY (SELECT contact_id, {wide}, grade, coalesce(moved_to, stage_before) AS stage,
                         next_change_us, CAST({computed_us} AS BIGINT) AS computed_us,
                         CAST({as_of_us} AS BIGINT) AS as_of_us,
                         {version_sql(model)} AS version
                  FROM {joined} ORDER BY contact_id)
            TO {quote_text(str(score_file))} (FORMAT parquet, COMPRESSION zstd,
                                             ROW_GROUP_SIZE {ROW_GROUP_ROWS})""")
    with nullcontext(writer) if writer is not None else store.write() as writer:
        connection = writer.connection
        if score_file is not None:
            old = score_segments_of(segments, connection, model.name) if full else []
            segments.publish(connection, SegmentKind.SCORES, score_file, rows=run.contacts,
                             model=model.name, meta={"scores": names,
                                                     "grade": model.grade is not None,
                                                     "full": full})
            segments.retire(connection, old)
            if full:  # every contact's scores are in the new base; a patch's older rows
                # in the table are outranked by it, and folded away by the maintenance
                connection.exec_driver_sql("DELETE FROM scores WHERE model = ? AND "
                                           "computed_us <= ?", (model.name, computed_us))
        else:
            rows = []
            for batch in record_batches(duck, f"SELECT contact_id, {wide}, grade, "
                                              f"next_change_us FROM {joined}", CHUNK):
                for row in batch.to_pylist():
                    later = row["next_change_us"]
                    for name in names:
                        rows.append((row["contact_id"], model.name, name, row[name],
                                     row[name + ":label"], computed_us, as_of_us, later,
                                     model.published, row[name + SCORED]))
                    if model.grade is not None:
                        rows.append((row["contact_id"], model.name, GRADE, None, row["grade"],
                                     computed_us, as_of_us, later, model.published, None))
            writer.codec.insert_many(
                connection, "scores", ("contact_id", "model", "score", "value", "label",
                                       "computed_us", "as_of_us", "next_change_us", "version",
                                       "scored"),
                rows, kinds=("text", "text", "text", "float8", "text", "int8", "int8", "int8",
                             "int8", "bool"),
                upsert_on=("contact_id", "model", "score"),
                update=("value", "label", "computed_us", "as_of_us", "next_change_us",
                        "version", "scored"))
        _append(writer, duck, f"SELECT contact_id, '{_q(model.name)}' AS model, score, value, "
                              f"label, CAST({computed_us} AS BIGINT) AS computed_us, "
                              f"CAST({as_of_us} AS BIGINT) AS as_of_us, "
                              f"{version_sql(model)} AS version FROM {history}",
                "score_history", ("contact_id", "model", "score", "value", "label",
                                  "computed_us", "as_of_us", "version"),
                ("text", "text", "text", "float8", "text", "int8", "int8", "int8"),
                SegmentKind.HISTORY, staged)
        if moved:
            _append(writer, duck, f"SELECT contact_id, stage, previous, "
                                  f"CAST({as_of_us} AS BIGINT) AS changed_us, cause "
                                  f"FROM {moves}",
                    "stage_changes", ("contact_id", "stage", "previous", "changed_us", "cause"),
                    ("text", "text", "text", "int8", "text"), SegmentKind.STAGES, staged)
            run.own_changes = _append(
                writer, duck, f"SELECT contact_id, '{LIFECYCLE}' AS name, "
                                  f"CAST({as_of_us} AS BIGINT) AS changed_us, "
                                  f"'lifecycle' AS source, to_json(stage)::VARCHAR AS value, "
                                  f"stage AS v_text, CAST(NULL AS DOUBLE) AS v_num, "
                                  f"CAST(NULL AS BOOLEAN) AS v_bool, "
                                  f"CAST(NULL AS BIGINT) AS v_time FROM {moves}",
                    "property_changes", ("contact_id", "name", "changed_us", "source", "value",
                                         "v_text", "v_num", "v_bool", "v_time"),
                ("text", "text", "int8", "text", "jsonb", "text", "float8", "bool", "int8"),
                SegmentKind.PROPS, staged)
        if finish is not None:
            finish(connection)


def score_segments_of(segments: Any, connection: Any, model: str) -> list[Any]:
    return segments.live(connection, SegmentKind.SCORES, model=model)


def _q(text: str) -> str:
    return text.replace("'", "''")


def _append(writer: Any, duck: Any, sql: str, table: str, columns: tuple[str, ...],
            kinds: tuple[str, ...], kind: SegmentKind, staged: Staging
            ) -> tuple[int, int] | None:
    """Append the rows of `sql` to `table`: a segment when many (sequence numbers reserved
    from the table's own), else rows of the table. Returns the first and last sequence number
    given (in the caller's exclusive write transaction)."""
    count = int(duck.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0])
    if not count:
        return None
    segments = staged.store.segments
    connection = writer.connection
    if count >= SCORE_SEGMENT_MIN and segments is not None:
        first = segments.reserve_seq(connection, table, count)
        target = segments.new_file(kind)
        duck.execute(f"COPY (SELECT {first - 1} + row_number() OVER () AS seq, * FROM ({sql}) "
                     f"ORDER BY contact_id) TO {quote_text(str(target))} (FORMAT parquet, "
                     f"COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
        segments.publish(connection, kind, target, rows=count, min_seq=first,
                         max_seq=first + count - 1)
        return first, first + count - 1
    before = int(connection.exec_driver_sql(f"SELECT coalesce(max(seq), 0) FROM {table}")
                 .scalar() or 0)
    for batch in record_batches(duck, sql, CHUNK):
        data = batch.to_pydict()
        writer.codec.insert_many(connection, table, columns,
                                 list(zip(*(data[c] for c in columns), strict=True)),
                                 kinds=kinds)
    after = int(connection.exec_driver_sql(f"SELECT coalesce(max(seq), 0) FROM {table}")
                .scalar() or 0)
    return before + 1, after


__all__ = ["StoredRun", "cause_sql", "forward_move_sql", "store_results"]
