"""The worker's loop: processing in the main thread, delivery on a thread beside it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from leadscore.automation import worker as worker_module
from leadscore.automation.worker import StopFlag, run_worker
from tests.automation.story import make_project
from tests.cli.conftest import Cli


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_failing_dispatcher_stops_the_worker(tmp_path, monkeypatch, store_url):
    project = make_project(tmp_path / "p", store_url, "http://127.0.0.1:9/hook")

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox table is gone")

    monkeypatch.setattr(worker_module, "deliver_due", broken)
    with pytest.raises(RuntimeError, match="outbox table is gone"):
        run_worker(project, interval=0.01, max_seconds=5)
    project.close()


def test_once_processes_and_delivers_in_line(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", f"sqlite:///{tmp_path}/store.db",
                           "http://127.0.0.1:9/hook")
    calls = []
    real = worker_module.deliver_due
    monkeypatch.setattr(worker_module, "deliver_due",
                        lambda *a, **k: calls.append(k.get("senders")) or real(*a, **k))
    stats = run_worker(project, once=True)
    assert stats.passes == 1 and len(calls) == 1  # one delivery run, in this thread
    project.close()


def test_a_stop_request_at_any_moment_of_the_wait_ends_it():
    """SIGTERM's handler runs between any two bytecodes of the main thread. Run it at each
    line the wait executes in turn: the wait must end every time (an Event set from a handler
    deadlocked when the signal landed just after Event.wait took its lock back)."""
    for target in range(1, 40):
        flag = StopFlag()
        seen = 0

        def tracer(frame, event, arg, flag=flag, target=target):
            nonlocal seen
            if event == "line" and not flag.requested:
                seen += 1
                if seen == target:
                    flag.request()
            return tracer

        started = time.monotonic()
        sys.settrace(tracer)
        try:
            stopped = flag.wait(30)
        finally:
            sys.settrace(None)
        assert stopped and time.monotonic() - started < 5
    assert StopFlag().wait(0.01) is False


def test_a_real_signal_ends_the_wait():
    flag = StopFlag()
    previous = signal.signal(signal.SIGALRM, flag.request)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        assert flag.wait(30)
        assert time.monotonic() - started < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_sigterm_stops_a_running_worker_promptly(tmp_path):
    Cli(tmp_path)("init", ".")
    rng = random.Random(3)
    for _ in range(5):
        worker = subprocess.Popen(
            [sys.executable, "-m", "leadscore", "worker", "--interval", "5ms"], cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "NO_COLOR": "1"})
        try:
            assert "Worker running on sqlite" in worker.stdout.readline()
            time.sleep(rng.uniform(0.05, 0.5))
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=20)
        finally:
            worker.kill()
        assert worker.returncode == 0, err
        assert "Worker stopped:" in out and "Traceback" not in err
