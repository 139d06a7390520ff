"""Delivering the outbox: claim due rows, send them outside any transaction, record the result.

Each round claims a few due rows (pending, `next_attempt_at` ≤ now, oldest first) in a short
transaction that adds one to `attempts` and pushes `next_attempt_at` out by the lease — on
PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite under `BEGIN IMMEDIATE` — so two
dispatchers never send the same row at the same time. The row is then sent with no
transaction open, and marked delivered, scheduled for another attempt (exponential backoff
with jitter) or given up on (dead).

A dispatcher killed between sending and marking leaves the row claimed; once the lease runs
out it is claimed and sent again, with the same idempotency key, so a receiver that honours
the key applies it once. Delivery is at least once; the effect happens once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, update

from leadscore.delivery.channels import Channels, EmailChannel, RetryPolicy, WebhookChannel
from leadscore.delivery.outbox import (
    COLUMNS,
    OutboxItem,
    dead_letters,
    outbox_items,
    pending_count,
    retry,
)
from leadscore.delivery.senders import EmailSender, Outcome, WebhookSender
from leadscore.diagnostics import LeadscoreError
from leadscore.storage import Store
from leadscore.storage.automation_schema import outbox

CLAIM_BATCH = 10  # rows claimed at once: sending them all must fit well inside the lease
MAX_ERROR_CHARS = 2000

log = logging.getLogger("leadscore.delivery")

__all__ = [
    "CLAIM_BATCH",
    "DeliveryError",
    "DeliveryReport",
    "claim_due",
    "dead_letters",
    "deliver_due",
    "mark_dead",
    "mark_delivered",
    "outbox_items",
    "pending_count",
    "retry",
    "schedule_retry",
    "Senders",
    "settle",
]


@dataclass(frozen=True)
class DeliveryError:
    """A failed attempt: the row, what went wrong, and whether it will be tried again
    (`outcome` "retry") or was given up on ("dead")."""

    id: int
    key: str
    kind: str
    channel: str
    attempts: int
    error: str
    outcome: str
    next_attempt_at: datetime | None = None


@dataclass
class DeliveryReport:
    """What one `deliver_due` call did."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[DeliveryError] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.dead

    def __str__(self) -> str:
        return (f"{self.delivered} delivered, {self.retried} to retry, {self.dead} dead")


def deliver_due(store: Store, channels: Channels, *, now: datetime | None = None,
                limit: int = 100, rng: random.Random | None = None,
                senders: Senders | None = None) -> DeliveryReport:
    """Send up to `limit` due rows and record each result.

    `now` (default: the clock) is the moment the run starts: rows due by then are sent, and
    leases and backoff are measured from it. Time runs on from `now` during the run, so a
    row claimed late in a long run still gets a full lease. Pass `now` to step time in
    tests. The signature timestamp is always the real clock, which receivers check.

    A problem with a row — including a channel that is not configured (LS507) or an unset
    secret variable (LS506) — is recorded on the row and in the report, never raised; other
    rows go on.

    A long-running caller (the worker) passes its own `senders`, so that HTTP connections
    and the TLS set-up are kept from one call to the next; otherwise they last one call."""
    report = DeliveryReport()
    jitter = rng or random.Random()
    clock = _clock(now)
    owned = senders is None
    senders = senders or Senders()
    try:
        remaining = limit
        due_by = clock()  # rows due when the run starts: one put back in line during the run
        while remaining > 0:  # waits for the next run, so each row is tried (and counted) once
            claimed = claim_due(store, now=clock(), limit=min(CLAIM_BATCH, remaining),
                                lease=channels.retry.lease, due_by=due_by)
            if not claimed:
                break
            remaining -= len(claimed)
            sent = [(item, senders.send(item, channels), clock()) for item in claimed]
            settle(store, sent, channels.retry, jitter, report)
    finally:
        if owned:
            senders.close()
    if report.attempted:
        log.info("outbox: %s", report)
    return report


def claim_due(store: Store, *, now: datetime, limit: int,
              lease: timedelta = timedelta(seconds=60),
              due_by: datetime | None = None) -> list[OutboxItem]:
    """Claim up to `limit` rows due by `due_by` (default `now`), oldest first, for one
    dispatcher: each gets one more attempt and is hidden from other dispatchers until
    `now + lease`. Returns the rows as claimed (attempts already counted)."""
    if limit <= 0:
        return []
    o = outbox.c
    due = (select(o.id)
           .where(o.status == "pending", o.next_attempt_at <= (due_by or now))
           .order_by(o.next_attempt_at, o.id)
           .limit(limit))
    with _transaction(store) as connection:
        if store.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(connection.execute(due).scalars())
        if not ids:
            return []
        claim = (update(outbox).where(o.id.in_(ids))
                 .values(attempts=o.attempts + 1, next_attempt_at=now + lease)
                 .returning(*COLUMNS))
        rows = {row.id: OutboxItem(*row) for row in connection.execute(claim)}
    return [rows[row_id] for row_id in ids if row_id in rows]


def mark_delivered(store: Store, item: OutboxItem, *, now: datetime,
                   note: str | None = None) -> bool:
    """Record that a claimed row was delivered (whoever holds it now: it was sent)."""
    with _transaction(store) as connection:
        return _mark_delivered(connection, item, now=now, note=note)


def schedule_retry(store: Store, item: OutboxItem, *, at: datetime, error: str) -> bool:
    """Put a claimed row back in line for `at`, unless another dispatcher has claimed it
    since (its lease ran out while this one was sending)."""
    with _transaction(store) as connection:
        return _schedule_retry(connection, item, at=at, error=error)


def mark_dead(store: Store, item: OutboxItem, *, error: str) -> bool:
    """Give up on a claimed row (unless another dispatcher has claimed it since)."""
    with _transaction(store) as connection:
        return _mark_dead(connection, item, error=error)


def settle(store: Store, sent: list[tuple[OutboxItem, Outcome, datetime]], policy: RetryPolicy,
           jitter: random.Random, report: DeliveryReport) -> None:
    """Record what became of the rows of one claim (each with the moment it was sent), in one
    short transaction: delivered, put back in line with backoff, or dead."""
    with _transaction(store) as connection:
        for item, outcome, now in sent:
            _settle(connection, item, outcome, policy, now, jitter, report)


def _mark_delivered(connection: Connection, item: OutboxItem, *, now: datetime,
                    note: str | None) -> bool:
    o = outbox.c
    statement = (update(outbox).where(o.id == item.id, o.status == "pending")
                 .values(status="delivered", delivered_at=now, last_error=_clip(note)))
    return bool(connection.execute(statement).rowcount)


def _schedule_retry(connection: Connection, item: OutboxItem, *, at: datetime,
                    error: str) -> bool:
    o = outbox.c
    statement = (update(outbox)
                 .where(o.id == item.id, o.status == "pending", o.attempts == item.attempts)
                 .values(next_attempt_at=at, last_error=_clip(error)))
    return bool(connection.execute(statement).rowcount)


def _mark_dead(connection: Connection, item: OutboxItem, *, error: str) -> bool:
    o = outbox.c
    statement = (update(outbox)
                 .where(o.id == item.id, o.status == "pending", o.attempts == item.attempts)
                 .values(status="dead", last_error=_clip(error)))
    return bool(connection.execute(statement).rowcount)


# -- inside ----------------------------------------------------------------------------------

class Senders:
    """The senders of a dispatcher (one run, or a worker's life), and the lookup of each
    row's channel."""

    def __init__(self) -> None:
        self.webhook = WebhookSender()
        self.email = EmailSender()

    def send(self, item: OutboxItem, channels: Channels) -> Outcome:
        try:
            channel = channels.find(item.kind, item.channel)
            if isinstance(channel, WebhookChannel):
                return self.webhook.send(item, channel, channel.resolve_secret())
            if isinstance(channel, EmailChannel):
                return self.email.send(item, channel, channel.resolve_password())
        except LeadscoreError as error:  # configuration: fixable, so tried again later
            return Outcome.retry(str(error.diagnostics[0]) if error.diagnostics else str(error))
        except ValueError as error:  # a kind that is neither webhook nor email
            return Outcome.permanent(str(error))
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the others
            log.exception("outbox: unexpected error sending row %s", item.id)
            return Outcome.retry(f"unexpected {type(error).__name__}: {error}")
        return Outcome.permanent(f"unknown outbox kind {item.kind!r}")

    def close(self) -> None:
        self.webhook.close()
        self.email.close()


def _settle(connection: Connection, item: OutboxItem, outcome: Outcome, policy: RetryPolicy,
            now: datetime, jitter: random.Random, report: DeliveryReport) -> None:
    if outcome.result == "delivered":
        _mark_delivered(connection, item, now=now, note=outcome.error)
        report.delivered += 1
        return
    error = f"attempt {item.attempts}: {outcome.error or 'failed'}"
    if outcome.result == "retry" and item.attempts < policy.max_attempts:
        wait = policy.backoff(item.attempts, jitter.uniform(0.5, 1.0))
        if outcome.retry_after is not None:
            asked = timedelta(seconds=outcome.retry_after)
            wait = max(wait, min(asked, policy.backoff_max))
        at = now + wait
        _schedule_retry(connection, item, at=at, error=error)
        report.retried += 1
        report.errors.append(_error(item, error, "retry", at))
        log.warning("outbox: row %s (%s) will be tried again at %s: %s", item.id, item.key,
                    at.isoformat(), error)
        return
    if outcome.result == "retry":
        error += f" (gave up after {item.attempts} attempts)"
    _mark_dead(connection, item, error=error)
    report.dead += 1
    report.errors.append(_error(item, error, "dead", None))
    log.error("outbox: row %s (%s) is dead: %s", item.id, item.key, error)


def _error(item: OutboxItem, error: str, outcome: str, at: datetime | None) -> DeliveryError:
    return DeliveryError(id=item.id, key=item.key, kind=item.kind, channel=item.channel,
                         attempts=item.attempts, error=error, outcome=outcome,
                         next_attempt_at=at)


@contextmanager
def _transaction(store: Store) -> Iterator[Connection]:
    """A short write transaction of its own: BEGIN IMMEDIATE on SQLite (the write lock up
    front); on PostgreSQL row locks only, not the store's writer lock, so a dispatcher does
    not wait for a long scoring run to finish."""
    with store.write_turn(), store.engine.connect() as connection:
        if store.dialect == "sqlite":
            connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        with connection.begin():
            yield connection


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """The time of a run: the real clock, or one that starts at `now` and runs on."""
    if now is None:
        return lambda: datetime.now(UTC)
    start = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_ERROR_CHARS:
        return text
    return text[:MAX_ERROR_CHARS] + "…"

