"""Plain-text reports of backtests, comparisons, thresholds and suggestions (what the CLI
prints with --format text)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadscore.calibration.backtest import BacktestResult, Surprise
from leadscore.calibration.compare import Comparison
from leadscore.calibration.population import LeftOut
from leadscore.calibration.runner import ThresholdReport
from leadscore.calibration.suggest import SuggestReport
from leadscore.diagnostics import Diagnostic


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[str(h) for h in headers], *[[_num(v) if not isinstance(v, str) else v
                                            for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    for k, row in enumerate(cells):
        out.append("  " + "  ".join(c.rjust(w) if k and i else c.ljust(w)
                                    for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if k == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def _warnings(warnings: Sequence[Diagnostic]) -> list[str]:
    out = []
    for d in warnings:
        out.append(f"  warning {d.code}: {d.message}")
        if d.hint:
            out.append(f"      hint: {d.hint}")
    return out


def left_out_lines(rows: Sequence[LeftOut]) -> list[str]:
    """The cutoff report: how many contacts each rule left out, and why."""
    if not rows:
        return ["", "Left out by the cutoff rules: none"]
    out = ["", f"Left out by the cutoff rules: {sum(r.contacts for r in rows):,} contacts"]
    for r in rows:
        out.append(f"  {r.rule}: {r.contacts:,} — {r.why}")
    return out


def _surprises(title: str, items: Sequence[Surprise]) -> list[str]:
    if not items:
        return []
    out = ["", title]
    for s in items:
        reasons = "; ".join(f"{name} {round(points, 1):+g}" for name, points in s.reasons) or \
            "no rule matched"
        when = s.to_dict()
        converted = f", converted {when['converted_at'][:10]}" if s.converted_at else ""
        out.append(f"  {s.contact_id}  score {s.score:g} as of {when['cutoff'][:10]}"
                   f"{converted} — {reasons}")
    return out


def render_backtest(r: BacktestResult) -> str:
    lo, hi = r.auc_interval.low, r.auc_interval.high
    lines = [
        f"Backtest of model {r.model} (score {r.score}) — {r.population}",
        f"  {r.contacts:,} contacts, {r.converted:,} converted ({_pct(r.conversion_rate)}), "
        f"{r.events:,} events seen before the cutoffs",
        f"  ROC AUC {r.auc:.3f}  (95% bootstrap interval {lo:.3f}–{hi:.3f}, "
        f"{r.auc_interval.replicates} replicates)",
    ]
    lines += left_out_lines(r.left_out)
    lines += ["", "By score decile (1 = highest scores)"]
    lines += table(["decile", "contacts", "scores", "converted", "rate", "lift", "cum. share"],
                   [[d["decile"], d["contacts"], f"{_num(d['min_score'])}–{_num(d['max_score'])}",
                     d["converted"], _pct(d["conversion_rate"]), d["lift"],
                     _pct(d["cumulative_share_of_conversions"])] for d in r.deciles])
    if r.bands:
        lines += ["", f"By threshold band of {r.score}"]
        lines += table(["band", "contacts", "converted", "rate", "lift"],
                       [[b["band"], b["contacts"], b["converted"], _pct(b["conversion_rate"]),
                         b["lift"]] for b in r.bands])
    if r.stages:
        lines += ["", f"MQL and SQL (volume per month over {r.months:.1f} months of creations)"]
        lines += table(["stage", "contacts", "per month", "precision", "recall"],
                       [[s["stage"].upper(), s["contacts"], s["per_month"],
                         _pct(s["precision"]), _pct(s["recall"])] for s in r.stages])
    c = r.calibration
    lines += ["", f"Calibration (logistic fit of the outcome on the score: p = 1/(1+exp(-("
                  f"{c.intercept:.3f} + {c.slope:.4f}·score))); Brier {c.brier:.4f}, "
                  f"expected calibration error {c.expected_calibration_error:.4f})"]
    lines += table(["group", "contacts", "scores", "predicted", "observed"],
                   [[row["group"], row["contacts"],
                     f"{_num(row['min_score'])}–{_num(row['max_score'])}",
                     _pct(row["predicted"]), _pct(row["observed"])] for row in c.rows])
    lines += carried_lines(r.probability)
    lines += period_lines(r)
    lines += _surprises("Converted with low scores (the explanation as of the cutoff)",
                        r.low_converters)
    lines += _surprises("High scores that never converted", r.high_non_converters)
    if r.warnings:
        lines += ["", "Leakage guard"] + _warnings(r.warnings)
    if r.notes:
        lines += ["", "How this was measured"] + [f"  {note}" for note in r.notes]
    return "\n".join(lines)


def reliability_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    return table(["group", "contacts", "predicted", "observed"],
                 [[row["group"], row["contacts"], _pct(row["predicted"]),
                   _pct(row["observed"])] for row in rows])


def carried_lines(p: dict[str, Any] | None) -> list[str]:
    """How the model's own calibration (`probability:`) predicted these contacts."""
    if not p:
        return []
    return ["", f"The model's {p['described']} on these contacts: mean "
                f"{_pct(p['mean_predicted'])} against {_pct(p['observed'])} observed; log "
                f"loss {p['log_loss']:.4f}, Brier {p['brier']:.4f}",
            *reliability_lines(p["reliability"])]


def period_lines(r: BacktestResult) -> list[str]:
    """`backtest --by month`: the model's power and volume per creation period."""
    if not r.period:
        return []
    out = ["", f"By {r.period} of creation (score PSI: the score's population stability "
               "against the first period; above 0.25 it shifted)"]
    out += table([r.period, "contacts", "converted", "rate", "ROC AUC", "mean score",
                  "score PSI", "MQL", "MQL prec.", "SQL", "SQL prec."],
                 [[p["period"], p["contacts"], p["converted"], _pct(p["conversion_rate"]),
                   "—" if p["roc_auc"] is None else f"{p['roc_auc']:.3f}", p["mean_score"],
                   "—" if p["score_psi"] is None else f"{p['score_psi']:.3f}", p["mql"],
                   _pct(p["mql_precision"]), p["sql"], _pct(p["sql_precision"])]
                  for p in r.periods])
    return out


def _volume(row: dict[str, Any] | None) -> str:
    row = row or {}
    return f"{_num(row.get('per_month'))} / {_pct(row.get('precision'))}"


def render_comparison(c: Comparison) -> str:
    a, b = c.a, c.b
    lines = [f"Comparison on the same {a.contacts:,} contacts ({a.converted:,} converted) — "
             f"{a.population}"]
    lines += left_out_lines(a.left_out) + [""]
    rows: list[list[Any]] = [
        ["model", a.model, b.model],
        ["file", a.model_path or "", b.model_path or ""],
        ["ROC AUC", f"{a.auc:.3f} ({a.auc_interval.low:.3f}–{a.auc_interval.high:.3f})",
         f"{b.auc:.3f} ({b.auc_interval.low:.3f}–{b.auc_interval.high:.3f})"],
        ["top-decile lift", a.deciles[0]["lift"] if a.deciles else None,
         b.deciles[0]["lift"] if b.deciles else None],
    ]
    for stage in ("sql", "mql", "mql+"):
        sa = next((s for s in a.stages if s["stage"] == stage), None)
        sb = next((s for s in b.stages if s["stage"] == stage), None)
        if sa or sb:
            rows.append([f"{stage.upper()} per month / precision", _volume(sa), _volume(sb)])
    rows.append(["Brier score", round(a.calibration.brier, 4), round(b.calibration.brier, 4)])
    lines += table(["", "A", "B"], rows)
    diff = c.difference_interval
    shown = f" (95% paired bootstrap interval {diff.low:+.3f} to {diff.high:+.3f})" if diff else ""
    lines += ["", f"AUC B − A: {c.auc_difference:+.3f}{shown}", "",
              "Contacts that change stage (A → B)"]
    lines += table(["from A", "to B", "contacts"],
                   [[f, t, n] for (f, t), n in sorted(c.moves.items(), key=lambda kv: -kv[1])])
    up, down = c.move_conversion["up"], c.move_conversion["down"]
    lines.append(f"  moved up by B: {up['contacts']:,} contacts, {_pct(up['conversion_rate'])} "
                 f"converted; moved down: {down['contacts']:,}, "
                 f"{_pct(down['conversion_rate'])} converted")
    if c.examples:
        lines += ["", f"First {len(c.examples)} contacts changing stage"]
        lines += table(["contact", "A", "B", "score A", "score B", "converted"],
                       [[m.contact_id, m.stage_a or "—", m.stage_b or "—", m.score_a, m.score_b,
                         "yes" if m.converted else "no"] for m in c.examples[:20]])
    return "\n".join(lines)


def render_thresholds(t: ThresholdReport) -> str:
    rec = t.recommendation
    lines = [f"Thresholds for {t.model} (score {t.score}) — {t.population}",
             f"  {t.contacts:,} contacts, {t.converted:,} converted, over {t.months:.1f} "
             "months of creations"]
    lines += left_out_lines(t.left_out) + [""]
    if t.recent:
        lines.append(f"  volume per month counted on {t.recent}; precision and recall on "
                     "all of them")
    for name, row in (("MQL", rec.mql), ("SQL", rec.sql)):
        if row:
            count = (f"{row['recent_contacts']:,} recent contacts" if "recent_contacts" in row
                     else f"{row['contacts']:,} contacts")
            lines.append(f"  {name} threshold {row['threshold']:g}: {count} "
                         f"({_num(row['per_month'])} a month), precision "
                         f"{_pct(row['precision'])}, recall {_pct(row['recall'])}")
    lines += [f"  note: {n}" for n in rec.notes]
    snippet = rec.yaml_snippet()
    if snippet:
        lines += ["", "In the model file:", *("  " + s for s in snippet.splitlines())]
    lines += ["", "Trade-off (score ≥ threshold)"]
    lines += table(["threshold", "contacts", "per month", "precision", "recall", "lift"],
                   [[r["threshold"], r["contacts"], r["per_month"], _pct(r["precision"]),
                     _pct(r["recall"]), r["lift"]]
                    for r in rec.curve[::max(len(rec.curve) // 25, 1)]])
    if t.current:
        lines += ["", "The model's own stages as they performed"]
        lines += table(["stage", "contacts", "per month", "precision", "recall"],
                       [[s["stage"].upper(), s["contacts"], s["per_month"],
                         _pct(s["precision"]), _pct(s["recall"])] for s in t.current])
    return "\n".join(lines)


def stability_lines(s: SuggestReport) -> list[str]:
    """The population stability of the score and each input, training → held out."""
    if s.stability is None:
        return []
    data = s.stability.to_dict()
    out = ["", "Stability between training and held out (population stability index: below "
               "0.1 stable, 0.1–0.25 moved, above 0.25 shifted)",
           f"  score: {_num(data['score'])} ({data['score_verdict']})"]
    out += table(["input", "PSI", ""], [[row["input"], row["psi"], row["verdict"]]
                                        for row in data["inputs"]])
    return out


def render_suggestion(s: SuggestReport) -> str:
    h = s.held_out
    lines = [
        f"Wrote {s.path}: a scorecard of {len(s.card.binned)} inputs"
        f"{f' and {len(s.card.pairs)} pair rules' if s.card.pairs else ''} "
        f"({s.card.scale * 0.6931:.0f} points double the odds of converting)",
        f"  {s.population}",
        f"  {s.split.describe()}",
        f"  training: {s.training_contacts:,} contacts, {s.training_converted:,} converted, "
        f"ROC AUC {s.card.training_auc:.3f}",
        f"  held out: {s.held_out_contacts:,} contacts, {s.held_out_converted:,} converted, "
        f"ROC AUC {h.auc:.3f} ({h.auc_interval.low:.3f}–{h.auc_interval.high:.3f}) — the "
        f"backtest of the written file; unrounded fit {s.card.unrounded_auc:.3f}",
        f"  reproduce: {s.reproduce}",
    ]
    lines += left_out_lines(s.left_out)
    lines += ["", "Inputs (strongest first)"]
    lines += table(["input", "information value", "bins → points"],
                   [[row["input"], row["information_value"],
                     "; ".join(f"{b['bin']} {b['points']:+d}" for b in row["bins"])[:110]]
                    for row in s.inputs()])
    if s.card.pairs:
        lines += ["", "Pair rules (two inputs together, chosen on an inner validation within the "
                      "training contacts)"]
        lines += table(["rule", "points", "inner ROC AUC"],
                       [[r.name[:90], f"{r.points:+d}",
                         f"{r.inner_before:.4f} → {r.inner_after:.4f}"] for r in s.card.pairs])
    lines += stability_lines(s)
    if s.probability is not None:
        fit = s.probability
        other = next(m for m in fit.log_loss if m != fit.method)
        lines += ["", f"Probability of converting (written into the file): {fit.method}, "
                      f"fitted on the training contacts, kept for its held-out log loss "
                      f"{fit.log_loss[fit.method]:.4f} ({other} {fit.log_loss[other]:.4f}); "
                      f"held-out Brier {fit.brier:.4f}"]
        lines += reliability_lines(fit.reliability)
    lines.append(f"  thresholds: MQL {s.thresholds[0]}, SQL {s.thresholds[1]} (the top 30 % "
                 f"and 10 % of {s.thresholds_from})")
    if s.warnings:
        lines += ["", "Leakage guard and drift"] + _warnings(s.warnings)
    lines += ["", "Next: leadscore validate " + s.path + ", then edit the points and names as "
              "you like and backtest again."]
    return "\n".join(lines)
