"""Reads of what the automation wrote: list memberships, tasks and a contact's timeline.

The command line, the HTTP API and the web app ask these through `leadscore.project`; only
`storage` knows the tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, and_, func, or_, select

from leadscore.storage.automation_schema import list_changes, list_memberships, step_runs, tasks
from leadscore.storage.codec import Codec
from leadscore.storage.duck import transpose
from leadscore.storage.schema import contacts


@dataclass(frozen=True)
class Member:
    contact_id: str
    email: str | None
    joined_at: datetime


@dataclass(frozen=True)
class Task:
    id: int
    contact_id: str
    owner: str | None
    title: str
    due_at: datetime | None
    status: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a contact's timeline: a list join or leave, or a workflow step."""

    at: datetime
    what: str  # "list NAME" | "workflow NAME"
    change: str
    detail: str


@dataclass(frozen=True)
class Page:
    """Some rows, how many there are in all, and where the next page starts (None: this is
    the last page, or the caller did not ask for pages)."""

    items: list[Any]
    total: int
    cursor: str | None = None


def list_member_counts(connection: Connection) -> dict[str, int]:
    m = list_memberships.c
    return {name: int(n) for name, n in connection.execute(
        select(m.list, func.count()).group_by(m.list))}


def list_members(connection: Connection, name: str, limit: int | None,
                 after: tuple[datetime, str] | None = None) -> Page:
    """The newest members of a list first; `after` (joined_at, contact_id) of the last member
    of the previous page starts the next one."""
    m, c = list_memberships.c, contacts.c
    query = (select(m.contact_id, c.email, m.joined_at)
             .select_from(list_memberships.join(contacts, c.contact_id == m.contact_id))
             .where(m.list == name).order_by(m.joined_at.desc(), m.contact_id))
    if after is not None:
        joined, contact_id = after
        query = query.where(or_(m.joined_at < joined,
                                and_(m.joined_at == joined, m.contact_id > contact_id)))
    if limit:
        query = query.limit(int(limit))
    items = [Member(cid, email, joined) for cid, email, joined in connection.execute(query)]
    total = connection.execute(select(func.count()).select_from(list_memberships)
                               .where(m.list == name)).scalar_one()
    return Page(items, int(total))


def task_page(connection: Connection, owner: str | None, limit: int | None,
              after: int | None = None) -> Page:
    """Tasks by id (after the id `after`, when given); `total` counts them all."""
    t = tasks.c
    where = [t.owner == owner] if owner else []
    query = select(t.id, t.contact_id, t.owner, t.title, t.due_at, t.status, t.detail) \
        .where(*where).order_by(t.id)
    if after is not None:
        query = query.where(t.id > after)
    if limit:
        query = query.limit(int(limit))
    items = []
    for tid, cid, task_owner, title, due, status, detail in connection.execute(query):
        if isinstance(detail, str):  # JSON text from SQLite
            detail = json.loads(detail)
        items.append(Task(int(tid), cid, task_owner, title, due, status, dict(detail or {})))
    total = connection.execute(select(func.count()).select_from(tasks).where(*where)
                               ).scalar_one()
    return Page(items, int(total))


def automation_timeline(connection: Connection, contact_id: str) -> list[TimelineEntry]:
    """A contact's list joins and leaves and workflow steps (stage changes are read apart)."""
    found = []
    lc = list_changes.c
    for at, name, change, cause in connection.execute(
            select(lc.at, lc.list, lc.change, lc.cause).where(lc.contact_id == contact_id)):
        found.append(TimelineEntry(at, f"list {name}", change, cause))
    s = step_runs.c
    for at, workflow, position, action, outcome in connection.execute(
            select(s.at, s.workflow, s.position, s.action, s.outcome)
            .where(s.contact_id == contact_id)):
        found.append(TimelineEntry(at, f"workflow {workflow}", f"step {position} {action}",
                                   outcome))
    return found


__all__ = ["Member", "Page", "Task", "TimelineEntry", "automation_timeline", "list_member_counts",
           "list_members", "task_page"]


def driver_rows(connection: Connection, sql: str, params: tuple[Any, ...]
                ) -> list[tuple[Any, ...]]:
    """The rows of `sql` as tuples, fetched by the driver's own cursor: no ORM row objects."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cast("list[tuple[Any, ...]]", cursor.fetchall())
    finally:
        cursor.close()


def driver_table(connection: Connection, sql: str, params: tuple[Any, ...],
                 names: Sequence[str], types: Sequence[Any]) -> Any:
    """The rows of `sql` as an Arrow table (typed even when there are none), fetched by the
    driver's own cursor: no ORM row objects. (Not ADBC's SQLite driver, 3.7x faster here: it
    links a second SQLite into the process, and closing its file drops the locks of ours —
    the store broke in a test.)"""
    import pyarrow as pa

    rows = driver_rows(connection, sql, params)
    columns = transpose(rows, len(names))
    return pa.table({name: pa.array(values, kind)
                     for name, values, kind in zip(names, columns, types, strict=True)})


def due_automation_state(connection: Connection, moment: datetime) -> dict[str, Any]:
    """The stored automation state of the contacts due at `moment`, as Arrow tables for a
    set-wise pass (`automation.bulk`): `members` (contact_id, list), `states` (workflow,
    contact_id, matching, enrollments, checked_us) and `active` (contact_id: an active
    enrollment). Read raw and joined to the schedule in the store: a million trigger states
    read through the ORM's time type took 25 s; times are converted set-wise here."""
    import pyarrow as pa

    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    due = (f"JOIN contact_schedule AS s ON s.contact_id = x.contact_id "
           f"WHERE s.due_at <= {mark}")
    bound = (Codec(connection.dialect.name).time_in(moment),)
    checked = ("x.checked_at" if sqlite
               else "CAST(round(EXTRACT(EPOCH FROM x.checked_at) * 1000000) AS BIGINT)")

    def table(sql: str, names: tuple[str, ...], types: tuple[Any, ...]) -> Any:
        return driver_table(connection, sql, bound, names, types)

    members = table(f"SELECT x.contact_id, x.list FROM list_memberships AS x {due}",
                    ("contact_id", "list"), (pa.string(), pa.string()))
    states = table(f"SELECT x.workflow, x.contact_id, CAST(x.matching AS INTEGER), "
                   f"x.enrollments, {checked} FROM trigger_states AS x {due}",
                   ("workflow", "contact_id", "matching", "enrollments", "checked"),
                   (pa.string(), pa.string(), pa.int64(), pa.int64(),
                    pa.string() if sqlite else pa.int64()))
    states = states.set_column(2, "matching", states["matching"].cast(pa.bool_()))
    if sqlite:  # the text SQLite keeps (UTC, 'YYYY-MM-DD HH:MM:SS.ffffff') → µs
        import duckdb

        duck = duckdb.connect()
        try:
            duck.register("s", states)
            states = duck.sql("SELECT workflow, contact_id, matching, enrollments, "
                              "epoch_us(CAST(checked AS TIMESTAMP)) AS checked_us FROM s"
                              ).to_arrow_table()
        finally:
            duck.close()
    else:
        states = states.rename_columns(["workflow", "contact_id", "matching", "enrollments",
                                        "checked_us"])
    active = table(f"SELECT DISTINCT x.contact_id FROM enrollments AS x {due} "
                   "AND x.status = 'active'", ("contact_id",), (pa.string(),))
    return {"members": members, "states": states, "active": active}
