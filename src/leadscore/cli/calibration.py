"""Calibration commands: `import outcomes`, `backtest`, `compare`, `thresholds`, `suggest`.

A thin shell over `leadscore.calibration`: options become a `Population` (cutoff, target,
sample), results print as text or JSON, `--html` writes a self-contained page with charts and
`--png DIR` the charts alone. User mistakes are diagnostics (exit 1).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from leadscore.cli.data import Delimiter
from leadscore.cli.output import (
    TextFormat,
    console,
    err_console,
    print_json,
    progress_bar,
)
from leadscore.diagnostics import LeadscoreError, Location

AsOf = Annotated[str | None, typer.Option(
    "--as-of", help="When each contact is scored: a date (2026-01-01), 'created+14d' (N days "
                    "after its creation; the default), 'before-opportunity' / 'opportunity-1d' "
                    "or, with --target sales-feedback, 'before-feedback' / 'feedback-1h' (its "
                    "default).")]
TargetOption = Annotated[str, typer.Option(
    "--target", help="What counts as converting: opportunity-or-won, opportunity, won, or "
                     "sales-feedback (sales's first verdict on a lead was true_sql; only leads "
                     "sales judged).")]
Horizon = Annotated[str | None, typer.Option(
    help="Count a conversion only within this long after the cutoff (e.g. 90d).")]
CreatedFrom = Annotated[str | None, typer.Option(
    "--created-from", help="Only contacts created at or after this date (a time split's "
                           "held-out part).")]
CreatedBefore = Annotated[str | None, typer.Option(
    "--created-before", help="Only contacts created before this date.")]
HeldOutShare = Annotated[float | None, typer.Option(
    "--held-out-share", help="Only the held-out part of a random split of this share "
                             "(as `suggest` made it; with --seed).")]
Seed = Annotated[int, typer.Option(help="Seed of random splits and matched moments.")]
Replicates = Annotated[int, typer.Option(min=50, help="Bootstrap replicates for the AUC "
                                                      "interval.")]
Html = Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")]
Png = Annotated[Path | None, typer.Option(help="Write the charts as PNG files into this "
                                               "folder.")]
Fmt = Annotated[TextFormat, typer.Option("--format")]


def _project():  # type: ignore[no-untyped-def]
    from leadscore.cli import app as cli_app

    return cli_app._project()


def _model(project, path: Path | None):  # type: ignore[no-untyped-def]
    from leadscore.model import load_model

    return load_model(path) if path else project.model


def _date(text: str | None, option: str) -> datetime | None:
    from leadscore.catalog import CoercionError, parse_datetime

    if text is None:
        return None
    try:
        return parse_datetime(text)
    except CoercionError as error:
        raise LeadscoreError.single("LS303", f"{option}: {error}", Location(field=option),
                                    text=text, hint="write a date like 2026-03-01") from None


def _duration(text: str | None, option: str) -> float | None:
    """A duration option (90d) in seconds."""
    from leadscore.catalog import CoercionError, parse_duration

    if not text:
        return None
    try:
        seconds = parse_duration(text).total_seconds()
    except CoercionError as error:
        raise LeadscoreError.single("LS415", f"{option}: {error}", Location(field=option),
                                    text=text, hint="write a duration such as 90d") from None
    if seconds <= 0:
        raise LeadscoreError.single("LS415", f"{option} must be longer than nothing",
                                    Location(field=option), text=text,
                                    hint="write a duration such as 90d")
    return seconds


def _population(as_of: str | None, target: str, horizon: str | None, created_from: str | None,
                created_before: str | None, held_out_share: float | None, seed: int):
    from leadscore.calibration import Cutoff, Population, Sample, Target

    try:
        chosen = Target(target)
    except ValueError:
        raise LeadscoreError.single(
            "LS415", f"--target {target} is not a target", Location(field="--target"),
            text=target, hint="use opportunity-or-won, opportunity, won or sales-feedback"
        ) from None
    if as_of is None:
        as_of = "before-feedback" if chosen is Target.SALES_FEEDBACK else "created+14d"
    window = _duration(horizon, "--horizon")
    if held_out_share is not None and not 0 < held_out_share < 1:
        raise LeadscoreError.single("LS415", "--held-out-share must be between 0 and 1",
                                    Location(field="--held-out-share"), hint="e.g. 0.3")
    sample = Sample(_date(created_from, "--created-from"),
                    _date(created_before, "--created-before"), held_out_share, seed)
    return Population(Cutoff.parse(as_of, seed=seed), chosen, window, sample)


def _write_reports(html_text: str | None, html: Path | None, charts: dict[str, bytes] | None,
                   png: Path | None) -> None:
    from leadscore.calibration.charts import write_pngs

    if html is not None and html_text is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(html_text, encoding="utf-8")
        err_console.print(f"Wrote {html}")
    if png is not None and charts is not None:
        written = write_pngs(charts, png)
        err_console.print(f"Wrote {len(written)} charts into {png}")


def import_outcomes(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL outcomes, or a flat export.")],
    mapping: Annotated[Path | None, typer.Option(
        help="A mapping file with an 'outcome:' section (for a label column).")] = None,
    delimiter: Delimiter = None,
) -> None:
    """Import outcomes: when each contact became an opportunity, was won or lost."""
    project = _project()
    with progress_bar(f"Importing {file.name}") as progress:
        report = project.import_outcomes(file, mapping=mapping, progress=progress,
                                         delimiter=delimiter)
    parts = [f"{report.rows:,} rows read", f"{report.inserted:,} new"]
    if report.updated:
        parts.append(f"{report.updated:,} updated")
    if report.unchanged:
        parts.append(f"{report.unchanged:,} unchanged")
    console.print(f"Imported outcomes from {file}: {', '.join(parts)}; {report.converted:,} "
                  f"contacts converted, in {report.elapsed_seconds:.1f}s.")


def backtest(
    model: Annotated[Path | None, typer.Option(help="The model file (default: the "
                                                    "project's).")] = None,
    as_of: AsOf = None, target: TargetOption = "opportunity-or-won",
    horizon: Horizon = None, created_from: CreatedFrom = None,
    created_before: CreatedBefore = None, held_out_share: HeldOutShare = None, seed: Seed = 7,
    replicates: Replicates = 1000,
    surprises: Annotated[int, typer.Option(min=0, help="How many surprising contacts of "
                                                       "each kind to explain.")] = 10,
    auc_limit: Annotated[float, typer.Option(help="Leakage guard: warn at this univariate "
                                                  "ROC AUC.")] = 0.9,
    iv_limit: Annotated[float, typer.Option(help="Leakage guard: warn at this information "
                                                 "value.")] = 1.5,
    by: Annotated[str | None, typer.Option(
        "--by", help="Also per creation period: month, week or quarter (ROC AUC, volume and "
                     "the score's stability per period).")] = None,
    html: Html = None, png: Png = None, fmt: Fmt = TextFormat.text,
) -> None:
    """Score history point in time and measure how well the scores predicted sales."""
    from leadscore.calibration import backtest_model
    from leadscore.calibration.charts import render_charts
    from leadscore.calibration.html_report import render_backtest_html
    from leadscore.calibration.text_report import render_backtest

    project = _project()
    chosen = _model(project, model)
    population = _population(as_of, target, horizon, created_from, created_before,
                             held_out_share, seed)
    with progress_bar("Backtesting") as progress:
        result = backtest_model(project.store, chosen, population, replicates=replicates,
                                seed=seed, keep=surprises, auc_limit=auc_limit,
                                iv_limit=iv_limit, by=by, progress=progress)
    charts = render_charts([result]) if (html or png) else None
    _write_reports(render_backtest_html(result, charts) if html else None, html, charts, png)
    if fmt is TextFormat.json:
        print_json(result.to_dict())
        return
    console.print(render_backtest(result), markup=False)


def compare(
    model_a: Annotated[Path, typer.Argument(help="Model A (e.g. the live model).")],
    model_b: Annotated[Path, typer.Argument(help="Model B (e.g. a draft).")],
    as_of: AsOf = None, target: TargetOption = "opportunity-or-won",
    horizon: Horizon = None, created_from: CreatedFrom = None,
    created_before: CreatedBefore = None, held_out_share: HeldOutShare = None, seed: Seed = 7,
    replicates: Replicates = 1000, html: Html = None, png: Png = None,
    fmt: Fmt = TextFormat.text,
) -> None:
    """Two models on the same history: metrics side by side and who changes stage."""
    from leadscore.calibration import compare_models
    from leadscore.calibration.charts import render_charts
    from leadscore.calibration.html_report import render_comparison_html
    from leadscore.calibration.text_report import render_comparison
    from leadscore.model import load_model

    project = _project()
    a, b = load_model(model_a), load_model(model_b)
    population = _population(as_of, target, horizon, created_from, created_before,
                             held_out_share, seed)
    with progress_bar("Comparing") as progress:
        result = compare_models(project.store, a, b, population, replicates=replicates,
                                seed=seed, progress=progress)
    charts = render_charts([result.a, result.b]) if (html or png) else None
    _write_reports(render_comparison_html(result, charts) if html else None, html, charts, png)
    if fmt is TextFormat.json:
        print_json(result.to_dict())
        return
    console.print(render_comparison(result), markup=False)


def thresholds(
    model: Annotated[Path | None, typer.Option(help="The model file (default: the "
                                                    "project's).")] = None,
    mql_per_month: Annotated[float | None, typer.Option(
        "--mql-per-month", help="How many MQLs a month sales can take.")] = None,
    sql_precision: Annotated[float | None, typer.Option(
        "--sql-precision", help="Share of SQLs that should convert (e.g. 0.4).")] = None,
    sql_per_month: Annotated[float | None, typer.Option(
        "--sql-per-month", help="How many SQLs a month sales can take.")] = None,
    recent: Annotated[str | None, typer.Option(
        "--recent", help="Count the volume per month on the contacts created in this last "
                         "stretch of the data (e.g. 90d), not on all of it.")] = None,
    as_of: AsOf = None, target: TargetOption = "opportunity-or-won",
    horizon: Horizon = None, created_from: CreatedFrom = None,
    created_before: CreatedBefore = None, held_out_share: HeldOutShare = None, seed: Seed = 7,
    fmt: Fmt = TextFormat.text,
) -> None:
    """Recommend MQL/SQL thresholds for a target volume or precision, with the trade-off."""
    from leadscore.calibration import recommend_thresholds
    from leadscore.calibration.text_report import render_thresholds

    project = _project()
    chosen = _model(project, model)
    population = _population(as_of, target, horizon, created_from, created_before,
                             held_out_share, seed)
    window = _duration(recent, "--recent")
    with progress_bar("Scoring history") as progress:
        report = recommend_thresholds(project.store, chosen, population,
                                      mql_per_month=mql_per_month,
                                      sql_precision=sql_precision, sql_per_month=sql_per_month,
                                      recent=window, progress=progress)
    if fmt is TextFormat.json:
        print_json(report.to_dict())
        return
    console.print(render_thresholds(report), markup=False)


def suggest(
    out: Annotated[Path, typer.Option(help="Where to write the suggested model file.")] = Path(
        "models/suggested.yaml"),
    as_of: AsOf = None, target: TargetOption = "opportunity-or-won",
    horizon: Horizon = None,
    split: Annotated[str, typer.Option(help="auto (time split when creation dates vary, "
                                            "else random), time or random.")] = "auto",
    held_out_share: Annotated[float, typer.Option(
        "--held-out-share", help="Share of contacts held out for judging.")] = 0.3,
    held_out_from: Annotated[str | None, typer.Option(
        "--held-out-from", help="Time split: hold out contacts created from this date.")] = None,
    seed: Seed = 7,
    exclude: Annotated[list[str] | None, typer.Option(
        help="A property never to use (repeatable).")] = None,
    include: Annotated[list[str] | None, typer.Option(
        help="Use only these properties (repeatable; no event counts).")] = None,
    allow: Annotated[list[str] | None, typer.Option(
        help="Use this input although the leakage guard flags it (repeatable); flagged "
             "inputs are left out otherwise.")] = None,
    max_inputs: Annotated[int, typer.Option(min=1, help="At most this many inputs.")] = 25,
    max_pairs: Annotated[int, typer.Option(
        min=0, help="At most this many pair rules (two inputs together), each kept only when "
                    "an inner validation within the training contacts says it helps; 0: "
                    "none.")] = 4,
    name: Annotated[str, typer.Option(help="The model's name.")] = "suggested",
    html: Html = None, png: Png = None, fmt: Fmt = TextFormat.text,
) -> None:
    """Fit a points model (a scorecard) on an earlier period, judge it on a later one, and
    write it as an ordinary model file."""
    from leadscore.calibration import suggest_model
    from leadscore.calibration.charts import render_charts
    from leadscore.calibration.html_report import render_backtest_html
    from leadscore.calibration.text_report import render_suggestion

    if split not in ("auto", "time", "random"):
        raise LeadscoreError.single("LS415", f"--split {split} is not a split",
                                    Location(field="--split"), text=split,
                                    hint="use auto, time or random")
    project = _project()
    population = _population(as_of, target, horizon, None, None, None, seed)
    with progress_bar("Fitting") as progress:
        report = suggest_model(project.store, project.model.catalog, population, out,
                               name=name, split=split, held_out_share=held_out_share,
                               held_out_from=_date(held_out_from, "--held-out-from"),
                               seed=seed, exclude=exclude or (), include=include or None,
                               allow=allow or (),
                               max_inputs=max_inputs, max_pairs=max_pairs,
                               progress=progress)
    charts = render_charts([report.held_out]) if (html or png) else None
    _write_reports(render_backtest_html(report.held_out, charts) if html else None, html,
                   charts, png)
    if fmt is TextFormat.json:
        print_json(report.to_dict())
        return
    console.print(render_suggestion(report), markup=False)


def register(app: typer.Typer) -> None:
    from leadscore.cli.data import import_app

    import_app.command("outcomes")(import_outcomes)
    app.command()(backtest)
    app.command()(compare)
    app.command()(thresholds)
    app.command()(suggest)
