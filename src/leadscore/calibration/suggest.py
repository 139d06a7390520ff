"""`suggest`: fit a points model on an earlier period, judge it on a later one, write it out.

1. Every contact is seen point in time (the same cutoff rules as a backtest).
2. Split: contacts created before a moment train the model, those created from it on are held
   out (a time split, the default). When every contact has the same creation time — a flat
   export such as X Education — a seeded random split by a hash of the contact id is used
   instead (documented in the report and the file).
3. Inputs (properties, event counts) are binned and fitted on the training part only; the
   leakage guard measures each input on the training part.
4. Pair rules (two inputs together, `pairs.py`) are added where an inner validation within
   the training part — forward in time for a time split — says they help.
5. The model file is written, loaded back (`leadscore validate` would accept it), and
   backtested on the held-out part through the store, exactly as `leadscore backtest` with
   the printed options does: the reported held-out AUC *is* that backtest's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from leadscore.calibration import drift, features_sql, leakage, metrics, probability
from leadscore.calibration.backtest import BacktestResult
from leadscore.calibration.cases import CaseStream
from leadscore.calibration.features import (
    Inputs,
    build_inputs,
    load_declared_types,
    with_declared_types,
)
from leadscore.calibration.model_file import model_text, neutral_note
from leadscore.calibration.pairs import MAX_PAIRS, add_pairs, inner_folds, select_pairs
from leadscore.calibration.population import (
    LeftOut,
    Population,
    Sample,
    Target,
    left_out_report,
    require_labels,
    unit_hash,
)
from leadscore.calibration.runner import after_outcome_warnings, backtest_model, property_types
from leadscore.calibration.scorecard import Scorecard, default_thresholds, fit_scorecard
from leadscore.catalog import Catalog
from leadscore.diagnostics import Diagnostic, LeadscoreError, Location, did_you_mean
from leadscore.model import load_model
from leadscore.storage import Store

Progress = Callable[[int, int], None]


@dataclass
class SplitPlan:
    kind: str  # "time" or "random"
    held_out: Sample
    training: Sample
    boundary: datetime | None = None
    share: float = 0.3
    seed: int = 7

    def describe(self) -> str:
        if self.kind == "time" and self.boundary is not None:
            return (f"time split: trained on contacts created before "
                    f"{self.boundary:%Y-%m-%d %H:%M} UTC, held out from then on")
        return (f"random split (every contact has the same creation time): {self.share:.0%} "
                f"held out by a hash of the contact id, seed {self.seed}")

    def backtest_options(self) -> str:
        if self.kind == "time" and self.boundary is not None:
            return f"--created-from {self.boundary.isoformat().replace('+00:00', 'Z')}"
        return f"--held-out-share {self.share:g} --seed {self.seed}"


@dataclass
class SuggestReport:
    path: str
    split: SplitPlan
    population: str
    training_contacts: int
    training_converted: int
    held_out_contacts: int
    held_out_converted: int
    card: Scorecard
    strengths: list[leakage.InputStrength]
    warnings: list[Diagnostic]
    held_out: BacktestResult
    reproduce: str
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    left_out: list[LeftOut] = field(default_factory=list)  # the cutoff report
    guarded: dict[str, str] = field(default_factory=dict)  # left out by the leakage guard
    allowed: list[str] = field(default_factory=list)  # flagged, but used (--allow)
    stability: drift.Stability | None = None  # PSI training → held out
    thresholds: tuple[int, int] = (0, 0)  # MQL, SQL
    thresholds_from: str = ""  # the contacts whose scores set them
    probability: probability.ProbabilityFit | None = None  # score → p, fitted on training

    @property
    def held_out_auc(self) -> float:
        return self.held_out.auc

    def inputs_used(self) -> list[str]:
        """The inputs the written model gives points to (property names or input keys)."""
        return [b.characteristic.property or b.characteristic.key for b in self.card.binned
                if any(x.points for x in b.bins)]

    def inputs(self) -> list[dict[str, Any]]:
        rows = []
        for b in self.card.binned:
            ch = b.characteristic
            rows.append({"input": ch.name, "key": ch.key, "kind": ch.kind,
                         "information_value": metrics._r(b.information_value),
                         "bins": [{"bin": x.label, "points": x.points} for x in b.bins]})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_file": self.path, "split": self.split.describe(),
            "population": self.population,
            "training": {"contacts": self.training_contacts,
                         "converted": self.training_converted,
                         "roc_auc": metrics._r(self.card.training_auc)},
            "held_out": {"contacts": self.held_out_contacts,
                         "converted": self.held_out_converted,
                         "roc_auc": metrics._r(self.held_out.auc),
                         "roc_auc_interval": self.held_out.auc_interval.to_dict(),
                         "roc_auc_unrounded_fit": metrics._r(self.card.unrounded_auc),
                         "roc_auc_integer_points_in_fit": metrics._r(self.card.integer_auc)},
            "reproduce": self.reproduce,
            "points_double_the_odds_every": round(self.card.scale * np.log(2), 2),
            "offset_for_even_odds": round(self.card.offset, 2),
            "left_out": [r.to_dict() for r in self.left_out],
            "inputs": self.inputs(), "pairs": [r.to_dict() for r in self.card.pairs],
            "dropped": self.card.dropped, "skipped": self.skipped,
            "leakage_guard_excluded": self.guarded, "leakage_guard_allowed": self.allowed,
            "input_strength": [s.to_dict() for s in self.strengths],
            "stability": self.stability.to_dict() if self.stability else None,
            "thresholds": {"mql": self.thresholds[0], "sql": self.thresholds[1],
                           "set_on": self.thresholds_from},
            "probability": self.probability.to_dict() if self.probability else None,
            "warnings": [d.to_dict() for d in self.warnings],
            "seconds": round(self.seconds, 3),
        }


def plan_split(ids: Sequence[str], created: np.ndarray, *, split: str = "auto",
               share: float = 0.3, held_out_from: datetime | None = None,
               seed: int = 7) -> tuple[SplitPlan, np.ndarray]:
    """The split and a bool per contact: held out?"""
    if not 0 < share < 1:
        raise LeadscoreError.single("LS414", f"--held-out-share {share:g} is not between 0 and 1",
                                    Location(field="--held-out-share"), hint="e.g. 0.3")
    dated = len(np.unique(np.floor(created / 86400))) > 1
    kind = ("time" if dated or held_out_from is not None else "random") if split == "auto" \
        else split
    if kind == "time":
        if held_out_from is None:
            boundary_ts = float(np.quantile(created, 1 - share)) if len(created) else 0.0
            held_out_from = datetime.fromtimestamp(np.floor(boundary_ts / 86400) * 86400, tz=UTC)
        mask = created >= held_out_from.timestamp()
        plan = SplitPlan("time", Sample(created_from=held_out_from),
                         Sample(created_before=held_out_from), held_out_from, share, seed)
        return plan, mask
    mask = np.asarray([unit_hash(i, seed, "split") < share for i in ids], dtype=bool)
    plan = SplitPlan("random", Sample(random_share=share, random_seed=seed),
                     Sample(random_share=share, random_seed=seed, random_part="training"),
                     None, share, seed)
    return plan, mask


def suggest_model(store: Store, catalog: Catalog, population: Population, out: str | Path, *,
                  name: str = "suggested", split: str = "auto", held_out_share: float = 0.3,
                  held_out_from: datetime | None = None, seed: int = 7,
                  exclude: Sequence[str] = (), include: Sequence[str] | None = None,
                  allow: Sequence[str] = (),
                  max_inputs: int = 25, max_bins: int = 5, pdo: float = 20.0,
                  max_pairs: int = MAX_PAIRS,
                  auc_limit: float = leakage.AUC_LIMIT, iv_limit: float = leakage.IV_LIMIT,
                  replicates: int = 1000, progress: Progress | None = None,
                  engine: str = "auto") -> SuggestReport:
    """Fit, write and judge a scorecard (module docstring). `engine`: "duckdb" builds the
    inputs set-wise (`features_sql`, the default where DuckDB reads the store), "python"
    from a snapshot of every contact (`features.build_inputs`: the reference, and the path
    for a PostgreSQL store)."""
    if engine not in ("auto", "duckdb", "python"):
        raise ValueError(f"unknown engine {engine!r}")
    started = time.perf_counter()
    require_labels(store, population)
    catalog = with_declared_types(catalog, load_declared_types(store))
    types = dict(catalog.properties)
    stream = CaseStream(store, population, property_types=types, progress=progress)
    set_wise = engine == "duckdb" or (engine == "auto" and features_sql.readable(store))
    pairs = [] if set_wise else list(stream)
    cases = list(stream.cases()) if set_wise else [case for _, case in pairs]
    left_out = left_out_report(stream.excluded, population)
    ids = [case.contact_id for case in cases]
    created = np.asarray([case.created_at for case in cases], dtype=np.float64)
    labels = np.asarray([case.converted for case in cases], dtype=bool)
    plan, held = plan_split(ids, created, split=split, share=held_out_share,
                            held_out_from=held_out_from, seed=seed)
    train = ~held
    for part, mask in (("training", train), ("held-out", held)):
        if mask.sum() < 20 or labels[mask].all() or not labels[mask].any():
            raise LeadscoreError.single(
                "LS414", f"the {part} part has {int(mask.sum()):,} contacts and "
                         f"{int(labels[mask].sum()):,} conversions: too few to fit and judge "
                         "a model", Location(field="--held-out-share"),
                hint="use a larger store, another cutoff, or another split")
    if set_wise:
        inputs = features_sql.build_inputs_sql(store, cases, catalog, exclude=exclude,
                                               include=include)
    else:
        inputs = build_inputs([snap for snap, _ in pairs], catalog, exclude=exclude,
                              include=include)
    del pairs, cases
    if progress:
        progress(stream.total, stream.total)
    check_allowed(allow, inputs)
    strengths = leakage.measure_inputs(
        [_restricted(ch, train) for ch in inputs.characteristics], labels[train])
    warnings = leakage.separation_warnings(strengths, auc_limit=auc_limit, iv_limit=iv_limit)
    guarded, allowed = leakage.guard(inputs, strengths, warnings, allow)
    warnings += leakage.guard_notes(guarded, allowed)
    if population.target is not Target.SALES_FEEDBACK:
        warnings += after_outcome_warnings(store, [ch.property for ch in inputs.characteristics
                                                   if ch.property])
    card = fit_scorecard(inputs, labels, train, held, max_characteristics=max_inputs,
                         max_bins=max_bins, pdo=pdo)
    folds = inner_folds(ids, created, train, plan.kind, seed)
    card = add_pairs(card, select_pairs(card, labels, folds, max_pairs=max_pairs),
                     labels, train, held)
    totals = card.totals() if card.binned else np.zeros(len(labels))
    stable = drift.stability(totals, [(b.characteristic.property or b.characteristic.key,
                                       b.codes) for b in card.binned], train, held)
    warnings += stable.warnings()
    recent, recent_text = recent_contacts(created)
    path = Path(out)
    reproduce = (f"leadscore backtest --model {path} --as-of {population.cutoff.to_text()} "
                 f"--target {population.target.value} {plan.backtest_options()}")
    thresholds = default_thresholds(totals[recent])
    calibration = probability.fit_probability(totals, labels, train, held) \
        if card.binned else None
    within = f"{population.horizon / 86400:g}d" if population.horizon else None
    header = [
        f"Suggested by `leadscore suggest` on {datetime.now(UTC):%Y-%m-%d}: a scorecard "
        "(binned inputs, logistic regression, integer points).",
        f"Cutoff: {population.cutoff.describe()}; outcome: {population.target.value}.",
        f"Split: {plan.describe()}.",
        f"Training: {int(train.sum()):,} contacts, {int(labels[train].sum()):,} converted; "
        f"held out: {int(held.sum()):,} contacts, {int(labels[held].sum()):,} converted.",
        f"Points: {pdo:g} points double the odds of converting; the fitted probability is "
        f"1 / (1 + exp(-(total - {card.offset:.1f}) / {card.scale:.2f})).",
        *neutral_note(card),
        f"Thresholds: MQL = the top 30 % of {recent_text}, SQL = the top 10 % (their "
        "scores only, not their outcomes; `leadscore thresholds --recent 90d` finds others).",
        *([f"Left out by the leakage guard (it separates the outcome too well on its own; "
           f"--allow NAME uses it): {', '.join(guarded)}."] if guarded else []),
        *([f"Used although the leakage guard flagged it (--allow): {', '.join(allowed)}."]
          if allowed else []),
        f"Check it: {reproduce}",
    ]
    text = model_text(card, inputs, name=name, header=header,
                      thresholds=thresholds,
                      description=f"Scorecard suggested from {int(train.sum()):,} contacts "
                                  f"({plan.kind} split)",
                      probability=probability.model_lines(
                          calibration, within=within,
                          description=calibration_note(calibration, population))
                      if calibration else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    model = load_model(path)
    held_population = Population(population.cutoff, population.target, population.horizon,
                                 plan.held_out)
    result = backtest_model(store, model, held_population, replicates=replicates, seed=0,
                            auc_limit=auc_limit, iv_limit=iv_limit)
    return SuggestReport(
        str(path), plan, population.describe(), int(train.sum()), int(labels[train].sum()),
        int(held.sum()), int(labels[held].sum()), card, strengths, warnings, result,
        reproduce, inputs.skipped, time.perf_counter() - started, left_out, guarded, allowed,
        stable, thresholds, recent_text, calibration)


def calibration_note(fit: probability.ProbabilityFit, population: Population) -> str:
    other = next(m for m in fit.log_loss if m != fit.method)
    return (f"{fit.method}, fitted on the {fit.training_contacts:,} training contacts: "
            f"{population.target.value} after the cutoff ({population.cutoff.to_text()}); "
            f"held-out log loss {fit.log_loss[fit.method]:.3f} ({other} "
            f"{fit.log_loss[other]:.3f}), Brier {fit.brier:.3f}")


RECENT_DAYS = 90  # thresholds are set on the contacts created in the last 90 days
RECENT_MIN = 200  # or, when fewer were, on the latest 200


def recent_contacts(created: np.ndarray, days: float = RECENT_DAYS,
                    least: int = RECENT_MIN) -> tuple[np.ndarray, str]:
    """The most recent contacts (a mask) and how to say which they are: those created in
    the last `days` of the data, or the latest `least` when fewer were."""
    if not len(created) or float(created.max() - created.min()) < 86400:
        return np.ones(len(created), dtype=bool), "all contacts (they share one creation day)"
    mask = created >= created.max() - days * 86400
    if mask.sum() < min(least, len(created)):
        order = np.argsort(-created, kind="stable")
        mask = np.zeros(len(created), dtype=bool)
        mask[order[:least]] = True
        return mask, f"the latest {int(mask.sum()):,} contacts created"
    return mask, f"the {int(mask.sum()):,} contacts created in the last {days:g} days"


def check_allowed(allow: Sequence[str], inputs: Inputs) -> None:
    """LS416 for an --allow that names no input of the store."""
    names = {ch.property or ch.key for ch in inputs.characteristics} | set(inputs.skipped)
    unknown = [name for name in allow if name not in names]
    if unknown:
        raise LeadscoreError.single(
            "LS416", f"--allow {unknown[0]}: no input of the store is called that",
            Location(field="--allow"), text=unknown[0],
            hint=did_you_mean(unknown[0], sorted(names)) or
            "name a property as the leakage guard's warning names it")


def _restricted(ch: Any, rows: np.ndarray) -> Any:
    from dataclasses import replace

    return replace(ch, values=ch.values[rows])


__all__ = ["SplitPlan", "SuggestReport", "plan_split", "property_types", "suggest_model"]
