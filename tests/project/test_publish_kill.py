"""Kill (SIGKILL) `leadscore model publish` in the middle of its rescore, on both stores: the
old version stays live and answers every read, nothing of the new version is stored, the
publish stays unfinished and blocks another, and `leadscore model resume` ends with the same
scores as a clean run of the new version."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from leadscore.project import Project
from tests.api.conftest import make_project

pytestmark = pytest.mark.slow
FIT_A = "      - {label: A, min: 35}"


def _leads(project: Project) -> dict[str, tuple]:
    return {lead.contact_id: (tuple(sorted(lead.scores.items())),
                              tuple(sorted(lead.labels.items())), lead.grade)
            for lead in project.leads(limit=None)}


def _command(root, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "leadscore", "--project", str(root), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})


def _wait_rescoring(reader: Project, attempts: int, process: subprocess.Popen) -> bool:
    """Until the publish's rescore run number `attempts` has begun (False: it ended first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        pending = reader.unfinished_publish()  # None: the publish is not stored yet
        if pending is not None and pending.phase == "rescoring" and \
                pending.attempts >= attempts:
            return True
        time.sleep(0.01)
    raise AssertionError("the rescore never began")


def test_a_publish_killed_mid_rescore_resumes_to_a_clean_runs_scores(tmp_path, store_url):
    rng = random.Random(20261201)
    root = tmp_path / "project"
    project = make_project(root, store_url, contacts=1500, events=30000)
    project.publish_model(message="the example model")
    project.close()
    model_file = root / "models" / "model.yaml"
    model_file.write_text(model_file.read_text().replace(FIT_A, "      - {label: A, min: 25}"))
    with Project.open(root) as reader:
        old = _leads(reader)
        kills = 0
        for attempt in range(1, 6):
            process = (_command(root, "model", "publish", "-m", "A from 25") if attempt == 1
                       else _command(root, "model", "resume"))
            if not _wait_rescoring(reader, attempt, process):
                process.wait(timeout=120)
                break  # it finished before the kill: the rescore is short on this machine
            time.sleep(rng.uniform(0.0, 0.4))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            pending = reader.unfinished_publish()
            if pending is None:
                break  # killed just after it went live
            kills += 1
            # the old version is live and answers every read; nothing of the new one is stored
            assert reader.follow_live(every=0) is False and reader.model.published == 1
            assert _leads(reader) == old
            blocked = _command(root, "model", "publish", "-m", "another")
            assert blocked.wait(timeout=120) == 1 and b"LS363" in blocked.stderr.read()
        assert kills >= 1, "no kill landed in the middle of a rescore"
        resumed = subprocess.run(
            [sys.executable, "-m", "leadscore", "--project", str(root), "model", "resume",
             "--format", "json"], capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        reader.follow_live(every=0)
        assert reader.model.published == 2
        done = reader.publish_status(2)
        assert done.state == "live" and done.attempts >= kills + 1
        stored = reader.store.current_scores(reader.model.name)
        as_of = {s.as_of for s in stored}
        assert len(as_of) == 1  # one rescore wrote every contact's scores
        clean = reader.dry_run(reader.version_model(2), as_of=as_of.pop())
        expected = {(r.contact_id, n): (r.values[n], r.labels[n])
                    for r in clean.results for n in reader.model.scores}
        got = {(s.contact_id, s.score): (s.value, s.label) for s in stored if s.score != "grade"}
        assert got == expected and len(got) == 1500 * len(reader.model.scores)
        assert _leads(reader) != old  # version 2 moved some contacts from B to A
