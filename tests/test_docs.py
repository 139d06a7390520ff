"""Every error code and every command is documented (Datasette's habit)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from leadscore.cli.app import app

REPO = Path(__file__).resolve().parents[1]


def test_every_error_code_in_the_source_is_documented():
    source = "\n".join(p.read_text() for p in (REPO / "src/leadscore").rglob("*.py"))
    used = set(re.findall(r'"(LS\d{3})"', source))
    documented = set(re.findall(r"\| (LS\d{3}) \|", (REPO / "docs/errors.md").read_text()))
    assert used, "no codes found"
    assert sorted(used - documented) == [], "undocumented error codes"
    assert sorted(documented - used) == [], "documented codes that nothing raises"


def test_every_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    group = get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        names.extend(f"{name} {s}" for s in sub) if sub else names.append(name)
    missing = [n for n in names if f"leadscore {n}" not in readme]
    assert missing == [], f"commands missing from README.md: {missing}"
