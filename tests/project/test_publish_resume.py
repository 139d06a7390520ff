"""A publish left rescoring (its process died) is finished by the next worker on its own, on
both stores — but never while another process is rescoring it (`storage.publish_lock`)."""

from __future__ import annotations

import multiprocessing

from leadscore.automation.worker import run_worker
from leadscore.project import Project
from leadscore.storage.publish_lock import publish_lock
from tests.api.conftest import make_project

FIT_A = "      - {label: A, min: 35}"


def _hold_lock(root: str, ready, release) -> None:
    """Another process rescoring: it holds the publish lock until told to let go."""
    with Project.open(root) as other, publish_lock(other.store) as held:
        assert held
        ready.set()
        release.wait(60)


def test_a_worker_finishes_an_unfinished_publish_unless_another_process_rescores_it(
        tmp_path, store_url):
    root = tmp_path / "project"
    project = make_project(root, store_url, contacts=200, events=3000)
    project.publish_model(message="the example model")
    model_file = root / "models" / "model.yaml"
    model_file.write_text(model_file.read_text().replace(FIT_A, "      - {label: A, min: 25}"))
    pending = project.publish_model(message="A from 25", wait=False)  # as a crash leaves it
    assert pending.state == "rescoring" and project.unfinished_publish() is not None

    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold_lock, args=(str(root), ready, release))
    other.start()
    try:
        assert ready.wait(60)
        assert project.resume_publish(wait=False) is None  # another process is on it
        run_worker(project, once=True)
        assert project.unfinished_publish() is not None  # the worker left it alone
    finally:
        release.set()
        other.join(60)

    run_worker(project, once=True)  # the lock is free: the worker finishes the publish
    assert project.unfinished_publish() is None
    done = project.publish_status(pending.id)
    assert done.state == "live" and done.attempts == 1
    assert project.model.published == done.version
    project.close()
