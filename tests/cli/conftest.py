from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class Cli:
    """Runs `python -m leadscore …` in a folder, as a user would in a terminal."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, ok: bool = True) -> Result:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
        env.pop("LEADSCORE_STORE_URL", None)
        done = subprocess.run([sys.executable, "-m", "leadscore", *args], cwd=self.cwd,
                              capture_output=True, text=True, env=env, timeout=300)
        result = Result(done.returncode, done.stdout, done.stderr)
        if ok:
            assert result.code == 0, f"leadscore {' '.join(args)} failed:\n{result.err}"
        assert "Traceback" not in result.err, result.err
        return result


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory) -> Cli:
    """A project with 300 synthetic contacts, imported and scored once for the module."""
    root = tmp_path_factory.mktemp("demo")
    run = Cli(root)
    run("init", ".")
    run("generate", "--contacts", "300", "--events", "6000", "--seed", "3")
    run("import", "contacts", "data/contacts.csv")
    run("import", "events", "data/events.jsonl")
    run("score")
    return run
