"""The README's "Serving" section runs as written in a project made like `make demo` makes one:
the server from the first block (on a free port instead of 8000), then the second block in
bash — a key, an event sent with curl, the lead's score read with curl."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import make_project
from tests.api.test_serve import start, stop
from tests.test_readme import block, commands, environment

pytestmark = pytest.mark.slow
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _run_against_a_server(tmp_path: Path, script: str) -> tuple[Any, int, str]:
    """Run a README script against `leadscore serve` on a free port in a generated project;
    returns the script's result and the server's exit code and stderr."""
    make_project(tmp_path, contacts=60, events=600).close()
    server, port = start(tmp_path)
    try:
        script = "set -euo pipefail\n" + script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=environment(),
                              capture_output=True, text=True, timeout=120)
        code, _, err = stop(server)
    finally:
        if server.poll() is None:
            server.kill()
    return done, code, err


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_serving_section_runs_as_written(tmp_path):
    section = "## Serving: the HTTP API"
    assert commands(block(section, "sh")) == ["leadscore serve"]
    second = README.split(section, 1)[1].split("```sh", 2)[2].split("```", 1)[0]
    assert "c0000042" in second and "127.0.0.1:8000" in second
    done, code, err = _run_against_a_server(tmp_path, second)
    assert done.returncode == 0, done.stderr
    sent, scores = (json.loads(x) for x in re.findall(r"\{.*?\}(?=\{|$)", done.stdout, re.S))
    assert sent["inserted"] == 1
    assert scores["contact_id"] == "c0000042" and "total" in scores["scores"]
    assert code == 0, err


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_segment_steps_run_as_written(tmp_path):
    section = README.split("**Send from a Segment-compatible source.**", 1)[1]
    script = section.split("```sh", 1)[1].split("```", 1)[0]
    assert "-u \"$KEY:\"" in script and "127.0.0.1:8000" in script
    done, code, err = _run_against_a_server(tmp_path, script)
    assert done.returncode == 0, done.stderr
    page, identify, scores = (json.loads(x) for x in
                              re.findall(r"\{.*?\}(?=\{|$)", done.stdout, re.S))
    assert page["held"] == 1 and page["success"] is True
    assert identify["attributed"] == 1 and identify["events"] == 1
    assert scores["contact_id"] == "c0000042" and "total" in scores["scores"]
    assert code == 0, err
