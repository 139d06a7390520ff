"""Scoring beyond one machine: the same compiled model as a Spark job (PySpark).

- Files: `leadscore score --engine spark --events E.parquet [--contacts C.parquet]
  [--out DIR] [--master URL]` — Spark reads the Parquet files as they are typed (the rules of
  `scoring.files`) and runs the model's Spark SQL; the results go to `--out` (a folder of
  Parquet files, as Spark writes them).
- The embedded store: its relations (segments and tail, exactly as the DuckDB engine binds
  them) are written to Parquet once, Spark scores them, and the results come back into the
  store like any other run's (score segment, history, stage changes).

`master` is Spark's (`local[2]` by default; `spark://host:7077` or `yarn` for a cluster).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.catalog import PropertyType
from leadscore.catalog.forms import ATTRIBUTE_TIME, to_micros
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model import Model
from leadscore.scoring.runs import ScoredContact, ScoreRun, unscored_of
from leadscore.storage import Store

DEFAULT_MASTER = "local[2]"
NUMERIC = ("double", "float", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16",
           "uint8", "decimal")


# Java's `$` also matches before a final line break: `\z` is the end of the text (written
# `\\z` in a Spark SQL literal)
SPARK_ATTRIBUTE_TIME = ATTRIBUTE_TIME.removesuffix("$") + "\\\\z"


def spark_attribute_time(column: str) -> str:
    """Spark SQL of a text column read as an attribute date: the pattern, then the cast —
    given seconds where a time with an offset has none (Spark's cast refuses `10:00+02:00`)."""
    seconds = (f"CASE WHEN length({column}) > 16 AND substr({column}, 17, 1) <> ':' "
               f"THEN concat(substr({column}, 1, 16), ':00', substr({column}, 17)) "
               f"ELSE {column} END")
    return (f"CASE WHEN {column} RLIKE '{SPARK_ATTRIBUTE_TIME}' "
            f"THEN unix_micros(try_to_timestamp({seconds})) END")


def _name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _session(master: str) -> Any:
    try:
        from leadscore.sql.spark_engine import spark_session
    except ImportError as error:  # pragma: no cover - pyspark missing
        raise LeadscoreError.single(
            "LS334", f"the Spark engine needs pyspark ({error})", Location(field="--engine"),
            hint="pip install 'leadscore[spark]' (and Java 17)") from None
    return spark_session(master)


def _physical(path: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return {field.name: str(field.type) for field in schema}


def _kind_of(physical: str) -> str:
    if physical.startswith("timestamp") or physical.startswith("date"):
        return "time"
    if physical in ("string", "large_string"):
        return "text"
    if physical == "bool":
        return "bool"
    if any(physical.startswith(n) for n in NUMERIC):
        return "number"
    return "other"


def _events_view(path: Path, required: frozenset[tuple[str, str]]) -> str:
    types = {k: _kind_of(v) for k, v in _physical(path).items()}
    picks = []
    for name, kind in sorted(required):
        target = _name(f"{name}:{kind}")
        have = types.get(name)
        fits = {"string": "text", "number": "number", "bool": "bool", "date": "time"}[kind]
        if have == fits:
            value = {"string": _name(name), "number": f"CAST({_name(name)} AS DOUBLE)",
                     "bool": _name(name), "date": f"unix_micros({_name(name)})"}[kind]
        elif kind == "date" and have == "text":  # catalog.ATTRIBUTE_TIME, then the cast
            value = spark_attribute_time(_name(name))
        else:
            value = {"string": "CAST(NULL AS STRING)", "number": "CAST(NULL AS DOUBLE)",
                     "bool": "CAST(NULL AS BOOLEAN)", "date": "CAST(NULL AS BIGINT)"}[kind]
        picks.append(f"{value} AS {target}")
    occurred = ("unix_micros(occurred_at)" if types.get("occurred_at") == "time" else
                "CAST(occurred_at AS BIGINT)" if "occurred_at" in types else
                "CAST(occurred_us AS BIGINT)")
    extra = f", {', '.join(picks)}" if picks else ""
    return (f"SELECT CAST(contact_id AS STRING) AS contact_id, CAST(type AS STRING) AS type, "
            f"{occurred} AS occurred_us{extra} FROM ls_file_events")


def _contacts_views(path: Path, required: dict[str, tuple[PropertyType, bool]], as_of_us: int
                    ) -> tuple[str, str]:
    types = {k: _kind_of(v) for k, v in _physical(path).items()}
    now = to_micros(datetime.now(UTC))
    created = "unix_micros(created_at)" if types.get("created_at") == "time" else "NULL"
    known = "unix_micros(updated_at)" if types.get("updated_at") == "time" else created
    picks = []
    space = r"[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}" \
            r"\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
    for name, (kind, changed) in required.items():
        have = types.get(name)
        column = _name(name)
        if name == "created_at" and have is None:
            value = created
        elif kind is PropertyType.NUMBER:
            value = f"CAST({column} AS DOUBLE)" if have == "number" else "CAST(NULL AS DOUBLE)"
        elif kind is PropertyType.BOOL:
            value = column if have == "bool" else "CAST(NULL AS BOOLEAN)"
        elif kind is PropertyType.DATE:
            value = f"unix_micros({column})" if have == "time" else "CAST(NULL AS BIGINT)"
        else:
            value = (f"nullif(regexp_replace({column}, '^{space}+|{space}+$', ''), '')"
                     if have == "text" else "CAST(NULL AS STRING)")
        if have is not None:
            value = f"CASE WHEN coalesce({known}, {now}) <= {as_of_us} THEN {value} END"
        picks.append(f"{value} AS {_name(name)}")
        if changed:
            picks.append(f"CASE WHEN {column} IS NOT NULL THEN coalesce({known}, {now}) END "
                         f"AS {_name(name + ':changed')}" if have is not None else
                         f"CAST(NULL AS BIGINT) AS {_name(name + ':changed')}")
    contacts = (f"SELECT CAST(contact_id AS STRING) AS contact_id, "
                f"coalesce({created}, {known}, {now}) AS created_us FROM ls_file_contacts")
    values = (f"SELECT CAST(contact_id AS STRING) AS contact_id"
              f"{', ' if picks else ''}{', '.join(picks)} FROM ls_file_contacts")
    return contacts, values


def score_files_spark(model: Model, *, events: Path | None, contacts: Path | None,
                      as_of: datetime | None = None, out: Path | None = None, keep: int = 10,
                      master: str = DEFAULT_MASTER) -> ScoreRun:
    """Score Parquet files on Spark (nothing is stored)."""
    from leadscore.sql import compile_model

    for path in (events, contacts):
        if path is not None and Path(path).suffix.lower() != ".parquet":
            raise LeadscoreError.single(
                "LS335", "the Spark engine reads Parquet files", Location(file=str(path)),
                hint="import a CSV or JSON Lines file first, or convert it to Parquet")
    started = time.perf_counter()
    moment = as_of or datetime.now(UTC)
    as_of_us = to_micros(moment)
    query = compile_model(model, as_of=as_of_us, dialect="spark", stage_rules=True)
    spark = _session(master)
    run = ScoreRun(model.name, moment, written=False, engine="spark",
                   labels={name: Counter() for name in model.scores})
    try:
        if events is not None:
            spark.read.parquet(str(events)).createOrReplaceTempView("ls_file_events")
            spark.sql(_events_view(Path(events), query.required_attributes)) \
                .createOrReplaceTempView("ls_events")
        else:
            spark.sql("SELECT CAST(NULL AS STRING) AS contact_id, CAST(NULL AS STRING) AS type, "
                      "CAST(NULL AS BIGINT) AS occurred_us WHERE false") \
                .createOrReplaceTempView("ls_events")
        if contacts is not None:
            spark.read.parquet(str(contacts)).createOrReplaceTempView("ls_file_contacts")
            contacts_sql, values_sql = _contacts_views(Path(contacts),
                                                       query.required_properties, as_of_us)
            spark.sql(contacts_sql).createOrReplaceTempView("ls_contacts")
            spark.sql(values_sql).createOrReplaceTempView("ls_values")
        else:
            spark.sql("SELECT contact_id, min(occurred_us) AS created_us FROM ls_events "
                      "GROUP BY contact_id").createOrReplaceTempView("ls_contacts")
            spark.sql("SELECT CAST(NULL AS STRING) AS contact_id WHERE false") \
                .createOrReplaceTempView("ls_values")
        results = spark.sql(query.sql)
        results.cache()
        run.contacts = results.count()
        for name in model.scores:
            label = f"{name}:label"
            run.labels[name] = Counter({(row[0] or "—"): int(row[1]) for row in
                                        results.groupBy(label).count().collect()})
        if out is not None:
            results.write.mode("overwrite").parquet(str(out))
        primary = model.primary_score.name
        top = results.orderBy(results[_name(primary)].desc_nulls_last(), "contact_id") \
            .limit(keep).collect() if keep else []
        run.results = [_scored(row.asDict(), model) for row in top]
    finally:
        spark.stop()
    run.seconds = time.perf_counter() - started
    return run


def _scored(row: dict[str, Any], model: Model) -> ScoredContact:
    return ScoredContact(row["contact_id"], {n: row.get(n) for n in model.scores},
                         {n: row.get(f"{n}:label") for n in model.scores}, row.get("grade"),
                         row.get("grade_label"), row.get("stage_target"),
                         row.get("stage_target"), unscored_of(row, model))


def score_store_spark(store: Store, model: Model, *, as_of: datetime | None = None,
                      write: bool = True, master: str = DEFAULT_MASTER,
                      keep_results: bool = False) -> ScoreRun:
    """Score every contact of the embedded store on Spark and store the results."""
    from leadscore.scoring.sources import bind_embedded, drop_views
    from leadscore.sql import compile_model
    from leadscore.storage.bulk import staging
    from leadscore.storage.duck import quote_text
    from leadscore.storage.score_writes import store_results
    from leadscore.storage.views import DataView

    if store.segments is None:
        raise LeadscoreError.single(
            "LS336", "the Spark engine scores the embedded store or Parquet files; a "
                     "PostgreSQL store scores in the database", Location(field="--engine"),
            hint="leave out --engine")
    started = time.perf_counter()
    now = datetime.now(UTC)
    moment = as_of or now
    as_of_us, computed_us = to_micros(moment), to_micros(now)
    run = ScoreRun(model.name, moment, written=write, engine="spark",
                   labels={name: Counter() for name in model.scores})
    query = compile_model(model, as_of=as_of_us, dialect="spark", stage_rules=True,
                          schedule=True, ledger=True)
    with staging(store) as staged, store.read_raw() as connection, \
            DataView(connection) as view, tempfile.TemporaryDirectory(
                prefix="leadscore-spark-", dir=staged.folder) as folder:
        names = bind_embedded(view, required_properties=query.required_properties,
                              required_attributes=query.required_attributes,
                              event_types=query.event_types or None, as_of_us=as_of_us,
                              now=as_of is None,
                              company_scores_of=(model.name if query.reads_company_scores
                                                 else None))
        canonicals = ["ls_contacts", "ls_values", "ls_events", "ls_ledger"]
        if query.reads_company_scores:
            canonicals.append("ls_company_scores")
        try:
            for canonical in canonicals:
                target = quote_text(str(Path(folder) / f"{canonical}.parquet"))
                staged.duck.execute(f"COPY (SELECT * FROM {names[canonical]}) TO {target} "
                                    "(FORMAT parquet)")
        finally:
            drop_views(staged.duck, names)
        spark = _session(master)
        try:
            for canonical in canonicals:
                spark.read.parquet(str(Path(folder) / f"{canonical}.parquet")) \
                    .createOrReplaceTempView(canonical)
            spark.sql(query.sql).write.mode("overwrite").parquet(str(Path(folder) / "results"))
        finally:
            spark.stop()
        results = f"read_parquet({quote_text(str(Path(folder) / 'results' / '*.parquet'))})"
        run.contacts = int(staged.duck.execute(f"SELECT count(*) FROM {results}")
                           .fetchall()[0][0])
        if write:
            stored = store_results(staged, view, model, results, as_of_us=as_of_us,
                                   computed_us=computed_us, full=True)
            run.changed, run.labels, run.stage_moves = (stored.changed, stored.labels,
                                                        stored.stage_moves)
    run.seconds = time.perf_counter() - started
    return run
