"""The README's "Using leadscore" commands and its Python snippet run as written, in a fresh
folder. Only the generator's size options are made smaller, and the example contact id is
replaced by a real one (a lead that already existed a month ago, for `--at now-30d`)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
EXAMPLE_ID = "c0000042"
SIZES = ("--contacts 10000 --events 200000", "--contacts 300 --events 3000")


def block(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found, f"no {language} block under {heading}"
    return found.group(1)


def commands(text: str) -> list[str]:
    """The command lines of a shell block, without comments."""
    out = []
    for line in text.splitlines():
        command = re.split(r"\s#", line, maxsplit=1)[0].strip()
        if command and not command.startswith("#"):
            out.append(command)
    return out


def environment() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("LEADSCORE_STORE_URL", None)
    return env


def run_shell(lines: list[str], cwd: Path) -> Path:
    """Run `lines` in bash from `cwd`, failing on the first that exits non-zero; returns the
    folder the lines end in (they may `cd`)."""
    for line in lines:
        done = subprocess.run(["bash", "-c", f"{line} && pwd"], cwd=cwd, env=environment(),
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"README command failed: {line}\n{done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        cwd = Path(done.stdout.strip().splitlines()[-1])
    return cwd


def a_lead_from_a_month_ago(project: Path) -> str:
    leads = subprocess.run(["leadscore", "leads", "--limit", "0", "--format", "csv"],
                           cwd=project, env=environment(), capture_output=True, text=True,
                           timeout=300, check=True).stdout
    with open(project / "data/contacts.csv", encoding="utf-8") as file:
        created = {row["contact_id"]: row["created_at"] for row in csv.DictReader(file)}
    before = datetime.now(UTC) - timedelta(days=31)
    for row in csv.DictReader(leads.splitlines()):
        moment = datetime.fromisoformat(created[row["contact"]].replace("Z", "+00:00"))
        if moment < before:
            return row["contact"]
    raise AssertionError("no scored contact is older than a month")


def test_the_readme_commands_and_python_snippet_run_as_written(tmp_path):
    shell = block("## Using leadscore", "sh")
    assert SIZES[0] in shell, "the README's generate line changed: update SIZES"
    lines = commands(shell.replace(*SIZES))
    first_with_id = next(i for i, line in enumerate(lines) if EXAMPLE_ID in line)
    project = run_shell(lines[:first_with_id], tmp_path)
    assert project == tmp_path / "my-project"
    assert f"\n{EXAMPLE_ID}," in (project / "data/contacts.csv").read_text()  # a real id
    contact = a_lead_from_a_month_ago(project)
    run_shell([line.replace(EXAMPLE_ID, contact) for line in lines[first_with_id:]], project)

    snippet = block("### From Python", "python")
    assert EXAMPLE_ID in snippet
    script = tmp_path / "snippet.py"
    script.write_text(snippet.replace(EXAMPLE_ID, contact), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=environment(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"the README's Python snippet failed:\n{done.stderr}"
    assert f"Contact {contact}" in done.stdout


def test_the_readme_names_ids_the_generator_makes():
    ids = set(re.findall(r"\bc-?\d{6,7}\b", README))
    assert ids == {EXAMPLE_ID}


def test_the_readme_shows_what_make_demo_prints_about_the_web_app(tmp_path):
    """`make demo` ends with scripts/demo_web.py: its users exist and can log in, and the
    README shows its lines as printed."""
    from leadscore.project import Project, init_project
    from scripts.demo_web import USERS, announcement, main

    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "DEMO_DIR ?= build/demo" in makefile
    assert "scripts/demo_web.py $(DEMO_DIR)" in makefile
    assert announcement("build/demo") in README
    init_project(tmp_path)
    main(str(tmp_path))
    main(str(tmp_path))  # twice: the users are there once
    project = Project.open(tmp_path)
    assert sorted((u.role, u.email) for u in project.users()) == \
        sorted((role, email) for role, email, _ in USERS)
    for _, email, password in USERS:
        assert project.check_login(email, password) is not None
    project.close()
