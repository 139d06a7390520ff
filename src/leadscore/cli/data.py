"""`leadscore import contacts|events` and `leadscore export parquet`: data in and out of the
store (`leadscore import companies` lives with the company commands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import console, progress_bar

if TYPE_CHECKING:
    from leadscore.ingestion import ImportReport

import_app = typer.Typer(help="Import contacts or events from CSV or JSONL.",
                         no_args_is_help=True)
export_app = typer.Typer(help="Export the store's data.", no_args_is_help=True)

Delimiter = Annotated[str | None, typer.Option(
    help="The CSV file's delimiter: , ; | or tab (default: detected from the first lines).")]


@import_app.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(help="CSV (HubSpot export columns work) or JSONL.")],
    mapping: Annotated[Path | None, typer.Option(
        help="Column mapping file (YAML); see docs/import.md.")] = None,
    delimiter: Delimiter = None,
    order_by_row: Annotated[tuple[str, str] | None, typer.Option(
        "--order-by-row", metavar="START STEP",
        help="A file without dates: row N was created at START + (N-1) x STEP, e.g. "
             "--order-by-row 2024-01-01 1h (its values are as of then).")] = None,
) -> None:
    """Import contacts and their properties; history is kept, re-imports change nothing."""
    project = open_project()
    with progress_bar(f"Importing {file.name}") as progress:
        report = project.import_contacts(file, mapping=mapping, progress=progress,
                                         delimiter=delimiter, order_by_row=order_by_row)
    console.print(import_summary(file, report))


@import_app.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL events.")],
    create_contacts: Annotated[bool, typer.Option(
        help="Create contacts that are not in the store yet.")] = False,
    on_conflict: Annotated[str, typer.Option(
        help="An event id already stored with other content: 'error' (nothing is stored), "
             "'keep' (the stored version stays) or 'replace' (the file's version replaces "
             "it).")] = "error",
    delimiter: Delimiter = None,
) -> None:
    """Import events; an event id already stored is skipped, so a resend counts once."""
    project = open_project()
    with progress_bar(f"Importing {file.name}") as progress:
        report = project.import_events(file, create_missing_contacts=create_contacts,
                                       on_conflict=on_conflict, progress=progress,
                                       delimiter=delimiter)
    console.print(import_summary(file, report, events=True))


def import_summary(file: Path, report: ImportReport, *, events: bool = False) -> str:
    parts = [f"{report.rows:,} rows read", f"{report.inserted:,} new"]
    if report.updated:
        parts.append(f"{report.updated:,} updated")
    if report.unchanged:
        parts.append(f"{report.unchanged:,} " + ("already stored" if events else "unchanged"))
    if report.duplicates:
        parts.append(f"{report.duplicates:,} repeated in the file")
    if report.contacts_created:
        parts.append(f"{report.contacts_created:,} contacts created")
    if report.conflicts_kept:
        parts.append(f"{report.conflicts_kept:,} stored with other content, kept as stored")
    if report.conflicts_replaced:
        parts.append(f"{report.conflicts_replaced:,} stored with other content, replaced")
    return f"Imported {file}: " + ", ".join(parts) + f" in {report.elapsed_seconds:.1f}s."


@export_app.command("parquet")
def export_parquet(
    folder: Annotated[Path, typer.Argument(help="Folder for the files (made if missing).")],
    only: Annotated[list[str] | None, typer.Option(
        help="Only this table (repeatable): contacts, property_history, events, "
             "scores.")] = None,
    model: Annotated[Path | None, typer.Option(
        help="The model whose scores and property types to use (default: the project's).")
    ] = None,
) -> None:
    """Write contacts, property history, events and scores as Parquet files."""
    project = open_project(reading=True)
    chosen = None
    if model:
        from leadscore.model import load_model

        chosen = load_model(model)
    with progress_bar(f"Exporting to {folder}") as progress:
        written = project.export_parquet(folder, tables=only, model=chosen, progress=progress)
    for item in written:
        console.print(f"Wrote {item.path}: {item.rows:,} rows")
