"""`leadscore worker`: process due contacts and deliver the outbox, sleeping until the next
contact falls due (or the interval passes, to notice new data). Safe to kill at any instant:
processing is transactional and delivery is at-least-once with idempotency keys."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from leadscore.delivery import Senders, deliver_due

if TYPE_CHECKING:
    from leadscore.project import Project


@dataclass
class WorkerStats:
    passes: int = 0
    contacts: int = 0
    delivered: int = 0


def run_worker(project: Project, *, interval: float = 1.0, once: bool = False,
               max_seconds: float | None = None, batch: int = 500,
               echo: Callable[[str], None] | None = None) -> WorkerStats:
    automation = project.automation
    stats = WorkerStats()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    automation.activate()
    senders = Senders()  # connections kept open from one pass to the next
    try:
        while not stopping:
            now = datetime.now(UTC)
            report = automation.process_due(now=now, limit=batch)
            begun = time.perf_counter()
            sent = deliver_due(project.store, project.channels, now=now, limit=batch,
                               senders=senders)
            delivering = time.perf_counter() - begun
            stats.passes += 1
            stats.contacts += report.contacts
            stats.delivered += sent.delivered
            if echo and (report.contacts or sent.delivered or sent.retried or sent.dead):
                echo(f"{now:%H:%M:%S.%f}"[:-3] + f" processed {report.contacts} contacts "
                     f"({report.joins} joins, {report.leaves} leaves, {report.steps} steps) "
                     f"in {report.seconds * 1000:.0f} ms; delivered {sent.delivered}, "
                     f"retrying {sent.retried}, dead {sent.dead} in {delivering * 1000:.0f} ms")
            if once or (max_seconds is not None and time.monotonic() - started >= max_seconds):
                break
            if report.contacts >= batch or sent.delivered >= batch:
                continue  # more is waiting
            time.sleep(_pause(automation.next_due_at(), interval))
    finally:
        senders.close()
        signal.signal(signal.SIGTERM, previous)
    return stats


def _pause(next_due: datetime | None, interval: float) -> float:
    if next_due is None:
        return interval
    wait = (next_due - datetime.now(UTC)).total_seconds()
    return max(0.0, min(interval, wait))
