"""The worker's loop: processing in the main thread, delivery on a thread beside it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from leadscore.automation import worker as worker_module
from leadscore.automation.worker import StopFlag, run_worker
from leadscore.storage import ContactInput, EventInput
from tests.automation.story import FIT_20, SECRET, make_project, stop_worker
from tests.cli.conftest import Cli
from tests.delivery.receiver import WebhookReceiver


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


@pytest.mark.slow
def test_the_worker_wakes_at_once_when_another_process_makes_contacts_due(tmp_path,
                                                                            store_url):
    """Asleep with a minute to go, the worker still notifies sales within moments of the
    demo request (LISTEN/NOTIFY on PostgreSQL, data_version on SQLite)."""
    with WebhookReceiver(secret=SECRET) as receiver:
        root = tmp_path / "woken"
        project = make_project(root, store_url, receiver.url)
        now = datetime.now(UTC)
        automation = project.automation
        automation.update_contacts([ContactInput("w1", now, email="w1@acme.example",
                                                 created_at=now,
                                                 properties={"email": "w1@acme.example",
                                                             **FIT_20})],
                                   source="crm", now=now)
        automation.activate(now=now)
        automation.process_all(now=now)
        worker = subprocess.Popen(
            [sys.executable, "-m", "leadscore", "--project", str(root), "worker",
             "--interval", "60s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "NO_COLOR": "1"})
        try:
            assert "Worker running" in worker.stdout.readline()
            time.sleep(1.5)  # asleep: nothing falls due within the minute
            sent = time.monotonic()
            moment = datetime.now(UTC)
            automation.ingest_events([
                EventInput("w1-demo", "w1", "form_submission", moment,
                           {"form_id": "demo-request"}),
                EventInput("w1-pricing", "w1", "page_view", moment,
                           {"url": "https://www.example.com/pricing"})], now=moment)
            assert receiver.wait_for(1, timeout=30)
            assert time.monotonic() - sent < 5  # not the minute's sleep
        finally:
            stop_worker(worker)
            project.close()
        assert worker.returncode == 0
