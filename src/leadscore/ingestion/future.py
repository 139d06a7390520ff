"""Times in the future: a staged row dated later than now plus the tolerance is a row error.

An event that has not happened yet, or a contact value said to become true tomorrow, is almost
always a clock or time-zone mistake upstream (a local time written as UTC, milliseconds read as
seconds); stored, it would count for ever as "the latest" and move scores at a moment nobody
chose. `[import] future_tolerance` (leadscore.toml, default one day) says how far ahead a clock
may run. The check is set-wise, over the staged rows, for both import paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from leadscore.catalog.forms import from_micros
from leadscore.diagnostics import DiagnosticList, Location
from leadscore.ingestion.event_staging import MAX_DIAGNOSTICS, raise_bounded
from leadscore.storage.bulk import Staging


def has_future(staged: Staging, source: str, columns: Sequence[tuple[str, str]],
               limit_us: int) -> bool:
    where = " OR ".join(f"{column} > {int(limit_us)}" for column, _ in columns)
    return bool(staged.duck.execute(f"SELECT count(*) FROM {source} WHERE {where}"
                                    ).fetchall()[0][0])


def check_future(staged: Staging, source: str, columns: Sequence[tuple[str, str]],
                 limit_us: int, tolerance: timedelta, path: Path) -> None:
    """Raise LS223 for every staged row (with its `line`) whose time in one of `columns`
    (column, field name) lies after `limit_us`."""
    if not has_future(staged, source, columns, limit_us):
        return
    diagnostics = DiagnosticList(limit=MAX_DIAGNOSTICS)
    limit = from_micros(limit_us)
    for column, field in columns:
        total = int(staged.duck.execute(
            f"SELECT count(*) FROM {source} WHERE {column} > {int(limit_us)}").fetchall()[0][0])
        rows = staged.duck.execute(
            f"SELECT line, {column} FROM {source} WHERE {column} > {int(limit_us)} "
            f"ORDER BY line LIMIT {MAX_DIAGNOSTICS}").fetchall()
        for line, at in rows:
            moment = from_micros(int(at))
            diagnostics.error(
                "LS223", f"{field} {moment.isoformat()} is in the future (later than "
                         f"{limit:%Y-%m-%d %H:%M} UTC: now plus the tolerance of "
                         f"{_shown(tolerance)})",
                Location(file=str(path), line=int(line), field=field), text=moment.isoformat(),
                hint="check the clock and time zone of the system that wrote the file "
                     "(a local time written as UTC, milliseconds read as seconds); "
                     "[import] future_tolerance in leadscore.toml allows more")
        diagnostics.dropped += max(0, total - len(rows))
    raise_bounded(diagnostics, path)


def _shown(tolerance: timedelta) -> str:
    seconds = int(tolerance.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds}s"


__all__ = ["check_future", "has_future"]
