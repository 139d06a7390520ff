"""Exactly-once effects leaving leadscore: webhooks and e-mail, through an outbox.

The workflow engine `enqueue`s a row in the same transaction as the state change that caused
it; `deliver_due` sends due rows at least once, each with its stable idempotency key, so a
receiver that honours the key sees every effect once, even if leadscore is killed at any
instant. See docs/delivery.md.
"""

from leadscore.delivery.channels import (
    Channel,
    Channels,
    EmailChannel,
    RetryPolicy,
    WebhookChannel,
    load_channels,
    parse_seconds,
)
from leadscore.delivery.dispatcher import (
    DeliveryError,
    DeliveryReport,
    Senders,
    claim_due,
    deliver_due,
)
from leadscore.delivery.messages import email_payload
from leadscore.delivery.outbox import (
    OutboxItem,
    dead_letters,
    enqueue,
    enqueue_rows,
    outbox_item,
    outbox_items,
    outbox_row,
    pending_count,
    retry,
    status_counts,
)
from leadscore.delivery.senders import encode_body, webhook_headers
from leadscore.delivery.signing import sign, verify

__all__ = [
    "Channel",
    "Channels",
    "DeliveryError",
    "DeliveryReport",
    "EmailChannel",
    "OutboxItem",
    "RetryPolicy",
    "Senders",
    "WebhookChannel",
    "claim_due",
    "dead_letters",
    "deliver_due",
    "email_payload",
    "encode_body",
    "enqueue",
    "enqueue_rows",
    "load_channels",
    "outbox_item",
    "outbox_row",
    "outbox_items",
    "parse_seconds",
    "pending_count",
    "retry",
    "sign",
    "status_counts",
    "verify",
    "webhook_headers",
]
