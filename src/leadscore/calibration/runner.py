"""Backtest, compare and thresholds on a store: the calls the CLI and `Project` make.

    from leadscore.calibration import Cutoff, Population, backtest_model
    result = backtest_model(store, model, Population(Cutoff.parse("created+14d")))
    print(result.auc, result.auc_interval)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadscore.calibration import drift, leakage, metrics
from leadscore.calibration.backtest import BacktestResult, ScoredCases, score_cases, summarize
from leadscore.calibration.cases import CaseStream
from leadscore.calibration.compare import Comparison, compare_scored
from leadscore.calibration.features import CATEGORICAL, property_characteristic
from leadscore.calibration.population import (
    CutoffKind,
    LeftOut,
    Population,
    Target,
    left_out_report,
    require_labels,
)
from leadscore.calibration.thresholds import Recommendation, recommend
from leadscore.catalog import PropertyDef
from leadscore.diagnostics import Diagnostic, LeadscoreError, Location
from leadscore.model import Model
from leadscore.model.criteria import PropertyCriterion, walk
from leadscore.storage import Store
from leadscore.storage.outcomes import changes_after_outcome, count_outcomes

Progress = Callable[[int, int], None]


def property_types(*models: Model) -> dict[str, PropertyDef]:
    """Declared properties of the models (the first model wins a disagreement)."""
    found: dict[str, PropertyDef] = {}
    for model in models:
        for name, definition in model.catalog.properties.items():
            found.setdefault(name, definition)
    return found


def model_properties(model: Model) -> list[str]:
    """Properties a model's rules read."""
    names: set[str] = set()
    for score in model.scores.values():
        for rule in score.all_rules():
            for node in walk(rule.criterion):
                if isinstance(node, PropertyCriterion):
                    names.add(node.property)
    return sorted(names)


def score_population(store: Store, models: Sequence[Model], population: Population, *,
                     keep: int = 10, progress: Progress | None = None,
                     watch: Sequence[str] = ()) -> tuple[ScoredCases, dict[str, int]]:
    """Every contact of `population` scored under every model (point in time)."""
    require_labels(store, population)
    stream = CaseStream(store, population, property_types=property_types(*models),
                        progress=progress)
    scored = score_cases(models, stream, keep=keep, progress=progress, total=stream.total,
                         watch=watch)
    excluded = dict(stream.excluded)
    if len(scored.labels) == 0 or scored.labels.all() or not scored.labels.any():
        what = "no contact" if len(scored.labels) == 0 else (
            "every contact converted" if scored.labels.all() else "no contact converted")
        raise LeadscoreError.single(
            "LS412", f"nothing to backtest: {what} ({population.describe()}; left out: "
                     f"{', '.join(f'{k} {v:,}' for k, v in excluded.items()) or 'none'})",
            Location(field="--as-of"),
            hint="choose another cutoff (an earlier --as-of date, or created+14d), target or "
                 "sample")
    return scored, excluded


def population_notes(population: Population) -> list[str]:
    notes = [population.describe()]
    if population.cutoff.kind is CutoffKind.BEFORE_OPPORTUNITY:
        notes.append("Contacts that never converted have no opportunity date: each is scored "
                     "at a matched random moment (creation + a lag drawn from the converters' "
                     "lags, fixed by a hash of its id), so both groups are seen at similar "
                     "ages and nothing after the cutoff is used.")
    if population.target is Target.SALES_FEEDBACK:
        notes.append("The label is sales's first verdict on each lead it judged: true_sql "
                     "counts as converted, not_ready and unqualified do not. Later verdicts "
                     "follow what the first one did to the lead (points taken away, a stage "
                     "set), so they are not used.")
    notes.append("Contacts whose outcome was settled at or before their cutoff are left out: "
                 "they are not predictions.")
    return notes


def leakage_warnings(store: Store, model: Model, scored: ScoredCases, *,
                     auc_limit: float = leakage.AUC_LIMIT,
                     iv_limit: float = leakage.IV_LIMIT, outcomes: bool = True
                     ) -> list[Diagnostic]:
    """The guard on the properties the model reads (`outcomes`: the label is the stored
    outcomes, so properties that change after them are suspect too)."""
    watched = scored.models[0].watched
    characteristics = []
    for name, raw in watched.items():
        found = property_characteristic(name, raw, model.catalog)
        if not isinstance(found, str):
            characteristics.append(found)
    strengths = leakage.measure_inputs(characteristics, scored.labels)
    warnings = leakage.separation_warnings(strengths, auc_limit=auc_limit, iv_limit=iv_limit)
    if outcomes:
        warnings += after_outcome_warnings(store, watched)
    return warnings


def after_outcome_warnings(store: Store, names: Iterable[str]) -> list[Diagnostic]:
    """LS421 for the properties among `names` that change after the stored outcomes."""
    converters = count_outcomes(store)
    return leakage.change_warnings(changes_after_outcome(store),
                                   converters["opportunities"] + converters["won"],
                                   [n for n in names if n and n != "lifecycle_stage"])


def backtest_model(store: Store, model: Model, population: Population, *,
                   replicates: int = 1000, seed: int = 0, keep: int = 10,
                   auc_limit: float = leakage.AUC_LIMIT, iv_limit: float = leakage.IV_LIMIT,
                   by: str | None = None, progress: Progress | None = None) -> BacktestResult:
    """Score every contact of `population` point in time and report how well the primary
    score predicted conversion (`by`: month, week or quarter also splits the report by
    creation period)."""
    check_period(by)
    started = time.perf_counter()
    scored, excluded = score_population(store, [model], population, keep=keep,
                                        progress=progress, watch=model_properties(model))
    result = summarize(scored, 0, population=population.describe(), excluded=excluded,
                       replicates=replicates, seed=seed)
    result.warnings = leakage_warnings(store, model, scored, auc_limit=auc_limit,
                                       iv_limit=iv_limit,
                                       outcomes=population.target is not Target.SALES_FEEDBACK)
    result.notes = population_notes(population)
    result.left_out = left_out_report(excluded, population)
    if by is not None:
        ms = scored.models[0]
        result.period = by
        result.periods = drift.by_period(scored.created, ms.scores, scored.labels, ms.stages,
                                         by)
    result.seconds = time.perf_counter() - started
    return result


def check_period(by: str | None) -> None:
    if by is not None and by not in drift.PERIODS:
        raise LeadscoreError.single(
            "LS415", f"--by {by} is not a period", Location(field="--by"), text=by,
            hint=f"use {', '.join(drift.PERIODS[:-1])} or {drift.PERIODS[-1]}")


def compare_models(store: Store, a: Model, b: Model, population: Population, *,
                   replicates: int = 1000, seed: int = 0, keep: int = 10,
                   progress: Progress | None = None) -> Comparison:
    """Both models on the same contacts at the same cutoffs."""
    started = time.perf_counter()
    scored, excluded = score_population(store, [a, b], population, keep=keep,
                                        progress=progress)
    comparison = compare_scored(scored, population=population.describe(), excluded=excluded,
                                replicates=replicates, seed=seed)
    comparison.a.notes = comparison.b.notes = population_notes(population)
    comparison.a.left_out = comparison.b.left_out = left_out_report(excluded, population)
    comparison.a.seconds = comparison.b.seconds = time.perf_counter() - started
    return comparison


@dataclass
class ThresholdReport:
    model: str
    score: str
    population: str
    contacts: int
    converted: int
    months: float
    recommendation: Recommendation
    current: list[dict[str, Any]]  # the model's own thresholds as they performed
    left_out: list[LeftOut] = field(default_factory=list)  # the cutoff report
    recent: str | None = None  # which contacts the volume per month was counted on

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "score": self.score, "population": self.population,
                "contacts": self.contacts, "converted": self.converted,
                "left_out": [r.to_dict() for r in self.left_out], "volume_on": self.recent,
                "months": round(self.months, 2), "current": self.current,
                **self.recommendation.to_dict()}


def recommend_thresholds(store: Store, model: Model, population: Population, *,
                         mql_per_month: float | None = None, sql_precision: float | None = None,
                         sql_per_month: float | None = None, recent: float | None = None,
                         progress: Progress | None = None) -> ThresholdReport:
    """Thresholds for the targets; `recent` (seconds): count the volume per month on the
    contacts created in this last stretch of the data (precision stays the whole history's)."""
    recommend(np.zeros(0), np.zeros(0, dtype=bool), 1.0, mql_per_month=mql_per_month,
              sql_precision=sql_precision, sql_per_month=sql_per_month)  # LS413 first
    scored, excluded = score_population(store, [model], population, keep=0,
                                        progress=progress)
    ms = scored.models[0]
    months = metrics.months_spanned(scored.created)
    recent_scores, recent_months, said = None, 1.0, None
    if recent is not None:
        end = float(scored.created.max())
        chosen = scored.created >= end - recent
        recent_scores = ms.scores[chosen]
        recent_months = recent / 86400 / metrics.DAYS_PER_MONTH
        said = (f"the {int(chosen.sum()):,} contacts created in the last "
                f"{recent / 86400:g} days (to {metrics.iso_day(end)})")
    result = recommend(ms.scores, scored.labels, months, mql_per_month=mql_per_month,
                       sql_precision=sql_precision, sql_per_month=sql_per_month,
                       recent=recent_scores, recent_months=recent_months)
    current = metrics.stage_volume(ms.stages, scored.labels, months)
    return ThresholdReport(model.name, ms.primary, population.describe(), len(scored.labels),
                           int(scored.labels.sum()), months, result, current,
                           left_out_report(excluded, population), said)


__all__ = ["CATEGORICAL", "ThresholdReport", "after_outcome_warnings", "backtest_model",
           "compare_models", "leakage_warnings", "model_properties", "population_notes",
           "property_types", "recommend_thresholds", "score_population"]
