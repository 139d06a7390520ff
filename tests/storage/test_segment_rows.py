"""The worker's cache of segment rows (`storage.segment_rows`, `Store.keep_segment_rows`)
reads what the segments themselves say: contacts' history and their stored scores, through
the cache and without it, are the same — before and after the tails grow, a pass stores
scores in the table, a run writes score patches, and `maintain` folds the tails into new
segments (a new set of files: the old set's rows are dropped)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore import synthetic
from leadscore.catalog.forms import to_micros
from leadscore.project import Project
from leadscore.project.scaffold import init_project
from leadscore.storage import maintenance, score_writes
from leadscore.storage.reading import Batch, HistoryRows
from leadscore.storage.segment_rows import SegmentRowCache
from leadscore.storage.segments import SegmentKind

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)  # scores still move


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setattr(score_writes, "SCORE_SEGMENT_MIN", 5)  # small runs write patches
    init_project(tmp_path)
    data = synthetic.generate(300, 4000, seed=9, now=NOW)
    synthetic.write_contacts_csv(data, tmp_path / "contacts.csv")
    synthetic.write_events_jsonl(data, tmp_path / "events.jsonl")
    opened = Project.open(tmp_path)
    opened.import_contacts(tmp_path / "contacts.csv")
    opened.import_events(tmp_path / "events.jsonl")
    return opened


def _events(path: Path, contacts: list[str], at: datetime, tag: str) -> Path:
    with path.open("w") as handle:
        for n, contact_id in enumerate(contacts):
            for k in range(3):
                handle.write(json.dumps({
                    "event_id": f"{tag}-{n}-{k}", "contact_id": contact_id, "type": "page_view",
                    # some after the reads' moments: each read cuts the kept rows at its own
                    "occurred_at": (at + timedelta(days=k - 1)).isoformat(),
                    "attributes": {"url": "https://www.example.com/pricing"}}) + "\n")
    return path


def _history(project: Project, ids: list[str], until: datetime, names: list[str] | None
             ) -> tuple[list, list]:
    with project.store.read() as connection:
        rows = HistoryRows(connection, until_us=to_micros(until))
        batch = Batch.of(ids, contiguous=False)
        return rows.properties(batch, names), rows.events(batch)


def _stored(project: Project, ids: list[str]) -> dict:
    names = sorted(project.model.scores)
    with project.store.write() as writer:
        found = writer._stored_scores(project.model.name, sorted(ids), names)
        return {key: (pytest.approx(value), label, version, scored)
                for key, (value, label, version, scored) in found.items()}


def _compare(project: Project, cache: SegmentRowCache, rng: random.Random,
             everyone: list[str], also: tuple[str, ...] = ()) -> None:
    store = project.store
    for _ in range(6):
        ids = sorted(set(rng.sample(everyone, rng.randint(1, min(40, len(everyone))))) | {
            *also})
        until = NOW + timedelta(hours=rng.choice([-24 * 30, 0, 12, 24 * 3]))
        names = rng.choice([None, ["job_title", "lifecycle_stage"]])
        store._segment_rows = None
        plain, plain_stored = _history(project, ids, until, names), _stored(project, ids)
        store._segment_rows = cache
        for _ in range(2):  # read into the cache, then from it
            assert _history(project, ids, until, names) == plain
            assert _stored(project, ids) == plain_stored
        store._segment_rows = None


# 50 contacts kept: the segments (300 contacts) are too many to keep whole, contacts are
# dropped and read again; 20,000: read whole at the first contact missing, and a contact
# they do not hold (only in the tail) is known to have no rows there
@pytest.mark.parametrize("kept", [50, 20_000])
def test_the_cache_reads_what_the_segments_hold(project: Project, tmp_path: Path,
                                               kept: int) -> None:
    rng = random.Random(3)
    store = project.store
    store.keep_segment_rows(contacts=kept)
    cache = store.segment_rows()
    assert cache is not None
    maintenance.maintain(store, flush_rows=0)  # the import's rows into segments
    with store.read() as connection:
        everyone = [row[0] for row in connection.exec_driver_sql(
            "SELECT contact_id FROM contacts ORDER BY contact_id")]
        assert store.segments.live(connection, SegmentKind.EVENTS)
    project.score(full=True)  # a score segment: the base
    _compare(project, cache, rng, everyone)
    project.ingest_events([{"event_id": "new-1", "contact_id": "zz-new", "type": "page_view",
                            "occurred_at": NOW.isoformat(), "attributes": {}}],
                          create_contacts=True)  # a contact in the tail alone
    project.automation.process_all(bulk=False)
    _compare(project, cache, rng, everyone, also=("zz-new",))

    project.import_events(_events(tmp_path / "a.jsonl", everyone[:30], NOW, "a"))  # tails
    project.automation.process_all(bulk=False)  # scores stored in the table, newer
    with store.read() as connection:
        changed = sorted({row[0] for row in connection.exec_driver_sql(
            "SELECT contact_id FROM scores")})
    assert changed
    _compare(project, cache, rng, changed)
    _compare(project, cache, rng, everyone)

    project.import_events(_events(tmp_path / "b.jsonl", everyone[20:60], NOW, "b"))
    project.score()  # a patch segment over the base
    _compare(project, cache, rng, everyone)

    hits = cache.hits
    maintenance.maintain(project.store, flush_rows=0)  # tails folded: new files
    maintenance.compact_scores(project.store, most=0)
    _compare(project, cache, rng, everyone)
    assert cache.hits > hits and cache.misses > 0
    if kept == 50:
        assert all(len(read.contacts) <= 50 and not read.whole
                   for read in cache._kept.values())
    else:
        assert all(read.whole for read in cache._kept.values())

