"""Setting a project up: `leadscore init`, `generate` (synthetic data) and `validate` (the model
and automation files, every mistake with its place)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import TextFormat, console, print_diagnostics, print_json
from leadscore.diagnostics import Diagnostic, LeadscoreError

if TYPE_CHECKING:
    from leadscore.project import Project


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(generate)
    app.command()(validate)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create.")] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing project's files.")] = False,
) -> None:
    """Create a project folder with a realistic B2B example model."""
    from leadscore.project.scaffold import init_project

    written = init_project(directory, force=force)
    console.print(f"Created a leadscore project in {directory}:")
    for file in written:
        console.print(f"  {file}")
    console.print("Next: leadscore generate, leadscore import contacts/events, leadscore score")


def generate(
    contacts: Annotated[int, typer.Option(min=1, help="Number of contacts.")] = 10_000,
    events: Annotated[int, typer.Option(min=0, help="Number of events (about).")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    out: Annotated[Path, typer.Option(help="Folder for the files.")] = Path("data"),
    days: Annotated[int, typer.Option(min=1, help="Days of history.")] = 365,
) -> None:
    """Write synthetic contacts, events and outcomes (seeded, realistic B2B behaviour)."""
    from leadscore import synthetic  # numpy is loaded only when generating


    out.mkdir(parents=True, exist_ok=True)
    data = synthetic.generate(contacts, events, seed=seed, now=datetime.now(UTC), days=days)
    synthetic.write_contacts_csv(data, out / "contacts.csv")
    synthetic.write_events_jsonl(data, out / "events.jsonl")
    synthetic.write_feedback_csv(data, out / "feedback.csv")
    synthetic.write_outcomes_csv(data, out / "outcomes.csv")
    synthetic.write_companies_csv(data, out / "companies.csv")
    console.print(f"Wrote {out / 'contacts.csv'}, {out / 'events.jsonl'}, "
                  f"{out / 'feedback.csv'} (sales's verdicts, imported as contacts), "
                  f"{out / 'outcomes.csv'} and {out / 'companies.csv'} (seed {seed}).")


def validate(
    models: Annotated[list[Path] | None, typer.Argument(
        help="Model files (default: the project's model).")] = None,
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Check model files; every mistake is reported with file:line:col and a hint."""
    from leadscore.model import load_model

    project = None if models else open_project()
    paths = models or [project.config.model_path]  # type: ignore[union-attr]
    failures: list[Diagnostic] = []
    report: list[dict[str, Any]] = []
    for path in paths:
        try:
            model = load_model(path)
        except LeadscoreError as exc:
            failures.extend(exc.diagnostics)
            continue
        rules = sum(len(s.all_rules()) for s in model.scores.values())
        report.append({"file": str(path), "model": model.name, "scores": list(model.scores),
                       "rules": rules})
    if project is not None and not failures:
        failures.extend(_validate_automation(project, report))
    if fmt is TextFormat.json:
        print_json({"valid": report, "errors": [d.to_dict() for d in failures]})
    else:
        for item in report:
            if "model" in item:
                console.print(f"✓ {item['file']}: model {item['model']}, "
                              f"{len(item['scores'])} scores ({', '.join(item['scores'])}), "
                              f"{item['rules']} rules")
            else:
                console.print(f"✓ {item['file']}: {item['what']}")
        if failures:
            print_diagnostics(failures)
    if failures:
        raise typer.Exit(1)


def _validate_automation(project: Project, report: list[dict[str, Any]]) -> list[Diagnostic]:
    """The project's lists and workflows files and its delivery channels, checked too."""
    try:
        lists = project.lists
        if project.config.lists_path:
            what = f"{len(lists)} lists ({', '.join(x.name for x in lists)})"
            if lists.company_lists:
                what += (f"; {len(lists.company_lists)} of companies "
                         f"({', '.join(lists.company_lists)})")
            report.append({"file": str(project.config.lists_path), "what": what})
        workflows = project.workflows(lists)
        if project.config.workflows_path:
            names = ", ".join(w.name for w in workflows)
            report.append({"file": str(project.config.workflows_path),
                           "what": f"{len(workflows)} workflows ({names})"})
    except LeadscoreError as exc:
        return list(exc.diagnostics)
    return []
