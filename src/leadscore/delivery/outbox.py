"""The outbox: effects waiting to leave leadscore, written in the transaction that caused them.

`enqueue` adds a row inside the caller's transaction, keyed by an idempotency key that names
the effect (say "wf:sql-alert:enrollment:42:step:3"): enqueueing the same key again is a
no-op, so re-running a step after a crash cannot queue its effect twice. The dispatcher
(dispatcher.py) sends rows at least once, always with that key, so a receiver that honours
the key sees each effect take place once.

Row life: pending → delivered, or pending → (retries) → dead; `retry` moves dead rows back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from leadscore.delivery.channels import KINDS
from leadscore.storage import Store
from leadscore.storage.automation_schema import outbox
from leadscore.storage.codec import Codec
from leadscore.storage.writer import Writer, chunked

STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True)
class OutboxItem:
    """One row of the outbox."""

    id: int
    key: str
    kind: str
    channel: str
    contact_id: str | None
    workflow: str | None
    payload: Any
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


COLUMNS = tuple(outbox.c[name] for name in OutboxItem.__dataclass_fields__)


def enqueue(connection: Connection | Writer, *, key: str, kind: str, channel: str,
            payload: Any, contact_id: str | None = None, workflow: str | None = None,
            now: datetime) -> bool:
    """Add a pending row for one effect, inside the caller's transaction (a Connection, or
    the Writer of `store.write()`). Returns False, changing nothing, when `key` is queued
    already (whatever its status). The row is due at `now`.

    Webhook payloads are sent as the JSON body; e-mail payloads are objects with `subject`
    and `text` (and optionally `to`: an address or a list of them)."""
    if isinstance(connection, Writer):
        connection = connection.connection
    row = outbox_row(key=key, kind=kind, channel=channel, payload=payload,
                     contact_id=contact_id, workflow=workflow, now=now)
    return enqueue_rows(connection, [row]) == 1


def outbox_row(*, key: str, kind: str, channel: str, payload: Any,
               contact_id: str | None = None, workflow: str | None = None,
               now: datetime) -> dict[str, Any]:
    """A checked pending row for one effect (see `enqueue`), for callers that write many at
    once (`enqueue_rows`)."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError("an outbox key must be a non-empty string")
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r} (expected one of {KINDS})")
    if not isinstance(channel, str) or not channel:
        raise ValueError("an outbox row needs a channel name")
    if kind == "email":
        _check_email_payload(payload)
    moment = _aware(now)
    return {
        "key": key, "kind": kind, "channel": channel, "contact_id": contact_id,
        "workflow": workflow, "payload": payload, "status": "pending", "attempts": 0,
        "next_attempt_at": moment, "last_error": None, "created_at": moment,
        "delivered_at": None,
    }


def enqueue_rows(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Add rows made by `outbox_row`, in one statement per chunk; a key already queued is
    skipped. Returns how many rows were added."""
    return Codec(connection.dialect.name).insert_rows(connection, outbox, rows,
                                                      ignore_conflict_on="key")


def outbox_items(store: Store, status: str | None = None, contact_id: str | None = None,
                 limit: int | None = 1000, after: int | None = None) -> list[OutboxItem]:
    """Rows of the outbox (all, or of one status and/or contact), oldest first; after the
    row `after` when given (the last id of the previous page)."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown outbox status {status!r} (expected one of {STATUSES})")
    query = select(*COLUMNS).order_by(outbox.c.id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    if contact_id is not None:
        query = query.where(outbox.c.contact_id == contact_id)
    if after is not None:
        query = query.where(outbox.c.id > after)
    if limit is not None:
        query = query.limit(limit)
    with store.read() as connection:
        return [OutboxItem(*row) for row in connection.execute(query)]


def outbox_item(store: Store, key: str) -> OutboxItem | None:
    """The row of one idempotency key, or None."""
    with store.read() as connection:
        row = connection.execute(select(*COLUMNS).where(outbox.c.key == key)).first()
    return OutboxItem(*row) if row is not None else None


def dead_letters(store: Store, limit: int | None = None) -> list[OutboxItem]:
    """Rows given up on (permanent failures, or max_attempts reached), oldest first."""
    return outbox_items(store, status="dead", limit=limit)


def pending_count(store: Store) -> int:
    """How many rows wait to be delivered (due now or later)."""
    query = select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
    with store.read() as connection:
        return int(connection.execute(query).scalar_one())


def status_counts(store: Store) -> dict[str, int]:
    """Rows per status (every status present, zero included)."""
    query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
    with store.read() as connection:
        found = {status: int(count) for status, count in connection.execute(query)}
    return {status: found.get(status, 0) for status in STATUSES}


def retry(store: Store, ids: Iterable[int] | None = None, *,
          now: datetime | None = None) -> int:
    """Move dead rows (all, or those of `ids`) back to pending, due at `now`, with their
    attempts reset; `last_error` is kept until the next attempt. Returns how many moved."""
    moment = _aware(now or datetime.now(UTC))
    values = {"status": "pending", "attempts": 0, "next_attempt_at": moment}
    base = update(outbox).where(outbox.c.status == "dead").values(values)
    moved = 0
    with store.write_turn(), store.engine.connect() as connection:
        if store.dialect == "sqlite":
            connection = connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        with connection.begin():
            if ids is None:
                return int(connection.execute(base).rowcount)
            for part in chunked(sorted(set(ids))):
                moved += int(connection.execute(base.where(outbox.c.id.in_(part))).rowcount)
    return moved


def _check_email_payload(payload: Any) -> None:
    if not isinstance(payload, Mapping):
        raise ValueError("an e-mail payload must be an object with `subject` and `text`")
    for name in ("subject", "text"):
        if not isinstance(payload.get(name), str):
            raise ValueError(f"an e-mail payload needs `{name}` (a string)")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

