"""`leadscore backup` / `restore`: one consistent file while others write; a restore checks the
whole backup before it touches the store, and refuses what is not a leadscore backup."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.ingestion import event_publishing
from leadscore.project import Project, init_project
from leadscore.storage import Store
from leadscore.storage.backup import backup_store, restore_store


def _events(path: Path, batch: int, size: int) -> Path:
    with path.open("w") as handle:
        for i in range(size):
            handle.write(json.dumps({
                "event_id": f"b{batch}-{i}", "contact_id": f"c{i % 50}", "type": "visit",
                "occurred_at": "2026-01-13T10:00:00Z"}) + "\n")
    return path


def _project(tmp_path: Path) -> Project:
    init_project(tmp_path)
    (tmp_path / "contacts.csv").write_text(
        "contact_id,email\n" + "".join(f"c{i},c{i}@x.com\n" for i in range(50)))
    project = Project.open(tmp_path)
    project.import_contacts(tmp_path / "contacts.csv")
    return project


def test_a_backup_under_concurrent_imports_opens_and_passes_its_checks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_publishing, "SEGMENT_MIN_ROWS", 100)  # segments and tail
    project = _project(tmp_path / "p")
    project.import_events(_events(tmp_path / "first.jsonl", 0, 300))
    stop = threading.Event()
    imported: list[int] = []
    failures: list[BaseException] = []

    def importing() -> None:
        other = Project.open(tmp_path / "p")
        try:
            batch = 1
            while not stop.is_set() and batch < 40:
                size = 150 if batch % 2 else 20  # a segment, then the tail
                other.import_events(_events(tmp_path / f"e{batch}.jsonl", batch, size))
                imported.append(batch)
                batch += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            other.close()

    thread = threading.Thread(target=importing)
    thread.start()
    backups = []
    try:
        while len(imported) < 3 and thread.is_alive():
            stop.wait(0.05)
        for n in range(3):
            backups.append(project.backup(tmp_path / f"backup-{n}.tar"))
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    for n, report in enumerate(backups):
        assert report.segments >= 1
        target = tmp_path / f"restored-{n}" / "store.db"
        restored = restore_store(f"sqlite:///{target}", Path(report.file))
        assert restored.kept is None
        with sqlite3.connect(target) as driver:
            assert driver.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        with Store.open(f"sqlite:///{target}") as store:  # opens, segments all there
            counts = store.counts()
            assert counts["contacts"] == 50
            assert counts["events"] % 10 == 0 and counts["events"] >= 300
            with store.read() as connection:
                ids = {row[0] for row in connection.exec_driver_sql(
                    "SELECT file FROM segments WHERE retired_us IS NULL")}
            assert all((Path(str(target) + ".data") / name).is_file() for name in ids)
    project.close()


def test_restore_swaps_in_the_backup_and_keeps_the_replaced_store(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    project.import_events(_events(tmp_path / "a.jsonl", 0, 30))
    report = project.backup(tmp_path / "b.tar")
    project.import_events(_events(tmp_path / "b.jsonl", 1, 30))
    assert project.store.counts()["events"] == 60
    restored = project.restore(report.file)
    assert restored.kept is not None and Path(restored.kept, "store.db").is_file()
    assert project.store.counts()["events"] == 30
    project.close()


def test_restore_refuses_what_is_not_a_backup_and_leaves_the_store(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    url = project.config.store_url
    project.close()
    database = Path(url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    notes = tmp_path / "notes.tar"
    notes.write_text("not a tar at all")
    other = tmp_path / "other.tar"
    with sqlite3.connect(tmp_path / "crm.db") as crm:
        crm.execute("CREATE TABLE customers (id INTEGER)")
    with tarfile.open(other, "w") as tar:
        (tmp_path / "m.json").write_text(json.dumps({"format": 1}))
        tar.add(tmp_path / "m.json", "leadscore-backup.json")
        tar.add(tmp_path / "crm.db", "store.db")
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        tar.add(tmp_path / "m.json", "leadscore-backup.json")
        tar.add(tmp_path / "crm.db", "store.db")
        tar.add(tmp_path / "m.json", "../../escape.json")
    for bad in (notes, other, evil, tmp_path / "missing.tar"):
        with pytest.raises(LeadscoreError) as raised:
            restore_store(url, bad)
        assert raised.value.diagnostics[0].code == "LS297"
    assert database.read_bytes() == before
    assert not (tmp_path / "escape.json").exists()


def test_postgresql_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    for call in (backup_store, restore_store):
        with pytest.raises(LeadscoreError) as raised:
            call("postgresql+psycopg://postgres@127.0.0.1:5432/x", tmp_path / "b.tar")
        [diagnostic] = raised.value.diagnostics
        assert diagnostic.code == "LS298" and "pg_dump" in (diagnostic.hint or "")
