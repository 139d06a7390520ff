"""Event batches stored by group commit (`api.state.EventWriter`): several requests' batches
in one transaction, each answered with its own counts; a batch that cannot be stored fails
alone; and an id the segments hold is still found from the in-memory hashes
(`storage.event_ids`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from leadscore.api.state import EventWriter, Served, _Slot
from leadscore.diagnostics import LeadscoreError
from leadscore.storage import event_ids, maintenance
from leadscore.storage.segments import SegmentKind

AT = datetime.now(UTC).replace(microsecond=0).isoformat()


def _event(event_id: str, contact_id: str = "c0000001") -> dict:
    return {"event_id": event_id, "contact_id": contact_id, "type": "page_view",
            "occurred_at": AT,
            "attributes": {"url": "https://www.example.com/pricing"}}


def test_batches_written_together_are_answered_each_with_its_own_counts(api):
    project = api.project
    first = project.check_event_batch([_event("gc-1"), _event("gc-2")])
    second = project.check_event_batch([_event("gc-2"), _event("gc-3"), _event("gc-3")])
    third = project.check_event_batch([_event("gc-new", "gc-contact")], create_contacts=True)
    reports = project.store_event_batches([first, second, third])  # one transaction
    assert [(r.received, r.inserted, r.unchanged, r.repeated, r.contacts_created)
            for r in reports] == [(2, 2, 0, 0, 0), (3, 1, 1, 1, 0), (1, 1, 0, 0, 1)]
    again = project.store_event_batches([project.check_event_batch([_event("gc-1")])])
    assert again[0].inserted == 0 and again[0].unchanged == 1
    assert project.store.existing_contact_ids(["gc-contact"]) == {"gc-contact"}


def test_requests_that_arrive_together_share_a_commit(api, monkeypatch):
    served = Served(api.project)
    writer = served.events
    assert writer is not None
    groups: list[int] = []
    store = type(api.project).store_event_batches

    def counted(self, batches, **kwargs):
        groups.append(len(batches))
        return store(self, batches, **kwargs)

    monkeypatch.setattr(type(api.project), "store_event_batches", counted)

    async def send() -> list:
        checked = [api.project.check_event_batch([_event(f"gc-together-{i}")])
                   for i in range(6)]
        return await asyncio.gather(*(writer.store(c) for c in checked))

    try:
        reports = asyncio.run(send())
    finally:
        served.close()
    assert [r.inserted for r in reports] == [1] * 6
    assert sum(groups) == 6 and len(groups) < 6  # fewer commits than requests


def test_a_batch_that_cannot_be_stored_fails_alone(api, monkeypatch):
    project = api.project
    writer = EventWriter(project, Served(None).lock)
    store = type(project).store_event_batches
    poisoned = project.check_event_batch([_event("gc-poison")])

    def failing(self, batches, **kwargs):
        if any(batch is poisoned for batch in batches):
            raise RuntimeError("the disk is full")
        return store(self, batches, **kwargs)

    monkeypatch.setattr(type(project), "store_event_batches", failing)
    told: list[_Slot] = []
    group = [_Slot(project.check_event_batch([_event("gc-fine-1")]), told.append),
             _Slot(poisoned, told.append),
             _Slot(project.check_event_batch([_event("gc-fine-2")]), told.append)]
    try:
        writer._write(group)
    finally:
        writer.close()
    assert len(told) == 3
    assert group[0].outcome().inserted == 1 and group[2].outcome().inserted == 1
    with pytest.raises(RuntimeError, match="disk is full"):
        group[1].outcome()
    assert project.store.counts()["events"] >= 2


def test_the_writer_reads_the_contacts_of_a_group_and_an_unknown_one_fails_its_batch(api):
    project = api.project
    writer = EventWriter(project, Served(None).lock)
    told: list[_Slot] = []

    def unread(events: list[dict], create: bool = False) -> _Slot:  # as the API hands it over
        return _Slot(project.check_event_batch(events, create_contacts=create,
                                               read_contacts=False), told.append)

    group = [unread([_event("gc-known-1")]),
             unread([_event("gc-known-2"), _event("gc-stranger", "gc-nobody")]),
             unread([_event("gc-made", "gc-made-contact")], create=True)]
    try:
        writer._write(group)
    finally:
        writer.close()
    assert len(told) == 3
    assert group[0].outcome().inserted == 1
    with pytest.raises(LeadscoreError) as caught:
        group[1].outcome()
    [mistake] = caught.value.diagnostics
    assert (mistake.code, mistake.location.index, mistake.text) == ("LS219", 1, "gc-nobody")
    assert group[2].outcome().contacts_created == 1
    assert project.store.existing_contact_ids(["gc-nobody", "gc-made-contact"]) == {
        "gc-made-contact"}
    with project.store.read() as connection:  # the failed batch: none of its events
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM events WHERE event_id IN ('gc-known-1', 'gc-known-2')"
        ).scalar() == 1


def test_ids_held_by_segments_are_found_from_memory(api):
    store = api.project.store
    if store.segments is None:
        pytest.skip("PostgreSQL keeps events in a table: no segments")
    maintenance.flush_tail(store, "events", SegmentKind.EVENTS, min_rows=1)  # to a segment
    with store.read() as connection:
        live = store.segments.live(connection, SegmentKind.EVENTS)
    assert live
    duck = store.duck()
    path = str(live[0].path)
    stored = [row[0] for row in duck.execute(
        f"SELECT event_id FROM read_parquet('{path}') LIMIT 3").fetchall()]
    paths, rows = [str(s.path) for s in live], [s.rows for s in live]
    found = event_ids.candidates(duck, paths, rows, [*stored, "gc-never-1", "gc-never-2"])
    assert set(stored) <= set(found) and len(found) <= len(stored) + 1  # a collision at most
    assert event_ids.candidates(duck, paths, [event_ids.MAX_ROWS + 1] + rows[1:],
                                ["gc-never-1"]) == ["gc-never-1"]  # too large: ask DuckDB
    contact = duck.execute(f"SELECT contact_id FROM read_parquet('{path}') WHERE event_id = "
                           f"'{stored[0]}'").fetchone()[0]
    answer = api.post("/v1/events", {"events": [_event(stored[0], contact)]}, scope="ingest")
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == 0 and answer.json()["unchanged"] == 1
