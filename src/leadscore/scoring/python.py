"""The reference scoring path: every contact read into a snapshot and scored by the Python
evaluator (`leadscore score --engine python`). Slow at scale, simple, and the definition the
compiled SQL is tested against."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from leadscore.evaluation import Scorer
from leadscore.lifecycle import StageRules
from leadscore.model import Model
from leadscore.scoring.runs import ScoredContact, ScoreRun
from leadscore.storage import Store
from leadscore.storage.records import ScoreRecord, StageChange


def score_store_python(store: Store, model: Model, *, as_of: datetime | None = None,
                       write: bool = True, keep_results: bool = False,
                       progress: Any = None, only: Sequence[str] | None = None) -> ScoreRun:
    """Every contact (or those `only` names) through the Python evaluator (the reference
    every engine matches)."""
    now = datetime.now(UTC)
    as_of = as_of or now
    started = time.perf_counter()
    scorer = Scorer(model)
    rules = StageRules(model)
    current = store.current_stages() if write else {}
    run = ScoreRun(model.name, as_of, written=write,
                   labels={name: Counter() for name in model.scores})
    records: list[ScoreRecord] = []
    moves: list[StageChange] = []
    total = store.counts().get("contacts", 0) if progress else 0
    company = _company_scores(store, model)
    if only is not None:
        run.full = False
    for snap in store.load_snapshots(as_of, catalog=model.catalog,
                                     contact_ids=None if only is None else list(only)):
        if company is not None:  # stage rules with `company_score:` conditions
            snap.company_scores = company.get(snap.contact_id, {})
        result = scorer.score(snap)
        run.contacts += 1
        run.events += snap.event_count()
        if progress and run.contacts % 2000 == 0:
            progress(run.contacts, total)
        for name, score in result.scores.items():
            run.labels[name][score.label or "—"] += 1
            records.append(ScoreRecord(snap.contact_id, name, score.value, score.label,
                                       score.scored))
        if result.grade is not None:
            records.append(ScoreRecord(snap.contact_id, "grade", None, result.grade))
        if keep_results:
            qualified = rules.target(snap, result)
            stage = qualified.stage if qualified else None
            run.results.append(ScoredContact(
                snap.contact_id, {n: s.value for n, s in result.scores.items()},
                {n: s.label for n, s in result.scores.items()}, result.grade,
                result.grade_label, stage, stage, result.unscored()))
        if write:
            previous = current.get(snap.contact_id)
            found = rules.move(snap, result, previous)
            if found is not None:
                target, cause = found
                moves.append(StageChange(snap.contact_id, target, previous, as_of, cause))
                run.stage_moves[target] += 1
    if progress:
        progress(run.contacts, total)
    if write:
        run.changed = store.save_scores(model.name, records, computed_at=now, as_of=as_of,
                                        version=model.published)
        if moves:
            store.record_stage_changes(moves)
        store.refresh_statistics(("scores", "score_history", "stage_changes"))
    run.seconds = time.perf_counter() - started
    return run


def _company_scores(store: Store, model: Model
                    ) -> dict[str, dict[str, tuple[float | None, str | None]]] | None:
    """The contacts' companies' stored scores that the stage rules read (None: none)."""
    from leadscore.model.criteria import company_scores_read
    from leadscore.storage.companies import contact_company_scores

    names = company_scores_read([*model.lifecycle.exclude,
                                 *(x for _, x in model.lifecycle.qualify)])
    if not names:
        return None
    with store.read() as connection:
        return contact_company_scores(connection, model.name, None, names)
