"""When contacts are due: `contact_schedule`, written set-wise.

`make_due` makes contacts due at a moment (keeping an earlier due time): a few ids in one
statement, many through a temporary table and one INSERT … SELECT … ON CONFLICT, or every
contact at once (`everyone`). `write_schedule` writes what a processing pass decided: each
contact's next due moment, or done — but only where the row's version is the one the pass
read, so a contact made due again meanwhile (an event arrived) stays due.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, select

from leadscore.storage.automation_schema import contact_schedule
from leadscore.storage.changes import contacts_changed_since, recorded_marks
from leadscore.storage.codec import Codec
from leadscore.storage.signals import announce_due

if TYPE_CHECKING:
    from leadscore.storage.store import Store

FEW = 500  # at most this many ids go in one statement; more through a temporary table
_IDS = sa.Table("ls_due_ids", sa.MetaData(), sa.Column("contact_id", sa.Text, primary_key=True),
                prefixes=["TEMPORARY"])


def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def make_due(connection: Connection, ids: Iterable[str] | None, moment: datetime,
             reason: str) -> None:
    """Make contacts due at `moment` (or keep an earlier due time); `ids=None`: every
    contact in the store."""
    dialect = connection.dialect.name
    if ids is None:
        source: Any = select(sa.column("contact_id")).select_from(sa.table("contacts"))
    else:
        chosen = sorted(set(ids))
        if not chosen:
            return
        if len(chosen) <= FEW:
            _make_few_due(connection, chosen, moment, reason)
            announce_due(connection)
            return
        _stage_ids(connection, chosen)
        source = select(_IDS.c.contact_id)
    cs = contact_schedule.c
    statement = _schedule_insert(dialect)
    selected = select(source.subquery().c.contact_id,
                      sa.literal(moment, contact_schedule.c.due_at.type).label("due_at"),
                      sa.literal(reason, sa.Text).label("reason")).where(sa.true())
    insert = statement.from_select(["contact_id", "due_at", "reason"], selected)
    insert = insert.on_conflict_do_update(
        index_elements=["contact_id"],
        set_={"due_at": earlier(dialect, cs.due_at, insert.excluded.due_at),
              "reason": insert.excluded.reason, "version": cs.version + 1})
    connection.execute(insert)
    if ids is not None:
        connection.execute(_IDS.delete())
    announce_due(connection)  # a waiting worker wakes at commit


def _make_few_due(connection: Connection, ids: list[str], moment: datetime,
                  reason: str) -> None:
    """`make_due` for a few ids (sorted: row locks in one order), in one statement through
    the driver: on every event group the API writes, building and compiling the SQLAlchemy
    upsert cost more than the rest of the transaction's statements together (0.3 ms)."""
    if connection.dialect.name == "sqlite":
        due = Codec("sqlite").time_in(moment)
        connection.exec_driver_sql(
            f"INSERT INTO contact_schedule (contact_id, due_at, reason) VALUES (?, ?, ?) "
            f"{_MADE_DUE.format(earlier='min')}", [(cid, due, reason) for cid in ids])
        return
    connection.exec_driver_sql(
        "INSERT INTO contact_schedule (contact_id, due_at, reason) "
        f"SELECT unnest(%s::text[]), %s, %s {_MADE_DUE.format(earlier='least')}",
        (ids, moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC), reason))


# a contact already due keeps the earlier moment; its version moves on (see write_schedule)
_MADE_DUE = ("ON CONFLICT (contact_id) DO UPDATE SET "
             "due_at = {earlier}(contact_schedule.due_at, excluded.due_at), "
             "reason = excluded.reason, version = contact_schedule.version + 1")


def _stage_ids(connection: Connection, ids: list[str]) -> None:
    """The ids in the session's temporary table `ls_due_ids` (emptied first)."""
    _IDS.create(connection, checkfirst=True)
    connection.execute(_IDS.delete())
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        try:
            with cursor.copy("COPY ls_due_ids (contact_id) FROM STDIN") as copy:
                for contact_id in ids:
                    copy.write_row((contact_id,))
        finally:
            cursor.close()
        return
    connection.exec_driver_sql("INSERT INTO ls_due_ids (contact_id) VALUES (?)",
                               [(cid,) for cid in ids])


def write_schedule(connection: Connection, schedule: dict[str, tuple[datetime, str] | None],
                   versions: dict[str, int]) -> None:
    """After processing: each contact's next due moment, or none. A contact made due again
    while it was processed (its version moved on: an event arrived) stays due at the earlier
    of the two moments."""
    dialect = connection.dialect.name
    cs = contact_schedule.c
    ids = sorted(schedule)
    if dialect == "postgresql":  # row locks in one order, so that arriving events never
        for part in chunks(ids):  # deadlock with a batch
            connection.execute(select(cs.contact_id).where(cs.contact_id.in_(part))
                               .order_by(cs.contact_id).with_for_update()).all()
    done = [{"b_contact": cid, "b_version": versions[cid]} for cid in ids
            if schedule[cid] is None]
    if done:
        connection.execute(contact_schedule.delete().where(
            cs.contact_id == sa.bindparam("b_contact"), cs.version == sa.bindparam("b_version")),
            done)
    later = [{"contact_id": cid, "due_at": due[0], "reason": due[1], "version": versions[cid]}
             for cid in ids if (due := schedule[cid]) is not None]
    if later:
        statement = _schedule_insert(dialect)
        unchanged = cs.version == statement.excluded.version
        statement = statement.on_conflict_do_update(index_elements=["contact_id"], set_={
            "due_at": sa.case((unchanged, statement.excluded.due_at),
                              else_=earlier(dialect, cs.due_at, statement.excluded.due_at)),
            "reason": sa.case((unchanged, statement.excluded.reason), else_=cs.reason)})
        connection.execute(statement, later)


def write_schedule_rows(connection: Connection, done: Sequence[tuple[str, int]],
                        later: Sequence[tuple[str, str, str, int]]) -> None:
    """`write_schedule` for many contacts of the embedded store, with rows already bound:
    `done` (contact, version) leave the schedule, `later` (contact, due_at as SQLite keeps
    it, reason, version) are due then — unless made due again meanwhile (another version),
    when they stay due at the earlier moment."""
    assert connection.dialect.name == "sqlite"
    if done:
        connection.exec_driver_sql("DELETE FROM contact_schedule WHERE contact_id = ? AND "
                                   "version = ?", list(done))
    if later:
        connection.exec_driver_sql(
            "INSERT INTO contact_schedule (contact_id, due_at, reason, version) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET "
            "due_at = CASE WHEN contact_schedule.version = excluded.version "
            "THEN excluded.due_at ELSE min(contact_schedule.due_at, excluded.due_at) END, "
            "reason = CASE WHEN contact_schedule.version = excluded.version "
            "THEN excluded.reason ELSE contact_schedule.reason END", list(later))


def _schedule_insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(contact_schedule)


def earlier(dialect: str, a: Any, b: Any) -> Any:
    return sa.func.min(a, b) if dialect == "sqlite" else sa.func.least(a, b)


@contextmanager
def mark_changed_due(store: Store, reason: str) -> Iterator[None]:
    """Around an import: afterwards, every contact with new events or property changes, or a
    new revision (an event of theirs replaced), is due, so lists and workflows catch up on the
    next `process`/worker pass."""
    with store.read() as connection:
        before = recorded_marks(connection)
        revision = int(connection.exec_driver_sql(
            "SELECT coalesce(max(rev), 0) FROM contacts").scalar() or 0)
    yield
    moment = datetime.now(UTC)
    with store.write() as writer:
        ids = contacts_changed_since(writer.connection, before)
        mark = "?" if writer.connection.dialect.name == "sqlite" else "%s"
        ids.update(row[0] for row in writer.connection.exec_driver_sql(
            f"SELECT contact_id FROM contacts WHERE rev > {mark}", (revision,)))
        make_due(writer.connection, ids, moment, reason)


__all__ = ["chunks", "earlier", "make_due", "mark_changed_due", "write_schedule",
           "write_schedule_rows"]
