"""The worker's loop: processing in the main thread, delivery on a thread beside it."""

from __future__ import annotations

import pytest

from leadscore.automation import worker as worker_module
from leadscore.automation.worker import run_worker
from tests.automation.story import make_project


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
