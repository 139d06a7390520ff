"""Calibrated probability: Platt or isotonic fitted on the training contacts, kept by held-out
log loss; the model file carries it; explain, leads and backtest show it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from leadscore.calibration.probability import fit_probability, log_loss, model_lines
from leadscore.model import parse_model
from leadscore.model.model import Probability

HEAD = ("version: 1\nname: m\nscores:\n  s:\n    rules:\n"
        "      - {name: r, when: {event: visit}, points: 1}\n")


def _model_probability(lines: list[str]) -> Probability:
    model = parse_model(HEAD + "\n".join(lines) + "\n", "m.yaml")
    found = model.scores["s"].probability
    assert found is not None
    return found


def test_a_logistic_truth_keeps_platt_and_a_step_keeps_isotonic():
    rng = np.random.default_rng(2)
    n = 6000
    train = np.arange(n) < 4000
    scores = rng.integers(-40, 60, n).astype(float)
    smooth = rng.random(n) < 1 / (1 + np.exp(-(scores - 10) / 15))
    fit = fit_probability(scores, smooth, train, ~train)
    assert fit.method == "platt" and fit.log_loss["platt"] <= fit.log_loss["isotonic"]
    assert fit.slope == pytest.approx(1 / 15, rel=0.2)
    step = rng.random(n) < np.where(scores >= 30, 0.8, np.where(scores >= 0, 0.1, 0.02))
    fit = fit_probability(scores, step, train, ~train)
    assert fit.method == "isotonic" and fit.log_loss["isotonic"] < fit.log_loss["platt"]
    assert sum(row["contacts"] for row in fit.reliability) == int((~train).sum())
    predicted = fit.probability(scores[~train])
    assert fit.brier == pytest.approx(float(np.mean((predicted - step[~train]) ** 2)))
    assert log_loss(predicted, step[~train]) == pytest.approx(fit.log_loss["isotonic"])
    # the reliability table: observed rates follow the predictions
    top, bottom = fit.reliability[0], fit.reliability[-1]
    assert top["observed"] > 0.6 and bottom["observed"] < 0.05


def test_the_written_map_is_the_fitted_one():
    """What the model file carries gives what the fit predicts, for both kinds."""
    rng = np.random.default_rng(4)
    n = 3000
    train = np.arange(n) < 2000
    scores = rng.normal(0, 20, n).round()
    for labels in (rng.random(n) < 1 / (1 + np.exp(-scores / 10)),
                   rng.random(n) < np.where(scores > 10, 0.7, 0.1)):
        fit = fit_probability(scores, labels, train, ~train)
        carried = _model_probability(model_lines(fit, within="90d", description="test"))
        assert carried.within == 90 * 86400
        assert "within 90 days" in carried.describe()
        grid = np.linspace(-80, 80, 161)
        mine = np.asarray([carried.of(float(x)) for x in grid])
        assert np.allclose(mine, fit.probability(grid), atol=1e-5)


@given(st.lists(st.tuples(st.integers(-50, 50), st.booleans()), min_size=2, max_size=80),
       st.floats(-100, 100))
@settings(max_examples=150, deadline=None)
def test_the_models_points_predict_as_scikit_learns_isotonic_regression(rows, x):
    """Differential: a probability written as isotonic points gives scikit-learn's prediction
    at every score, between the points and beyond the ends."""
    scores = np.asarray([r[0] for r in rows], dtype=float)
    labels = np.asarray([r[1] for r in rows], dtype=float)
    fit = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores, labels)
    pairs = ", ".join(f"[{float(a)!r}, {float(b)!r}]"
                      for a, b in zip(fit.X_thresholds_, fit.y_thresholds_, strict=True))
    carried = _model_probability(["    probability:", f"      points: [{pairs}]"])
    assert carried.of(x) == pytest.approx(float(fit.predict([x])[0]), abs=1e-9)


# -- end to end ----------------------------------------------------------------------------

@pytest.mark.slow
def test_suggest_writes_a_probability_that_explain_leads_and_backtest_show(tmp_path):
    from tests.calibration.test_drift import MAPPING, _leads
    from tests.cli.conftest import Cli

    run = Cli(tmp_path)
    run("init", ".")
    _leads(tmp_path / "leads.csv", n=1600)
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    run("import", "contacts", "leads.csv", "--mapping", "mapping.yaml")
    run("import", "outcomes", "leads.csv", "--mapping", "mapping.yaml")
    report = run("suggest", "--as-of", "created+0d", "--out", "models/model.yaml",
                 "--format", "json").json()
    fit = report["probability"]
    assert fit["method"] in ("platt", "isotonic")
    assert fit["log_loss_held_out"][fit["method"]] == min(fit["log_loss_held_out"].values())
    assert sum(r["contacts"] for r in fit["reliability_held_out"]) == \
        report["held_out"]["contacts"]
    text = (tmp_path / "models/model.yaml").read_text()
    assert "    probability:\n" in text and "held-out log loss" in text
    run("validate", "models/model.yaml")
    # the backtest of the written file on the held-out contacts measures the same map
    split = report["reproduce"].split("--target opportunity-or-won")[1].split()
    held = run("backtest", "--as-of", "created+0d", *split, "--replicates", "100",
               "--format", "json").json()
    assert held["probability"]["brier"] == pytest.approx(fit["brier_held_out"], abs=1e-4)
    assert held["probability"]["reliability"] == fit["reliability_held_out"]
    assert "probability of converting on these contacts" in run(
        "backtest", "--as-of", "created+0d", *split, "--replicates", "100", "--html",
        str(tmp_path / "held.html")).out
    assert "The model's probability of converting" in (tmp_path / "held.html").read_text()
    # explain and leads show it
    run("score")
    top = run("leads", "--limit", "3", "--format", "json").json()
    assert all(0 <= lead["probability"] <= 1 for lead in top)
    assert top[0]["probability"] >= top[-1]["probability"]  # best first, p rises with score
    explained = run("explain", top[0]["contact_id"], "--format", "json").json()
    assert explained["scores"]["total"]["probability"] == pytest.approx(
        top[0]["probability"], abs=1e-6)
    shown = run("explain", top[0]["contact_id"]).out
    assert "total: probability of converting " in shown
    assert "probability" in run("leads", "--limit", "3").out
