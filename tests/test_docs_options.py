"""Every `--option` that the docs, the README or a hint in the code tells a user to type is an
option of the `leadscore` command (docs/import.md and the LS219 hint once named a
`--create-missing-contacts` that does not exist)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from leadscore.cli.app import app

REPO = Path(__file__).resolve().parents[1]
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]+)")


def cli_options() -> set[str]:
    found = {"--help"}

    def walk(command) -> None:
        for param in command.params:
            found.update(o for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    return found


def mentions() -> list[tuple[str, int, str]]:
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")),
             *sorted((REPO / "src/leadscore").rglob("*.py"))]
    out = []
    for file in files:
        previous = ""
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            other = "benchmarks/" in previous + line or "pytest" in line  # other programs
            previous = line
            if other:
                continue
            if file.suffix == ".py" and not re.search(r"[\"'].*--[a-z]", line):
                continue  # in code, only strings a user reads
            out.extend((str(file.relative_to(REPO)), number, option)
                       for option in OPTION.findall(line))
    return out


def test_every_option_the_docs_and_hints_name_exists():
    known = cli_options()
    unknown = [f"{file}:{line} {option}" for file, line, option in mentions()
               if option not in known]
    assert unknown == []


def test_the_check_sees_the_import_options():
    assert {"--create-contacts", "--mapping"} <= cli_options()
    assert ("docs/import.md", 5, "--create-contacts") in mentions()
