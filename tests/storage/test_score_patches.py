"""Scores of later runs lie over the base as patches; what `leads`, `stats` and `export` read
is each contact's newest scores, and folding the patches into a new base changes nothing a
reader sees."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore import synthetic
from leadscore.project import Project
from leadscore.project.scaffold import init_project
from leadscore.storage import maintenance, score_writes
from leadscore.storage.segments import SegmentKind

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setattr(score_writes, "SCORE_SEGMENT_MIN", 5)  # small runs write patches
    monkeypatch.setattr(maintenance, "PATCH_SHARE", 1.0)  # which stay until folded here
    init_project(tmp_path)
    data = synthetic.generate(200, 3000, seed=5, now=NOW)
    synthetic.write_contacts_csv(data, tmp_path / "contacts.csv")
    synthetic.write_events_jsonl(data, tmp_path / "events.jsonl")
    opened = Project.open(tmp_path)
    opened.import_contacts(tmp_path / "contacts.csv")
    opened.import_events(tmp_path / "events.jsonl")
    return opened


def _events(path: Path, contacts: list[str], at: datetime, tag: str) -> Path:
    with path.open("w") as handle:
        for n, contact_id in enumerate(contacts):
            for k in range(4):
                handle.write(json.dumps({
                    "event_id": f"{tag}-{n}-{k}", "contact_id": contact_id, "type": "page_view",
                    "occurred_at": (at + timedelta(minutes=k)).isoformat(),
                    "attributes": {"url": "https://www.example.com/pricing"}}) + "\n")
    return path


def _scores(project: Project) -> dict[str, tuple]:
    return {lead.contact_id: (tuple(sorted(lead.scores.items())),
                              tuple(sorted(lead.labels.items())), lead.grade, lead.stage)
            for lead in project.leads(limit=None)}


def _live(project: Project) -> list:
    with project.store.read() as connection:
        return project.store.segments.live(connection, SegmentKind.SCORES)


def test_patches_read_as_the_newest_scores_and_fold_into_a_base(project: Project, tmp_path):
    project.score(full=True)
    ids = sorted(_scores(project))
    for round_, part in enumerate((ids[:10], ids[5:20], ids[40:43])):
        moment = datetime.now(UTC) - timedelta(minutes=30 - round_)
        project.import_events(_events(tmp_path / f"new{round_}.jsonl", part, moment,
                                      f"r{round_}"))
        run = project.score()
        assert not run.full and run.contacts >= len(part)
    live = _live(project)
    assert len(live) >= 3 and sum(bool(s.meta.get("full")) for s in live) == 1  # base, patches
    patched = _scores(project)
    stats = project.stats()

    fresh = project.score(full=True, write=False, keep_results=True)  # what a full run says
    expected = {r.contact_id: r for r in fresh.results}
    for contact_id, (values, labels, grade, _stage) in patched.items():
        assert dict(values) == pytest.approx(expected[contact_id].values), contact_id
        assert dict(labels) == expected[contact_id].labels, contact_id
        assert grade == expected[contact_id].grade, contact_id

    folded = maintenance.compact_scores(project.store, most=0)
    assert folded == 1
    live = _live(project)
    assert len(live) == 1 and live[0].meta["full"]
    assert _scores(project) == patched  # folding changes nothing a reader sees
    assert project.stats()["scores"] == stats["scores"]


def test_the_contacts_mirror_with_the_changes_since_reads_as_the_table(project: Project,
                                                                      tmp_path: Path):
    from leadscore.storage.views import DataView

    def read(sql_of) -> set[tuple]:
        with project.store.read() as connection, DataView(connection) as view:
            return set(view.query(sql_of(view)))

    table = "SELECT contact_id, email, created_us, updated_us, rev FROM contacts"
    assert maintenance.mirror_contacts(project.store, min_rows=0)
    (tmp_path / "more.csv").write_text(
        "contact_id,email,company\nc-new,new@example.com,New Co\n"
        + "".join(f"{cid},changed{n}@example.com,Changed\n"
                  for n, cid in enumerate(sorted(_ids(project))[:3])))
    project.import_contacts(tmp_path / "more.csv")
    mirrored = read(lambda view: f"SELECT * FROM {view.relation('contacts')}")
    with project.store.read() as connection:
        stored = {tuple(row) for row in connection.exec_driver_sql(table).fetchall()}
    assert mirrored == stored and len(stored) == 201
    assert any(row[0] == "c-new" for row in mirrored)


def _ids(project: Project) -> list[str]:
    with project.store.read() as connection:
        return [row[0] for row in connection.exec_driver_sql(
            "SELECT contact_id FROM contacts").fetchall()]
