"""A big `process` tidies the embedded store after itself (as `score` does), so what it wrote
does not sit in the tables' tails that every read loads whole; a small one does not pay for
it."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore import Project, synthetic
from leadscore.project import automation_api, init_project
from leadscore.storage import maintenance


def imported(root: Path) -> Project:
    """A project whose 120 contacts were just imported: all of them due."""
    from datetime import UTC, datetime

    init_project(root)
    data = synthetic.generate(120, 1200, seed=3, now=datetime.now(UTC), days=60)
    synthetic.write_contacts_csv(data, root / "contacts.csv")
    synthetic.write_events_jsonl(data, root / "events.jsonl")
    project = Project.open(root)
    project.import_contacts(root / "contacts.csv")
    project.import_events(root / "events.jsonl")
    return project


@pytest.mark.parametrize(("threshold", "expected"), [(50, 1), (10**6, 0)],
                         ids=["many-contacts", "few-contacts"])
def test_a_big_process_runs_the_maintenance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           threshold: int, expected: int) -> None:
    project = imported(tmp_path)
    calls: list[object] = []
    original = maintenance.maintain

    def spy(store: object, **kw: object) -> None:
        calls.append(store)
        original(store, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(maintenance, "maintain", spy)
    monkeypatch.setattr(automation_api, "MAINTAIN_AFTER", threshold)
    try:
        report = project.process(deliver=False).report
        assert report.contacts >= 50
        assert len(calls) == expected
        assert project.leads(limit=5)  # the store reads as before
    finally:
        project.close()
