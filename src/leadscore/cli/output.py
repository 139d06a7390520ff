"""How the command line prints: tables, JSON, CSV, diagnostics and progress bars."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from rich.console import Console

from leadscore.diagnostics import Diagnostic, render_diagnostics


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich would exit 1 here; a closed pipe ends every command the same way, quietly
        (`leadscore.cli.app.main`)."""
        self.quiet = True
        raise BrokenPipeError


console = _Console(highlight=False, soft_wrap=True)
if not console.is_terminal and "COLUMNS" not in os.environ:
    console.width = 160  # piped or under make: don't squeeze tables into 80 columns
err_console = _Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


def print_diagnostics(diagnostics: Sequence[Diagnostic], *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"errors": [d.to_dict() for d in diagnostics]}, indent=2))
        return
    err_console.print(render_diagnostics(list(diagnostics)), markup=False)


def print_json(data: Any) -> None:
    """JSON on stdout. A number that is not finite (which the model's limits keep out of scores,
    but data may hold) prints as null: `Infinity` and `NaN` are not JSON."""
    print(json.dumps(_finite(data), indent=2, default=str, allow_nan=False))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


UNSCORED = "unscored"  # what text and tables show for a score no rule gave a value


def score_text(value: float | None, label: str | None = None, scored: bool = True) -> str:
    """A score as text: its value (or "unscored" — no rule applied, no ledger entry; its
    value is 0 — so that it is not read as a 0 that rules gave) and its label."""
    shown = UNSCORED if not scored else "" if value is None else f"{value:g}"
    return shown + (f" {label}" if label else "")


def print_rows(headers: list[str], rows: list[list[Any]], fmt: Format, *,
               title: str | None = None) -> None:
    if fmt is Format.json:
        print_json([dict(zip(headers, row, strict=True)) for row in rows])
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for header in headers:
            table.add_column(header, justify="right" if header in ("#",) else "left")
        for row in rows:
            table.add_row(*("" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))
                            for v in row))
        console.print(table)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback (done, total) drawn on stderr when it is a terminal."""
    if not err_console.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update
