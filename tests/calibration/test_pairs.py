"""Pair rules in `suggest` (`calibration.pairs`): on data with a true interaction (two inputs
that convert together far more than each alone says) a pair rule is found, lifts the held-out
ROC AUC and is written as an `all:` rule every engine scores, the backtest reproducing the
reported AUC exactly; on additive data none is added and the scorecard is what it was; the
inner validation of a time split checks later contacts on earlier ones."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from leadscore.calibration import metrics
from leadscore.calibration.features import CATEGORICAL, NUMERIC, Characteristic, Inputs
from leadscore.calibration.pairs import add_pairs, inner_folds, select_pairs
from leadscore.calibration.scorecard import fit_scorecard
from tests.cli.conftest import Cli


def _data(seed: int, n: int, interaction: float) -> tuple[Inputs, np.ndarray, list[str]]:
    """A plan (three values), a number of visits and a noise input; with `interaction`, a
    contact on the "pro" plan with 6 visits or more converts far more often than the plan's
    and the visits' own effects add up to, and one with fewer far less often."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["free", "pro", "team"], n, p=[0.45, 0.35, 0.2]).astype(object)
    visits = rng.poisson(5, n).astype(np.float64)
    noise = rng.normal(0, 1, n).round(2)
    both = (plan == "pro") & (visits >= 6)
    few = (plan == "pro") & (visits < 6)  # … and less often with few visits
    logit = -1.6 + 0.5 * (plan == "team") + 0.12 * visits + interaction * (both.astype(float) - few)
    labels = rng.random(n) < 1 / (1 + np.exp(-logit))
    inputs = Inputs([Characteristic("property:plan", "plan", CATEGORICAL, plan, "plan"),
                     Characteristic("property:visits", "visits", NUMERIC, visits, "visits"),
                     Characteristic("property:noise", "noise", NUMERIC, noise, "noise")])
    return inputs, labels, [f"c{i}" for i in range(n)]


def fit_weights(inputs: Inputs, labels: np.ndarray, ids: list[str], kind: str = "random"):
    n = len(labels)
    created = np.arange(n, dtype=np.float64) * 3600
    held = created >= np.quantile(created, 0.7) if kind == "time" else _split(ids)[1]
    train = ~held
    card = fit_scorecard(inputs, labels, train, held)
    before = card.integer_auc
    pairs = select_pairs(card, labels, inner_folds(ids, created, train, kind))
    return add_pairs(card, pairs, labels, train, held), pairs, before, train, held


@pytest.mark.parametrize("kind", ["random", "time"])
def test_a_true_interaction_is_found_and_lifts_the_held_out_auc(kind):
    inputs, labels, ids = _data(11, 6000, interaction=1.6)
    card, pairs, before, _, held = fit_weights(inputs, labels, ids, kind)
    assert pairs, "the plan × visits interaction was not found"
    first = pairs[0]
    assert {first.first.name, first.second.name} == {"plan", "visits"}
    assert "pro" in (first.first.label + first.second.label)
    assert first.inner_after >= first.inner_before + 0.003
    # "pro" with few visits converts less, with many more, than plan + visits alone say
    assert card.pairs and all(r.points != 0 for r in card.pairs)
    assert card.integer_auc > before + 0.005
    # the totals are the bins' points plus the rules' where both sides hold
    plain = np.sum([b.points for b in card.binned], axis=0)
    extra = sum(r.points * (r.first.mask & r.second.mask) for r in card.pairs)
    assert np.array_equal(card.totals(), plain + extra)
    assert metrics.roc_auc(card.totals()[held], labels[held]) == card.integer_auc


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_pair_is_added_without_an_interaction(seed):
    inputs, labels, ids = _data(seed, 6000, interaction=0.0)
    alone = fit_scorecard(inputs, labels, *_split(ids))
    card, pairs, _, _, _ = fit_weights(inputs, labels, ids)
    assert pairs == [] and card.pairs == []
    assert np.array_equal(card.totals(), alone.totals())  # the scorecard is unchanged
    assert card.intercept == alone.intercept


def _split(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    held = np.arange(len(ids)) % 10 < 3  # the rows are in random order already
    return ~held, held


def test_the_inner_validation_of_a_time_split_checks_later_contacts_on_earlier_ones():
    n = 1000
    created = np.arange(n, dtype=np.float64)[::-1].copy()  # rows in reverse creation order
    train = created < 700
    folds = inner_folds([f"c{i}" for i in range(n)], created, train, "time")
    assert len(folds) == 2
    for fit, check in folds:
        assert not (fit & check).any() and not ((fit | check) & ~train).any()
        assert created[fit].max() < created[check].min()
    assert created[folds[-1][1]].max() == created[train].max()  # the latest are checked
    random = inner_folds([f"c{i}" for i in range(n)], created, train, "random")
    assert len(random) == 4
    checked = np.sum([c for _, c in random], axis=0)
    assert (checked[train] == 1).all() and (checked[~train] == 0).all()  # each once


@pytest.mark.parametrize("kind", ["random", "time"])
def test_the_search_reads_a_sample_of_many_training_contacts_the_same_in_every_run(kind):
    n = 1000
    ids = [f"c{i}" for i in range(n)]
    created = np.arange(n, dtype=np.float64)
    train = created < 800
    folds = inner_folds(ids, created, train, kind, limit=300)
    read = np.sum([f | c for f, c in folds], axis=0) > 0
    assert read.sum() == 300 and not (read & ~train).any()  # 300 of the 800, no held-out one
    again = inner_folds(list(ids), created, train, kind, limit=300)
    assert all((a == b).all() and (c == d).all()
               for (a, c), (b, d) in zip(folds, again, strict=True))
    everyone = inner_folds(ids, created, train, kind, limit=800)  # no more than the limit
    assert (np.sum([f | c for f, c in everyone], axis=0) > 0).sum() == 800


def test_max_pairs_zero_adds_none():
    inputs, labels, ids = _data(11, 3000, interaction=1.6)
    train, held = _split(ids)
    card = fit_scorecard(inputs, labels, train, held)
    created = np.arange(len(ids), dtype=np.float64)
    assert select_pairs(card, labels, inner_folds(ids, created, train, "random"),
                        max_pairs=0) == []


MAPPING = """version: 1
contact_id: Lead Id
columns:
  Plan: plan
  Visits: visits
types: {visits: number, plan: string}
order_by_row: {start: 2024-01-01, step: 1h}
outcome: {column: Converted, positive: ["1"], negative: ["0"], stage: won, at: 2025-06-01}
"""


@pytest.mark.slow
def test_suggest_writes_the_pair_as_a_rule_the_backtest_and_sql_agree_on(tmp_path):
    from leadscore.model import load_model
    from leadscore.sql.compiler import compile_model

    inputs, labels, _ = _data(5, 5000, interaction=1.8)
    plan, visits = inputs.characteristics[0].values, inputs.characteristics[1].values
    with (tmp_path / "leads.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Lead Id", "Plan", "Visits", "Converted"])
        for i in range(len(labels)):
            out.writerow([f"L{i}", plan[i], int(visits[i]), int(labels[i])])
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    run = Cli(tmp_path)
    run("init", ".")
    run("import", "contacts", "leads.csv", "--mapping", "mapping.yaml")
    run("import", "outcomes", "leads.csv", "--mapping", "mapping.yaml")
    report = run("suggest", "--as-of", "created+0d", "--out", "models/s.yaml",
                 "--format", "json").json()
    assert report["pairs"], report["inputs"]
    text = (tmp_path / "models/s.yaml").read_text(encoding="utf-8")
    assert "  pairs:" in text and "sum: [fit, pairs]" in text
    rule = next(line for line in text.splitlines() if line.strip().startswith('when: {"all"'))
    sides = json.loads(rule.split("when: ", 1)[1])["all"]
    assert {s["property"] for s in sides} == {"plan", "visits"}
    run("validate", "models/s.yaml")
    options = report["reproduce"].split("--as-of", 1)[1].split()
    again = run("backtest", "--model", "models/s.yaml", "--as-of", *options,
                "--replicates", "100", "--format", "json").json()
    assert again["roc_auc"] == report["held_out"]["roc_auc"]
    model = load_model(tmp_path / "models/s.yaml")
    for dialect in ("duckdb", "postgres"):
        sql = compile_model(model, as_of=0, dialect=dialect).sql
        assert "plan" in sql and "visits" in sql
    without = run("suggest", "--as-of", "created+0d", "--out", "models/t.yaml",
                  "--max-pairs", "0", "--format", "json").json()
    assert without["pairs"] == [] and "pairs:" not in (tmp_path / "models/t.yaml").read_text()
    assert without["held_out"]["roc_auc"] < report["held_out"]["roc_auc"]


@pytest.mark.slow
def test_every_side_of_an_event_count_is_as_a_criterion_exactly_its_bins(synthetic_project):
    """A pair rule's side on an event count is the input's criterion with a `count:` range;
    the evaluator's matcher holds for exactly the contacts in those bins."""
    from leadscore.calibration import Cutoff, Population
    from leadscore.calibration.binning import bin_characteristic
    from leadscore.calibration.cases import CaseStream
    from leadscore.calibration.features import (
        COUNT,
        build_inputs,
        load_declared_types,
        probe_model_text,
        with_declared_types,
    )
    from leadscore.calibration.pairs import sides
    from leadscore.evaluation.matchers import compile_criterion
    from leadscore.model import parse_model

    store = synthetic_project.store
    catalog = with_declared_types(synthetic_project.model.catalog, load_declared_types(store))
    pairs = list(CaseStream(store, Population(Cutoff.parse("created+14d")),
                            property_types=dict(catalog.properties)))
    snaps = [snap for snap, _ in pairs]
    labels = np.asarray([case.converted for _, case in pairs])
    inputs = build_inputs(snaps, catalog)
    everyone = np.ones(len(labels), dtype=bool)
    checked = 0
    for ch in (x for x in inputs.characteristics if x.kind == COUNT):
        binned = bin_characteristic(ch, labels, everyone)
        if binned is None:
            continue
        for side in sides(binned, everyone, 1):
            text = probe_model_text([json.dumps(side.criterion())], inputs.custom_events)
            model = parse_model(text.replace("tiers: [{at_least: 1, points: 1}]", "points: 1"),
                                "<probe>")
            matcher = compile_criterion(model.scores["probe"].all_rules()[0].criterion, {})
            holds = np.asarray([matcher.evidence(snap, {}) is not None for snap in snaps])
            assert np.array_equal(holds, side.mask), (side.criterion(), side.label)
            checked += 1
    assert checked >= 20
