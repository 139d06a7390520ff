"""Merging segments takes the smaller ones: a store that flushes small tails often does not
rewrite its large segments (a bulk import's) every few flushes, and reads the same rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadscore import Project
from leadscore.project import init_project
from leadscore.storage import maintenance
from leadscore.storage.segments import SegmentKind
from leadscore.storage.views import DataView

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _events(path: Path, first: int, count: int) -> Path:
    with path.open("w") as handle:
        for n in range(first, first + count):
            handle.write(json.dumps({
                "event_id": f"e{n}", "contact_id": f"c{n % 7}", "type": "page_view",
                "occurred_at": (T0 + timedelta(minutes=n)).isoformat(),
                "attributes": {"url": f"https://example.com/{n}"}}) + "\n")
    return path


def _live(project: Project) -> list:
    with project.store.read() as connection:
        return project.store.segments.live(connection, SegmentKind.EVENTS)


def _rows(project: Project) -> list[tuple]:
    with project.store.read() as connection, DataView(connection) as view:
        return sorted(view.query(f"SELECT event_id, contact_id, occurred_us FROM "
                                 f"{view.relation('events')}"))


def test_merging_takes_the_smaller_segments(tmp_path: Path) -> None:
    init_project(tmp_path)
    project = Project.open(tmp_path)
    try:
        project.import_events(_events(tmp_path / "big.jsonl", 0, 3000),
                              create_missing_contacts=True)
        maintenance.maintain(project.store, flush_rows=1)
        first = 3000
        for n in range(12):  # small imports, each flushed into a segment of its own
            project.import_events(_events(tmp_path / f"small{n}.jsonl", first, 10 + n),
                                  create_missing_contacts=True)
            maintenance.flush_tail(project.store, "events", SegmentKind.EVENTS, min_rows=1)
            first += 10 + n
        live = _live(project)
        assert len(live) > maintenance.MAX_SEGMENTS
        big = max(live, key=lambda s: s.rows)
        before = _rows(project)
        assert len(before) == first

        assert maintenance.merge_segments(project.store, SegmentKind.EVENTS)
        after = _live(project)
        assert len(after) == maintenance.MAX_SEGMENTS // 2
        assert big.id in {s.id for s in after}  # the large one was not rewritten
        assert _rows(project) == before
        assert sum(s.rows for s in after) == first
        assert not maintenance.merge_segments(project.store, SegmentKind.EVENTS)
    finally:
        project.close()
