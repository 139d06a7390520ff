"""Outcomes in the store: when a contact became an opportunity, was won, or was lost.

One row per contact (table `outcomes`, migration 0002). Outcomes are what backtests judge a
scoring model against; they are written by `leadscore import outcomes` and read in one query.
An opportunity or a win is also stored as an event (`opportunity_created`, `deal_won`), which
moves the contact's lifecycle stage.

Sales feedback is the other label a backtest can use: the `sales_feedback` property's history
(`load_feedback`, each contact's first verdict and when it was given).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import func, select

from leadscore.catalog import to_utc
from leadscore.storage.records import EventInput, WriteCounts
from leadscore.storage.schema import contacts, events, outcomes, property_changes
from leadscore.storage.store import Store
from leadscore.storage.writer import chunked


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """A contact's outcomes; a time is None when that outcome has not happened (yet)."""

    contact_id: str
    opportunity_at: datetime | None = None
    won_at: datetime | None = None
    lost_at: datetime | None = None


def save_outcomes(store: Store, records: Sequence[OutcomeRecord], *, source: str = "import",
                  now: datetime | None = None) -> WriteCounts:
    """Insert or replace the outcomes of the given contacts, in one transaction.

    A record replaces what the store had for its contact (an export is the current truth);
    `unchanged` counts records equal to what was stored.
    """
    moment = to_utc(now or datetime.now(UTC))
    o = outcomes.c
    wanted = {r.contact_id: r for r in records}
    with store.write() as writer:
        connection = writer.connection
        existing: dict[str, OutcomeRecord] = {}
        for part in chunked(sorted(wanted)):
            query = select(o.contact_id, o.opportunity_at, o.won_at, o.lost_at).where(
                o.contact_id.in_(part))
            existing.update({row[0]: OutcomeRecord(*row) for row in connection.execute(query)})
        inserted = updated = unchanged = 0
        changed: list[OutcomeRecord] = []
        for contact_id, record in wanted.items():
            before = existing.get(contact_id)
            if before is None:
                inserted += 1
                changed.append(record)
            elif _same(before, record):
                unchanged += 1
            else:
                updated += 1
                changed.append(record)
        stale = [r.contact_id for r in changed if r.contact_id in existing]
        for part in chunked(stale):
            connection.execute(sa.delete(outcomes).where(o.contact_id.in_(part)))
        rows = [{"contact_id": r.contact_id, "opportunity_at": r.opportunity_at,
                 "won_at": r.won_at, "lost_at": r.lost_at, "source": source,
                 "recorded_at": moment} for r in changed]
        for part in chunked(rows):
            connection.execute(sa.insert(outcomes), list(part))
        writer.add_events(outcome_events(changed), received_at=moment)
    return WriteCounts(inserted=inserted, updated=updated, unchanged=unchanged)


OUTCOME_EVENTS = (("opportunity_at", "opportunity_created"), ("won_at", "deal_won"))


def outcome_events(records: Iterable[OutcomeRecord]) -> list[EventInput]:
    """An imported opportunity or win is also an event of the contact's history, so that
    it moves the lifecycle stage (opportunity, customer) like one sent by the CRM. The event
    id names contact, outcome and time: importing the same file again adds nothing."""
    found: list[EventInput] = []
    for record in records:
        for field, kind in OUTCOME_EVENTS:
            at = getattr(record, field)
            if at is not None:
                at = to_utc(at)
                found.append(EventInput(f"outcome:{record.contact_id}:{kind}:{at.isoformat()}",
                                        record.contact_id, kind, at, {}))
    return found


def _same(a: OutcomeRecord, b: OutcomeRecord) -> bool:
    def key(r: OutcomeRecord) -> tuple:
        return tuple(None if t is None else to_utc(t) for t in (r.opportunity_at, r.won_at,
                                                               r.lost_at))
    return key(a) == key(b)


def load_outcomes(store: Store, contact_ids: Iterable[str] | None = None
                  ) -> dict[str, OutcomeRecord]:
    """Every stored outcome (or those of `contact_ids`), by contact id."""
    o = outcomes.c
    query = select(o.contact_id, o.opportunity_at, o.won_at, o.lost_at)
    found: dict[str, OutcomeRecord] = {}
    with store.read() as connection:
        if contact_ids is None:
            for row in connection.execute(query):
                found[row[0]] = OutcomeRecord(*row)
        else:
            for part in chunked(sorted(set(contact_ids))):
                for row in connection.execute(query.where(o.contact_id.in_(part))):
                    found[row[0]] = OutcomeRecord(*row)
    return found


@dataclass(frozen=True, slots=True)
class Verdict:
    """Sales's first verdict on a lead: true_sql, not_ready or unqualified, and when."""

    contact_id: str
    value: str
    at: datetime


FEEDBACK_PROPERTY = "sales_feedback"


def load_feedback(store: Store, property_name: str = FEEDBACK_PROPERTY) -> dict[str, Verdict]:
    """Each contact's first known sales feedback (the first time the property had a value),
    by contact id. Later verdicts follow what the first one did to the lead (points taken
    away, a stage set), so the first is the one a score could have predicted."""
    pc = property_changes.c
    query = (select(pc.contact_id, pc.value, pc.changed_at)
             .where(pc.name == property_name, pc.value.is_not(None))
             .order_by(pc.contact_id, pc.changed_at, pc.id))
    found: dict[str, Verdict] = {}
    with store.read() as connection:
        for contact_id, value, at in connection.execute(query):
            if contact_id not in found and value not in (None, ""):
                found[contact_id] = Verdict(contact_id, str(value), to_utc(at))
    return found


def count_feedback(store: Store, property_name: str = FEEDBACK_PROPERTY) -> int:
    """How many contacts have had sales feedback."""
    pc = property_changes.c
    query = select(func.count(sa.distinct(pc.contact_id))).where(
        pc.name == property_name, pc.value.is_not(None))
    with store.read() as connection:
        return int(connection.execute(query).scalar_one())


def count_outcomes(store: Store) -> dict[str, int]:
    """How many contacts have an outcome row, an opportunity, a win and a loss."""
    o = outcomes.c
    query = select(func.count(), func.count(o.opportunity_at), func.count(o.won_at),
                   func.count(o.lost_at))
    with store.read() as connection:
        total, opportunities, won, lost = connection.execute(query).one()
    return {"contacts": int(total), "opportunities": int(opportunities), "won": int(won),
            "lost": int(lost)}


def changes_after_outcome(store: Store) -> dict[str, int]:
    """Per property: how many contacts with an outcome had the property change after their
    first outcome (opportunity, won or lost) — inputs that sales fills in afterwards."""
    o, pc = outcomes.c, property_changes.c
    first = func.coalesce(o.opportunity_at, o.won_at, o.lost_at)
    query = (select(pc.name, func.count(sa.distinct(pc.contact_id)))
             .join_from(property_changes, outcomes, pc.contact_id == o.contact_id)
             .where(first.is_not(None), pc.changed_at > first)
             .group_by(pc.name))
    with store.read() as connection:
        return {name: int(n) for name, n in connection.execute(query)}


def data_end(store: Store) -> datetime | None:
    """The latest moment the store knows of: the newest contact, outcome or event."""
    o, c = outcomes.c, contacts.c
    moments: list[datetime] = []
    with store.read() as connection:
        for query in (select(func.max(c.created_at)),
                      select(func.max(o.opportunity_at)), select(func.max(o.won_at)),
                      select(func.max(o.lost_at)), select(func.max(events.c.occurred_at))):
            value = connection.execute(query).scalar()
            if value is not None:
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                moments.append(to_utc(value))
    return max(moments) if moments else None
