"""Importing into the store (SQLite and PostgreSQL): all or nothing, and idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import import_contacts, import_events
from leadscore.storage import Store

FIXTURES = Path(__file__).parent / "fixtures"
CATALOG = Catalog()
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def events_file(tmp_path: Path, rows: list[dict], name: str = "events.jsonl") -> Path:
    return write(tmp_path, name, "".join(json.dumps(r) + "\n" for r in rows))


def test_importing_the_same_files_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    contacts = FIXTURES / "hubspot_contacts.csv"
    first = import_contacts(store, contacts, catalog=CATALOG, now=NOW)
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (4, 4, 0, 0)
    events = events_file(tmp_path, [
        {"contact_id": "101", "type": "page_view", "occurred_at": "2026-01-13T10:00:00Z",
         "attributes": {"url": "/pricing"}},
        {"event_id": "x1", "contact_id": "102", "type": "visit",
         "occurred_at": "2026-01-13T11:00:00Z"},
        {"event_id": "x1", "contact_id": "102", "type": "visit",
         "occurred_at": "2026-01-13T11:00:00Z"},
    ])
    added = import_events(store, events, catalog=CATALOG)
    assert (added.rows, added.inserted, added.unchanged, added.duplicates) == (3, 2, 0, 1)
    before = store.counts()
    again = import_contacts(store, contacts, catalog=CATALOG, now=datetime(2026, 3, 1,
                                                                             tzinfo=UTC))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    resent = import_events(store, events, catalog=CATALOG)
    assert (resent.inserted, resent.unchanged) == (0, 2)
    assert store.counts() == before
    assert store.current_stages()["103"] == "sql"
    assert resent.elapsed_seconds >= 0


def test_a_changed_export_records_only_the_changes(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv",
                 "id,updated_at,job_title,city\nc1,2026-01-01,CTO,Berlin\nc2,2026-01-01,CEO,\n")
    import_contacts(store, path, catalog=CATALOG)
    path.write_text("id,updated_at,job_title,city\nc1,2026-01-09,CTO,Paris\n"
                    "c2,2026-01-09,CEO,\nc3,2026-01-09,Dev,Rome\n")
    report = import_contacts(store, path, catalog=CATALOG)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    _, _, changes, _ = store.load_contact("c1")
    assert [(c.name, c.value) for c in changes] == [
        ("job_title", "CTO"), ("city", "Berlin"), ("city", "Paris")]


def test_a_bad_file_stores_nothing(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"c{i},{i}\n" for i in range(3000))
    path = write(tmp_path, "contacts.csv", "contact_id,employees\n" + rows + "c9999,many\n")
    with pytest.raises(LeadscoreError) as caught:
        import_contacts(store, path, catalog=CATALOG)
    assert [(d.code, d.location.line) for d in caught.value.diagnostics] == [("LS212", 3002)]
    assert store.counts()["contacts"] == 0


def test_events_need_their_contacts(store: Store, tmp_path: Path) -> None:
    write(tmp_path, "contacts.csv", "contact_id\nc1\n")
    import_contacts(store, tmp_path / "contacts.csv", catalog=CATALOG)
    events = events_file(tmp_path, [
        {"contact_id": "c1", "type": "visit", "occurred_at": "2026-01-02"},
        {"contact_id": "ghost", "type": "visit", "occurred_at": "2026-01-03"},
        {"contact_id": "ghost", "type": "visit", "occurred_at": "2026-01-01"},
    ])
    with pytest.raises(LeadscoreError) as caught:
        import_events(store, events, catalog=CATALOG)
    found = [(d.code, d.location.line, d.location.field) for d in caught.value.diagnostics]
    assert found == [("LS219", 2, "contact_id"), ("LS219", 3, "contact_id")]
    assert "--create-contacts" in caught.value.diagnostics[0].hint
    assert store.counts()["events"] == 0
    report = import_events(store, events, catalog=CATALOG, create_missing_contacts=True)
    assert (report.inserted, report.contacts_created) == (3, 1)
    _, created_at, _, _ = store.load_contact("ghost")
    assert created_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_progress_reaches_the_end(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv",
                 "contact_id,city\n" + "".join(f"c{i},X\n" for i in range(4500)))
    calls: list[tuple[int, int]] = []
    import_contacts(store, path, catalog=CATALOG, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_an_event_id_stored_with_other_content_is_a_conflict(store: Store,
                                                              tmp_path: Path) -> None:
    import_contacts(store, FIXTURES / "hubspot_contacts.csv", catalog=CATALOG, now=NOW)
    first = events_file(tmp_path, [
        {"event_id": "e1", "contact_id": "101", "type": "visit",
         "occurred_at": "2026-01-13T10:00:00Z"},
        {"event_id": "e2", "contact_id": "102", "type": "visit",
         "occurred_at": "2026-01-13T11:00:00Z"}])
    import_events(store, first, catalog=CATALOG)
    before = store.counts()
    changed = events_file(tmp_path, [
        {"event_id": "e1", "contact_id": "101", "type": "page_view",
         "occurred_at": "2026-01-13T10:00:00Z"},
        {"event_id": "e3", "contact_id": "102", "type": "visit",
         "occurred_at": "2026-01-14T11:00:00Z"}], name="changed.jsonl")
    with pytest.raises(LeadscoreError) as raised:
        import_events(store, changed, catalog=CATALOG)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "LS241"
    assert (diagnostic.location.line, diagnostic.location.field) == (1, "event_id")
    assert "visit" in diagnostic.message and "page_view" in diagnostic.message
    assert store.counts() == before  # nothing of the file was stored, not even e3
    kept = import_events(store, changed, catalog=CATALOG, on_conflict="keep")
    assert (kept.inserted, kept.conflicts_kept) == (1, 1)
    with pytest.raises(LeadscoreError) as wrong:
        import_events(store, changed, catalog=CATALOG, on_conflict="merge")
    assert wrong.value.diagnostics[0].code == "LS242"
