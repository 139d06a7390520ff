"""`leadscore import companies`, `leadscore companies` (ranked), `leadscore company ID` (one
company) and `leadscore explain --company ID` (in `app.explain`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import Format, TextFormat, console, err_console, print_json, print_rows


def register(app: typer.Typer) -> None:
    from leadscore.cli.data import import_app

    import_app.command("companies")(import_companies)
    app.command("companies")(companies)
    app.command("company")(company)


def import_companies(
    file: Annotated[Path, typer.Argument(help="CSV (a company_id column; HubSpot company "
                                              "export columns work) or JSONL.")],
    mapping: Annotated[Path | None, typer.Option(
        help="Column mapping file (YAML) as for contacts; its contact_id names the company "
             "id column.")] = None,
    delimiter: Annotated[str | None, typer.Option(
        help="The CSV file's delimiter: , ; | or tab (default: detected).")] = None,
) -> None:
    """Import companies and their properties; history is kept, re-imports change nothing."""
    from leadscore.cli.data import import_summary

    project = open_project()
    report = project.import_companies(file, mapping=mapping, delimiter=delimiter)
    console.print(import_summary(file, report).replace(" new", " new companies", 1),
                  markup=False)


def companies(
    label: Annotated[str | None, typer.Option(
        help="Only companies with this label of the ranking score.")] = None,
    sort: Annotated[str | None, typer.Option(
        help="Company score to rank by (default: the last one).")] = None,
    limit: Annotated[int, typer.Option(help="How many (0: all).")] = 25,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Scored companies (accounts), best first."""
    project = open_project(reading=True)
    model = project.model
    rows = project.companies(label=label, sort=sort, limit=limit or None)
    if fmt is Format.json:
        print_json([r.to_dict() for r in rows])
        return
    names = list(model.companies.scores)
    if not rows and fmt is Format.table:
        err_console.print("No scored company matches." if label else
                          f"No company is scored under model {model.name} yet. Run "
                          "`leadscore score` first?")
        return
    table = []
    for i, row in enumerate(rows):
        cells: list[Any] = []
        for name in names:
            value, tag = row.scores.get(name), row.labels.get(name)
            cells.append(value if fmt is Format.csv else
                         ("" if value is None else f"{value:g}") + (f" {tag}" if tag else ""))
        table.append([i + 1, row.company_id, row.name, row.domain, row.contacts, *cells])
    print_rows(["#", "company", "name", "domain", "contacts", *names], table, fmt,
               title=f"Companies by {sort or model.companies.primary_score.name}")


def company(
    company_id: Annotated[str, typer.Argument(help="Company id (or e-mail domain).")],
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """One company: its properties (with history), scores and score history."""
    detail = open_project(reading=True).company(company_id)
    if fmt is TextFormat.json:
        print_json(detail.to_dict())
        return
    lines = [f"Company {company_id}"]
    for name, value in detail.properties.items():
        lines.append(f"  {name}: {value}")
    if detail.row is not None:
        lines.append(f"  contacts: {detail.row.contacts}")
        for name, value in detail.row.scores.items():
            tag = detail.row.labels.get(name)
            lines.append(f"  score {name}: {value:g}" + (f" {tag}" if tag else ""))
    else:
        lines.append("  not scored yet (`leadscore score`)")
    if detail.score_history:
        lines.append("Score history:")
        lines += [f"  {h['computed_at'][:19]} {h['score']} {h['value']:g}"
                  + (f" {h['label']}" if h["label"] else "")
                  + (f" (version {h['model_version']})" if h["model_version"] else "")
                  for h in detail.score_history]
    console.print("\n".join(lines), markup=False)
