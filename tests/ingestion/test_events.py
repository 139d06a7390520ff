"""Reading events from CSV and JSONL: ids, attributes, types and bad rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import derive_event_id, read_events

CATALOG = Catalog()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(LeadscoreError) as caught:
        read_events(path, catalog=CATALOG)
    return [(d.code, d.location.line, d.location.field) for d in caught.value.diagnostics]


def test_csv_with_an_attributes_column(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv",
                 'event_id,contact_id,type,occurred_at,attributes\n'
                 'e1,c1,page_view,2026-01-05T10:00:00Z,"{""url"": ""/pricing""}"\n'
                 'e2,c1,webinar_attended,2026-01-06,"{""minutes"": ""45"", ""x"": [1]}"\n')
    first, second = read_events(path, catalog=CATALOG)
    assert first.event_id == "e1" and first.contact_id == "c1" and first.type == "page_view"
    assert first.occurred_at == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert first.attributes == {"url": "/pricing"}
    assert second.attributes == {"minutes": 45, "x": [1]}  # declared attributes are typed


def test_csv_with_attribute_columns_and_no_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv",
                 "contact_id,type,occurred_at,url,Form ID\n"
                 "c1,form_submission,2026-01-05 10:00,/demo,demo-request\n"
                 "c2,page_view,2026-01-05 11:00,/blog,\n")
    first, second = read_events(path, catalog=CATALOG)
    assert first.attributes == {"url": "/demo", "form_id": "demo-request"}
    assert second.attributes == {"url": "/blog"}
    assert first.event_id == derive_event_id("c1", "form_submission", first.occurred_at,
                                             first.attributes)
    assert len(first.event_id) == 64
    again = read_events(path, catalog=CATALOG)
    assert [e.event_id for e in again] == [first.event_id, second.event_id]


def test_jsonl(tmp_path: Path) -> None:
    lines = [
        {"event_id": "e1", "contact_id": "c1", "type": "email_open",
         "occurred_at": "2026-01-05T10:00:00+02:00", "attributes": {"campaign": "jan"}},
        {"contact_id": 7, "type": "custom_thing", "occurred_at": 1767225600,
         "attributes": {"depth": 3, "ok": True}},
    ]
    path = write(tmp_path, "events.ndjson", "\n".join(json.dumps(x) for x in lines) + "\n")
    first, second = read_events(path, catalog=CATALOG)
    assert first.occurred_at == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert second.contact_id == "7" and second.attributes == {"depth": 3, "ok": True}
    assert second.occurred_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_every_bad_event_is_reported(tmp_path: Path) -> None:
    lines = [
        '{"event_id": "e1", "contact_id": "c1", "type": "page_view", "occurred_at": "2026-01-01"}',
        '{"event_id": "e2", "type": "page_view", "occurred_at": "2026-01-01"}',
        '{"event_id": "e3", "contact_id": "c1", "type": "page view", "occurred_at": "soon"}',
        '{"event_id": "e4", "contact_id": "c1", "type": "visit"}',
        '{"event_id": "e5", "contact_id": "c1", "type": "webinar_attended", '
        '"occurred_at": "2026-01-01", "attributes": {"minutes": "an hour"}}',
        '{"event_id": "e6", "contact_id": "c1", "kind": "visit", "occurred_at": "2026-01-01"}',
        '{"event_id": "e1", "contact_id": "c1", "type": "visit", "occurred_at": "2026-01-01"}',
        '{"event_id": "e8", "contact_id": "c1", "type": "visit", "occurred_at": "2026-01-01", '
        '"attributes": [1]}',
        '{"event_id": "e9", "contact_id": "c1", "type": "visit", "occurred_at": "2026-01-01"',
    ]
    path = write(tmp_path, "events.jsonl", "\n".join(lines) + "\n")
    assert errors_of(path) == [
        ("LS211", 2, "contact_id"),
        ("LS215", 3, "type"),
        ("LS213", 3, "occurred_at"),
        ("LS216", 4, "occurred_at"),
        ("LS220", 5, "attributes"),
        ("LS210", 6, "kind"),
        ("LS215", 6, "type"),
        ("LS218", 7, "event_id"),
        ("LS217", 8, "attributes"),
        ("LS208", 9, None),
    ]


def test_bad_csv_events(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv",
                 "contact_id,type,occurred_at,attributes,minutes\n"
                 "c1,webinar_attended,2026-01-01,,many\n"
                 "c1,visit,2026-01-01,{not json},\n")
    assert errors_of(path) == [("LS220", 2, "minutes"), ("LS217", 3, "attributes")]
    missing = write(tmp_path, "missing.csv", "contact,event,when\nc1,visit,2026-01-01\n")
    with pytest.raises(LeadscoreError) as caught:
        read_events(missing, catalog=CATALOG)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "LS205"
    assert "contact_id, type, occurred_at" in diagnostic.message
    assert "'contact'" in diagnostic.hint


def test_repeated_events_in_a_file_count_once(tmp_path: Path) -> None:
    row = '{"contact_id": "c1", "type": "visit", "occurred_at": "2026-01-01"}\n'
    path = write(tmp_path, "events.jsonl", row * 3)
    assert len(read_events(path, catalog=CATALOG)) == 1
