"""Times in the future (LS223): events and contact rows dated later than now plus
`[import] future_tolerance` are rejected with their line and field, on both import paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.catalog import Catalog
from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import import_contacts, import_events
from leadscore.project import Project, init_project
from leadscore.storage import Store

CATALOG = Catalog()
DAY = timedelta(days=1)


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(path: Path, times: list[str], *, odd: bool = False) -> Path:
    rows = [{"event_id": f"e{i}", "contact_id": "c1", "type": "visit", "occurred_at": t}
            for i, t in enumerate(times)]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if odd:  # a number as an id sends the file the row path
        text += '{"event_id": 7, "contact_id": "c1", "type": "visit", "occurred_at": "' \
                + _iso(-DAY) + '"}\n'
    path.write_text(text)
    return path


@pytest.mark.parametrize("odd", [False, True], ids=["set-path", "row-path"])
def test_a_future_event_is_a_placed_row_error(store: Store, tmp_path: Path, odd: bool) -> None:
    (tmp_path / "c.csv").write_text("contact_id\nc1\n")
    import_contacts(store, tmp_path / "c.csv", catalog=CATALOG)
    path = _events(tmp_path / "e.jsonl", [_iso(-DAY), _iso(3 * DAY), _iso(timedelta(hours=2))],
                   odd=odd)
    before = store.counts()
    with pytest.raises(LeadscoreError) as raised:
        import_events(store, path, catalog=CATALOG, future_tolerance=DAY)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "LS223"
    assert (diagnostic.location.line, diagnostic.location.field) == (2, "occurred_at")
    assert "in the future" in diagnostic.message and "1d" in diagnostic.message
    assert store.counts() == before
    done = import_events(store, path, catalog=CATALOG, future_tolerance=7 * DAY)
    assert done.inserted == (4 if odd else 3)


def test_a_future_contact_row_is_a_placed_row_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"contact_id,updated_at,created_at,city\nc1,{_iso(-DAY)},,Oslo\n"
                    f"c2,{_iso(-DAY)},{_iso(10 * DAY)},Rome\nc3,{_iso(5 * DAY)},,Bonn\n")
    with pytest.raises(LeadscoreError) as raised:
        import_contacts(store, path, catalog=CATALOG, future_tolerance=DAY)
    found = {(d.code, d.location.line, d.location.field) for d in raised.value.diagnostics}
    assert found == {("LS223", 3, "created_at"), ("LS223", 4, "updated_at")}
    assert store.counts()["contacts"] == 0
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps({"contact_id": "c9", "updated_at": _iso(3 * DAY)}) + "\n")
    with pytest.raises(LeadscoreError) as raised:
        import_contacts(store, jsonl, catalog=CATALOG, future_tolerance=DAY)
    assert [(d.code, d.location.line) for d in raised.value.diagnostics] == [("LS223", 1)]


def test_the_tolerance_comes_from_leadscore_toml(tmp_path: Path) -> None:
    init_project(tmp_path)
    config = tmp_path / "leadscore.toml"
    config.write_text(config.read_text() + '\n[import]\nfuture_tolerance = "5d"\n')
    (tmp_path / "c.csv").write_text(f"contact_id,updated_at\nc1,{_iso(3 * DAY)}\n")
    with Project.open(tmp_path) as project:
        assert project.config.future_tolerance == 5 * DAY
        assert project.import_contacts(tmp_path / "c.csv").inserted == 1
    config.write_text(config.read_text().replace('"5d"', '"soon"'))
    with pytest.raises(LeadscoreError) as raised:
        Project.open(tmp_path)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "LS308" and diagnostic.location.line is not None
    assert diagnostic.location.field == "import.future_tolerance"
