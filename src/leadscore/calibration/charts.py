"""The four backtest charts as PNG images (matplotlib, Agg backend: no display needed):
score distribution by outcome, lift by decile, calibration and ROC. One or two results (a
comparison) per chart."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from leadscore.calibration.backtest import BacktestResult

CHARTS = ("distribution", "lift", "calibration", "roc")
TITLES = {"distribution": "Score distribution by outcome", "lift": "Lift by score decile",
          "calibration": "Calibration: predicted vs observed", "roc": "ROC curve"}
COLOURS = ("#1f6feb", "#d9480f")


def _figure():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    return plt, fig, ax


def _png(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _name(result: BacktestResult, results: Sequence[BacktestResult]) -> str:
    return result.model if len(results) == 1 else f"{result.model} ({result.model_path})"


def render_charts(results: Sequence[BacktestResult]) -> dict[str, bytes]:
    """name → PNG bytes, for one result or two compared."""
    return {"distribution": distribution_chart(results), "lift": lift_chart(results),
            "calibration": calibration_chart(results), "roc": roc_chart(results)}


def distribution_chart(results: Sequence[BacktestResult]) -> bytes:
    plt, fig, ax = _figure()
    for k, result in enumerate(results):
        h = result.histogram
        edges = h["edges"]
        if not edges:
            continue
        centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        for values, style, what in ((h["not_converted"], "--", "not converted"),
                                    (h["converted"], "-", "converted")):
            total = sum(values) or 1
            ax.plot(centres, [v / total for v in values], style, color=COLOURS[k % 2],
                    label=f"{_name(result, results)}: {what}")
    ax.set_xlabel(f"score ({results[0].score})")
    ax.set_ylabel("share of contacts")
    ax.set_title(TITLES["distribution"])
    ax.legend(fontsize=7)
    return _png(plt, fig)


def lift_chart(results: Sequence[BacktestResult]) -> bytes:
    plt, fig, ax = _figure()
    width = 0.8 / max(len(results), 1)
    for k, result in enumerate(results):
        xs = [row["decile"] + (k - (len(results) - 1) / 2) * width for row in result.deciles]
        ax.bar(xs, [row["lift"] or 0 for row in result.deciles], width=width,
               color=COLOURS[k % 2], label=_name(result, results))
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("decile (1 = highest scores)")
    ax.set_ylabel("lift (conversion rate / average)")
    ax.set_title(TITLES["lift"])
    ax.legend(fontsize=7)
    return _png(plt, fig)


def calibration_chart(results: Sequence[BacktestResult]) -> bytes:
    plt, fig, ax = _figure()
    top = 0.0
    for k, result in enumerate(results):
        rows = result.calibration.rows
        xs = [row["predicted"] or 0 for row in rows]
        ys = [row["observed"] or 0 for row in rows]
        top = max([top, *xs, *ys])
        ax.plot(xs, ys, "o-", color=COLOURS[k % 2], label=_name(result, results))
    ax.plot([0, top or 1], [0, top or 1], ":", color="grey", label="perfect")
    ax.set_xlabel("predicted conversion rate (logistic fit of the score)")
    ax.set_ylabel("observed conversion rate")
    ax.set_title(TITLES["calibration"])
    ax.legend(fontsize=7)
    return _png(plt, fig)


def roc_chart(results: Sequence[BacktestResult]) -> bytes:
    plt, fig, ax = _figure()
    for k, result in enumerate(results):
        xs = [p[0] for p in result.roc]
        ys = [p[1] for p in result.roc]
        ax.plot(xs, ys, color=COLOURS[k % 2],
                label=f"{_name(result, results)}: AUC {result.auc:.3f}")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(TITLES["roc"])
    ax.legend(fontsize=7, loc="lower right")
    return _png(plt, fig)


def write_pngs(charts: dict[str, bytes], folder: str | Path) -> list[Path]:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in charts.items():
        path = target / f"{name}.png"
        path.write_bytes(data)
        written.append(path)
    return written
