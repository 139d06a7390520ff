"""Backtests and comparisons asked for from the web app's Reports page: `Project.report(...)`
runs one on the stored history (as `leadscore backtest` and `leadscore compare` do, with their
default population for the chosen target) and hands back the text report and the charts
(score distribution by outcome, lift, calibration, ROC) as PNG bytes. A progress callback
says how far it got, for the page that shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.storage import Store

TARGETS = ("opportunity-or-won", "opportunity", "won", "sales-feedback")
REPLICATES = 200  # bootstrap replicates of the intervals (the command line's default: 1000)


@dataclass(frozen=True)
class Report:
    kind: str  # backtest | compare
    text: str  # the command line's text report
    charts: dict[str, bytes]  # name → PNG


class WebReportOperations:
    if TYPE_CHECKING:
        @property
        def store(self) -> Store: ...
        @property
        def model(self) -> Model: ...

    def report(self, kind: str, *, target: str = "opportunity-or-won",
               draft: str | None = None, progress: Callable[[int, int], None] | None = None,
               seed: int = 7) -> Report:
        """A backtest of the live model, or (`compare`) the live model beside the `draft`
        model text; LS415 for an unknown target, the draft's diagnostics for a bad draft."""
        from leadscore.calibration import (
            Cutoff,
            Population,
            Sample,
            Target,
            backtest_model,
            compare_models,
        )
        from leadscore.calibration.charts import render_charts
        from leadscore.calibration.text_report import render_backtest, render_comparison
        from leadscore.project.drafts import parse_draft

        if target not in TARGETS:
            raise LeadscoreError.single("LS415", f"{target} is not a target",
                                        Location(field="target"), text=target[:40],
                                        hint="one of: " + ", ".join(TARGETS))
        chosen = Target(target)
        cutoff = "before-feedback" if chosen is Target.SALES_FEEDBACK else "created+14d"
        population = Population(Cutoff.parse(cutoff, seed=seed), chosen, None,
                                Sample(None, None, None, seed))
        if kind == "compare":
            other = parse_draft(draft or "")
            compared = compare_models(self.store, self.model, other, population,
                                      replicates=REPLICATES, seed=seed, progress=progress)
            return Report(kind, render_comparison(compared),
                          render_charts([compared.a, compared.b]))
        result = backtest_model(self.store, self.model, population, replicates=REPLICATES,
                                seed=seed, keep=5, progress=progress)
        return Report("backtest", render_backtest(result), render_charts([result]))


__all__ = ["REPLICATES", "TARGETS", "Report", "WebReportOperations"]
