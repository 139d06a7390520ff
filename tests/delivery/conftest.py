"""Fixtures of the delivery tests: a webhook receiver, channels pointing at it, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from leadscore.delivery import Channels, enqueue, load_channels
from leadscore.storage import Store
from tests.delivery.receiver import WebhookReceiver

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "whsec-test-0123456789"


def webhook_channels(url: str, *, secret: str = SECRET, timeout: float = 2.0,
                     **policy: Any) -> Channels:
    """Channels with one webhook `alerts` at `url` and the given retry policy."""
    delivery: dict[str, Any] = {"backoff_base": "2s", "backoff_max": "1h", "lease": "60s"}
    delivery.update(policy)
    delivery["webhooks"] = {"alerts": {"url": url, "secret": secret, "timeout": timeout}}
    return load_channels({"delivery": delivery}, source="test.toml")


def add_rows(store: Store, count: int, *, channel: str = "alerts",
             prefix: str = "effect") -> list[str]:
    """Enqueue `count` webhook rows due at NOW; returns their keys."""
    keys = [f"{prefix}:{index}" for index in range(count)]
    with store.write() as writer:
        for index, key in enumerate(keys):
            enqueue(writer.connection, key=key, kind="webhook", channel=channel,
                    payload={"contact_id": f"c{index}", "score": index, "text": "héllo"},
                    contact_id=f"c{index}", workflow="sql-alert", now=NOW)
    return keys


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as running:
        yield running


@pytest.fixture
def channels(receiver: WebhookReceiver) -> Channels:
    return webhook_channels(receiver.url)
