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
from leadscore.catalog.forms import from_micros, to_micros
from leadscore.storage.records import EventInput, WriteCounts
from leadscore.storage.schema import outcomes
from leadscore.storage.store import Store
from leadscore.storage.views import DataView
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
    found: dict[str, Verdict] = {}
    with store.read() as connection, DataView(connection) as view:
        rows = view.query(
            f"SELECT contact_id, v_text, changed_us FROM {view.relation('property_changes')} "
            "AS pc WHERE name = ? AND v_text IS NOT NULL ORDER BY contact_id, changed_us, seq",
            [property_name])
    for contact_id, value, at in rows:
        if contact_id not in found and value not in (None, ""):
            found[contact_id] = Verdict(contact_id, str(value), from_micros(at))
    return found


def count_feedback(store: Store, property_name: str = FEEDBACK_PROPERTY) -> int:
    """How many contacts have had sales feedback."""
    with store.read() as connection, DataView(connection) as view:
        (count,) = view.query(
            f"SELECT count(DISTINCT contact_id) FROM {view.relation('property_changes')} AS pc "
            "WHERE name = ? AND v_text IS NOT NULL", [property_name])[0]
    return int(count)


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
    import pyarrow as pa

    firsts: dict[str, int] = {}
    with store.read() as connection, DataView(connection) as view:
        o = outcomes.c
        for contact_id, *moments in connection.execute(
                select(o.contact_id, o.opportunity_at, o.won_at, o.lost_at)):
            known = [to_micros(to_utc(m)) for m in moments if m is not None]
            if known:
                firsts[contact_id] = known[0]
        if not firsts:
            return {}
        if view.embedded:
            table = view.register(pa.table({"contact_id": list(firsts),
                                             "first_us": list(firsts.values())}))
            rows = view.query(
                f"SELECT pc.name, count(DISTINCT pc.contact_id) FROM "
                f"{view.relation('property_changes')} AS pc JOIN {table} AS f "
                "ON f.contact_id = pc.contact_id WHERE pc.changed_us > f.first_us "
                "GROUP BY pc.name")
        else:
            rows = view.query(
                "SELECT pc.name, count(DISTINCT pc.contact_id) FROM property_changes AS pc "
                "JOIN outcomes AS o ON o.contact_id = pc.contact_id WHERE pc.changed_us > "
                "(extract(epoch FROM coalesce(o.opportunity_at, o.won_at, o.lost_at)) "
                "* 1000000)::bigint GROUP BY pc.name")
    return {name: int(n) for name, n in rows}


def data_end(store: Store) -> datetime | None:
    """The latest moment the store knows of: the newest contact, outcome or event."""
    o = outcomes.c
    moments: list[datetime] = []
    with store.read() as connection:
        for query in (select(func.max(o.opportunity_at)), select(func.max(o.won_at)),
                      select(func.max(o.lost_at))):
            value = connection.execute(query).scalar()
            if value is not None:
                if isinstance(value, str):
                    value = datetime.fromisoformat(value)
                moments.append(to_utc(value))
        created = connection.exec_driver_sql("SELECT max(created_us) FROM contacts").scalar()
        if created is not None:
            moments.append(from_micros(created))
        with DataView(connection) as view:
            (latest,) = view.query(
                f"SELECT max(occurred_us) FROM {view.relation('events')} AS e")[0]
        if latest is not None:
            moments.append(from_micros(latest))
    return max(moments) if moments else None
