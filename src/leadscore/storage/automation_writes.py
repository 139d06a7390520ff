"""The automation's batch in the store: which contacts are due, their stored automation state
(list memberships, trigger verdicts, active enrollments), and the rows a batch writes at its
end — many per statement. `automation` decides; only this module knows these tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, select

from leadscore.catalog import to_utc
from leadscore.lists.changes import ListChanges
from leadscore.storage.automation_schema import (
    automation_state,
    contact_schedule,
    enrollments,
    list_changes,
    list_memberships,
    outbox,
    step_runs,
    tasks,
    trigger_states,
)
from leadscore.storage.codec import Codec
from leadscore.storage.schedule import chunks

# --- reads ------------------------------------------------------------------------------------

def due_batch(connection: Connection, moment: datetime, limit: int
              ) -> dict[str, tuple[int, datetime]]:
    """Up to `limit` contacts due at `moment` → (schedule version, due at), the earliest due
    first and ties by contact id: a batch is then a narrow range of ids, and the sorted
    segments are read only where it lies (by due time alone, the rest of a bulk import's
    contacts fell all over the range and each batch scanned every file)."""
    cs = contact_schedule.c
    return {cid: (version, at) for cid, version, at in connection.execute(
        select(cs.contact_id, cs.version, cs.due_at).where(cs.due_at <= moment)
        .order_by(cs.due_at, cs.contact_id).limit(limit))}


def schedule_rows(connection: Connection, ids: list[str]) -> dict[str, tuple[int, datetime]]:
    """The schedule rows of these contacts now → (version, due at); a contact no longer
    scheduled is absent."""
    cs = contact_schedule.c
    found: dict[str, tuple[int, datetime]] = {}
    for part in chunks(ids):
        found.update((cid, (version, at)) for cid, version, at in connection.execute(
            select(cs.contact_id, cs.version, cs.due_at).where(cs.contact_id.in_(part))))
    return found


def next_due_at(connection: Connection) -> datetime | None:
    return connection.execute(select(sa.func.min(contact_schedule.c.due_at))).scalar()


def activated_workflows(connection: Connection) -> dict[str, datetime]:
    """workflow name → when it was first seen (activated)."""
    return {name.removeprefix("workflow:"): to_utc(at) for name, at in connection.execute(
        select(automation_state.c.name, automation_state.c.activated_at))
        if name.startswith("workflow:")}


def activate_workflows(connection: Connection, names: list[str], moment: datetime
                       ) -> tuple[list[str], bool]:
    """Record the first sight of these workflows: returns (those new now, whether any
    workflow was known before)."""
    known = set(connection.execute(select(automation_state.c.name)).scalars())
    new = [name for name in names if f"workflow:{name}" not in known]
    for name in new:
        connection.execute(automation_state.insert().values(name=f"workflow:{name}",
                                                            activated_at=moment))
    return new, bool(known)


@dataclass
class StoredState:
    """The automation state of a batch's contacts as stored."""

    members: dict[str, set[str]]  # contact → its lists
    triggers: dict[str, dict[str, tuple[bool, int, datetime]]]  # contact → workflow → verdict
    active: dict[str, dict[str, dict[str, Any]]]  # contact → workflow → active enrollment


def stored_state(connection: Connection, ids: list[str]) -> StoredState:
    members: dict[str, set[str]] = defaultdict(set)
    triggers: dict[str, dict[str, tuple[bool, int, datetime]]] = defaultdict(dict)
    active: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    m, t, e = list_memberships.c, trigger_states.c, enrollments.c
    for part in chunks(ids):
        for name, cid in connection.execute(select(m.list, m.contact_id)
                                            .where(m.contact_id.in_(part))):
            members[cid].add(name)
        for wf, cid, matching, count, checked in connection.execute(
                select(t.workflow, t.contact_id, t.matching, t.enrollments, t.checked_at)
                .where(t.contact_id.in_(part))):
            triggers[cid][wf] = (bool(matching), count, to_utc(checked))
        for row in connection.execute(select(e.id, e.workflow, e.contact_id, e.position,
                                             e.resume_at)
                                      .where(e.contact_id.in_(part), e.status == "active")):
            active[row.contact_id][row.workflow] = {"id": row.id, "position": row.position,
                                                    "resume_at": row.resume_at}
    return StoredState(members, triggers, active)


# --- writes -----------------------------------------------------------------------------------

@dataclass
class AutomationWrites:
    """Rows a batch writes at its end, many per statement."""

    lists: ListChanges = field(default_factory=ListChanges)
    enrollments: list[dict[str, Any]] = field(default_factory=list)  # new, with their ids
    tasks: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    new_triggers: list[dict[str, Any]] = field(default_factory=list)
    changed_triggers: list[dict[str, Any]] = field(default_factory=list)
    enrollment_updates: list[dict[str, Any]] = field(default_factory=list)
    step_runs: list[dict[str, Any]] = field(default_factory=list)

    _free_ids: list[int] = field(default_factory=list)
    _next_id: int | None = None

    def enrollment_id(self, connection: Connection) -> int:
        """An id for a new enrollment, known before the row is written (its steps' keys and
        log need it): from the sequence on PostgreSQL, a block at a time; on SQLite, whose
        one writer is this transaction, counting on from the largest id."""
        if connection.dialect.name == "postgresql":
            if not self._free_ids:
                self._free_ids = list(connection.execute(sa.text(
                    "SELECT nextval(pg_get_serial_sequence('enrollments', 'id')) "
                    "FROM generate_series(1, 32)")).scalars())
            return self._free_ids.pop(0)
        if self._next_id is None:
            self._next_id = connection.execute(
                select(sa.func.coalesce(sa.func.max(enrollments.c.id), 0))).scalar_one() + 1
        self._next_id += 1
        return self._next_id - 1

    def flush(self, connection: Connection) -> int:
        """Write everything; returns how many outbox rows were new."""
        codec = Codec(connection.dialect.name)
        codec.insert_rows(connection, enrollments, self.enrollments)
        codec.insert_rows(connection, tasks, self.tasks, ignore_conflict_on="key")
        codec.insert_rows(connection, list_memberships, self.lists.joins())
        leaves = [{"b_list": name, "b_contact": cid} for name, cid in self.lists.leaves()]
        if leaves:
            connection.execute(list_memberships.delete().where(
                list_memberships.c.list == sa.bindparam("b_list"),
                list_memberships.c.contact_id == sa.bindparam("b_contact")), leaves)
        codec.insert_rows(connection, list_changes, self.lists.log)
        codec.insert_rows(connection, trigger_states, self.new_triggers)
        if self.changed_triggers:
            connection.execute(trigger_states.update().where(
                trigger_states.c.workflow == sa.bindparam("b_workflow"),
                trigger_states.c.contact_id == sa.bindparam("b_contact")),
                self.changed_triggers)
        if self.enrollment_updates:
            connection.execute(enrollments.update().where(
                enrollments.c.id == sa.bindparam("b_id")), self.enrollment_updates)
        codec.insert_rows(connection, step_runs, self.step_runs)
        # rows made by `delivery.outbox_row`; a key already queued is skipped
        return codec.insert_rows(connection, outbox, self.outbox, ignore_conflict_on="key")


__all__ = ["AutomationWrites", "StoredState", "activate_workflows", "activated_workflows",
           "due_batch", "next_due_at", "schedule_rows", "stored_state"]
