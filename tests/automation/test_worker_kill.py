"""Kill the worker (SIGKILL) at random moments while leads become sales-ready: every lead's
notification still arrives, once (resends carry the same Idempotency-Key), on both stores."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from leadscore.storage import ContactInput, EventInput
from tests.automation.story import FIT_20, SECRET, make_project, stop_worker
from tests.delivery.receiver import WebhookReceiver

pytestmark = pytest.mark.slow
LEADS = 30


def start_worker(root):
    return subprocess.Popen(
        [sys.executable, "-m", "leadscore", "--project", str(root), "worker",
         "--interval", "50ms"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})


def test_no_notification_is_lost_or_doubled_when_the_worker_is_killed(tmp_path, store_url):
    rng = random.Random(20261122)
    with WebhookReceiver(secret=SECRET) as receiver:
        root = tmp_path / "killed"
        project = make_project(root, store_url, receiver.url)
        now = datetime.now(UTC)
        automation = project.automation
        automation.update_contacts(
            [ContactInput(f"k{i:03d}", now, email=f"k{i}@acme.example", created_at=now,
                          properties={"email": f"k{i}@acme.example", **FIT_20})
             for i in range(LEADS)], source="crm", now=now)
        automation.activate(now=now)
        automation.process_all(now=now)  # everyone known, nobody sales-ready yet
        worker = start_worker(root)
        kills = 0
        try:
            for i in range(LEADS):
                moment = datetime.now(UTC)
                automation.ingest_events([
                    EventInput(f"k{i}-demo", f"k{i:03d}", "form_submission", moment,
                               {"form_id": "demo-request"}),
                    EventInput(f"k{i}-pricing", f"k{i:03d}", "page_view", moment,
                               {"url": "https://www.example.com/pricing"}),
                ], now=moment)
                time.sleep(rng.uniform(0.0, 0.08))
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0.0, 0.3))
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    kills += 1
                    worker = start_worker(root)
            assert receiver.wait_for(LEADS, timeout=90), (
                f"only {receiver.unique()} of {LEADS} notifications arrived")
            time.sleep(0.5)  # let any resend in flight arrive too
        finally:
            stop_worker(worker, timeout=10)
        assert kills >= 3
        payloads = receiver.payloads()
        contacts = [p["contact_id"] for p in payloads]
        assert sorted(contacts) == [f"k{i:03d}" for i in range(LEADS)]  # none lost, none twice
        assert receiver.unique() == LEADS and receiver.bad_signatures == 0
        with project.store.read() as connection:
            states = dict(connection.execute(sa.text(
                "SELECT status, count(*) FROM outbox GROUP BY status")).all())
        assert states == {"delivered": LEADS}
        project.close()
