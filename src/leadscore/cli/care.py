"""Commands that look after the store: backup, restore, a contact's data, retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadscore.cli.context import open_project
from leadscore.cli.output import console


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)


def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (a tar file).")],
) -> None:
    """Back up the embedded store (database and segments) into one file, consistently, while
    imports and the worker go on. PostgreSQL: use pg_dump (the message says how)."""
    report = open_project().backup(file)
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
