"""Global options of the `leadscore` command and how commands open the project."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leadscore.project import Project


@dataclass
class Options:
    project: Path | None = None
    debug: bool = False


options = Options()


def open_project() -> Project:
    project = Project.open(options.project)
    project.resolve_inputs = False  # file arguments are relative to where the command runs
    return project
