"""The `leadscore` command: a thin shell over `leadscore.project`.

Exit codes: 0 ok, 1 a user mistake (printed as diagnostics, never a traceback), 2 a bug
(`--debug` shows the traceback).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_name

from leadscore.cli import setup
from leadscore.cli.context import open_project, options, parse_moment
from leadscore.cli.data import export_app, import_app
from leadscore.cli.output import (
    Format,
    TextFormat,
    console,
    err_console,
    print_diagnostics,
    print_json,
    print_rows,
    progress_bar,
)
from leadscore.diagnostics import LeadscoreError, Location

if TYPE_CHECKING:  # each command imports what it needs when it runs: the CLI starts fast
    from leadscore.project import Project


class _PipeClosed(Exception):
    """stdout's reader went away (`leadscore leads | head -1`)."""


class _Commands(TyperGroup):
    """Lets a closed stdout past click (which would exit 1 without a word) to `main`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:  # `leadscore --help | …`
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError as error:
            raise _PipeClosed from error

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as error:
            raise _PipeClosed from error


app = typer.Typer(
    cls=_Commands,
    name="leadscore",
    help="Lead scoring as software you own: models as files, scores you can explain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
setup.register(app)  # first: init, generate and validate lead the command list
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


ProjectOption = Annotated[Path | None, typer.Option(
    "--project", "-C", help="Project folder (default: the nearest with a leadscore.toml).")]


@app.callback()
def main_options(
    project: ProjectOption = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of internal errors.")] = False,
) -> None:
    options.project = project
    options.debug = debug
    logging.basicConfig(format="%(name)s: %(message)s",
                        level=logging.DEBUG if debug else logging.ERROR)


def _project(*, reading: bool = False) -> Project:
    return open_project(reading=reading)


def _model(project: Project, path: Path | None):
    if path is None:
        return project.model
    from leadscore.model import load_model

    return load_model(path)


def _moment(text: str | None, option: str) -> datetime | None:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise LeadscoreError.single("LS303", f"{option}: {exc}", Location(field=option),
                                    hint="write a date like 2026-03-01 or 2026-03-01T09:30Z, "
                                    "or now-30d"
                                    ) from None

# --- commands -----------------------------------------------------------------------------

score_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
app.add_typer(score_app, name="score")


@score_app.callback()
def score(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Score as of this moment (ISO date/time); default now.")] = None,
    model: Annotated[Path | None, typer.Option(
        help="A model file other than the project's (e.g. a draft).")] = None,
    full: Annotated[bool, typer.Option(
        help="Score every contact (default: only those whose data or time-based state "
             "changed since the model's last run).")] = False,
    engine: Annotated[str, typer.Option(
        help="auto (DuckDB for the embedded store, in-database on PostgreSQL), python "
             "(the reference evaluator), duckdb, postgres or spark.")] = "auto",
    master: Annotated[str | None, typer.Option(
        help="With --engine spark: the Spark master (default local[2]; e.g. "
             "spark://host:7077).")] = None,
    dry_run: Annotated[bool, typer.Option(
        help="Compute and show, but store nothing.")] = False,
    contacts: Annotated[Path | None, typer.Option(
        help="Score the contacts of this file (CSV, JSONL or Parquet) instead of the "
             "store's; nothing is stored.")] = None,
    events: Annotated[Path | None, typer.Option(
        help="And/or the events of this file (CSV, JSONL or Parquet).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="With --contacts/--events: write every contact's results here (.parquet or "
             ".csv).")] = None,
    top: Annotated[int, typer.Option(help="With --dry-run or files: show the best N.")] = 10,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Score contacts (only those that can have changed, unless --full); store the scores and
    move lifecycle stages forward. `score history CONTACT`: a contact's stored scores."""
    if ctx.invoked_subcommand is not None:
        return
    project = _project(reading=dry_run or bool(contacts or events))
    chosen = _model(project, model)
    if model is None and not (contacts or events):
        _say_which_model(project)
    moment = _moment(as_of, "--as-of")
    if out is not None and not (contacts or events):
        raise LeadscoreError.single("LS304", "--out writes the results of scoring files",
                                    Location(field="--out"),
                                    hint="add --events FILE (and --contacts FILE)")
    dry_run = dry_run or bool(contacts or events)  # files are scored, never stored
    with progress_bar("Scoring") as progress:
        if dry_run:
            run = project.dry_run(chosen, contacts=contacts, events=events, as_of=moment,
                                  engine=engine, out=out, keep=top, master=master)
        else:
            run = project.score(as_of=moment, model=chosen, full=full, engine=engine,
                                progress=progress, master=master)
    if fmt is TextFormat.json:
        data = run.to_dict()
        if dry_run:
            ranked = sorted(run.results, key=lambda r: -r.value(chosen.primary_score.name))
            data["top"] = [r.to_dict() for r in ranked[:top]]
        print_json(data)
        return
    rate = run.events / run.seconds if run.seconds else 0
    verb = "Scored (dry run, nothing stored)" if dry_run else "Scored"
    which = "" if run.full else " whose data or time-based state changed (--full: everyone)"
    console.print(f"{verb} {run.contacts:,} contacts{which} under model {run.model} as of "
                  f"{run.as_of:%Y-%m-%d %H:%M} UTC with the {run.engine} engine in "
                  f"{run.seconds:.1f}s ({run.events:,} events in the "
                  f"{'files' if events or contacts else 'store'}, "
                  f"{rate:,.0f} events/s).")
    for name, counts in run.labels.items():
        if counts:
            shown = ", ".join(f"{label} {n:,}" for label, n in sorted(counts.items()))
            console.print(f"  {name}: {shown}")
    if not dry_run:
        console.print(f"  {run.changed:,} stored score values changed")
        if run.stage_moves:
            console.print("  stage moves: " + ", ".join(
                f"→ {stage} {n:,}" for stage, n in run.stage_moves.items()))
        if run.companies is not None:
            done = run.companies
            which = "" if done.full else " whose contacts or properties changed"
            console.print(f"Scored {done.companies:,} companies{which} in {done.seconds:.1f}s "
                          f"({done.changed:,} stored company score values changed)")
            for name, counts in done.labels.items():
                if any(label != "—" for label in counts):
                    shown = ", ".join(f"{label} {n:,}" for label, n in sorted(counts.items()))
                    console.print(f"  {name}: {shown}")
    if dry_run and run.results:
        primary = chosen.primary_score.name
        ranked = sorted(run.results, key=lambda r: (-r.value(primary), r.contact_id))[:top]
        headers = ["#", "contact", *chosen.scores, "grade"]
        rows = [[i + 1, r.contact_id, *(_scored(r, n) for n in chosen.scores), r.grade]
                for i, r in enumerate(ranked)]
        print_rows(headers, rows, Format.table, title=f"Top {len(rows)} by {primary}")


def _say_which_model(project: Project) -> None:
    """When a published version is live and the model file is not it, say which one scores."""
    live = project.file_differs()
    if live is not None:
        err_console.print(
            f"note: scoring with the live version {live.version} (live since "
            f"{live.live_at:%Y-%m-%d %H:%M} UTC); the model file {project.config.model_path} "
            "differs from it. `leadscore model diff live file` shows how; `leadscore model "
            "publish -m \"why\"` makes the file live; `--model FILE` scores a file "
            "(unversioned).", markup=False)
    pending = project.unfinished_publish()
    if pending is not None:
        err_console.print(
            f"note: version {pending.version} is being published ({pending.phase}); until it "
            "is live, the current version scores. If its process died: `leadscore model "
            "resume`.", markup=False)


def _scored(result, name: str) -> str:
    from leadscore.cli.output import score_text

    if hasattr(result, "values"):  # a compiled engine's row
        value, label = result.values.get(name), result.labels.get(name)
        scored = name not in result.unscored
    else:  # the Python evaluator's ContactScores
        found = result.scores[name]
        value, label, scored = found.value, found.label, found.scored
    return score_text(value, label, scored)


@app.command()
def explain(
    contact: Annotated[str | None, typer.Argument(help="Contact id.")] = None,
    at: Annotated[str | None, typer.Option(
        help="Explain as of this moment (ISO date/time); default now.")] = None,
    model: Annotated[Path | None, typer.Option(
        help="Explain under another model file (e.g. a draft).")] = None,
    top: Annotated[int, typer.Option(
        help="Explain the best N stored leads instead of one contact.")] = 0,
    matched_only: Annotated[bool, typer.Option(
        "--matched-only", help="Show only the rules that matched.")] = False,
    company: Annotated[str | None, typer.Option(
        "--company", help="Explain this company's scores instead (its id or e-mail "
                          "domain).")] = None,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Every rule: whether it matched, why, its points, decay and caps (HubSpot's 'test
    contact', as of any moment and under any model); --company for a company's rules."""
    project = _project(reading=True)
    chosen = _model(project, model)
    moment = _moment(at, "--at")
    if company is not None:
        if contact is not None or top:
            raise LeadscoreError.single("LS383", "name a contact or --company, not both",
                                        Location(field="--company"))
        found = project.explain_company(company, model=chosen, at=moment)
        if fmt is TextFormat.json:
            print_json(found.to_dict())
        else:
            console.print(found.render_text(only_matched=matched_only), markup=False)
        return
    if contact is None and top <= 0:
        raise LeadscoreError.single("LS305", "name a contact, or pass --top N",
                                    Location(field="contact"),
                                    hint="`leadscore leads` lists contact ids")
    ids = [contact] if contact else [lead.contact_id for lead in
                                     project.leads(model=chosen, limit=top)]
    explanations = [project.explain(cid, at=moment, model=chosen) for cid in ids]
    if fmt is TextFormat.json:
        data = [e.to_dict() for e in explanations]
        print_json(data[0] if contact else data)
        return
    for i, explanation in enumerate(explanations):
        if i:
            console.print()
        console.print(explanation.render_text(only_matched=matched_only or bool(top)),
                      markup=False)


@app.command()
def leads(
    label: Annotated[str | None, typer.Option(help="Only this label of the main score.")] = None,
    stage: Annotated[str | None, typer.Option(help="Only this lifecycle stage.")] = None,
    grade: Annotated[str | None, typer.Option(help="Only this grade (e.g. A1).")] = None,
    min_score: Annotated[list[str] | None, typer.Option(
        "--min", help="SCORE=VALUE, e.g. --min fit=30 (repeatable).")] = None,
    sort: Annotated[str | None, typer.Option(help="Score to rank by.")] = None,
    limit: Annotated[int, typer.Option(help="How many (0: all).")] = 25,
    model: Annotated[Path | None, typer.Option(help="Model whose stored scores to show.")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Scored contacts, best first, with filters (and the primary score's probability of
    converting when the model carries a calibration)."""
    from leadscore.cli.output import score_text
    from leadscore.model.model import percent

    project = _project(reading=True)
    chosen = _model(project, model)
    minimums = {}
    for item in min_score or []:
        name, _, number = item.partition("=")
        try:
            minimums[name.strip()] = float(number)
        except ValueError:
            raise LeadscoreError.single("LS306", f"--min {item}: write SCORE=NUMBER",
                                        Location(field="--min"), hint="e.g. --min fit=30") from None
    found = project.leads(model=chosen, label=label, stage=stage, grade=grade,
                          min_scores=minimums, limit=limit or None, sort=sort)
    if fmt is Format.json:
        print_json([lead.to_dict() for lead in found])
        return
    names = list(chosen.scores)
    calibrated = chosen.primary_score.probability is not None
    headers = ["#", "contact", "email", *names, *(["probability"] if calibrated else []),
               "grade", "stage"]
    rows = []
    for i, lead in enumerate(found):
        cells: list[Any] = []
        for name in names:
            value = lead.scores.get(name)
            label_text = lead.labels.get(name)
            if fmt is Format.csv:
                cells.append(value)
            else:  # "unscored" for a score no rule gave a value (CSV keeps the number)
                cells.append(score_text(value, label_text, name not in lead.unscored))
        if calibrated:
            cells.append(lead.probability if fmt is Format.csv or lead.probability is None
                         else percent(lead.probability))
        rows.append([i + 1, lead.contact_id, lead.email, *cells, lead.grade, lead.stage])
    if not rows and fmt is Format.table:
        filtered = any((label, stage, grade, minimums)) and project.leads(model=chosen, limit=1)
        err_console.print("No scored contacts match these filters." if filtered else
                          f"No contact is scored under model {chosen.name} yet. Run `leadscore "
                          "score` first?")
        return
    print_rows(headers, rows, fmt, title=f"Leads by {sort or chosen.primary_score.name}")


@app.command()
def stats(fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text) -> None:
    """Counts of contacts, events, stages, labels and the spread of each score."""
    project = _project(reading=True)
    data = project.stats()
    if fmt is TextFormat.json:
        print_json(data)
        return
    counts = data["counts"]
    console.print(f"Store: {counts.get('contacts', 0):,} contacts, "
                  f"{counts.get('events', 0):,} events, "
                  f"{counts.get('property_changes', 0):,} property changes; "
                  f"{counts.get('scored', 0):,} contacts scored under model {data['model']}")
    order = {s: i for i, s in enumerate([*project.model.lifecycle.stages, "none"])}
    rows = [[stage, n] for stage, n in sorted(data["stages"].items(),
                                                key=lambda kv: order.get(kv[0], 99))]
    print_rows(["stage", "contacts"], rows, Format.table, title="Contacts per lifecycle stage")
    dist = [[name, d["min"], d["p50"], d["p90"], d["max"], d["mean"],
             ", ".join(f"{k} {v:,}" for k, v in sorted(data["labels"].get(name, {}).items()))]
            for name, d in data["scores"].items()]
    if dist:
        unscored = data.get("unscored", {})
        for row in dist:
            row.insert(6, unscored.get(row[0], 0))
        print_rows(["score", "min", "median", "p90", "max", "mean", "unscored", "labels"], dist,
                   Format.table, title="Scores")
    if data["grades"]:
        grades = ", ".join(f"{g} {n:,}" for g, n in sorted(data["grades"].items()))
        console.print(f"Grades: {grades}")


@app.command()
def schema() -> None:
    """Print the model file's JSON Schema (for editors)."""
    from leadscore.model import model_json_schema

    print_json(model_json_schema())


def _register_command_modules() -> None:
    """Commands of other domains live in their own modules, each with register(app)."""
    from leadscore.cli import extensions

    for register in extensions.REGISTRATIONS:
        register(app)


_register_command_modules()


def _invoked(argv: list[str]) -> str | None:
    """The command word of `argv` (after the main options), if there is one."""
    words = iter(argv)
    for word in words:
        if word in ("--project", "-C"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


@contextmanager
def _only(word: str | None) -> Iterator[None]:
    """Only the invoked command (or group) registered while the command line runs: typer
    builds the parser of every registered command before it dispatches (about 0.1 s of
    each `leads` or `stats` on a quiet machine). A word that names no command keeps them all,
    so that click's "No such command" can say which ones there are."""
    commands, groups = app.registered_commands, app.registered_groups
    kept = [c for c in commands
            if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == word]
    kept_groups = [g for g in groups if g.name == word]
    if word is None or not (kept or kept_groups):
        yield
        return
    app.registered_commands, app.registered_groups = kept, kept_groups
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = commands, groups


def main() -> None:
    try:
        with _only(_invoked(sys.argv[1:])):
            code = app(standalone_mode=False)  # click returns typer.Exit's code in this mode
        sys.stdout.flush()  # a closed pipe shows here rather than at exit
        sys.exit(code if isinstance(code, int) else 0)
    except (BrokenPipeError, _PipeClosed):
        # the reader has what it wanted: end quietly, and let the final flush go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except LeadscoreError as exc:
        print_diagnostics(exc.diagnostics)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Aborted.")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrupted; nothing of an unfinished import or score was stored.")
        sys.exit(130)
    except Exception as exc:  # click usage errors have their own exit code
        if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):
            exc.show()  # a usage mistake: click's own message names the option
            sys.exit(1)
        from leadscore.cli.context import store_file
        from leadscore.project import damage_error

        damaged = damage_error(exc, store_file())  # another program overwrote it: a read
        # found it before any check ran
        if damaged is not None:
            print_diagnostics(damaged.diagnostics)
            sys.exit(1)
        if options.debug:
            traceback.print_exc()
        else:
            err_console.print(f"internal error: {type(exc).__name__}: {exc}\n"
                              "This is a bug in leadscore; rerun with --debug for the traceback "
                              "and please report it.", markup=False)
        sys.exit(2)
