"""An idle worker tidies the embedded store now and then: what its passes and a server's
events wrote sits in the tables' tails, which every bulk read loads whole, until the
maintenance folds them into segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore import Project
from leadscore.automation.worker import run_worker
from leadscore.storage import maintenance
from tests.project.test_process_maintenance import imported


def _tail(project: Project, table: str) -> int:
    with project.store.read() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


@pytest.mark.parametrize(("every", "folded"), [(0.0, True), (3600.0, False)],
                         ids=["due", "not-yet"])
def test_an_idle_worker_folds_the_tails_into_segments(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      every: float, folded: bool) -> None:
    project = imported(tmp_path)
    try:
        run_worker(project, once=True)  # everyone processed: the passes wrote to the tails
        monkeypatch.setattr(maintenance, "FLUSH_ROWS", 1)  # any tail is worth a segment
        before = _tail(project, "property_changes")
        assert before > 0
        leads = [(lead.contact_id, lead.scores) for lead in project.leads(limit=10)]
        run_worker(project, interval=0.01, max_seconds=0.3, maintain_every=every)
        after = _tail(project, "property_changes")
        assert (after == 0) is folded, (before, after)
        # the same answers from the segments as from the tails
        assert [(lead.contact_id, lead.scores) for lead in project.leads(limit=10)] == leads
    finally:
        project.close()
