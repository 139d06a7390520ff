"""Delivering the outbox to a real webhook receiver: signatures, retries, dead letters,
timeouts, crashes between sending and marking, and concurrent dispatchers."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from datetime import timedelta

import httpx
import pytest

from leadscore.delivery import (
    claim_due,
    dead_letters,
    deliver_due,
    dispatcher,
    encode_body,
    enqueue,
    load_channels,
    outbox_item,
    outbox_items,
    pending_count,
    retry,
    status_counts,
)
from leadscore.delivery.senders import classify_response
from leadscore.storage import Store
from tests.delivery.conftest import NOW, SECRET, add_rows, webhook_channels
from tests.delivery.receiver import WebhookReceiver

SLACK = timedelta(milliseconds=500)  # a run's clock starts at `now` and runs on


def item_of(store, key="effect:0"):
    found = outbox_item(store, key)
    assert found is not None
    return found


def test_due_rows_are_delivered_signed_and_once(store, receiver, channels):
    add_rows(store, 3)
    report = deliver_due(store, channels, now=NOW)
    assert (report.delivered, report.retried, report.dead, report.errors) == (3, 0, 0, [])
    assert receiver.bad_signatures == 0 and receiver.duplicates == 0
    assert receiver.keys() == ["effect:0", "effect:1", "effect:2"]  # oldest first
    first = receiver.received()[0]
    assert first.signature_ok and first.path == "/hook"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["User-Agent"].startswith("leadscore/")
    assert first.body == encode_body({"contact_id": "c0", "score": 0, "text": "héllo"})
    assert first.json() == {"contact_id": "c0", "score": 0, "text": "héllo"}
    for item in outbox_items(store):
        assert (item.status, item.attempts) == ("delivered", 1)
        assert item.delivered_at is not None
        assert NOW <= item.delivered_at < NOW + timedelta(seconds=1)
    assert deliver_due(store, channels, now=NOW + timedelta(days=1)).attempted == 0
    assert len(receiver.requests) == 3


def test_rows_not_yet_due_wait(store, receiver, channels):
    add_rows(store, 1)
    assert deliver_due(store, channels, now=NOW - timedelta(seconds=1)).attempted == 0
    assert receiver.requests == []


def test_limit_bounds_one_run(store, receiver, channels):
    add_rows(store, 25)
    assert deliver_due(store, channels, now=NOW, limit=12).delivered == 12
    assert pending_count(store) == 13
    assert deliver_due(store, channels, now=NOW).delivered == 13
    assert receiver.unique() == 25 and receiver.duplicates == 0


def test_server_errors_are_retried_with_backoff_then_delivered(store, receiver, channels):
    add_rows(store, 1)
    receiver.fail_next(2, status=500)
    rng = random.Random(7)
    report = deliver_due(store, channels, now=NOW, rng=rng)
    assert (report.delivered, report.retried) == (0, 1)
    [error] = report.errors
    assert error.outcome == "retry" and "HTTP 500" in error.error and error.attempts == 1
    first = item_of(store)
    assert first.status == "pending" and first.attempts == 1
    assert NOW + timedelta(seconds=1) <= first.next_attempt_at <= NOW + timedelta(seconds=2) + SLACK
    assert first.last_error is not None and first.last_error.startswith("attempt 1: HTTP 500")
    assert deliver_due(store, channels, now=NOW + timedelta(milliseconds=900)).attempted == 0

    second_at = first.next_attempt_at
    assert deliver_due(store, channels, now=second_at, rng=rng).retried == 1
    second = item_of(store)
    assert second.attempts == 2
    assert (second_at + timedelta(seconds=2) <= second.next_attempt_at
            <= second_at + timedelta(seconds=4) + SLACK)

    assert deliver_due(store, channels, now=second.next_attempt_at).delivered == 1
    done = item_of(store)
    assert (done.status, done.attempts, done.last_error) == ("delivered", 3, None)
    assert done.delivered_at is not None
    assert timedelta(0) <= done.delivered_at - second.next_attempt_at < timedelta(seconds=1)
    assert len(receiver.requests) == 3 and receiver.unique() == 1 and receiver.duplicates == 0


def test_client_errors_are_permanent(store, receiver, channels):
    statuses = [400, 401, 404, 410, 422]
    add_rows(store, len(statuses) + 1)
    for status in statuses:
        receiver.fail_next(1, status=status)
    report = deliver_due(store, channels, now=NOW)
    assert (report.delivered, report.retried, report.dead) == (1, 0, len(statuses))
    dead = dead_letters(store)
    assert [item.key for item in dead] == [f"effect:{i}" for i in range(len(statuses))]
    for item, status in zip(dead, statuses, strict=True):
        assert item.attempts == 1
        assert item.last_error is not None and f"HTTP {status}" in item.last_error
        assert '{"ok":false}' in item.last_error.replace(" ", "")  # the response is kept
    assert {error.outcome for error in report.errors} == {"dead"}


def test_timeouts_throttling_and_server_errors_are_retried(store, receiver, channels):
    statuses = [408, 429, 500, 502, 503, 504]
    add_rows(store, len(statuses))
    for status in statuses:
        receiver.fail_next(1, status=status)
    report = deliver_due(store, channels, now=NOW)
    assert (report.delivered, report.retried, report.dead) == (0, len(statuses), 0)
    for error, status in zip(report.errors, statuses, strict=True):
        assert f"HTTP {status}" in error.error and error.outcome == "retry"
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=5)).delivered == 6
    assert receiver.unique() == 6 and receiver.duplicates == 0


def test_dead_letters_can_be_retried(store, receiver, channels):
    add_rows(store, 3)
    receiver.fail_next(2, status=404)
    assert deliver_due(store, channels, now=NOW).dead == 2
    assert [item.key for item in dead_letters(store)] == ["effect:0", "effect:1"]
    later = NOW + timedelta(hours=5)
    assert retry(store, [dead_letters(store)[0].id], now=later) == 1
    assert deliver_due(store, channels, now=later).delivered == 1
    assert retry(store, now=later) == 1
    assert deliver_due(store, channels, now=later).delivered == 1
    assert status_counts(store) == {"pending": 0, "delivered": 3, "dead": 0}
    assert receiver.unique() == 3 and receiver.duplicates == 0


def test_max_attempts_then_dead(store, receiver):
    channels = webhook_channels(receiver.url, max_attempts=3)
    add_rows(store, 1)
    receiver.fail_next(10, status=503)
    moment = NOW
    outcomes = []
    for _ in range(3):
        report = deliver_due(store, channels, now=moment)
        outcomes.append((report.retried, report.dead))
        moment = max(moment, item_of(store).next_attempt_at)
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    dead = item_of(store)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert dead.last_error is not None and "gave up after 3 attempts" in dead.last_error
    assert deliver_due(store, channels, now=NOW + timedelta(days=9)).attempted == 0
    assert len(receiver.requests) == 3


def test_backoff_is_capped(store, receiver):
    channels = webhook_channels(receiver.url, max_attempts=20, backoff_base="10s",
                                backoff_max="1m")
    add_rows(store, 1)
    receiver.fail_next(8, status=500)
    moment = NOW
    for attempt in range(1, 9):
        deliver_due(store, channels, now=moment)
        item = item_of(store)
        wait = item.next_attempt_at - moment
        assert timedelta(0) < wait <= min(timedelta(seconds=10 * 2 ** (attempt - 1)),
                                          timedelta(minutes=1)) + SLACK
        moment = item.next_attempt_at
    assert deliver_due(store, channels, now=moment).delivered == 1


def test_a_timeout_is_retried(store, receiver):
    channels = webhook_channels(receiver.url, timeout=0.3)
    add_rows(store, 1)
    receiver.hang_next(1, seconds=3)
    report = deliver_due(store, channels, now=NOW)
    assert report.retried == 1 and "timed out" in report.errors[0].error
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=5)).delivered == 1
    assert receiver.unique() == 1


def test_an_unreachable_receiver_is_retried(store):
    with WebhookReceiver(secret=SECRET) as gone:
        url = gone.url  # a port nothing listens on once it is stopped
    add_rows(store, 1)
    report = deliver_due(store, webhook_channels(url), now=NOW)
    assert report.retried == 1 and "ConnectError" in report.errors[0].error


def test_channel_problems_stay_on_their_rows(store, receiver, monkeypatch):
    monkeypatch.delenv("LEADSCORE_TEST_UNSET_SECRET", raising=False)
    channels = load_channels({"delivery": {"webhooks": {
        "alerts": {"url": receiver.url, "secret": SECRET},
        "env": {"url": receiver.url, "secret_env": "LEADSCORE_TEST_UNSET_SECRET"},
    }}}, source="test.toml")
    add_rows(store, 1)
    add_rows(store, 1, channel="alert", prefix="misspelt")
    add_rows(store, 1, channel="env", prefix="secret")
    report = deliver_due(store, channels, now=NOW)
    assert (report.delivered, report.retried, report.dead) == (1, 2, 0)
    misspelt = item_of(store, "misspelt:0").last_error or ""
    assert "LS507" in misspelt and "did you mean 'alerts'?" in misspelt
    assert "LS506" in (item_of(store, "secret:0").last_error or "")
    monkeypatch.setenv("LEADSCORE_TEST_UNSET_SECRET", SECRET)  # fixed: it goes out
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=5)).delivered == 1
    assert receiver.bad_signatures == 0 and receiver.unique() == 2


def test_responses_are_classified():
    def outcome(status, **headers):
        return classify_response(httpx.Response(status, headers=headers, text="body"))
    assert outcome(204).result == "delivered"
    assert outcome(301, Location="https://new.example").result == "permanent"
    assert "redirected to https://new.example" in (outcome(302, Location="https://new.example")
                                                   .error or "")
    assert outcome(429, **{"Retry-After": "120"}).retry_after == 120
    assert outcome(503, **{"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}).retry_after is None
    assert outcome(409).result == "permanent"


def test_retry_after_is_honoured_up_to_backoff_max(store, receiver, channels, monkeypatch):
    add_rows(store, 1)
    from leadscore.delivery import senders

    monkeypatch.setattr(senders.WebhookSender, "send",
                        lambda self, item, channel, secret: senders.Outcome.retry("429", 600))
    deliver_due(store, channels, now=NOW)
    wait = item_of(store).next_attempt_at - NOW
    assert timedelta(seconds=600) <= wait < timedelta(seconds=601)


# -- crashes -------------------------------------------------------------------------------

class Killed(BaseException):
    """Stands for the process dying: nothing after it runs."""


def test_a_crash_between_send_and_mark_resends_with_the_same_key(store, receiver, channels,
                                                                 monkeypatch):
    add_rows(store, 1)

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(dispatcher, "settle", die)
    with pytest.raises(Killed):
        deliver_due(store, channels, now=NOW)
    monkeypatch.undo()
    assert receiver.unique() == 1
    held = item_of(store)
    assert (held.status, held.attempts) == ("pending", 1)
    # the lease: 60 s from the claim (the run's clock starts at NOW and runs on)
    assert NOW + timedelta(seconds=60) <= held.next_attempt_at < NOW + timedelta(seconds=61)
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=59)).attempted == 0
    assert deliver_due(store, channels, now=NOW + timedelta(seconds=61)).delivered == 1
    assert len(receiver.received()) == 2
    assert receiver.keys() == ["effect:0", "effect:0"]
    assert receiver.unique() == 1 and receiver.duplicates == 1
    assert item_of(store).status == "delivered"
    assert deliver_due(store, channels, now=NOW + timedelta(days=1)).attempted == 0


KILLED_DISPATCHER = """
import json, os, sys
from datetime import datetime
from leadscore.delivery import dispatcher, load_channels
from leadscore.storage import Store

def die(*args, **kwargs):
    os._exit(9)  # killed between sending and marking: no cleanup, no rollback

dispatcher.settle = die
store = Store.open(sys.argv[1])
channels = load_channels(json.loads(sys.argv[2]), source="test")
dispatcher.deliver_due(store, channels, now=datetime.fromisoformat(sys.argv[3]))
"""


def test_a_killed_process_leaves_the_row_to_be_sent_again(store_url, receiver, channels):
    with Store.open(store_url) as store:
        add_rows(store, 3)
    config = {"delivery": {"lease": "60s", "webhooks": {"alerts": {
        "url": receiver.url, "secret": SECRET, "timeout": 2}}}}
    done = subprocess.run([sys.executable, "-c", KILLED_DISPATCHER, store_url,
                           json.dumps(config), NOW.isoformat()],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    assert receiver.keys() == ["effect:0", "effect:1", "effect:2"]  # sent, never marked
    with Store.open(store_url) as store:
        assert status_counts(store) == {"pending": 3, "delivered": 0, "dead": 0}
        # the rows claimed together wait for the lease, then go again with the same keys
        assert deliver_due(store, channels, now=NOW + timedelta(seconds=30)).attempted == 0
        assert deliver_due(store, channels, now=NOW + timedelta(seconds=61)).delivered == 3
    assert receiver.keys() == ["effect:0", "effect:1", "effect:2"] * 2
    assert receiver.unique() == 3 and receiver.duplicates == 3


# -- concurrency ---------------------------------------------------------------------------

def test_a_lost_lease_does_not_let_a_slow_dispatcher_overwrite_the_new_claim(store):
    add_rows(store, 1)
    [slow] = claim_due(store, now=NOW, limit=10)
    [fast] = claim_due(store, now=NOW + timedelta(seconds=61), limit=10)
    assert (slow.attempts, fast.attempts) == (1, 2)
    assert not dispatcher.schedule_retry(store, slow, at=NOW, error="late")
    assert not dispatcher.mark_dead(store, slow, error="late")
    assert item_of(store).next_attempt_at == NOW + timedelta(seconds=121)
    assert dispatcher.mark_delivered(store, slow, now=NOW)  # it was sent: that stands


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_postgres_claims_skip_rows_another_dispatcher_holds(store):
    add_rows(store, 5)
    from sqlalchemy import select

    from leadscore.storage.automation_schema import outbox
    with store.engine.connect() as holder, holder.begin():
        locked = holder.execute(select(outbox.c.id).order_by(outbox.c.id).limit(2)
                                .with_for_update()).scalars().all()
        claimed = claim_due(store, now=NOW, limit=10)  # another connection, not blocked
        assert sorted(item.id for item in claimed) == sorted(
            item.id for item in outbox_items(store) if item.id not in locked)
    assert [item.id for item in claim_due(store, now=NOW, limit=10)] == list(locked)


def test_concurrent_dispatchers_never_send_a_row_twice(store_url, receiver, channels):
    rows, workers = 120, 4
    with Store.open(store_url) as store:
        add_rows(store, rows)
    stores = [Store.open(store_url) for _ in range(workers)]
    start = threading.Barrier(workers)
    reports = []
    failures: list[BaseException] = []

    def work(own: Store) -> None:
        try:
            start.wait()
            reports.append(deliver_due(own, channels, now=NOW, limit=rows))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(own,)) for own in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for own in stores:
        own.close()
    assert failures == []
    assert sum(report.delivered for report in reports) == rows
    assert sum(1 for report in reports if report.delivered) >= 2  # they did share the work
    assert receiver.unique() == rows and receiver.duplicates == 0
    assert len(receiver.requests) == rows
    with Store.open(store_url) as store:
        assert status_counts(store) == {"pending": 0, "delivered": rows, "dead": 0}
        assert {item.attempts for item in outbox_items(store)} == {1}


def test_enqueue_and_deliver_in_one_flow(store, receiver, channels):
    """The workflow engine's use: the effect is queued with the state change that caused it."""
    with store.write() as writer:
        assert enqueue(writer, key="sql-alert:c9:1", kind="webhook", channel="alerts",
                       payload={"contact_id": "c9", "stage": "sql", "score": 91},
                       contact_id="c9", workflow="sql-alert", now=NOW)
    deliver_due(store, channels, now=NOW)
    assert receiver.payloads() == [{"contact_id": "c9", "stage": "sql", "score": 91}]


def test_a_wrong_secret_is_refused_by_the_receiver_and_given_up(store, receiver):
    add_rows(store, 1)
    report = deliver_due(store, webhook_channels(receiver.url, secret="not-the-secret"),
                         now=NOW)
    assert report.dead == 1 and "HTTP 401" in report.errors[0].error
    assert receiver.bad_signatures == 1 and receiver.received() == []
    assert not receiver.wait_for(1, timeout=0.05)
