"""What one delivery run reports: each row counted once, however long the run takes.

`leadscore process` once reported "3,365 to retry" with 1,671 notifications queued: a run's
clock runs on from `now`, and a row put back in line a second later was claimed and counted
again within the same run."""

from __future__ import annotations

import time
from datetime import timedelta

from leadscore.delivery import deliver_due, outbox_items
from leadscore.delivery.senders import Outcome
from tests.delivery.conftest import NOW, add_rows, webhook_channels


class SlowFailingSenders:
    """Every send fails after a few milliseconds (a receiver that is down)."""

    def __init__(self, seconds: float = 0.005) -> None:
        self.seconds = seconds
        self.sent: list[str] = []

    def send(self, item, channels) -> Outcome:
        time.sleep(self.seconds)
        self.sent.append(item.key)
        return Outcome.retry("connection refused")

    def close(self) -> None:
        pass


def test_a_run_tries_each_due_row_once_and_reports_rows_not_attempts(store):
    keys = add_rows(store, 30)
    channels = webhook_channels("http://127.0.0.1:9/hook", backoff_base="10ms")
    senders = SlowFailingSenders()  # a run of 30 sends outlasts the 10 ms backoff many times
    report = deliver_due(store, channels, now=NOW, limit=10_000, senders=senders)
    assert sorted(senders.sent) == sorted(keys)  # each row sent once in the run
    assert (report.delivered, report.retried, report.dead) == (0, 30, 0)
    assert len(report.errors) == 30
    assert {item.attempts for item in outbox_items(store)} == {1}
    later = deliver_due(store, channels, now=NOW + timedelta(seconds=2), limit=10_000,
                        senders=senders)
    assert (later.retried, later.dead) == (30, 0)  # the next run tries them again
    assert {item.attempts for item in outbox_items(store)} == {2}
