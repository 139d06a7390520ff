"""The store, on SQLite and PostgreSQL: history, point-in-time reads, idempotence, atomicity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from leadscore.catalog import PropertyDef, PropertyType
from leadscore.diagnostics import LeadscoreError
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.storage import (
    ContactInput,
    EventInput,
    ScoreRecord,
    StageChange,
    Store,
)
from leadscore.storage.schema import metadata

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def snapshot_of(store: Store, contact_id: str, as_of: datetime, **kw) -> ContactSnapshot | None:
    found = list(store.load_snapshots(as_of, contact_ids=[contact_id], **kw))
    return found[0] if found else None


def test_opening_migrates_to_the_schema_of_the_code(store: Store) -> None:
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"contacts", "property_changes", "events", "scores", "score_history",
            "stage_changes", "alembic_version"} <= names
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, metadata) == []


def test_opening_twice_is_harmless(store_url: str) -> None:
    with Store.open(store_url) as first:
        first.upsert_contacts([ContactInput("c1", T0)])
    with Store.open(store_url) as second:
        assert second.counts()["contacts"] == 1
        assert second.dialect in ("sqlite", "postgresql")


def test_sqlite_store_creates_its_folder_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "leadscore.db"
    with Store.open(f"sqlite:///{path}") as store:
        assert path.exists()
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


@pytest.mark.parametrize("url, code", [
    ("mysql://root@localhost/leadscore", "LS290"),
    ("not a url", "LS290"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/nothing", "LS291"),
])
def test_bad_store_urls_are_diagnostics(url: str, code: str) -> None:
    with pytest.raises(LeadscoreError) as caught:
        Store.open(url)
    assert caught.value.diagnostics[0].code == code
    assert caught.value.diagnostics[0].hint


def test_a_file_that_is_not_a_database_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(LeadscoreError) as caught:
        Store.open(f"sqlite:///{path}")
    assert caught.value.diagnostics[0].code == "LS295"
    assert path.read_text().startswith("these are my notes")  # left as it was


def test_another_applications_database_is_not_taken_over(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(LeadscoreError) as caught:
        Store.open(f"sqlite:///{path}")
    assert caught.value.diagnostics[0].code == "LS295"
    assert "customers" in caught.value.diagnostics[0].message
    with sqlite3.connect(path) as other:
        tables = {row[0] for row in other.execute("SELECT name FROM sqlite_master")}
    assert tables == {"customers"}  # none of leadscore's tables were added


def test_reading_never_creates_a_store(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "store.db"
    with pytest.raises(LeadscoreError) as caught:
        Store.open(f"sqlite:///{path}", create=False)
    assert caught.value.diagnostics[0].code == "LS294"
    assert not path.parent.exists()


def test_reimporting_identical_contacts_changes_nothing(store: Store) -> None:
    contacts = [ContactInput("c1", T0, email="ann@example.com", created_at=day(-10),
                             properties={"job_title": "CTO", "employees": 120,
                                         "email_opt_out": False, "signed_up": day(-3)}),
                ContactInput("c2", T0, properties={"industry": "retail"})]
    first = store.upsert_contacts(contacts)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    before = store.counts()
    again = store.upsert_contacts(contacts)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert store.counts() == before
    # the same values, reported later (a new import of an unchanged file): still nothing
    later = [ContactInput(c.contact_id, day(5), email=c.email, properties=c.properties)
             for c in contacts]
    assert store.upsert_contacts(later).unchanged == 2
    assert store.counts()["property_changes"] == before["property_changes"]


def test_every_change_is_kept_with_its_time(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), properties={"employees": 10})])
    counts = store.upsert_contacts([ContactInput("c1", day(2), properties={"employees": 50})])
    assert counts.updated == 1
    store.upsert_contacts([ContactInput("c1", day(4), properties={"employees": None,
                                                                   "city": None})])
    loaded = store.load_contact("c1")
    assert loaded is not None
    email, created_at, changes, events = loaded
    assert email is None and created_at == day(0) and events == []
    assert [(c.name, c.value, c.changed_at) for c in changes] == [
        ("employees", 10, day(0)), ("employees", 50, day(2)), ("employees", None, day(4)),
    ]  # clearing the never-known city recorded nothing
    assert snapshot_of(store, "c1", day(1)).properties["employees"] == 10
    assert snapshot_of(store, "c1", day(3)).properties["employees"] == 50
    assert "employees" not in snapshot_of(store, "c1", day(5)).properties
    assert snapshot_of(store, "c1", day(5)).changes["employees"] == [
        day(0).timestamp(), day(2).timestamp(), day(4).timestamp()]


def test_an_older_file_imported_later_fills_in_history(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(10), properties={"job_title": "CEO"})])
    store.upsert_contacts([ContactInput("c1", day(5), properties={"job_title": "CTO"})])
    assert snapshot_of(store, "c1", day(20)).properties["job_title"] == "CEO"
    assert snapshot_of(store, "c1", day(7)).properties["job_title"] == "CTO"
    # importing the newer file again changes nothing: CEO was already true at day 10
    assert store.upsert_contacts([ContactInput("c1", day(10),
                                               properties={"job_title": "CEO"})]).unchanged == 1


def test_snapshots_see_only_what_was_known_at_the_moment(store: Store) -> None:
    store.upsert_contacts([
        ContactInput("a", day(0), created_at=day(0), properties={"industry": "retail"}),
        ContactInput("b", day(3), created_at=day(3), properties={"industry": "software"}),
    ])
    store.upsert_contacts([ContactInput("a", day(2), properties={"industry": "finance"})])
    store.add_events([
        EventInput("e1", "a", "page_view", day(1), {"url": "/pricing"}),
        EventInput("e2", "a", "page_view", day(2.5), {"url": "/demo"}),
        EventInput("e3", "a", "form_submission", day(4), {"form_id": "demo"}),
    ])
    as_of = day(2.5)
    snaps = {s.contact_id: s for s in store.load_snapshots(as_of)}
    assert set(snaps) == {"a"}  # b did not exist yet
    a = snaps["a"]
    assert a.as_of == as_of.timestamp()
    assert a.properties["industry"] == "finance"
    assert a.properties["created_at"] == day(0)
    assert a.created_at == day(0).timestamp()
    assert a.series("page_view").times == [day(1).timestamp(), day(2.5).timestamp()]
    assert list(a.series("page_view").attributes) == [{"url": "/pricing"}, {"url": "/demo"}]
    assert len(a.series("form_submission")) == 0
    assert a.changes["industry"] == [day(0).timestamp(), day(2).timestamp()]
    assert snapshot_of(store, "a", day(1)).properties["industry"] == "retail"


def test_snapshots_match_building_from_the_full_history(store: Store) -> None:
    for n in range(7):
        store.upsert_contacts([ContactInput(f"c{i}", day(n), created_at=day(i % 3),
                                            properties={"employees": (i * n) % 4,
                                                        "job_title": f"t{(i + n) % 3}"})
                               for i in range(9)])
    store.add_events([EventInput(f"e{j}", f"c{j % 9}", ("visit", "email_open")[j % 2],
                                 day(j / 7), {"n": j}) for j in range(60)])
    for as_of in (day(0.5), day(3), day(30)):
        loaded = list(store.load_snapshots(as_of, batch_size=4))
        assert [s.contact_id for s in loaded] == sorted(s.contact_id for s in loaded)
        for snap in loaded:
            email, created, changes, events = store.load_contact(snap.contact_id)
            built = ContactSnapshot.build(snap.contact_id, as_of, created_at=created,
                                          property_changes=changes, events=events)
            assert snap.properties == built.properties
            assert snap.changes == built.changes
            assert {k: (v.times, list(v.attributes)) for k, v in snap.events.items()} == {
                k: (v.times, list(v.attributes)) for k, v in built.events.items()}


def test_snapshots_stream_in_batches_and_by_id(store: Store) -> None:
    store.upsert_contacts([ContactInput(f"c{i:02d}", day(0)) for i in range(11)])
    ids = [s.contact_id for s in store.load_snapshots(day(1), batch_size=3)]
    assert ids == [f"c{i:02d}" for i in range(11)]
    chosen = [s.contact_id for s in store.load_snapshots(
        day(1), contact_ids=["c07", "c03", "nobody", "c03"], batch_size=1)]
    assert chosen == ["c03", "c07"]
    assert list(store.load_snapshots(day(-1))) == []


def test_values_are_typed_on_reading(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), properties={
        "employees": "1,200", "score_hint": 7, "vip": True, "renewal": day(30),
        "industry": "retail"})])
    types = {name: PropertyDef(name, kind) for name, kind in (
        ("employees", PropertyType.NUMBER), ("renewal", PropertyType.DATE),
        ("industry", PropertyType.NUMBER))}
    snap = snapshot_of(store, "c1", day(1), catalog=types)
    assert snap.properties["employees"] == 1200
    assert snap.properties["renewal"] == day(30)
    assert snap.properties["score_hint"] == 7 and snap.properties["vip"] is True
    assert "industry" not in snap.properties  # 'retail' is no number: unknown, no crash
    assert snap.changes["industry"] == [day(0).timestamp()]


def test_duplicate_event_ids_count_once(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0))])
    event = EventInput("ev-1", "c1", "page_view", day(1), {"url": "/"})
    first = store.add_events([event, event])
    assert (first.inserted, first.unchanged) == (1, 1)
    resent = store.add_events([event, EventInput("ev-2", "c1", "visit", day(2))])
    assert (resent.inserted, resent.unchanged) == (1, 1)
    assert store.counts()["events"] == 2


def test_times_come_back_as_aware_utc(store: Store) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2026, 5, 1, 12, 0, tzinfo=berlin)
    store.upsert_contacts([ContactInput("c1", local, created_at=local)])
    store.add_events([EventInput("e1", "c1", "visit", local)])
    _, created, changes, events = store.load_contact("c1")
    assert created == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)
    assert events[0].occurred_at == local and events[0].occurred_at.tzinfo is not None


def test_score_history_is_appended_only_on_change(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), email="ann@example.com"),
                           ContactInput("c2", day(0))])
    records = [ScoreRecord("c1", "fit", 40.0, "B"), ScoreRecord("c2", "fit", 10.0, "C"),
               ScoreRecord("c1", "grade", None, "B2")]
    assert store.save_scores("m", records, computed_at=day(1), as_of=day(1)) == 3
    assert store.save_scores("m", records, computed_at=day(2), as_of=day(2)) == 0
    changed = [ScoreRecord("c1", "fit", 55.0, "A"), ScoreRecord("c2", "fit", 10.0, "C"),
               ScoreRecord("c1", "grade", None, "A2")]
    assert store.save_scores("m", changed, computed_at=day(3), as_of=day(3)) == 2
    history = store.score_history("c1", "m")
    assert [(h.score, h.value, h.label, h.computed_at) for h in history] == [
        ("fit", 40.0, "B", day(1)), ("grade", None, "B2", day(1)),
        ("fit", 55.0, "A", day(3)), ("grade", None, "A2", day(3)),
    ]
    current = {(s.contact_id, s.score): s for s in store.current_scores("m")}
    assert current[("c1", "fit")].value == 55.0
    assert current[("c1", "fit")].email == "ann@example.com"
    assert current[("c2", "fit")].computed_at == day(3)  # refreshed, though unchanged
    assert store.current_scores("other") == []
    counts = store.counts()
    assert counts["scored"] == 2 and counts["last_computed_at"] == day(3)
    # continuous processing writes only what changed: an unchanged score keeps its row
    moved = [ScoreRecord("c1", "fit", 60.0, "A"), ScoreRecord("c2", "fit", 10.0, "C")]
    with store.write() as writer:
        assert writer.save_scores("m", moved, computed_at=day(4), as_of=day(4),
                                  only_changed=True) == 1
    current = {(s.contact_id, s.score): s for s in store.current_scores("m")}
    assert (current[("c1", "fit")].value, current[("c1", "fit")].computed_at) == (60.0, day(4))
    assert current[("c2", "fit")].computed_at == day(3)


def test_stage_changes_are_kept_and_seen_as_of_their_time(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), properties={"lifecycle_stage": "lead"}),
                           ContactInput("c2", day(0))])
    store.record_stage_changes([
        StageChange("c1", "mql", "lead", day(2), "score fit ≥ 35"),
        StageChange("c1", "sql", "mql", day(4), "score fit ≥ 65"),
    ])
    assert [(s.stage, s.previous, s.changed_at, s.cause) for s in store.stage_history("c1")] == [
        ("mql", "lead", day(2), "score fit ≥ 35"), ("sql", "mql", day(4), "score fit ≥ 65")]
    assert snapshot_of(store, "c1", day(1)).properties["lifecycle_stage"] == "lead"
    assert snapshot_of(store, "c1", day(3)).properties["lifecycle_stage"] == "mql"
    assert snapshot_of(store, "c1", day(5)).properties["lifecycle_stage"] == "sql"
    assert store.current_stages() == {"c1": "sql", "c2": None}
    assert store.stage_counts() == {"sql": 1, None: 1}
    _, _, changes, _ = store.load_contact("c1")
    assert [c.value for c in changes if c.name == "lifecycle_stage"] == ["lead", "mql", "sql"]


def test_a_failed_write_leaves_nothing(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), properties={"city": "Berlin"})])
    before = store.counts()
    with pytest.raises(RuntimeError), store.write() as writer:
        writer.upsert_contacts([ContactInput("c2", day(1), properties={"city": "Paris"}),
                                ContactInput("c1", day(1), properties={"city": "Rome"})])
        writer.add_events([EventInput("e1", "c2", "visit", day(1))])
        raise RuntimeError("the power went out")
    assert store.counts() == before
    assert snapshot_of(store, "c1", day(9)).properties["city"] == "Berlin"
    with pytest.raises(LeadscoreError) as caught:  # events of an unknown contact: nothing
        store.add_events([EventInput("e1", "c1", "visit", day(1)),
                          EventInput("e2", "ghost", "visit", day(1))])
    assert caught.value.diagnostics[0].code == "LS293"
    assert store.counts()["events"] == 0


def test_small_reads(store: Store) -> None:
    store.upsert_contacts([ContactInput("c1", day(0), email="ann@example.com"),
                           ContactInput("c2", day(0))])
    assert store.existing_contact_ids(["c1", "c9"]) == {"c1"}
    assert store.contact_emails(["c1", "c2", "c9"]) == {"c1": "ann@example.com", "c2": None}
    assert store.load_contact("nobody") is None
    counts = store.counts()
    assert counts["contacts"] == 2 and counts["events"] == 0
    assert counts["property_changes"] == 1 and counts["last_computed_at"] is None


def test_reimporting_a_stale_export_does_not_undo_later_changes(store: Store) -> None:
    export = [ContactInput("c1", day(0), properties={"lifecycle_stage": "lead", "city": "Oslo"})]
    store.upsert_contacts(export)
    store.record_stage_changes([StageChange("c1", "mql", "lead", day(1), "score")])
    # the same export, imported again later without an updated_at column: nothing new in it
    stale = [ContactInput("c1", day(2), properties={"lifecycle_stage": "lead", "city": "Oslo"})]
    assert store.upsert_contacts(stale).unchanged == 1
    assert store.current_stages() == {"c1": "mql"}
    # a value the export really changed is recorded
    moved = [ContactInput("c1", day(3), properties={"lifecycle_stage": "customer"})]
    assert store.upsert_contacts(moved).updated == 1
    assert snapshot_of(store, "c1", day(4)).properties["lifecycle_stage"] == "customer"
    # leadscore may set a stage again after an import changed it
    store.record_stage_changes([StageChange("c1", "mql", "customer", day(5), "by hand")])
    assert store.current_stages() == {"c1": "mql"}


def test_head_revision_constant_matches_the_newest_migration():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from leadscore.storage.store import HEAD_REVISION, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_a_store_at_head_opens_without_migrating_again(tmp_path):
    from leadscore.storage import Store
    from leadscore.storage.store import HEAD_REVISION

    url = f"sqlite:///{tmp_path}/s.db"
    Store.open(url).close()
    with Store.open(url) as store:
        assert store.schema_revision() == HEAD_REVISION


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_an_import_refreshes_the_planner_statistics(store_url: str, tmp_path: Path) -> None:
    from leadscore.catalog import Catalog
    from leadscore.ingestion import import_contacts

    path = tmp_path / "contacts.csv"
    path.write_text("contact_id,email,created_at,industry\n" + "".join(
        f"c{i},c{i}@x.example,2026-01-01T00:00:00Z,software\n" for i in range(50)))
    with Store.open(store_url) as store:
        def analyzed() -> set[str]:
            with store.read() as connection:
                return set(connection.execute(sa.text(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
                )).scalars())

        assert "property_changes" not in analyzed()
        import_contacts(store, path, catalog=Catalog())
        assert {"contacts", "property_changes", "events"} <= analyzed()


def _damage_an_index(path: Path) -> None:
    """Overwrite the root page of one of the store's indexes with garbage."""
    import sqlite3

    with sqlite3.connect(path) as driver:
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = driver.execute("PRAGMA page_size").fetchone()[0]
        root = driver.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                              "tbl_name = 'contacts' ORDER BY name LIMIT 1").fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xff" * size)


def test_a_damaged_store_is_refused_before_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upsert_contacts([ContactInput(f"c{i}", T0, properties={"city": "Oslo"})
                               for i in range(2000)])
    _damage_an_index(path)
    before = path.read_bytes()
    store = Store.open(f"sqlite:///{path}")  # opening (and reading) still works …
    try:
        with pytest.raises(LeadscoreError) as caught:  # … but nothing is written to it
            store.upsert_contacts([ContactInput("new", T0, properties={"city": "Rome"})])
    finally:
        store.close()
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "LS296" and "nothing was written" in diagnostic.message
    assert "leadscore restore" in (diagnostic.hint or "")
    assert "backup" in (diagnostic.hint or "")
    assert path.read_bytes() == before


def test_a_sound_store_is_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks: list[int] = []
    original = Store._quick_check

    def counted(self: Store, connection) -> None:
        checks.append(1)
        original(self, connection)

    monkeypatch.setattr(Store, "_quick_check", counted)
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for i in range(3):
            store.upsert_contacts([ContactInput(f"c{i}", T0, properties={"city": "Oslo"})])
    assert len(checks) == 1


def test_a_store_as_leadscore_left_it_is_not_read_whole_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file's size and time are sealed after each commit and on closing: the next writer
    skips `PRAGMA quick_check` (seconds per GB) unless something else changed the file."""
    from leadscore.storage import store as store_module

    path = tmp_path / "store.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.upsert_contacts([ContactInput(f"c{i}", T0, properties={"city": "Oslo"})
                               for i in range(2000)])
    checks: list[str] = []
    original = store_module.quick_check
    monkeypatch.setattr(store_module, "quick_check",
                        lambda connection, database: (checks.append(database),
                                                      original(connection, database)))
    with Store.open(f"sqlite:///{path}") as store:
        store.counts()  # a reader opens (and creates an empty log): still as left
        store.upsert_contacts([ContactInput("c1", T0, properties={"city": "Rome"})])
    assert checks == []
    _damage_an_index(path)  # another program writes into the file: checked, and refused
    with Store.open(f"sqlite:///{path}") as store, pytest.raises(LeadscoreError) as caught:
        store.upsert_contacts([ContactInput("c2", T0, properties={"city": "Rome"})])
    assert checks == [str(path)] and caught.value.diagnostics[0].code == "LS296"
