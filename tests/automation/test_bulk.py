"""The bulk path of `process` against the per-contact path: two copies of the same store, one
processed with `bulk=True` (the due contacts whose outcome cannot change settled set-wise, the
rest per contact), the other every contact per contact; every automation table must come out
the same — on SQLite and on PostgreSQL, over several rounds (imports, arriving events and
feedback, workflow delays ending, time windows passing)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from leadscore import Project, synthetic
from leadscore.automation import bulk
from leadscore.project.scaffold import init_project
from leadscore.storage import ContactInput, EventInput, current
from leadscore.storage.views import DataView
from tests.databases import create_database
from tests.factories import NOW

pytestmark = pytest.mark.slow

ROUNDS = (timedelta(0), timedelta(days=3), timedelta(days=15), timedelta(days=45))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield _sqlite_pair(tmp_path)
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    names = [f"leadscore_test_{secrets.token_hex(6)}" for _ in range(2)]
    for name in names:
        create_database(admin, name)
    try:
        yield tuple(f"postgresql+psycopg://postgres@127.0.0.1:5432/{n}" for n in names)  # type: ignore[misc]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _sqlite_pair(tmp_path: Path) -> tuple[str, str]:
    return (f"sqlite:///{tmp_path / 'a' / 'store.db'}", f"sqlite:///{tmp_path / 'b' / 'store.db'}")


def _project(root: Path, url: str, *, lists: str | None = None,
             workflows: str | None = None) -> Project:
    init_project(root)
    config = root / "leadscore.toml"
    config.write_text(config.read_text().replace('url = "sqlite:///.leadscore/store.db"',
                                                 f'url = "{url}"'))
    if lists is not None:
        (root / "models" / "lists.yaml").write_text(lists)
    if workflows is not None:
        (root / "models" / "workflows.yaml").write_text(workflows)
    return Project.open(root)


def _files(folder: Path, contacts: int, events: int, seed: int) -> dict[str, Path]:
    data = synthetic.generate(contacts, events, seed=seed, now=NOW)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"contacts": folder / "contacts.csv", "events": folder / "events.jsonl",
             "feedback": folder / "feedback.csv"}
    synthetic.write_contacts_csv(data, paths["contacts"])
    synthetic.write_events_jsonl(data, paths["events"])
    synthetic.write_feedback_csv(data, paths["feedback"])
    paths["companies"] = folder / "companies.csv"
    synthetic.write_companies_csv(data, paths["companies"])
    return paths


def _load(project: Project, files: dict[str, Path], *, companies: bool = False) -> None:
    project.import_contacts(files["contacts"])
    project.import_events(files["events"])
    project.import_contacts(files["feedback"])
    if companies:  # `company_score:` lists: every contact processed once (per contact, as
        # both copies), then companies scored from the stored contact scores: the contacts
        # of each company scored are due again (their lists read their company's score)
        project.import_companies(files["companies"])
        project.process(now=NOW - timedelta(hours=1), deliver=False, bulk=False)
        run = project.score_companies(as_of=NOW - timedelta(hours=1))
        assert run.due > 100 and run.labels["account"].keys() >= {"Warm", "Cold"}, run


def _arrivals(project: Project, moment: Any, round_no: int) -> None:
    """The same new data for both copies: events for some contacts, sales feedback for one."""
    automation = project.automation
    events = [EventInput(f"late-{round_no}-{i}", f"c{i * 7 + round_no:07d}", kind,
                         moment - timedelta(minutes=i), attributes)
              for i, (kind, attributes) in enumerate([
                  ("page_view", {"url": "https://acme.example/pricing"}),
                  ("form_submission", {"form_id": "demo-request"}),
                  ("meeting_booked", {}), ("email_click", {"campaign": "spring"})] * 5)]
    known = project.store.existing_contact_ids(e.contact_id for e in events)
    automation.ingest_events([e for e in events if e.contact_id in known], now=moment)
    verdict = ("not_ready", "unqualified", "true_sql", "not_ready")[round_no % 4]
    target = sorted(known)[0] if known else None
    if target is not None:
        automation.update_contacts([ContactInput(target, moment,
                                                 properties={"sales_feedback": verdict})],
                                   source="sales", now=moment)


def _tables(project: Project) -> dict[str, list[tuple]]:
    """Every automation table, with ids (assigned in processing order) replaced by what they
    stand for."""
    found: dict[str, list[tuple]] = {}
    with project.store.read() as connection:
        def rows(sql: str) -> list[tuple]:
            return [tuple(_plain(v) for v in row) for row in connection.exec_driver_sql(sql)]

        enrolled = {row[0]: f"{row[1]}/{row[2]}/{row[3]}" for row in rows(
            "SELECT id, workflow, contact_id, enrolled_at FROM enrollments")}

        def key(text: str) -> str:  # workflow:enrollment:position
            parts = text.split(":")
            return ":".join([parts[0], enrolled.get(int(parts[1]), parts[1]), *parts[2:]]) \
                if len(parts) >= 3 and parts[1].isdigit() else text

        found["enrollments"] = rows("SELECT workflow, contact_id, status, position, resume_at, "
                                    "enrolled_at, finished_at, cause FROM enrollments")
        found["step_runs"] = [(enrolled[r[0]], *r[1:6], _keys(r[6], key), r[7]) for r in rows(
            "SELECT enrollment_id, workflow, contact_id, position, action, outcome, detail, at "
            "FROM step_runs")]
        found["outbox"] = [(key(r[0]), *r[1:]) for r in rows(
            "SELECT key, kind, channel, payload, contact_id, workflow, status FROM outbox")]
        found["tasks"] = [(key(r[0]), *r[1:]) for r in rows(
            "SELECT key, contact_id, owner, title, detail, due_at, status, created_at FROM tasks")]
        for table, columns in [
                ("list_memberships", "list, contact_id, joined_at"),
                ("list_changes", "list, contact_id, change, at, cause"),
                ("trigger_states", "workflow, contact_id, matching, enrollments, checked_at"),
                ("contact_schedule", "contact_id, due_at, reason"),
                ("stage_changes", "contact_id, stage, previous, changed_us, cause"),
                ("property_changes", "contact_id, name, changed_us, source, value")]:
            found[table] = rows(f"SELECT {columns} FROM {table}")
        # scores and their history wherever they are kept (the bulk path writes segments, as
        # `leadscore score` does): the current value and label of each, every recorded change
        with DataView(connection) as view:
            found["scores"] = [(s.contact_id, s.model, s.score, s.value, s.label)
                               for s in current.stored_scores(view)]
            found["score_history"] = [tuple(_plain(v) for v in row) for row in view.query(
                "SELECT contact_id, model, score, value, label, computed_us, as_of_us "
                f"FROM {view.relation('score_history')}")]
    for table in found:
        found[table] = sorted(found[table], key=repr)
    return found


def _keys(detail: str, key: Any) -> str:
    """A step's detail with the outbox or task key in it told by what it stands for."""
    found = json.loads(detail) if isinstance(detail, str) else detail
    if isinstance(found, dict) and isinstance(found.get("key"), str):
        found["key"] = key(found["key"])
    return json.dumps(found, sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if hasattr(value, "isoformat"):  # aware on PostgreSQL, naive UTC on SQLite
        return value.replace(tzinfo=None).isoformat(" ")
    return value


def _differential(tmp_path: Path, urls: tuple[str, str], monkeypatch: pytest.MonkeyPatch, *,
                  contacts: int, events: int, seed: int, lists: str | None = None,
                  workflows: str | None = None, companies: bool = False) -> list[int]:
    monkeypatch.setattr(bulk, "BULK_MIN", 50)
    monkeypatch.setattr(bulk, "BULK_CHUNK", 170)  # several runs of the query, joined
    files = _files(tmp_path / "data", contacts, events, seed)
    fast = _project(tmp_path / "a", urls[0], lists=lists, workflows=workflows)
    slow = _project(tmp_path / "b", urls[1], lists=lists, workflows=workflows)
    settled = []
    try:
        for project in (fast, slow):
            _load(project, files, companies=companies)
        for round_no, later in enumerate(ROUNDS):
            moment = NOW + later
            if round_no:
                for project in (fast, slow):
                    _arrivals(project, moment, round_no)
            calls: list[int] = []
            original = bulk.settle_in_bulk

            def spy(*args: Any, _original: Any = original, _calls: list = calls) -> Any:
                found = _original(*args)
                _calls.append(found or 0)
                return found

            monkeypatch.setattr(bulk, "settle_in_bulk", spy)
            a = fast.process(now=moment, deliver=False, bulk=True).report
            monkeypatch.setattr(bulk, "settle_in_bulk", original)
            b = slow.process(now=moment, deliver=False, bulk=False).report
            settled.append(sum(calls))
            left, right = _tables(fast), _tables(slow)
            for table in left:
                if left[table] != right[table]:
                    extra = sorted(set(left[table]) ^ set(right[table]), key=repr)[:6]
                    raise AssertionError(f"round {round_no}: {table} differs: {extra}")
            for name in ("contacts", "joins", "leaves", "enrolled", "steps", "outbox",
                         "stage_moves"):
                assert getattr(a, name) == getattr(b, name), (round_no, name, a, b)
    finally:
        fast.close()
        slow.close()
    return settled


def test_bulk_process_equals_per_contact_process(tmp_path, two_urls, monkeypatch):
    settled = _differential(tmp_path, two_urls, monkeypatch, contacts=1200, events=12_000,
                            seed=11)
    assert settled[0] > 100, settled  # the bulk path did settle most of the first round


OCCURRENCES = """version: 1
workflows:
  - name: pricing-views
    trigger: {event: {event: page_view, where: {url: {matches: "*pricing*"}}}}
    reenroll: true
    steps:
      - notify: {channel: sales, subject: "pricing", message: "pricing {contact.email}"}
  - name: any-feedback
    trigger: {property_changed: {property: sales_feedback}}
    reenroll: true
    steps:
      - create_task: {title: "feedback from {contact.email}", due_in: 2d}
  - name: known-company
    trigger: {property_known: company}
    steps:
      - delay: 10d
      - set_property: {score_adjustment: 5}
  - name: engaged
    trigger: {score_crosses: {score: engagement, at_least: 20}}
    enroll_existing: true
    reenroll: true
    steps:
      - notify: {channel: sales, subject: "engaged", message: "engaged {score.engagement}"}
"""

LISTS = """version: 1
lists:
  - name: mql
    groups: [[{score: total, at_least: 35}]]
    exclude: [{property: lifecycle_stage, any_of: [opportunity, customer]}]
  - name: sql
    groups: [[{score: total, at_least: 65}]]
  - name: recent-visitors
    groups: [[{event: page_view, within_last: 14d}]]
  - name: warm-mql
    groups: [[{list: mql}, {event: email_open, within_last: 30d}]]
  - name: engaged-at-hot-companies  # the example workflows' trigger
    groups: [[{score: engagement, at_least: 40}]]
"""


@pytest.mark.parametrize("seed", [3, 5])
def test_bulk_process_with_occurrence_triggers_and_windows(tmp_path, monkeypatch, seed):
    urls = _sqlite_pair(tmp_path)
    _differential(tmp_path, urls, monkeypatch, contacts=600, events=8_000, seed=seed,
                  workflows=OCCURRENCES)


def test_bulk_process_with_own_lists(tmp_path, monkeypatch):
    urls = _sqlite_pair(tmp_path)
    _differential(tmp_path, urls, monkeypatch, contacts=600, events=8_000, seed=8, lists=LISTS)


COMPANY_LISTS = """version: 1
lists:
  - name: mql
    groups: [[{score: total, at_least: 35}, {company_score: account, label: {at_least: Warm}}]]
  - name: sql
    groups: [[{score: total, at_least: 65}], [{score: total, at_least: 35},
              {company_score: account, label: Hot}]]
  - name: at-hot-companies
    groups: [[{company_score: account, label: Hot}]]
  - name: engaged-at-warm-companies
    groups: [[{company_score: account, label: {at_least: Warm}}, {score: engagement, at_least: 5}]]
  - name: no-company
    groups: [[{company_score: account, is_unknown: true}]]
  - name: engaged-at-hot-companies  # the example workflows' trigger
    groups: [[{company_score: account, label: Hot}, {score: engagement, at_least: 5}]]
"""


def test_bulk_process_with_company_score_lists(tmp_path, two_urls, monkeypatch):
    settled = _differential(tmp_path, two_urls, monkeypatch, contacts=600, events=8_000,
                            seed=4, lists=COMPANY_LISTS, companies=True)
    assert sum(settled[1:]) > 100, settled  # later rounds: the bulk path reads them in SQL


def test_bulk_process_killed_midway_loses_and_doubles_nothing(tmp_path, two_urls):
    """`leadscore process` (bulk: more than BULK_MIN due) killed with SIGKILL at random
    moments, then run again to the end: the same tables as one per-contact run."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(20261130)
    files = _files(tmp_path / "data", bulk.BULK_MIN + 500, 20_000, 13)
    killed = _project(tmp_path / "a", two_urls[0])
    reference = _project(tmp_path / "b", two_urls[1])
    moment = NOW + timedelta(days=1)
    command = [sys.executable, "-m", "leadscore", "--project", str(tmp_path / "a"), "process",
               "--no-deliver", "--at", moment.isoformat()]
    try:
        for project in (killed, reference):
            _load(project, files)
        reference.process(now=moment, deliver=False, bulk=False)
        for _ in range(3):
            running = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL,
                                       env={**os.environ, "NO_COLOR": "1"})
            time.sleep(rng.uniform(1.0, 5.0))
            running.send_signal(signal.SIGKILL)
            running.wait()
        subprocess.run(command, check=True, capture_output=True)
        left, right = _tables(killed), _tables(reference)
        for table in left:
            assert left[table] == right[table], table
    finally:
        killed.close()
        reference.close()


@pytest.mark.parametrize("bulk_process", [True, False])
def test_process_after_a_set_wise_score_keeps_scores_and_adds_no_repeated_history(
        tmp_path, bulk_process):
    """A set-wise `score` keeps scores in segments; `process` afterwards compares with them —
    a score it recomputes unchanged gains no history row, and the current scores stay whole
    (a contact the automation rewrote still has every score)."""
    from leadscore.storage.views import DataView

    project = _project(tmp_path / "p", f"sqlite:///{tmp_path / 'p' / 'store.db'}")
    _load(project, _files(tmp_path / "data", 1500, 15_000, seed=4))
    project.score(as_of=NOW, full=True)

    def history(sql: str) -> int:
        with project.store.read() as connection, DataView(connection) as view:
            return int(view.duck.execute(sql.format(h=view.relation("score_history")))
                       .fetchall()[0][0])

    before = history("SELECT count(*) FROM {h}")
    project.process(now=NOW, deliver=False, bulk=bulk_process)
    leads = project.leads(limit=2000)
    assert len(leads) == 1500
    assert all(v is not None for lead in leads for v in lead.scores.values())
    repeated = history(
        "SELECT count(*) FROM (SELECT value, label, lag(value) OVER w AS pv, lag(label) OVER w "
        "AS pl, row_number() OVER w AS n FROM {h} WINDOW w AS (PARTITION BY contact_id, model, "
        "score ORDER BY computed_us, seq)) WHERE n > 1 AND pv IS NOT DISTINCT FROM value "
        "AND pl IS NOT DISTINCT FROM label")
    assert repeated == 0
    assert history("SELECT count(*) FROM {h}") - before < 1500  # not a row for everyone
    rescored = project.dry_run(project.model, as_of=NOW, keep=2000)  # the same moment
    stored = {lead.contact_id: lead.scores for lead in leads}
    assert all(stored[r.contact_id] == pytest.approx(r.values) for r in rescored.results)
