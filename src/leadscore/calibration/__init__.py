"""Calibration: does the scoring formula predict sales? (SPEC.md section 6)

Backtests score history point in time — as of a date, N days after each contact's creation,
or just before its opportunity — using only what was known then, and measure how well the
scores predicted the outcomes stored by `leadscore import outcomes`: ROC AUC with a bootstrap
interval, lift and conversion by decile and label, MQL/SQL volume and precision, calibration,
and the surprises with their explanations. `compare_models` puts two models side by side,
`recommend_thresholds` finds thresholds for a target volume or precision, `suggest_model`
fits a scorecard and writes it as an ordinary model file, and the leakage guard warns about
inputs that are too good to be true. Reports render as text, JSON and HTML with charts.
"""

from leadscore.calibration.backtest import BacktestResult, ScoredCases, score_cases, summarize
from leadscore.calibration.cases import CaseStream
from leadscore.calibration.compare import Comparison
from leadscore.calibration.population import (
    Case,
    Cutoff,
    CutoffKind,
    Population,
    Sample,
    Target,
)
from leadscore.calibration.runner import (
    ThresholdReport,
    backtest_model,
    compare_models,
    recommend_thresholds,
)
from leadscore.calibration.suggest import SuggestReport, suggest_model

__all__ = [
    "BacktestResult", "Case", "CaseStream", "Comparison", "Cutoff", "CutoffKind", "Population",
    "Sample", "ScoredCases", "SuggestReport", "Target", "ThresholdReport", "backtest_model",
    "compare_models", "recommend_thresholds", "score_cases", "suggest_model", "summarize",
]
