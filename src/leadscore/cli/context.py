"""Global options of the `leadscore` command and how commands open the project."""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the project (and all it loads) is imported when a command opens it
    from leadscore.project import Project


@dataclass
class Options:
    project: Path | None = None
    debug: bool = False


options = Options()


def open_project(*, reading: bool = False) -> Project:
    """The project of the command line; `reading`: a command that only reads, which never
    creates a store (a mistyped store URL is an error, not a new empty store)."""
    from leadscore.project import Project

    project = Project.open(options.project)
    project.resolve_inputs = False  # file arguments are relative to where the command runs
    project.create_store = not reading
    atexit.register(project.close)  # closed, the store's file is sealed as this run left it
    opened.append(project)
    return project


opened: list[Project] = []  # the command's project, for naming its store in a last error


def store_file() -> str | None:
    """The embedded store's file of the command's project (None: none opened, or a server)."""
    from leadscore.project.config import sqlite_file

    return sqlite_file(opened[-1].config.store_url) if opened else None


def parse_moment(text: str | None, option: str = "--at") -> datetime | None:
    """A --at / --as-of value (see `leadscore.project.parse_moment`); a value that is no
    moment is LS303, naming `option`."""
    from leadscore.diagnostics import LeadscoreError, Location
    from leadscore.project.moments import parse_moment as parse

    try:
        return parse(text)
    except ValueError as error:
        raise LeadscoreError.single("LS303", f"{option}: {error}", Location(field=option),
                                    text=(text or "")[:40], hint="write a date like "
                                    "2026-03-01 or 2026-03-01T09:30Z, or now-30d") from None
