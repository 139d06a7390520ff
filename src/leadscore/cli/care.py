"""Commands that look after the store: backup, restore, a contact's data, retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import TextFormat, console, print_json

contact_app = typer.Typer(help="One contact's data: export it, erase it.",
                          no_args_is_help=True)
retention_app = typer.Typer(help="How long events are kept.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.add_typer(contact_app, name="contact")
    app.add_typer(retention_app, name="retention")


def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (a tar file).")],
) -> None:
    """Back up the embedded store (database and segments) into one file, consistently, while
    imports and the worker go on. PostgreSQL: use pg_dump (the message says how)."""
    report = open_project(reading=True).backup(file)
    console.print(f"Backed up the store to {report.file}: {report.segments:,} segments, "
                  f"{report.bytes / 1e6:,.1f} MB in {report.seconds:.1f}s.")


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `leadscore backup`.")],
) -> None:
    """Replace the embedded store with a backup (stop the worker first). The backup is read
    whole and checked before the current store is touched; that one is moved aside."""
    report = open_project().restore(file)
    console.print(f"Restored {report.store} from {file} ({report.segments:,} segments) in "
                  f"{report.seconds:.1f}s.")
    if report.kept:
        console.print(f"The store it replaced is kept in {report.kept} (remove it when you "
                      "no longer need it).")


@contact_app.command("export")
def contact_export(
    contact: Annotated[str, typer.Argument(help="The contact id.")],
    out: Annotated[Path | None, typer.Option(
        help="Write the JSON to this file (default: print it).")] = None,
) -> None:
    """Everything the store holds about one contact, as JSON: properties and their history,
    events, scores and their history, stages, lists, workflows, tasks, notifications."""
    data = open_project(reading=True).export_contact(contact)
    if out is None:
        print_json(data)
        return
    import json

    out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                   encoding="utf-8")
    console.print(f"Wrote everything held about {contact} to {out}.")


@contact_app.command("erase")
def contact_erase(
    contact: Annotated[str, typer.Argument(help="The contact id.")],
    fmt: Annotated[TextFormat, typer.Option("--format")] = TextFormat.text,
) -> None:
    """Erase a contact: its properties and history, events, scores, stages, list and workflow
    records, tasks and notifications, from every table and file of the store. Only a record
    without personal data stays (the SHA-256 of the id and the time)."""
    erased = open_project().erase_contact(contact)
    if fmt is TextFormat.json:
        print_json({"contact_id_sha256": erased.contact_id_sha256,
                    "at": erased.at.isoformat(), "rows": erased.rows,
                    "files_removed": erased.files_removed, "log_cleared": erased.log_cleared})
        return
    total = sum(erased.rows.values())
    console.print(f"Erased the contact: {total:,} rows removed "
                  f"({', '.join(f'{k} {v:,}' for k, v in sorted(erased.rows.items()))}). "
                  f"Recorded as sha256 {erased.contact_id_sha256[:16]}… at "
                  f"{erased.at:%Y-%m-%d %H:%M} UTC.")
    if not erased.log_cleared:
        console.print("Another process held the database's write-ahead log: old pages leave "
                      "it at the next checkpoint (when no reader holds it).")


@retention_app.command("apply")
def retention_apply(
    days: Annotated[int | None, typer.Option(
        help="Remove events older than this many days (default: [retention] events_days "
             "in leadscore.toml).")] = None,
) -> None:
    """Remove events older than the retention period, then rescore the contacts that had
    them (so their scores stay consistent) and make them due for the automation."""
    result = open_project().apply_retention(days=days)
    kept = result.retention
    console.print(f"Removed {kept.events_removed:,} events from before "
                  f"{kept.before:%Y-%m-%d %H:%M} UTC of {len(kept.contacts):,} contacts; "
                  f"rescored {result.rescored:,} contacts.")
