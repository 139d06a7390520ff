"""A flat lead export without dates, `;`-separated, through the command line: created_at from
the row order, a month column declared as text, a column that leaks the label. The leakage
guard leaves the leak out unless --allow; the month is a category (an unseen month gets the
neutral level); every calibration command prints its cutoff report."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from tests.cli.conftest import Cli

pytestmark = pytest.mark.slow

MAPPING = """version: 1
contact_id: Lead Id
columns:
  Source: source
  Visits: visits
  Month: month
  Leak: leak
types: {visits: number, month: string, leak: string}
order_by_row: {start: 2024-01-01, step: 2h}
derived:
  created_weekday: {from: created_at, part: weekday}
outcome: {column: Converted, positive: ["1"], negative: ["0"], stage: won, at: 2024-06-01}
"""


def _leads(path: Path, n: int = 2400, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    sources = rng.choice(["web", "referral", "ads", "event"], n, p=[0.4, 0.25, 0.25, 0.1])
    visits = rng.poisson(3, n)
    months = [f"{m:02d}" for m in rng.integers(1, 12, n)]  # "12" never appears
    logit = -1.5 + 0.35 * visits + np.where(sources == "referral", 1.0, 0.0)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    leak = np.where(rng.random(n) < 0.97, np.where(converted, "closed", "open"), "open")
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, delimiter=";", lineterminator="\n")
        out.writerow(["Lead Id", "Source", "Visits", "Month", "Leak", "Converted"])
        for i in range(n):
            out.writerow([f"L{i}", sources[i], visits[i], months[i], leak[i],
                          int(converted[i])])


@pytest.fixture(scope="module")
def flat(tmp_path_factory) -> Cli:
    root = tmp_path_factory.mktemp("flat")
    run = Cli(root)
    run("init", ".")
    _leads(root / "leads.csv")
    (root / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    run("import", "contacts", "leads.csv", "--mapping", "mapping.yaml")
    run("import", "outcomes", "leads.csv", "--mapping", "mapping.yaml")
    return run


def test_the_guard_leaves_the_leak_out_unless_allowed(flat):
    guarded = flat("suggest", "--as-of", "created+0d", "--out", "models/guarded.yaml",
                   "--format", "json").json()
    assert "leak" in guarded["leakage_guard_excluded"]
    assert any(w["code"] == "LS422" for w in guarded["warnings"])
    text = (flat.cwd / "models/guarded.yaml").read_text()
    assert '"property": "leak"' not in text and "Left out by the leakage guard" in text
    assert guarded["held_out"]["roc_auc"] < 0.9
    allowed = flat("suggest", "--as-of", "created+0d", "--allow", "leak", "--out",
                   "models/allowed.yaml", "--format", "json").json()
    assert allowed["leakage_guard_allowed"] == ["leak"]
    assert '"property": "leak"' in (flat.cwd / "models/allowed.yaml").read_text()
    assert allowed["held_out"]["roc_auc"] > guarded["held_out"]["roc_auc"]
    wrong = flat("suggest", "--as-of", "created+0d", "--allow", "leek", ok=False)
    assert wrong.code == 1 and "LS416" in wrong.err and "did you mean 'leak'" in wrong.err


def test_a_declared_text_month_is_a_category_and_an_unseen_month_is_neutral(flat):
    report = flat("suggest", "--as-of", "created+0d", "--include", "month", "--include",
                  "visits", "--include", "source", "--out", "models/months.yaml",
                  "--format", "json").json()
    text = (flat.cwd / "models/months.yaml").read_text()
    assert "month: {type: string}" in text
    assert not re.search(r'"property": "month"}\s*\n\s*tiers', text)  # never a number
    month = next((i for i in report["inputs"] if i["input"] == "month"), None)
    if month is not None:
        assert month["kind"] == "categorical"
        assert all(b["bin"] != "12" for b in month["bins"])  # "12": unseen, so 0 points
    visits = next(i for i in report["inputs"] if i["input"] == "visits")
    points = [b["points"] for b in visits["bins"] if b["bin"] != "unknown"]
    steps = np.diff(points)
    assert (steps >= 0).all() or (steps <= 0).all()  # visits rise steadily: monotonic
    assert "trend" in text  # the choice is written beside the rule
    flat("validate", "models/months.yaml")


def test_every_calibration_command_prints_its_cutoff_report(flat):
    flat("suggest", "--as-of", "created+0d", "--out", "models/s.yaml")
    for args in (["backtest", "--as-of", "created+14d", "--model", "models/s.yaml",
                  "--replicates", "100"],
                 ["thresholds", "--as-of", "created+14d", "--model", "models/s.yaml",
                  "--sql-precision", "0.5"],
                 ["compare", "models/s.yaml", "models/s.yaml", "--as-of", "created+14d",
                  "--replicates", "100"],
                 ["suggest", "--as-of", "created+14d", "--out", "models/t.yaml"]):
        out = flat(*args).out
        assert "Left out by the cutoff rules:" in out, args
        # converters won on 2024-06-01 within 14 days of their creation (rows dated every 2 h
        # from 2024-01-01) are named, with the reason
        line = next(x for x in out.splitlines() if "converted at or before the cutoff" in x)
        assert re.search(r"cutoff: [\d,]+ — their outcome came within 14 day", line), line
        assert "created+0d" in line
    data = flat("backtest", "--as-of", "created+14d", "--model", "models/s.yaml",
                "--replicates", "100", "--format", "json").json()
    rules = {r["rule"]: r["contacts"] for r in data["left_out"]}
    assert rules["converted at or before the cutoff"] > 0
    assert sum(rules.values()) + data["contacts"] == 2400
