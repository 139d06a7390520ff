"""Shared pieces of the automation tests: a project on a given store, wired to a receiver."""

from __future__ import annotations

import shutil
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from leadscore import Project
from leadscore.delivery import deliver_due
from leadscore.project.scaffold import init_project
from leadscore.storage import ContactInput, EventInput

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SECRET = "story-secret"


def make_project(root: Path, store_url: str, receiver_url: str) -> Project:
    if root.exists():
        shutil.rmtree(root)
    init_project(root)
    config = (root / "leadscore.toml").read_text()
    config = config.replace('url = "sqlite:///.leadscore/store.db"', f'url = "{store_url}"')
    config = config.replace('url = "http://127.0.0.1:8765/leadscore"', f'url = "{receiver_url}"')
    config = config.replace('secret = "example-secret-change-me"', f'secret = "{SECRET}"')
    (root / "leadscore.toml").write_text(config)
    return Project.open(root)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def add_contact(project: Project, cid: str, at: datetime, **properties: object) -> None:
    project.automation.update_contacts(
        [ContactInput(cid, at, email=f"{cid}@acme.example", created_at=at,
                      properties={"email": f"{cid}@acme.example", **properties})],
        source="crm", now=at)


def send(project: Project, cid: str, at: datetime, *events: tuple[str, dict]) -> None:
    items = [EventInput(f"{cid}-{at.isoformat()}-{i}", cid, kind, at - timedelta(seconds=i),
                        attributes) for i, (kind, attributes) in enumerate(events)]
    project.automation.ingest_events(items, now=at)


def settle(project: Project, at: datetime) -> None:
    """What the worker does at `at`: process everything due, then deliver."""
    project.automation.activate(now=at)
    project.automation.process_all(now=at)
    deliver_due(project.store, project.channels, now=at)


def feedback(project: Project, cid: str, verdict: str, at: datetime) -> None:
    project.automation.update_contacts(
        [ContactInput(cid, at, properties={"sales_feedback": verdict})], source="sales", now=at)


FIT_20 = {"job_title": "Marketing Manager", "employees": 30, "industry": "retail",
          "country": "united kingdom"}


def stop_worker(worker: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, as a service manager stops it; kill it if it does not stop in time."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
