"""The calibration commands end to end, as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Cli:
    root = tmp_path_factory.mktemp("calibration-cli")
    run = Cli(root)
    run("init", ".")
    run("generate", "--contacts", "1500", "--events", "30000", "--seed", "5")
    run("import", "contacts", "data/contacts.csv")
    run("import", "events", "data/events.jsonl")
    return run


def test_backtest_without_outcomes_says_what_to_do(project):
    result = project("backtest", ok=False)
    assert result.code == 1 and "LS410" in result.err and "import outcomes" in result.err


def test_import_outcomes_then_backtest(project, tmp_path):
    out = project("import", "outcomes", "data/outcomes.csv")
    assert "1,500 rows read" in out.out
    data = project("backtest", "--as-of", "created+14d", "--replicates", "200",
                   "--format", "json", "--html", str(tmp_path / "report.html"),
                   "--png", str(tmp_path / "charts")).json()
    assert data["roc_auc"] > 0.6
    assert data["roc_auc_interval"]["low"] < data["roc_auc"] < data["roc_auc_interval"]["high"]
    assert len(data["deciles"]) == 10 and data["calibration"]["rows"]
    assert data["converted_with_low_scores"] and data["high_scores_never_converted"]
    page = (tmp_path / "report.html").read_text()
    for chart in ("distribution", "lift", "calibration", "roc"):
        assert f'id="chart-{chart}"' in page
        assert (tmp_path / "charts" / f"{chart}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count("data:image/png;base64,") == 4
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "http://" not in page and "https://" not in page
    text = project("backtest", "--as-of", "before-opportunity", "--replicates", "100").out
    assert "ROC AUC" in text and "matched random moment" in text
    assert "Converted with low scores" in text


def test_compare_thresholds_suggest(project, tmp_path):
    text = project("compare", "models/model.yaml", "models/model.yaml", "--replicates",
                   "100").out
    assert "AUC B − A: +0.000" in text
    result = project("thresholds", "--mql-per-month", "40", "--sql-precision", "0.2").out
    assert "MQL threshold" in result and "label: MQL" in result
    out = project("suggest", "--as-of", "created+14d", "--out", "models/suggested.yaml",
                  "--format", "json").json()
    assert Path(project.cwd / "models/suggested.yaml").is_file()
    project("validate", "models/suggested.yaml")
    options = out["reproduce"].split("--as-of", 1)[1].split()
    again = project("backtest", "--model", "models/suggested.yaml", "--as-of", *options,
                    "--replicates", "100", "--format", "json").json()
    assert abs(again["roc_auc"] - out["held_out"]["roc_auc"]) < 0.005
    cmp = project("compare", "models/model.yaml", "models/suggested.yaml", "--as-of",
                  *options, "--replicates", "100", "--format", "json").json()
    assert cmp["a"]["contacts"] == cmp["b"]["contacts"] == out["held_out"]["contacts"]


def test_option_mistakes_are_diagnostics(project):
    for args, code in ((["backtest", "--as-of", "created+soon"], "LS411"),
                       (["backtest", "--target", "sold"], "LS415"),
                       (["thresholds"], "LS413")):
        result = project(*args, ok=False)
        assert result.code == 1 and code in result.err, result.err
