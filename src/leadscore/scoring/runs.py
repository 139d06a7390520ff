"""`leadscore score`: scoring a store's contacts with the compiled model, set-wise.

A run compiles the model to SQL (`leadscore.sql`), binds its relations to the store, runs it
in the store's engine — DuckDB over the embedded store's segments, PostgreSQL in the database
— and stores the results set-wise (`storage.score_writes`). Unless asked for a full run, only
contacts whose scores can have changed are scored: those with data recorded since the model's
last run, new contacts, contacts never scored under it, and those whose next time-based
change (a window ending, a decay step) has come. A different model (another digest) or a
moment other than now always scores everyone.

`engine="python"` keeps the reference path: every contact through the Python evaluator.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadscore.catalog.forms import to_micros
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.model import Model
from leadscore.storage import Store
from leadscore.storage.changes import Marks, contacts_changed_since, recorded_marks
from leadscore.storage.duck import quote_text
from leadscore.storage.state import read_state, write_state
from leadscore.storage.views import DataView

log = logging.getLogger("leadscore.score")
ENGINES = ("auto", "python", "duckdb", "postgres", "spark")
STATE_PREFIX = "score:"


@dataclass
class ScoredContact:
    """One contact's results, as a run returns them (`keep_results`)."""

    contact_id: str
    values: dict[str, float | None]
    labels: dict[str, str | None]
    grade: str | None = None
    grade_label: str | None = None
    # the stage the lifecycle rules give (`lifecycle.StageRules.target`: outcomes, exclusions,
    # criteria or else thresholds) — the one rule every command and answer reports
    stage: str | None = None
    stage_target: str | None = None  # the same (kept for callers that name it so)
    # the scores no rule and no ledger entry gave a value (value 0: see docs/model.md)
    unscored: frozenset[str] = frozenset()

    def value(self, score: str) -> float:
        found = self.values.get(score)
        return float("-inf") if found is None else found

    def to_dict(self) -> dict[str, Any]:
        return {"contact_id": self.contact_id,
                "scores": {n: {"value": v, "label": self.labels.get(n),
                               "scored": n not in self.unscored}
                           for n, v in self.values.items()},
                "grade": self.grade, "grade_label": self.grade_label, "stage": self.stage}


@dataclass
class ScoreRun:
    model: str
    as_of: datetime
    contacts: int = 0
    events: int = 0
    seconds: float = 0.0
    changed: int = 0  # stored score values (contact × score) that changed
    labels: dict[str, Counter] = field(default_factory=dict)
    stage_moves: Counter = field(default_factory=Counter)
    written: bool = True
    results: list[Any] = field(default_factory=list)  # kept only on request
    engine: str = "python"
    full: bool = True  # every contact scored (else only those that could have changed)
    companies: Any = None  # the company scores' run (`scoring.companies.CompanyRun`), if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "as_of": self.as_of.isoformat(), "contacts": self.contacts,
            "events": self.events, "seconds": round(self.seconds, 3), "changed": self.changed,
            "labels": {s: dict(c) for s, c in self.labels.items()},
            "stage_moves": dict(self.stage_moves), "written": self.written,
            "engine": self.engine, "full": self.full,
            **({"companies": self.companies.to_dict()} if self.companies is not None else {}),
        }


def pick_engine(store: Store, engine: str) -> str:
    if engine not in ENGINES:
        from leadscore.diagnostics import did_you_mean

        raise LeadscoreError.single(
            "LS330", f"'{engine}' is not a scoring engine", Location(field="--engine"),
            text=engine, hint=did_you_mean(engine, ENGINES) or "engines: " + ", ".join(ENGINES))
    if engine == "auto":
        return "duckdb" if store.dialect == "sqlite" else "postgres"
    if engine == "duckdb" and store.dialect != "sqlite":
        raise LeadscoreError.single(
            "LS331", "the DuckDB engine scores the embedded store or files; this store is "
                     "PostgreSQL", Location(field="--engine"),
            hint="leave out --engine (PostgreSQL scores in the database), or --engine python")
    if engine == "postgres" and store.dialect != "postgresql":
        raise LeadscoreError.single(
            "LS331", "the PostgreSQL engine scores a PostgreSQL store; this one is the "
                     "embedded SQLite store", Location(field="--engine"),
            hint="leave out --engine (DuckDB scores the embedded store)")
    return engine


def score_store(store: Store, model: Model, *, as_of: datetime | None = None,
                write: bool = True, full: bool = False, engine: str = "auto",
                keep_results: bool = False, progress: Any = None,
                master: str | None = None,
                finish: Callable[[Any], None] | None = None,
                only: Sequence[str] | None = None) -> ScoreRun:
    """Score the store's contacts under `model` as of `as_of` (default now); with `write`,
    store the scores (history kept on change) and move lifecycle stages forward.
    `finish(connection)`: called last inside the transaction that stores the results (a
    publish makes its version live there; DuckDB and PostgreSQL engines only). `only`: score
    just these contacts, as a pass after the run (their companies' scores changed, which
    stage rules read): what the last run saw stays as it was, with this pass's own stage
    moves added to the changes the next run leaves aside."""
    chosen = pick_engine(store, engine)
    if finish is not None and chosen not in ("duckdb", "postgres"):
        raise LeadscoreError.single(
            "LS364", f"publishing rescores with the store's own engine, not {chosen}",
            Location(field="--engine"), hint="leave out --engine")
    if chosen == "python":
        from leadscore.scoring.python import score_store_python

        return score_store_python(store, model, as_of=as_of, write=write,
                                  keep_results=keep_results, progress=progress, only=only)
    if chosen == "spark":
        if only is not None:
            return ScoreRun(model.name, as_of or datetime.now(UTC), written=write,
                            engine="spark", full=False)  # (`process` moves those stages)
        from leadscore.scoring.spark import score_store_spark

        return score_store_spark(store, model, as_of=as_of, write=write,
                                 master=master or "local[2]")
    if chosen == "postgres":
        from leadscore.scoring.postgres import score_postgres

        return score_postgres(store, model, as_of=as_of, write=write, full=full,
                              keep_results=keep_results, finish=finish, only=only)
    return score_embedded(store, model, as_of=as_of, write=write, full=full,
                          keep_results=keep_results, finish=finish, only=only)


# -- the embedded store, in DuckDB ------------------------------------------------------------

def score_embedded(store: Store, model: Model, *, as_of: datetime | None, write: bool,
                   full: bool, keep_results: bool,
                   finish: Callable[[Any], None] | None = None,
                   only: Sequence[str] | None = None) -> ScoreRun:
    from leadscore.scoring.sources import bind_embedded, drop_views
    from leadscore.sql import compile_model
    from leadscore.storage.bulk import staging
    from leadscore.storage.maintenance import maintain
    from leadscore.storage.score_writes import store_results

    started = time.perf_counter()
    now = datetime.now(UTC)
    moment = as_of or now
    as_of_us = to_micros(moment)
    computed_us = to_micros(now)
    run = ScoreRun(model.name, moment, written=write, engine="duckdb",
                   labels={name: Counter() for name in model.scores})
    own: list[tuple[int, int]] = []
    if write:
        maintain(store)
    with staging(store) as staged, store.read() as connection, DataView(connection) as view:
        marks = recorded_marks(connection)
        revision = _revision(connection)
        if only is not None:
            targets: set[str] | None = set(only)
        else:
            targets = None if (full or as_of is not None or not write) else \
                _targets(view, model, marks, computed_us)
        run.full = targets is None
        if targets is not None and not targets:
            run.seconds = time.perf_counter() - started
            if write and only is None:
                _remember(store, model, marks, revision, as_of_us, [])
            return run
        query = compile_model(model, as_of=as_of_us, dialect="duckdb", stage_rules=True,
                              schedule=True, targets=targets is not None, ledger=True)
        names = bind_embedded(view, required_properties=query.required_properties,
                              required_attributes=query.required_attributes,
                              event_types=query.event_types or None, as_of_us=as_of_us,
                              targets=sorted(targets) if targets is not None else None,
                              now=as_of is None,
                              company_scores_of=(model.name if query.reads_company_scores
                                                 else None))
        try:  # the query gets the memory configured (staging keeps its writes under less)
            staged.duck.execute(f"SET memory_limit = {quote_text(staged.memory_limit)}")
            results = staged.write("results", query.sql)
            run.events = _events(view)
            if keep_results or not write:
                run.results = _results(staged.duck, results, model)
            if write:
                stored = store_results(staged, view, model, results, as_of_us=as_of_us,
                                       computed_us=computed_us, full=targets is None,
                                       finish=finish)
                run.contacts, run.changed = stored.contacts, stored.changed
                run.labels, run.stage_moves = stored.labels, stored.stage_moves
                own = [stored.own_changes] if stored.own_changes else []
            else:
                run.contacts = len(run.results)
                for result in run.results:
                    for name in model.scores:
                        run.labels[name][result.labels.get(name) or "—"] += 1
        finally:
            drop_views(staged.duck, names)
    if write:
        if only is None:
            _remember(store, model, marks, revision, as_of_us, own)
        else:
            with store.write() as writer:
                remember_own(writer.connection, model, own)
        maintain(store)
    run.seconds = time.perf_counter() - started
    return run


def _events(view: DataView) -> int:
    total = int(view.connection.exec_driver_sql("SELECT count(*) FROM events").scalar() or 0)
    if view.segments is not None:
        from leadscore.storage.segments import SegmentKind

        total += sum(s.rows for s in view.segments.live(view.connection, SegmentKind.EVENTS))
    return total


def unscored_of(row: dict[str, Any], model: Model) -> frozenset[str]:
    """The unscored scores of a result row (`"<score>:scored"` FALSE)."""
    return frozenset(n for n in model.scores if row.get(f"{n}:scored") is False)


def _results(duck: Any, results: str, model: Model) -> list[ScoredContact]:
    from leadscore.storage.duck import record_batches

    found: list[ScoredContact] = []
    for batch in record_batches(duck, f"SELECT * FROM {results}"):
        for row in batch.to_pylist():
            found.append(ScoredContact(
                row["contact_id"], {n: row.get(n) for n in model.scores},
                {n: row.get(f"{n}:label") for n in model.scores}, row.get("grade"),
                row.get("grade_label"), row.get("stage_target"), row.get("stage_target"),
                unscored_of(row, model)))
    return found


def _revision(connection: Any) -> int:
    return int(connection.exec_driver_sql("SELECT coalesce(max(rev), 0) FROM contacts")
               .scalar() or 0)


def _state(connection: Any, model: Model) -> dict[str, Any] | None:
    found = read_state(connection, STATE_PREFIX + model.name)
    return None if found is None else found[1]


def _targets(view: DataView, model: Model, marks: Marks, now_us: int) -> set[str] | None:
    """The contacts whose scores can have changed since the model's last run, or None when
    everyone must be scored (no run yet, or the model changed)."""
    from leadscore.storage.scores import current_wide_sql

    state = _state(view.connection, model)
    if state is None or state.get("digest") != model.digest:
        return None
    before = Marks.from_state(state)
    found = contacts_changed_since(view.connection, before, except_properties=[
        (int(a), int(b)) for a, b in state.get("own", [])])
    mark = "?" if view.connection.dialect.name == "sqlite" else "%s"
    found.update(row[0] for row in view.connection.exec_driver_sql(
        f"SELECT contact_id FROM contacts WHERE rev > {mark}", (int(state["contacts"]),)))
    # contacts never scored, and those whose next time-based change has come: one pass
    current = current_wide_sql(view, model.name, list(model.scores))
    found.update(row[0] for row in view.query(
        f"SELECT c.contact_id FROM {view.relation('contacts')} AS c LEFT JOIN "
        f"(SELECT contact_id, next_change_us FROM {current}) AS s "
        f"ON s.contact_id = c.contact_id "
        f"WHERE s.contact_id IS NULL OR s.next_change_us <= ?", [now_us]))
    return found


def remember_own(connection: Any, model: Model, own: list[tuple[int, int]]) -> None:
    """Add a pass's own changes (`only`) to those the model's last run left aside, keeping
    what that run saw."""
    found = read_state(connection, STATE_PREFIX + model.name)
    if found is None or not own:
        return
    value, detail = found
    detail["own"] = [*detail.get("own", []), *(list(r) for r in own)]
    write_state(connection, STATE_PREFIX + model.name, value, detail)


def _remember(store: Store, model: Model, marks: Marks, revision: int, as_of_us: int,
              own: list[tuple[int, int]]) -> None:
    """What this run saw (and the changes it made itself), so that the next one scores only
    what changed since."""
    with store.write() as writer:
        write_state(writer.connection, STATE_PREFIX + model.name, as_of_us, {
            "digest": model.digest, **marks.to_dict(),
            "contacts": revision, "as_of_us": as_of_us, "own": [list(r) for r in own]})
