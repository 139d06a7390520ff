"""`leadscore users`: create (password from standard input, or refused without a terminal),
list and set, as a user runs them; mistakes are one placed line and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from leadscore.project import Project


def run(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("LEADSCORE_STORE_URL", None)
    return subprocess.run([sys.executable, "-m", "leadscore", *args], cwd=root, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_users_create_list_and_set(tmp_path):
    assert run(tmp_path, "init", ".").returncode == 0
    made = run(tmp_path, "users", "create", "Rita@Example.com", "--role", "marketing",
               "--password-stdin", stdin="a long enough secret\n")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "Created the marketing user rita@example.com."
    listed = run(tmp_path, "users", "list", "--format", "csv")
    assert listed.stdout.splitlines()[1].split(",")[1:3] == ["rita@example.com", "marketing"]
    assert "secret" not in listed.stdout
    project = Project.open(tmp_path)
    assert project.check_login("rita@example.com", "a long enough secret") is not None
    project.close()
    changed = run(tmp_path, "users", "set", "rita@example.com", "--role", "sales", "--disable")
    assert changed.returncode == 0 and changed.stdout.strip() == \
        "rita@example.com: sales, disabled."
    project = Project.open(tmp_path)
    assert project.check_login("rita@example.com", "a long enough secret") is None
    project.close()
    again = run(tmp_path, "users", "set", "rita@example.com", "--enable", "--password-stdin",
                stdin="another long secret\n")
    assert again.returncode == 0, again.stderr
    project = Project.open(tmp_path)
    assert project.check_login("rita@example.com", "another long secret") is not None
    project.close()


def test_users_mistakes_are_placed_one_line_errors(tmp_path):
    assert run(tmp_path, "init", ".").returncode == 0
    cases = [
        (("users", "create", "nobody", "--role", "sales", "--password-stdin"), "x" * 12, "LS640"),
        (("users", "create", "a@example.com", "--role", "seles", "--password-stdin"),
         "x" * 12, "LS641"),
        (("users", "create", "a@example.com", "--role", "sales", "--password-stdin"),
         "short\n", "LS642"),
        (("users", "create", "a@example.com", "--role", "sales", "--password-stdin"), "",
         "LS642"),
        (("users", "create", "a@example.com", "--role", "sales"), "", "LS642"),  # no terminal
        (("users", "set", "who@example.com", "--role", "sales"), "", "LS644"),
    ]
    for args, stdin, code in cases:
        done = run(tmp_path, *args, stdin=stdin)
        assert done.returncode == 1, (args, done.stderr)
        assert f"error {code}" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "did you mean 'sales'?" in run(tmp_path, *cases[1][0], stdin="x" * 12).stderr
    ok = ("users", "create", "a@example.com", "--role", "sales", "--password-stdin")
    assert run(tmp_path, *ok, stdin="x" * 12).returncode == 0
    taken = run(tmp_path, *ok, stdin="x" * 12)
    assert taken.returncode == 1 and "error LS643" in taken.stderr
