"""One self-contained HTML page per report: inline CSS, the charts as base64 PNG images, no
external URL (it opens offline and can be mailed as one file)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from leadscore.calibration.backtest import BacktestResult
from leadscore.calibration.charts import TITLES, render_charts
from leadscore.calibration.compare import Comparison

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:70rem;color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(28rem,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;color:#57606a}
.big{font-size:1.3rem;font-weight:600}.warn{background:#fff8c5;padding:.5rem;margin:.3rem 0}
.note{color:#57606a;font-size:.9rem}code{background:#f6f8fa;padding:0 .2rem}
"""


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(charts: dict[str, bytes]) -> str:
    figures = []
    for name, data in charts.items():
        encoded = base64.b64encode(data).decode("ascii")
        figures.append(f'<figure id="chart-{name}"><img alt="{_e(TITLES[name])}" '
                       f'src="data:image/png;base64,{encoded}" width="640" height="400">'
                       f"<figcaption>{_e(TITLES[name])}</figcaption></figure>")
    return '<div class="charts">' + "".join(figures) + "</div>"


def _result_sections(r: BacktestResult) -> str:
    parts = [f"<h2>Model {_e(r.model)} — score {_e(r.score)}</h2>",
             f'<p class="big">ROC AUC {r.auc:.3f} <span class="note">(95% bootstrap interval '
             f"{r.auc_interval.low:.3f}–{r.auc_interval.high:.3f})</span></p>",
             f"<p>{r.contacts:,} contacts, {r.converted:,} converted "
             f"({_pct(r.conversion_rate)}).</p>",
             "<h3>By score decile</h3>",
             _table(["decile", "contacts", "min score", "max score", "converted", "rate", "lift",
                     "cumulative share"],
                    [[d["decile"], d["contacts"], d["min_score"], d["max_score"], d["converted"],
                      _pct(d["conversion_rate"]), d["lift"],
                      _pct(d["cumulative_share_of_conversions"])] for d in r.deciles])]
    if r.bands:
        parts += ["<h3>By threshold band</h3>", _table(
            ["band", "contacts", "converted", "rate", "lift"],
            [[b["band"], b["contacts"], b["converted"], _pct(b["conversion_rate"]), b["lift"]]
             for b in r.bands])]
    if r.stages:
        parts += [f"<h3>MQL and SQL</h3><p class='note'>Per month over {r.months:.1f} months "
                  "of creations.</p>", _table(
                      ["stage", "contacts", "per month", "precision", "recall"],
                      [[s["stage"].upper(), s["contacts"], s["per_month"],
                        _pct(s["precision"]), _pct(s["recall"])] for s in r.stages])]
    c = r.calibration
    parts += [f"<h3>Calibration</h3><p class='note'>Brier {c.brier:.4f}, expected "
              f"calibration error {c.expected_calibration_error:.4f}.</p>", _table(
                  ["group", "contacts", "min score", "max score", "predicted", "observed"],
                  [[row["group"], row["contacts"], row["min_score"], row["max_score"],
                    _pct(row["predicted"]), _pct(row["observed"])] for row in c.rows])]
    if r.probability:
        p = r.probability
        parts += [f"<h3>The model's {_e(p['described'])}</h3><p class='note'>Mean "
                  f"{_pct(p['mean_predicted'])} against {_pct(p['observed'])} observed; log "
                  f"loss {p['log_loss']:.4f}, Brier {p['brier']:.4f}.</p>", _table(
                      ["group", "contacts", "predicted", "observed"],
                      [[row["group"], row["contacts"], _pct(row["predicted"]),
                        _pct(row["observed"])] for row in p["reliability"]])]
    if r.period:
        parts += [f"<h3>By {_e(r.period)} of creation</h3><p class='note'>Score PSI: the "
                  "score's population stability against the first period (above 0.25 it "
                  "shifted).</p>", _table(
                      [r.period, "contacts", "converted", "rate", "ROC AUC", "mean score",
                       "score PSI", "MQL", "MQL precision", "SQL", "SQL precision"],
                      [[p["period"], p["contacts"], p["converted"], _pct(p["conversion_rate"]),
                        p["roc_auc"], p["mean_score"], p["score_psi"], p["mql"],
                        _pct(p["mql_precision"]), p["sql"], _pct(p["sql_precision"])]
                       for p in r.periods])]
    for title, items in (("Converted with low scores", r.low_converters),
                         ("High scores that never converted", r.high_non_converters)):
        if items:
            parts += [f"<h3>{title}</h3>", _table(
                ["contact", "score", "scored as of", "converted", "why (top rules)"],
                [[s.contact_id, s.score, (s.to_dict()["cutoff"] or "")[:10],
                  (s.to_dict()["converted_at"] or "no")[:10],
                  "; ".join(f"{n} {round(p, 1):+g}" for n, p in s.reasons) or "no rule matched"]
                 for s in items])]
    return "".join(parts)


def _warnings(r: BacktestResult) -> str:
    items = [f'<div class="warn"><b>{_e(d.code)}</b> {_e(d.message)}'
             + (f"<br><span class='note'>{_e(d.hint)}</span>" if d.hint else "") + "</div>"
             for d in r.warnings]
    return ("<h2>Leakage guard</h2>" + "".join(items)) if items else ""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}"
            f"</title><style>{STYLE}</style></head><body><h1>{_e(title)}</h1>{body}"
            "</body></html>\n")


def render_backtest_html(r: BacktestResult, charts: dict[str, bytes] | None = None) -> str:
    charts = charts if charts is not None else render_charts([r])
    notes = "".join(f"<p class='note'>{_e(n)}</p>" for n in r.notes)
    body = (f"<p>{_e(r.population)}</p>{_charts(charts)}{_result_sections(r)}"
            f"{_warnings(r)}<h2>How this was measured</h2>{notes}")
    return _page(f"leadscore backtest — {r.model}", body)


def render_comparison_html(c: Comparison, charts: dict[str, bytes] | None = None) -> str:
    charts = charts if charts is not None else render_charts([c.a, c.b])
    diff = c.difference_interval
    summary = (f"<p class='big'>AUC B − A: {c.auc_difference:+.3f}"
               + (f" <span class='note'>(95% paired bootstrap {diff.low:+.3f} to "
                  f"{diff.high:+.3f})</span>" if diff else "") + "</p>")
    moves = _table(["from A", "to B", "contacts"],
                   [[f, t, n] for (f, t), n in sorted(c.moves.items(), key=lambda kv: -kv[1])])
    examples = _table(["contact", "A", "B", "score A", "score B", "converted"],
                      [[m.contact_id, m.stage_a, m.stage_b, m.score_a, m.score_b,
                        "yes" if m.converted else "no"] for m in c.examples])
    body = (f"<p>{_e(c.a.population)}</p>{summary}{_charts(charts)}"
            f"<h2>Contacts that change stage</h2>{moves}{examples}"
            f"{_result_sections(c.a)}{_result_sections(c.b)}")
    return _page(f"leadscore compare — {c.a.model} vs {c.b.model}", body)
