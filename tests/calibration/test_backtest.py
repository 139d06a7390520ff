"""Backtests, comparisons, thresholds, the leakage guard and suggest on synthetic history."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from leadscore.calibration import (
    Cutoff,
    Population,
    backtest_model,
    compare_models,
    recommend_thresholds,
    suggest_model,
)
from leadscore.calibration.backtest import score_cases
from leadscore.calibration.population import Case
from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation import ContactSnapshot, PropertyChange
from leadscore.model import load_model, parse_model
from leadscore.storage.outcomes import load_outcomes

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("as_of", ["created+14d", "before-opportunity", "2026-01-15"])
def test_the_example_model_predicts_synthetic_sales(synthetic_project, as_of):
    result = backtest_model(synthetic_project.store, synthetic_project.model,
                            Population(Cutoff.parse(as_of)), replicates=200)
    print(f"\nsynthetic backtest as of {as_of}: ROC AUC {result.auc:.3f} "
          f"({result.auc_interval.low:.3f}–{result.auc_interval.high:.3f}), "
          f"{result.contacts} contacts, {result.converted} converted")
    assert result.auc > 0.65
    assert result.auc_interval.low < result.auc < result.auc_interval.high
    assert result.deciles[0]["lift"] > 1.5
    assert {s["stage"] for s in result.stages} == {"sql", "mql", "mql+"}
    assert result.low_converters and all(s.converted for s in result.low_converters)
    assert result.high_non_converters and not any(s.converted
                                                  for s in result.high_non_converters)
    low = [s.score for s in result.low_converters]
    assert low == sorted(low)
    assert result.to_dict()["converted_with_low_scores"][0]["explanation"]["scores"]


def test_compare_and_stage_changes(synthetic_project, tmp_path):
    model = synthetic_project.model
    text = (synthetic_project.config.model_path.read_text()
            .replace("points: 60", "points: 10").replace("name: b2b", "name: draft"))
    draft = tmp_path / "draft.yaml"
    draft.write_text(text)
    result = compare_models(synthetic_project.store, model, load_model(draft),
                            Population(Cutoff.parse("created+14d")), replicates=200)
    assert result.a.contacts == result.b.contacts
    assert result.a.auc != result.b.auc
    assert sum(result.moves.values()) > 0
    assert result.difference_interval is not None
    same = compare_models(synthetic_project.store, model, model,
                          Population(Cutoff.parse("created+14d")), replicates=100)
    assert same.auc_difference == 0 and not same.moves


def test_thresholds_for_a_volume_and_a_precision(synthetic_project):
    report = recommend_thresholds(synthetic_project.store, synthetic_project.model,
                                  Population(Cutoff.parse("created+14d")),
                                  mql_per_month=80, sql_precision=0.2)
    assert report.recommendation.mql["per_month"] <= 80
    assert report.recommendation.sql["precision"] >= 0.2


def test_a_column_equal_to_the_label_is_named_by_the_leakage_guard():
    model = parse_model("version: 1\nname: leak\nproperties: {closed_won: {type: bool}}\n"
                        "scores:\n  total:\n    rules:\n      - name: Won\n"
                        "        when: {property: closed_won, equals: true}\n"
                        "        points: 10\n")
    rng = np.random.default_rng(0)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = []
    for i in range(400):
        converted = bool(rng.random() < 0.3)
        snap = ContactSnapshot.build(f"c{i}", when, created_at=when, property_changes=[
            PropertyChange("closed_won", converted, when)])
        pairs.append((snap, Case(f"c{i}", when.timestamp(), when.timestamp(), converted)))
    scored = score_cases([model], pairs, watch=["closed_won"])
    from leadscore.calibration.features import property_characteristic
    from leadscore.calibration.leakage import measure_inputs, separation_warnings

    ch = property_characteristic("closed_won", scored.models[0].watched["closed_won"],
                                 model.catalog)
    warnings = separation_warnings(measure_inputs([ch], scored.labels))
    assert [w.code for w in warnings] == ["LS420"]
    assert warnings[0].severity == "warning" and "closed_won" in warnings[0].message
    assert "univariate ROC AUC 1.000" in warnings[0].message


def test_suggest_writes_a_valid_model_whose_backtest_reproduces_its_auc(synthetic_project,
                                                                       tmp_path):
    out = tmp_path / "suggested.yaml"
    population = Population(Cutoff.parse("created+14d"))
    report = suggest_model(synthetic_project.store, synthetic_project.model.catalog,
                           population, out, replicates=100)
    model = load_model(out)  # what `leadscore validate` checks
    assert report.split.kind == "time"
    text = out.read_text()
    assert "tiers:" in text and "points:" in text and "leadscore backtest" in text
    points = [float(line.split("points:")[1].split("}")[0]) for line in text.splitlines()
              if "points:" in line]
    assert all(p == int(p) for p in points)
    again = backtest_model(synthetic_project.store, model,
                           Population(population.cutoff, sample=report.split.held_out),
                           replicates=100)
    print(f"\nsynthetic suggest: training AUC {report.card.training_auc:.3f}, held-out "
          f"{report.held_out_auc:.3f} (backtest {again.auc:.3f})")
    assert abs(again.auc - report.held_out_auc) < 0.005
    assert abs(report.card.integer_auc - report.held_out_auc) < 0.005
    assert report.held_out_auc > 0.55
    assert again.contacts == report.held_out_contacts


def test_no_outcomes_is_a_diagnostic(tmp_path):
    from leadscore.project import Project, init_project

    init_project(tmp_path)
    with Project.open(tmp_path) as project, pytest.raises(LeadscoreError) as caught:
        backtest_model(project.store, project.model, Population(Cutoff.parse("created+14d")))
    assert caught.value.diagnostics[0].code == "LS410"


def test_outcomes_are_loaded(synthetic_project):
    outcomes = load_outcomes(synthetic_project.store)
    assert len(outcomes) == 3000
    assert any(o.won_at for o in outcomes.values())
