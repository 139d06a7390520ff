"""Drift: population stability (PSI) of the score and each input between training and held
out (LS424 above 0.25), thresholds set on the most recent period, `backtest --by month`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.calibration import drift, metrics
from leadscore.calibration.thresholds import recommend
from tests.cli.conftest import Cli

codes = st.lists(st.integers(0, 6), min_size=1, max_size=300).map(np.asarray)


@given(codes, codes)
@settings(max_examples=200, deadline=None)
def test_psi_is_never_negative_symmetric_and_zero_on_the_same_shares(a, b):
    value = drift.psi(a, b)
    assert value >= 0
    assert value == pytest.approx(drift.psi(b, a))
    assert drift.psi(a, np.concatenate([a, a])) == pytest.approx(0.0, abs=1e-12)


def test_psi_of_a_known_shift():
    before = np.repeat([0, 1], [500, 500])
    after = np.repeat([0, 1], [900, 100])
    # (0.9 − 0.5)·ln(0.9/0.5) + (0.1 − 0.5)·ln(0.1/0.5)
    assert drift.psi(before, after) == pytest.approx(0.4 * np.log(1.8) + 0.4 * np.log(5))
    assert drift.verdict(0.05) == "stable" and drift.verdict(0.2) == "moved"
    assert drift.verdict(0.3) == "shifted"


def test_stability_warns_about_the_shifted_input_only():
    rng = np.random.default_rng(1)
    n = 2000
    train = np.arange(n) < 1400
    steady = rng.integers(0, 4, n)
    moving = np.where(train, rng.integers(0, 4, n), 3)
    totals = steady * 5.0
    found = drift.stability(totals, [("steady", steady), ("moving", moving)], train, ~train)
    assert found.inputs[0][0] == "moving" and found.inputs[0][1] > 0.25
    assert found.inputs[1][1] < 0.1 and found.score < 0.1
    warnings = found.warnings()
    assert [w.code for w in warnings] == ["LS424"] and "'moving'" in warnings[0].message
    assert warnings[0].severity == "warning"


def test_by_period_splits_the_report_by_creation_month():
    day = 86400.0
    start = 1_700_000_000.0  # 2023-11-14
    created = start + np.arange(120) * day
    scores = np.tile([1.0, 2.0, 3.0], 40)
    labels = scores == 3.0
    labels[::7] = ~labels[::7]
    stages = ["sql" if s == 3 else "mql" if s == 2 else None for s in scores]
    rows = drift.by_period(created, scores, labels, stages, "month")
    assert [r["period"] for r in rows] == ["2023-11", "2023-12", "2024-01", "2024-02",
                                           "2024-03"]
    assert sum(r["contacts"] for r in rows) == 120
    assert sum(r["converted"] for r in rows) == int(labels.sum())
    keys = np.asarray(drift.period_keys(created, "month"))
    for row in rows:
        mask = keys == row["period"]
        assert row["roc_auc"] == metrics._r(metrics.roc_auc(scores[mask], labels[mask]))
        assert row["sql"] == int((scores[mask] == 3).sum())
    assert rows[0]["score_psi"] == 0.0
    assert drift.period_keys(created[:1], "quarter") == ["2023-Q4"]
    assert drift.period_keys(created[:1], "week") == ["2023-W46"]


def test_thresholds_count_the_volume_on_the_recent_contacts():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 100, 5000).astype(float)
    labels = rng.random(5000) < scores / 200
    recent = scores[:1000] + 10  # later contacts score higher
    whole = recommend(scores, labels, 10.0, mql_per_month=100, sql_per_month=60)
    now = recommend(scores, labels, 10.0, mql_per_month=100, sql_per_month=60,
                    recent=recent, recent_months=2.0)
    assert now.mql["threshold"] > whole.mql["threshold"]
    assert now.sql["threshold"] > now.mql["threshold"]
    for row, target in ((now.mql, 100), (now.sql, 60)):
        assert row["per_month"] <= target
        assert row["recent_contacts"] == int((recent >= row["threshold"]).sum())
        assert row["per_month"] == pytest.approx(row["recent_contacts"] / 2.0, abs=1e-3)
        # one step lower would take more than the target
        lower = [r for r in now.curve if r["threshold"] < row["threshold"]]
        if lower:
            assert (recent >= lower[0]["threshold"]).sum() / 2.0 > target


# -- end to end: a flat export whose later leads come from another source ------------------

MAPPING = """version: 1
contact_id: Lead Id
columns: {Source: source, Visits: visits, Minutes: minutes}
types: {visits: number, minutes: number}
order_by_row: {start: 2024-01-01, step: 4h}
outcome: {column: Converted, positive: ["1"], negative: ["0"], stage: won, at: 2025-06-01}
"""


def _leads(path: Path, n: int = 2400, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    late = np.arange(n) >= int(n * 0.7)  # the held-out period of a 30 % time split
    sources = np.where(late, rng.choice(["web", "referral", "ads"], n, p=[0.1, 0.8, 0.1]),
                       rng.choice(["web", "referral", "ads"], n, p=[0.5, 0.2, 0.3]))
    visits = rng.poisson(3, n)
    minutes = rng.exponential(10, n).round(1)
    logit = -2.5 + 0.3 * visits + 0.05 * minutes + np.where(sources == "referral", 1.5, 0.0)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["Lead Id", "Source", "Visits", "Minutes", "Converted"])
        for i in range(n):
            out.writerow([f"L{i}", sources[i], visits[i], minutes[i], int(converted[i])])


@pytest.fixture(scope="module")
def drifting(tmp_path_factory) -> Cli:
    root = tmp_path_factory.mktemp("drift")
    run = Cli(root)
    run("init", ".")
    _leads(root / "leads.csv")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    run("import", "contacts", "leads.csv", "--mapping", "mapping.yaml")
    run("import", "outcomes", "leads.csv", "--mapping", "mapping.yaml")
    return run


@pytest.mark.slow
def test_suggest_reports_stability_and_sets_thresholds_on_the_recent_period(drifting):
    report = drifting("suggest", "--as-of", "created+0d", "--out", "models/s.yaml",
                      "--format", "json").json()
    psi = {row["input"]: row for row in report["stability"]["inputs"]}
    assert psi["source"]["psi"] > 0.25 and psi["source"]["verdict"] == "shifted"
    assert psi["visits"]["psi"] < 0.1 and psi["minutes"]["psi"] < 0.1
    shifted = [w for w in report["warnings"] if w["code"] == "LS424"]
    assert any("'source'" in w["message"] for w in shifted)
    assert "in the last 90 days" in report["thresholds"]["set_on"]
    # on the held-out (most recent) period the SQL label holds about the top 10 %, where
    # the top 10 % of the training scores would label far more an SQL
    split = report["reproduce"].split("--target opportunity-or-won")[1].split()
    held = drifting("backtest", "--model", "models/s.yaml", "--as-of", "created+0d", *split,
                    "--replicates", "100", "--format", "json").json()
    assert held["contacts"] == report["held_out"]["contacts"]
    sql = next(s for s in held["stages"] if s["stage"] == "sql")
    assert sql["contacts"] / held["contacts"] < 0.15
    training = drifting("backtest", "--model", "models/s.yaml", "--as-of", "created+0d",
                        "--created-before", split[1], "--replicates", "100", "--format",
                        "json").json()
    training_cut = training["deciles"][0]["min_score"]  # the top 10 % of training scores
    assert report["thresholds"]["sql"] > training_cut
    above = sum(d["contacts"] for d in held["deciles"] if d["min_score"] >= training_cut)
    assert above / held["contacts"] > 0.2
    text = drifting("suggest", "--as-of", "created+0d", "--out", "models/s.yaml").out
    assert "Stability between training and held out" in text and "LS424" in text


@pytest.mark.slow
def test_backtest_by_month_and_thresholds_on_the_recent_period(drifting):
    drifting("suggest", "--as-of", "created+0d", "--out", "models/s.yaml")
    data = drifting("backtest", "--model", "models/s.yaml", "--as-of", "created+0d",
                    "--by", "month", "--replicates", "100", "--format", "json").json()
    periods = data["by_period"]
    assert data["by"] == "month" and len(periods) >= 13
    assert [p["period"] for p in periods] == sorted(p["period"] for p in periods)
    assert periods[0]["period"] == "2024-01"
    assert sum(p["contacts"] for p in periods) == data["contacts"] == 2400
    assert sum(p["converted"] for p in periods) == data["converted"]
    # the score moves with the source mix of the last months
    assert max(p["score_psi"] for p in periods[-3:]) > 0.1
    page = drifting.cwd / "by-quarter.html"
    text = drifting("backtest", "--model", "models/s.yaml", "--as-of", "created+0d",
                    "--by", "quarter", "--replicates", "100", "--html", str(page)).out
    assert "By quarter of creation" in text and "2024-Q1" in text
    assert "By quarter of creation" in page.read_text() and "2024-Q1" in page.read_text()
    wrong = drifting("backtest", "--by", "fortnight", ok=False)
    assert wrong.code == 1 and "LS415" in wrong.err and "month" in wrong.err

    whole = drifting("thresholds", "--model", "models/s.yaml", "--as-of", "created+0d",
                     "--mql-per-month", "60", "--sql-per-month", "20", "--format",
                     "json").json()
    recent = drifting("thresholds", "--model", "models/s.yaml", "--as-of", "created+0d",
                      "--mql-per-month", "60", "--sql-per-month", "20", "--recent", "90d",
                      "--format", "json").json()
    assert whole["volume_on"] is None and "last 90 days" in recent["volume_on"]
    assert recent["mql"]["per_month"] <= 60 and recent["sql"]["per_month"] <= 20
    assert recent["sql"]["threshold"] >= whole["sql"]["threshold"]
    text = drifting("thresholds", "--model", "models/s.yaml", "--as-of", "created+0d",
                    "--sql-per-month", "20", "--recent", "90d").out
    assert "volume per month counted on the" in text and "SQL threshold" in text
    for args in (["--recent", "soon"], ["--recent", "0d"]):
        bad = drifting("thresholds", "--sql-per-month", "20", *args, ok=False)
        assert bad.code == 1 and "LS415" in bad.err
    bad = drifting("thresholds", "--sql-per-month", "-3", ok=False)
    assert bad.code == 1 and "LS413" in bad.err
