"""Kill `leadscore serve` (SIGKILL) at random moments while a client streams 100,000 events
through the API, and start it again each time; on SQLite and on PostgreSQL.

The client sends batches of 500 events and sends a batch again until it is answered 200 (an
event id already stored is a no-op, so a batch that was committed before the kill counts
once). Afterwards the store must hold exactly the 100,000 events; every contact's scores must
be those of a clean run — the same events imported into a second project and scored from
scratch (`score --full`); the contacts notified must be exactly those the clean run's
`process` notifies; and every notification must have taken effect once: delivery is at least
once with an Idempotency-Key (docs/delivery.md), so the receiver — which verifies every
signature — counts effects by key: one key per notified contact, every outbox row delivered,
no key the store does not hold. Resends of a key (a kill between sending and recording) are
allowed by that contract and only counted.

The model is time-independent (no decay, no windows: points per event, capped), so the
scores of the served store and of the clean run can be compared exactly, and a contact that
becomes hot stays hot whatever order its events were processed in: one notification each."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from leadscore import Project
from leadscore.project.scaffold import init_project
from tests.delivery.receiver import WebhookReceiver

pytestmark = pytest.mark.slow

EVENTS = 100_000
CONTACTS = 1_000
BATCH = 500
KILLS = 3  # at least (more while the stream lasts, up to MAX_KILLS)
MAX_KILLS = 8
SECRET = "kill-test-secret"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

MODEL = """version: 1
name: killtest
description: Time-independent points, so that any processing order gives the same scores
scores:
  engagement:
    rules:
      - name: Page views
        when: {event: page_view}
        points: 0.5
        per_event: true
        max: 30
      - name: Pricing views
        when: {event: page_view, where: {url: {matches: "*/pricing*"}}}
        points: 3
        per_event: true
        max: 15
      - name: Demo request
        when: {event: form_submission, where: {form_id: {any_of: [demo-request]}}}
        points: 30
    thresholds:
      - {label: Hot, min: 60}
      - {label: Warm, min: 20}
      - {label: Cold}
"""
LISTS = """version: 1
lists:
  - name: hot
    groups:
      - [{score: engagement, label: Hot}]
"""
WORKFLOWS = """version: 1
workflows:
  - name: hot-alert
    trigger: {joins_list: hot}
    enroll_existing: true
    steps:
      - notify:
          channel: sales
          subject: "A hot lead"
          message: "engagement {score.engagement}"
"""


def make_project(root: Path, store_url: str, receiver_url: str) -> None:
    init_project(root)
    (root / "models" / "model.yaml").write_text(MODEL)
    (root / "models" / "lists.yaml").write_text(LISTS)
    (root / "models" / "workflows.yaml").write_text(WORKFLOWS)
    config = (root / "leadscore.toml").read_text()
    config = re.sub(r'^url = "sqlite:[^"]*"', f'url = "{store_url}"', config, flags=re.M)
    config = config.replace('url = "http://127.0.0.1:8765/leadscore"', f'url = "{receiver_url}"')
    config = config.replace('secret = "example-secret-change-me"', f'secret = "{SECRET}"')
    config += '\n[api]\nrate_limit = "off"\n'
    (root / "leadscore.toml").write_text(config)


def stream(seed: int) -> list[dict]:
    """EVENTS events of CONTACTS contacts, in blocks of ten contacts shuffled within each
    block (a batch touches a few contacts, as a site's traffic does in a moment); about a
    third of the contacts ask for a demo."""
    rng = random.Random(seed)
    per = EVENTS // CONTACTS
    out: list[dict] = []
    for block in range(0, CONTACTS, 10):
        events = []
        for k in range(block, block + 10):
            cid = f"k{k:05d}"
            demo = rng.random() < 0.35
            for i in range(per):
                if demo and i == per // 2:
                    kind, attributes = "form_submission", {"form_id": "demo-request"}
                else:
                    page = rng.choice(["/blog/a", "/docs/start", "/pricing", "/customers/x"])
                    kind, attributes = "page_view", {"url": "https://www.example.com" + page}
                events.append({"event_id": f"{cid}-{i}", "contact_id": cid, "type": kind,
                               "occurred_at": (T0 + timedelta(minutes=k, seconds=i)
                                               ).isoformat(),
                               "attributes": attributes})
        rng.shuffle(events)
        out.extend(events)
    assert len(out) == EVENTS
    return out


class Served:
    """`leadscore serve --port 0` as a subprocess, killed and started again on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0
        self.lock = threading.Lock()

    def start(self) -> None:
        self.starts += 1
        out = self.root / f"serve-{self.starts}.out"
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        env.pop("LEADSCORE_STORE_URL", None)
        with out.open("w") as stdout, (self.root / f"serve-{self.starts}.err").open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "leadscore", "serve", "--port", "0"], cwd=self.root,
                env=env, stdout=stdout, stderr=err)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            found = re.search(r"http://127\.0\.0\.1:(\d+)", out.read_text())
            if found:
                self.port = int(found.group(1))
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"serve did not start: {self.errors()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, and the exit code. The server's own bounds: 30 s for the requests in
        flight, then the worker's pass (it is joined for up to 120 s); past 45 s it writes
        every thread's stack to stderr, shown here if it does not stop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("serve did not stop within 180 s of SIGTERM; its stderr:\n"
                                 + self.errors()[-6000:]) from None

    def errors(self) -> str:
        return "\n".join((self.root / f"serve-{n}.err").read_text()
                         for n in range(1, self.starts + 1))


def clean_run(folder: Path, events: list[dict]) -> tuple[dict, set[str]]:
    """Scores from scratch and the contacts notified, by a second project (no server)."""
    make_project(folder, "sqlite:///.leadscore/store.db", "http://127.0.0.1:9/unused")
    with (folder / "events.jsonl").open("w") as out:
        for event in events:
            out.write(json.dumps(event) + "\n")
    with Project.open(folder) as project:
        project.import_events(folder / "events.jsonl", create_missing_contacts=True)
        project.score(full=True)
        scores = {(s.contact_id, s.score): (s.value, s.label)
                  for s in project.store.current_scores("killtest")}
        project.process(deliver=False)
        with project.store.read() as connection:
            notified = set(connection.execute(sa.text(
                "SELECT contact_id FROM outbox WHERE workflow = 'hot-alert'")).scalars())
    return scores, notified


def test_serve_killed_at_random_moments_loses_and_doubles_nothing(tmp_path, store_url):
    rng = random.Random(20261130)
    events = stream(seed=7)
    expected_scores, expected_notified = clean_run(tmp_path / "clean", events)
    assert len(expected_scores) == CONTACTS and 200 < len(expected_notified) < CONTACTS

    with WebhookReceiver(secret=SECRET) as receiver:
        root = tmp_path / "served"
        make_project(root, store_url, receiver.url)
        with Project.open(root) as project:
            key = project.create_api_key(["ingest", "read"], name="kill-test").secret
        served = Served(root)
        served.start()
        streaming = threading.Event()
        streaming.set()
        kills: list[float] = []

        def killer() -> None:  # at random moments: requests, commits, passes, deliveries
            while len(kills) < MAX_KILLS and (streaming.is_set() or len(kills) < KILLS):
                time.sleep(rng.uniform(0.5, 4.0))
                with served.lock:
                    served.kill()
                    kills.append(time.monotonic())
                    served.start()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        retries = 0
        try:
            with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
                for start in range(0, EVENTS, BATCH):
                    body = {"events": events[start:start + BATCH], "create_contacts": True}
                    while True:
                        try:
                            answer = client.post(f"http://127.0.0.1:{served.port}/v1/events",
                                                 json=body)
                        except httpx.HTTPError:
                            answer = None
                        if answer is not None and answer.status_code == 200:
                            break
                        assert answer is None or answer.status_code >= 500, answer.text
                        retries += 1
                        time.sleep(0.05)
        finally:
            streaming.clear()
            thread.join(timeout=120)
        assert not thread.is_alive() and len(kills) >= KILLS

        # let the last server settle everything: nothing due, nothing pending, all received
        engine = sa.create_engine(store_url)
        deadline = time.monotonic() + 180
        try:
            while True:
                with engine.connect() as connection:
                    due = connection.execute(sa.text(
                        "SELECT count(*) FROM contact_schedule WHERE due_at <= :now"),
                        {"now": datetime.now(UTC)}).scalar()
                    pending = connection.execute(sa.text(
                        "SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar()
                if not due and not pending and receiver.unique() >= len(expected_notified):
                    break
                assert time.monotonic() < deadline, (
                    f"not settled: {due} due, {pending} pending, {receiver.unique()} of "
                    f"{len(expected_notified)} notifications; {served.errors()[-2000:]}")
                time.sleep(0.25)
        finally:
            engine.dispose()
            code = served.stop()
        assert code == 0, served.errors()
        assert "Traceback" not in served.errors()

    with Project.open(root) as project:
        assert project.store.counts()["events"] == EVENTS
        scores = {(s.contact_id, s.score): (s.value, s.label)
                  for s in project.store.current_scores("killtest")}
        with project.store.read() as connection:
            outbox = connection.execute(sa.text(
                "SELECT key, contact_id, status FROM outbox")).all()
    assert scores == expected_scores  # every contact, every score: value and label
    assert {row.status for row in outbox} == {"delivered"}
    keys = {row.key: row.contact_id for row in outbox}
    received = receiver.received()
    assert receiver.bad_signatures == 0
    assert {r.key for r in received} == set(keys)  # every notification arrived, no stranger
    by_contact = {}
    for request in received:
        body = request.json()
        assert body["contact_id"] == keys[request.key]
        by_contact.setdefault(body["contact_id"], set()).add(request.key)
    assert set(by_contact) == expected_notified
    assert all(len(found) == 1 for found in by_contact.values())  # one effect per contact
    print(f"{len(kills)} kills, {retries} failed requests sent again, {len(received)} "
          f"deliveries of {len(keys)} notifications ({receiver.duplicates} resent with the "
          "same key)")
