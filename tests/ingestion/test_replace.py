"""`--on-conflict replace`: the file's version of an event id replaces the stored one, on the
tail, in a segment and on PostgreSQL, and the contacts on both sides are rescored correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore.ingestion import event_publishing
from leadscore.project import Project

MODEL = """version: 1
name: m
scores:
  engagement:
    rules:
      - name: demo
        when: {event: form_submission, where: {form_id: {any_of: [demo-request]}}}
        points: 50
      - name: visited
        when: {event: visit}
        points: 5
"""


def _events(path: Path, rows: list[tuple[str, str, str, str | None]]) -> Path:
    with path.open("w") as handle:
        for event_id, contact, kind, form in rows:
            handle.write(json.dumps({
                "event_id": event_id, "contact_id": contact, "type": kind,
                "occurred_at": "2026-01-13T10:00:00Z",
                "attributes": {"form_id": form} if form else {}}) + "\n")
    return path


def _scores(project: Project) -> dict[str, float | None]:
    return {lead.contact_id: lead.scores["engagement"] for lead in project.leads(limit=None)}


@pytest.mark.parametrize("segment", [False, True], ids=["tail", "segment"])
def test_replace_takes_the_files_version_and_both_contacts_are_rescored(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segment: bool) -> None:
    if segment:  # every import publishes a segment, so the stored version is in one
        monkeypatch.setattr(event_publishing, "SEGMENT_MIN_ROWS", 1)
    (tmp_path / "model.yaml").write_text(MODEL)
    (tmp_path / "contacts.csv").write_text("contact_id,email\nc1,a@x.com\nc2,b@x.com\n")
    project = Project.at(store_url, tmp_path / "model.yaml")
    try:
        project.import_contacts(tmp_path / "contacts.csv")
        project.import_events(_events(tmp_path / "a.jsonl", [
            ("e1", "c1", "form_submission", "demo-request"), ("e2", "c2", "visit", None)]))
        project.score()
        assert _scores(project) == {"c1": 50, "c2": 5}
        with project.store.write() as writer:  # nothing due before the replacing import
            writer.connection.exec_driver_sql("DELETE FROM contact_schedule")
        moved = _events(tmp_path / "b.jsonl", [
            ("e1", "c2", "form_submission", "demo-request"),  # moved to c2
            ("e2", "c2", "visit", None),  # the same: unchanged
            ("e3", "c1", "visit", None)])  # new
        report = project.import_events(moved, on_conflict="replace")
        assert (report.inserted, report.unchanged, report.conflicts_replaced,
                report.conflicts_kept) == (1, 1, 1, 0)
        assert project.store.counts()["events"] == 3
        with project.store.read() as connection:
            due = {row[0] for row in connection.exec_driver_sql(
                "SELECT contact_id FROM contact_schedule")}
        assert due == {"c1", "c2"}  # c1 lost e1, c2 gained it: both due for `process`
        run = project.score()
        assert not run.full
        assert _scores(project) == {"c1": 5, "c2": 55}
        again = project.import_events(moved, on_conflict="replace")  # now nothing conflicts
        assert (again.inserted, again.unchanged, again.conflicts_replaced) == (0, 3, 0)
        full = project.score(full=True, write=False, keep_results=True)
        assert {r.contact_id: r.value("engagement") for r in full.results} == \
            {"c1": 5, "c2": 55}
    finally:
        project.close()
