"""The Python API finds a project's data files from outside the project folder; the command
line keeps paths relative to where it runs. `--at now-30d` is a moment thirty days ago."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from leadscore import Project
from leadscore.diagnostics import LeadscoreError
from leadscore.project import init_project, parse_moment
from leadscore.project.config import resolve_input

CONTACTS = "contact_id,email,created_at\nc1,ann@example.com,2026-01-05\n"
EVENTS = ('{"event_id": "e1", "contact_id": "c1", "type": "visit", '
          '"occurred_at": "2026-01-06T10:00:00Z"}\n')


@pytest.fixture
def project_root(tmp_path, monkeypatch):
    root = tmp_path / "my-project"
    init_project(root)
    (root / "data").mkdir()
    (root / "data/contacts.csv").write_text(CONTACTS)
    (root / "data/events.jsonl").write_text(EVENTS)
    monkeypatch.chdir(tmp_path)  # the folder above the project, as in the README
    return root


def test_relative_paths_are_found_in_the_project_folder(project_root):
    with Project.open("my-project") as project:
        assert project.import_contacts("data/contacts.csv").inserted == 1
        assert project.import_events("data/events.jsonl").inserted == 1
        assert project.stats()["counts"]["contacts"] == 1


def test_a_path_that_exists_from_here_wins(project_root, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data/contacts.csv").write_text(CONTACTS.replace("c1,", "here,"))
    with Project.open("my-project") as project:
        project.import_contacts("data/contacts.csv")
        assert [lead for lead in project.store.existing_contact_ids(["here", "c1"])] == ["here"]


def test_a_path_found_nowhere_is_reported_as_given(project_root):
    with Project.open("my-project") as project, pytest.raises(LeadscoreError) as caught:
        project.import_contacts("data/nope.csv")
    assert caught.value.diagnostics[0].location.file == "data/nope.csv"
    assert resolve_input("data/nope.csv", project_root).as_posix() == "data/nope.csv"


def test_the_command_line_keeps_paths_relative_to_where_it_runs(project_root, tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    done = subprocess.run([sys.executable, "-m", "leadscore", "-C", "my-project", "import",
                           "contacts", "data/contacts.csv"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "LS202" in done.stderr, done.stderr
    inside = subprocess.run([sys.executable, "-m", "leadscore", "import", "contacts",
                             "data/contacts.csv"], cwd=project_root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert inside.returncode == 0, inside.stderr


def test_now_minus_a_duration_is_a_moment_in_the_past():
    moment = parse_moment("now-30d")
    assert moment is not None
    assert abs(moment - (datetime.now(UTC) - timedelta(days=30))) < timedelta(seconds=5)
    assert parse_moment("now") is None
    for wrong in ("now-soon", "now-999999999d"):
        with pytest.raises(ValueError):
            parse_moment(wrong)
