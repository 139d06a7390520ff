"""Enqueueing effects in the caller's transaction, once per idempotency key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from leadscore.delivery import (
    dead_letters,
    enqueue,
    outbox_item,
    outbox_items,
    pending_count,
    retry,
    status_counts,
)
from leadscore.storage.automation_schema import outbox
from tests.delivery.conftest import NOW, add_rows


def test_a_key_is_queued_once(store):
    with store.write() as writer:
        first = enqueue(writer.connection, key="wf:1:step:2", kind="webhook", channel="alerts",
                        payload={"score": 87}, contact_id="c1", workflow="sql-alert", now=NOW)
        again = enqueue(writer, key="wf:1:step:2", kind="webhook", channel="other",
                        payload={"score": 1}, now=NOW + timedelta(hours=1))
    with store.write() as writer:
        later = enqueue(writer, key="wf:1:step:2", kind="email", channel="owners",
                        payload={"subject": "s", "text": "t"}, now=NOW)
    assert (first, again, later) == (True, False, False)
    [item] = outbox_items(store)
    assert (item.key, item.kind, item.channel, item.payload) == (
        "wf:1:step:2", "webhook", "alerts", {"score": 87})
    assert (item.contact_id, item.workflow, item.status, item.attempts) == (
        "c1", "sql-alert", "pending", 0)
    assert item.next_attempt_at == NOW and item.created_at == NOW
    assert item.delivered_at is None and item.last_error is None
    assert outbox_item(store, "wf:1:step:2") == item
    assert outbox_item(store, "nope") is None


def test_a_rolled_back_transaction_queues_nothing(store):
    with pytest.raises(RuntimeError), store.write() as writer:
        enqueue(writer, key="k", kind="webhook", channel="alerts", payload={}, now=NOW)
        raise RuntimeError("the state change failed")
    assert outbox_items(store) == []
    assert pending_count(store) == 0


def test_a_delivered_key_is_not_queued_again(store):
    add_rows(store, 1)
    with store.engine.begin() as connection:
        connection.execute(update(outbox).values(status="delivered"))
    with store.write() as writer:
        assert not enqueue(writer, key="effect:0", kind="webhook", channel="alerts",
                           payload={}, now=NOW)
    assert status_counts(store) == {"pending": 0, "delivered": 1, "dead": 0}


def test_wrong_rows_are_refused(store):
    with store.write() as writer:
        with pytest.raises(ValueError, match="kind"):
            enqueue(writer, key="k", kind="sms", channel="x", payload={}, now=NOW)
        with pytest.raises(ValueError, match="key"):
            enqueue(writer, key=" ", kind="webhook", channel="x", payload={}, now=NOW)
        with pytest.raises(ValueError, match="subject"):
            enqueue(writer, key="k", kind="email", channel="x", payload={"text": "t"}, now=NOW)
    assert outbox_items(store) == []


def test_listing_filtering_and_retrying_dead_rows(store):
    add_rows(store, 4)
    with store.engine.begin() as connection:
        connection.execute(update(outbox).where(outbox.c.key.in_(["effect:1", "effect:3"]))
                           .values(status="dead", attempts=8, last_error="HTTP 404"))
    assert pending_count(store) == 2
    assert [item.key for item in dead_letters(store)] == ["effect:1", "effect:3"]
    assert [item.key for item in outbox_items(store, contact_id="c1")] == ["effect:1"]
    assert [item.key for item in outbox_items(store, status="pending", limit=1)] == ["effect:0"]
    with pytest.raises(ValueError):
        outbox_items(store, status="sent")
    first = dead_letters(store)[0]
    later = NOW + timedelta(days=1)
    assert retry(store, [first.id, 99_999], now=later) == 1
    moved = outbox_item(store, "effect:1")
    assert moved is not None
    assert (moved.status, moved.attempts, moved.next_attempt_at) == ("pending", 0, later)
    assert moved.last_error == "HTTP 404"  # kept until the next attempt
    assert retry(store, now=later) == 1
    assert retry(store, now=later) == 0
    assert status_counts(store) == {"pending": 4, "delivered": 0, "dead": 0}
