"""Backtests: score history point in time and measure how well the scores predicted sales.

`score_cases(models, pairs)` scores each (snapshot, case) pair under one or more models with
the evaluator's fast path, keeping only numbers per contact (so a million contacts fit), plus
the few snapshots needed to explain surprises: converters with the lowest scores and the
highest scorers that never converted. `BacktestResult` turns one model's scores into the
report: ROC AUC with a bootstrap interval, lift and conversion by decile and by label, MQL
and SQL volume and precision, calibration, curves.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from leadscore.calibration import metrics
from leadscore.calibration.population import Case, LeftOut
from leadscore.diagnostics import Diagnostic
from leadscore.evaluation import ContactScores, ContactSnapshot, Scorer, explain_snapshot
from leadscore.lifecycle import StageRules
from leadscore.model import Model
from leadscore.model.model import Score

Progress = Callable[[int, int], None]
STAGE_ORDER = ("sql", "mql", "lead", "subscriber")


@dataclass
class Surprise:
    """A contact the score got wrong, with its explanation as of its cutoff."""

    contact_id: str
    score: float
    cutoff: float
    converted: bool
    converted_at: float | None
    reasons: list[tuple[str, float]]
    explanation: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id, "score": self.score,
            "cutoff": _iso(self.cutoff), "converted": self.converted,
            "converted_at": _iso(self.converted_at) if self.converted_at else None,
            "top_reasons": [{"rule": name, "points": points} for name, points in self.reasons],
            "explanation": self.explanation,
        }


@dataclass
class ModelScores:
    """One model's scores of every case, in case order."""

    model: Model
    primary: str
    values: dict[str, np.ndarray]
    labels: list[str | None]  # the primary score's threshold label
    stages: list[str | None]  # the stage each contact qualifies for (or MQL/SQL labels)
    low_converters: list[Surprise] = field(default_factory=list)
    high_non_converters: list[Surprise] = field(default_factory=list)
    watched: dict[str, list[Any]] = field(default_factory=dict)  # property → value per case

    @property
    def scores(self) -> np.ndarray:
        return self.values[self.primary]


@dataclass
class ScoredCases:
    ids: list[str]
    created: np.ndarray
    cutoffs: np.ndarray
    labels: np.ndarray  # bool: converted after the cutoff
    models: list[ModelScores]
    events: int = 0


class _Tracker:
    """Keeps the `keep` lowest-scoring converters and highest-scoring others with their
    snapshots (nothing else is kept), to explain them at the end."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.low: list[tuple[float, int, ContactSnapshot, Case]] = []  # max-heap by -score
        self.high: list[tuple[float, int, ContactSnapshot, Case]] = []  # min-heap by score
        self.counter = itertools.count()

    def offer(self, score: float, snap: ContactSnapshot, case: Case) -> None:
        if self.keep <= 0:
            return
        n = next(self.counter)
        heap, key = (self.low, -score) if case.converted else (self.high, score)
        if len(heap) < self.keep:
            heapq.heappush(heap, (key, -n, snap, case))
        elif key > heap[0][0]:
            heapq.heapreplace(heap, (key, -n, snap, case))

    def explain(self, model: Model, scorer: Scorer) -> tuple[list[Surprise], list[Surprise]]:
        def build(items: list) -> list[Surprise]:
            out = []
            for _, _, snap, case in sorted(items, key=lambda item: (item[0], item[1]),
                                           reverse=True):
                explanation = explain_snapshot(model, snap, scorer=scorer)
                score = explanation.result.value(model.primary_score.name)
                out.append(Surprise(case.contact_id, score, case.cutoff, case.converted,
                                    case.converted_at, explanation.top_reasons(n=4),
                                    explanation.to_dict()))
            return out
        return build(self.low), build(self.high)


def qualifying_stage(model: Model, rules: StageRules, snap: ContactSnapshot,
                     result: ContactScores, label: str | None) -> str | None:
    """The stage the model's lifecycle rules give the contact (`StageRules.target`: outcome
    events, exclusions, then qualification by criteria or else by the stage thresholds) —
    the rule `score` and the automation follow. A model with neither stage thresholds nor
    `qualify` criteria has no stage rule: an MQL or SQL label of its primary score stands for
    the stage, as long as no exclusion holds."""
    if model.stage_score is not None or model.lifecycle.qualify:
        target = rules.target(snap, result)
        return target.stage if target else None
    if label is not None and label.lower() in ("mql", "sql"):
        memo: dict = {}
        if any(m.evidence(snap, memo) is not None for m in rules.excluded):
            return None
        return label.lower()
    return None


def score_cases(models: Sequence[Model], pairs: Iterable[tuple[ContactSnapshot, Case]], *,
                keep: int = 10, progress: Progress | None = None, total: int = 0,
                watch: Sequence[str] = ()) -> ScoredCases:
    """Score every pair under every model (the fast path: no result objects are kept).
    The values of the `watch` properties are kept per case (for the leakage guard)."""
    scorers = [Scorer(m) for m in models]
    stage_rules = [StageRules(m) for m in models]
    names = [list(m.scores) for m in models]
    primaries = [m.primary_score.name for m in models]
    values: list[dict[str, list[float]]] = [{n: [] for n in ns} for ns in names]
    labels: list[list[str | None]] = [[] for _ in models]
    stages: list[list[str | None]] = [[] for _ in models]
    trackers = [_Tracker(keep) for _ in models]
    ids: list[str] = []
    created: list[float] = []
    cutoffs: list[float] = []
    outcome: list[bool] = []
    events = 0
    watched: dict[str, list[Any]] = {name: [] for name in watch}
    for count, (snap, case) in enumerate(pairs, start=1):
        for name, kept in watched.items():
            kept.append(snap.properties.get(name))
        ids.append(case.contact_id)
        created.append(case.created_at)
        cutoffs.append(case.cutoff)
        outcome.append(case.converted)
        events += snap.event_count()
        for j, scorer in enumerate(scorers):
            result = scorer.score(snap)
            for name in names[j]:
                values[j][name].append(result.scores[name].value)
            primary = result.scores[primaries[j]]
            labels[j].append(primary.label)
            stages[j].append(qualifying_stage(models[j], stage_rules[j], snap, result,
                                              primary.label))
            trackers[j].offer(primary.value, snap, case)
        if progress and count % 2000 == 0:
            progress(count, total)
    scored = []
    for j, model in enumerate(models):
        low, high = trackers[j].explain(model, scorers[j])
        scored.append(ModelScores(model, primaries[j],
                                  {n: np.asarray(v, dtype=np.float64)
                                   for n, v in values[j].items()},
                                  labels[j], stages[j], low, high, watched))
    return ScoredCases(ids, np.asarray(created, dtype=np.float64),
                       np.asarray(cutoffs, dtype=np.float64), np.asarray(outcome, dtype=bool),
                       scored, events)


@dataclass
class BacktestResult:
    """Everything a backtest reports about one model (to_dict is the JSON report)."""

    model: str
    model_path: str | None
    score: str
    population: str
    contacts: int
    converted: int
    events: int
    auc: float
    auc_interval: metrics.Interval
    deciles: list[dict[str, Any]]
    bands: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    calibration: metrics.Calibration
    roc: list[tuple[float, float]]
    histogram: dict[str, Any]
    months: float
    excluded: dict[str, int]
    low_converters: list[Surprise]
    high_non_converters: list[Surprise]
    warnings: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    left_out: list[LeftOut] = field(default_factory=list)  # the cutoff report
    probability: dict[str, Any] | None = None  # how the model's own calibration did here
    period: str | None = None  # `--by`: month, week or quarter
    periods: list[dict[str, Any]] = field(default_factory=list)  # drift.by_period's rows

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.contacts if self.contacts else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "model_path": self.model_path, "score": self.score,
            "population": self.population, "contacts": self.contacts,
            "converted": self.converted, "conversion_rate": metrics._r(self.conversion_rate),
            "events": self.events,
            "roc_auc": metrics._r(self.auc), "roc_auc_interval": self.auc_interval.to_dict(),
            "deciles": self.deciles, "bands": self.bands, "stages": self.stages,
            "months": round(self.months, 2), "calibration": self.calibration.to_dict(),
            "roc_curve": [list(p) for p in self.roc], "histogram": self.histogram,
            "excluded": self.excluded, "left_out": [r.to_dict() for r in self.left_out],
            **({"by": self.period, "by_period": self.periods} if self.period else {}),
            **({"probability": self.probability} if self.probability else {}),
            "converted_with_low_scores": [s.to_dict() for s in self.low_converters],
            "high_scores_never_converted": [s.to_dict() for s in self.high_non_converters],
            "warnings": [d.to_dict() for d in self.warnings], "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


def summarize(scored: ScoredCases, which: int, *, population: str,
              excluded: Counter[str] | dict[str, int] | None = None, replicates: int = 1000,
              seed: int = 0, interval: metrics.Interval | None = None) -> BacktestResult:
    """The report of model `which` of `scored`."""
    ms = scored.models[which]
    model, scores, labels = ms.model, ms.scores, scored.labels
    if interval is None:
        intervals, _ = metrics.bootstrap_auc([scores], labels, replicates=replicates, seed=seed)
        interval = intervals[0]
    primary = model.scores[ms.primary]
    order = [t.label for t in sorted(primary.thresholds,
                                     key=lambda t: -(t.min if t.min is not None else -1e300))]
    months = metrics.months_spanned(scored.created)
    stage_names = [s for s in STAGE_ORDER if s in ("sql", "mql")]
    return BacktestResult(
        model=model.name, model_path=model.path, score=ms.primary, population=population,
        contacts=len(labels), converted=int(labels.sum()), events=scored.events,
        auc=metrics.roc_auc(scores, labels), auc_interval=interval,
        deciles=metrics.decile_table(scores, labels),
        bands=metrics.group_table(ms.labels, labels, order),
        stages=metrics.stage_volume(ms.stages, labels, months, stage_names),
        calibration=metrics.calibration_table(scores, labels),
        roc=metrics.roc_points(scores, labels), histogram=metrics.histogram(scores, labels),
        months=months, excluded=dict(excluded or {}),
        low_converters=ms.low_converters, high_non_converters=ms.high_non_converters,
        probability=carried_probability(primary, scores, labels),
    )


def carried_probability(score: Score, scores: np.ndarray, labels: np.ndarray
                        ) -> dict[str, Any] | None:
    """How the score's own calibration (`probability:` in the model file) predicted these
    contacts: log loss, Brier score, reliability table."""
    from leadscore.calibration.probability import log_loss, reliability_table

    calibration = score.probability
    if calibration is None or not len(scores):
        return None
    predicted = np.asarray([calibration.of(float(v)) for v in scores], dtype=np.float64)
    return {"described": calibration.describe(), "log_loss": metrics._r(log_loss(predicted,
                                                                                   labels)),
            "brier": metrics._r(float(np.mean((predicted - labels) ** 2))),
            "mean_predicted": metrics._r(float(predicted.mean())),
            "observed": metrics._r(float(labels.mean())),
            "reliability": reliability_table(predicted, labels)}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")
