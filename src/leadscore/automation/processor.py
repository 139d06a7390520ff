"""Acting on scores as data arrives and as time passes.

`Automation` takes contacts that are due (an event or a property change arrived, a timeframe
ended, a decay step or a workflow delay fell due) in batches, and for each contact, in ONE
transaction per batch: rescore → move the lifecycle stage forward (or by outcomes) → update
list memberships (joins and leaves recorded) → enroll in workflows whose trigger went from
not matching to matching → run enrollments until a delay → write outbox rows and tasks → note
when the contact is next due. A crash anywhere leaves the batch undone and still due; the
outbox then delivers each effect once per idempotency key.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from leadscore.automation.company_context import attach_company_scores, company_scores_read
from leadscore.automation.effects import StepEffects
from leadscore.catalog import to_utc
from leadscore.evaluation import ContactScores, Scorer
from leadscore.evaluation.ledger import LedgerEntry
from leadscore.evaluation.matchers import compile_criterion
from leadscore.evaluation.schedule import next_change_at, time_sensitive
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lifecycle import StageRules
from leadscore.lists import ListSet
from leadscore.model import Model
from leadscore.storage import ContactInput, EventInput, Store, Writer
from leadscore.storage.automation_writes import (
    AutomationWrites,
    activate_workflows,
    activated_workflows,
    due_batch,
    schedule_rows,
    stored_state,
)
from leadscore.storage.changes import current_stage
from leadscore.storage.ledger import add_entries
from leadscore.storage.records import ScoreRecord, StageChange, WriteCounts
from leadscore.storage.schedule import make_due, write_schedule
from leadscore.storage.snapshots import load_snapshots
from leadscore.workflows import RunResult, Workflow, run_steps
from leadscore.workflows.triggers import TriggerState, check_trigger, enrolls, trigger_rows

MAX_PASSES = 4  # a workflow's effects can change scores and lists: settle, within reason
TICK = timedelta(microseconds=1)
BULK_BATCH = 5_000  # contacts per batch after a bulk settle (each batch scans the segments)
REFRESH_EVERY = 20_000  # contacts processed in one run between planner statistics updates
AUTOMATION_TABLES = ("contact_schedule", "trigger_states", "list_memberships", "enrollments",
                     "scores", "score_history", "stage_changes", "property_changes", "contacts",
                     "list_changes", "step_runs", "outbox", "tasks")


@dataclass
class ProcessReport:
    contacts: int = 0
    seconds: float = 0.0
    joins: int = 0
    leaves: int = 0
    enrolled: int = 0
    steps: int = 0
    outbox: int = 0
    stage_moves: int = 0


@dataclass
class WorkingContact:
    """One contact while it is processed: its snapshot and what the batch will write."""

    snap: ContactSnapshot
    members: set[str]
    triggers: dict[str, TriggerState]
    active: dict[str, dict[str, Any]]  # workflow → its active enrollment row
    moment: datetime
    property_writes: list[ContactInput] = field(default_factory=list)
    stage_writes: list[StageChange] = field(default_factory=list)
    ledger_writes: list[LedgerEntry] = field(default_factory=list)  # new score ledger entries
    cleared_from: str | None = None  # the stage before an explicit clear, for the next set
    changed: bool = False
    result: Any = None  # the latest ContactScores
    edits: int = 0  # changes made to the snapshot while processing (properties, stage)
    _scored: dict[bool, tuple[int, Any]] = field(default_factory=dict)  # detail → (edits, …)

    def edited(self, name: str, scorer: Scorer) -> None:
        """The snapshot's property `name` changed: the scores are computed again if they
        read it."""
        if name in scorer.reads:
            self.edits += 1
        self.changed = True

    def score(self, scorer: Scorer, *, detail: bool = False) -> Any:
        """The scores of the snapshot as it is now: computed again only after an edit of a
        property they read (the scores are a function of the snapshot: a workflow step that
        changes nothing they read — a stage the model does not score, an enrollment, a
        notification, a task — costs no rescoring)."""
        found = self._scored.get(detail)
        if found is not None and found[0] == self.edits:
            return found[1]
        result = scorer.score(self.snap, detail=detail)
        self._scored[detail] = (self.edits, result)
        return result

    def tick(self) -> datetime:
        """A distinct moment for each write, so history keeps their order."""
        self.moment += TICK
        return self.moment


class Automation:
    """The model, lists and workflows of a project, acting on a store."""

    def __init__(self, store: Store, model: Model, lists: ListSet | None = None,
                 workflows: Sequence[Workflow] = (), *, channel_kinds: dict[str, str] | None = None
                 ) -> None:
        self.store = store
        self.model = model
        self.lists = lists or ListSet([])
        self.workflows = list(workflows)
        self.channel_kinds = channel_kinds or {}
        self.scorer = Scorer(model)
        self.types = {name: p.type for name, p in model.catalog.properties.items()}
        self.stage_rules = StageRules(model)
        # the company scores the stage rules, lists and workflows read (`company_score:`)
        self.company_reads = company_scores_read(model, self.lists, self.workflows)
        self.trigger_matchers = {
            wf.name: compile_criterion(wf.trigger.criterion or wf.trigger.event)  # type: ignore
            for wf in self.workflows if wf.trigger.criterion or wf.trigger.event}
        self._schedule_matchers = time_sensitive([*self.scorer.matchers(),
                                                  *self.stage_rules.matchers(),
                                                  *self.lists.matchers(),
                                                  *self.trigger_matchers.values()])

    # --- what arrives -----------------------------------------------------------------------

    def ingest_events(self, events: Sequence[EventInput], *, now: datetime | None = None,
                      new_contacts: Sequence[ContactInput] = ()) -> WriteCounts:
        """Store events (a resent event id is a no-op) and make their contacts due at once;
        `new_contacts` are created first, in the same transaction."""
        moment = to_utc(now or datetime.now(UTC))
        # appending events does not wait for a processing batch to finish (PostgreSQL): the
        # batch sees the new due version and leaves the contact due; creating contacts does
        with self.store.write(exclusive=bool(new_contacts)) as writer:
            if new_contacts:
                writer.upsert_contacts(new_contacts, source="api")
            counts = writer.add_events(events, received_at=moment)
            make_due(writer.connection, {e.contact_id for e in events}, moment, "event")
        return counts

    def ingest_event_batches(self, batches: Sequence[tuple[Sequence[EventInput],
                                                          Sequence[ContactInput]]], *,
                             now: datetime | None = None) -> list[set[str]]:
        """Several batches of events (each with the contacts it creates) in ONE transaction,
        as `ingest_events` stores one: what a server does with requests that arrive together
        (one commit for all). Returns, per batch, the ids of its events stored now — an id
        repeated across batches counts for the first. A contact created by several batches
        is created once, dated by the earliest of their first events."""
        moment = to_utc(now or datetime.now(UTC))
        created: dict[str, ContactInput] = {}
        for _, new in batches:
            for contact in new:
                seen = created.get(contact.contact_id)
                if seen is None or contact.changed_at < seen.changed_at:
                    created[contact.contact_id] = contact
        events = [event for batch, _ in batches for event in batch]
        stored: set[str] = set()
        with self.store.write(exclusive=bool(created)) as writer:
            if created:
                writer.upsert_contacts([created[cid] for cid in sorted(created)], source="api")
            writer.add_events(events, received_at=moment, inserted_ids=stored)
            make_due(writer.connection, {e.contact_id for e in events}, moment, "event")
        found: list[set[str]] = []
        for batch, _ in batches:
            mine = {e.event_id for e in batch} & stored
            stored -= mine
            found.append(mine)
        return found

    def update_contacts(self, contacts: Sequence[ContactInput], *, source: str,
                        now: datetime | None = None) -> WriteCounts:
        """Store property changes (e.g. sales feedback) and make the contacts due at once."""
        moment = to_utc(now or datetime.now(UTC))
        with self.store.write() as writer:
            counts = writer.upsert_contacts(contacts, source=source)
            make_due(writer.connection, {c.contact_id for c in contacts}, moment, source)
        return counts

    def set_stage(self, contact_id: str, stage: str | None, *, by: str,
                  now: datetime | None = None) -> None:
        """A person's explicit act: clear the stage, then set it (backward moves allowed)."""
        moment = to_utc(now or datetime.now(UTC))
        with self.store.write() as writer:
            current = current_stage(writer.connection, contact_id)
            if stage is not None and stage == current:
                return  # already there: nothing to clear, set or record
            writer.upsert_contacts([ContactInput(contact_id, moment,
                                                 properties={"lifecycle_stage": None})],
                                   source=f"person {by}")
            if stage is not None:
                writer.record_stage_changes([StageChange(contact_id, stage, current,
                                                         moment + TICK, f"set by {by}")])
            make_due(writer.connection, {contact_id}, moment, "stage set by hand")

    def activate(self, *, now: datetime | None = None) -> int:
        """Record when each workflow was first seen; one that enrolls existing contacts makes
        every contact due. Returns how many workflows were new."""
        moment = to_utc(now or datetime.now(UTC))
        with self.store.write() as writer:
            new, known = activate_workflows(writer.connection,
                                            [wf.name for wf in self.workflows], moment)
            existing = {wf.name for wf in self.workflows if wf.enroll_existing}
            if existing.intersection(new) or (new and not known):
                make_due(writer.connection, None, moment, "workflows activated")
        return len(new)

    # --- processing ---------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        from leadscore.storage.automation_writes import next_due_at

        with self.store.read() as connection:
            return next_due_at(connection)

    def process_due(self, *, now: datetime | None = None, limit: int = 500) -> ProcessReport:
        """Process up to `limit` due contacts in one transaction."""
        started = clock.perf_counter()
        moment = to_utc(now or datetime.now(UTC))
        report = ProcessReport()
        if self.store.dialect == "sqlite" and self.store.location.database is not None:
            if self._process_read_first(moment, limit, report):
                report.seconds = clock.perf_counter() - started
            return report
        with self.store.write() as writer:
            connection = writer.connection
            versions = {cid: version for cid, (version, _) in
                        due_batch(connection, moment, limit).items()}
            if not versions:
                return report
            schedule = self._process(writer, list(versions), moment, report)
            write_schedule(connection, schedule, versions)
        report.seconds = clock.perf_counter() - started
        return report

    def _process_read_first(self, moment: datetime, limit: int, report: ProcessReport
                            ) -> bool:
        """`process_due` on a SQLite file: the batch's contacts are read (the costly part:
        their history from the segments) in a read transaction — SQLite's one write lock
        stays free for arriving events meanwhile — then processed and written in one write
        transaction, as before. What changed in between is read again inside it: a contact
        whose schedule row moved on (an event arrived: its version; another process settled
        it: its due time), or — when any exclusive write (not an append of events) committed
        in between (`exclusive_writes`) — the whole batch. A contact no longer scheduled is
        left out. Returns whether there was anything due."""
        from leadscore.storage.store import exclusive_writes

        with self.store.read() as connection:
            writes_before = exclusive_writes(connection)
            due = due_batch(connection, moment, limit)
            if not due:
                return False
            states: dict[str, WorkingContact] | None = self._load(connection, list(due), moment)
        with self.store.write() as writer:
            connection = writer.connection
            if exclusive_writes(connection) != writes_before:
                states = None  # anything may have changed: read it all again, here
            current = schedule_rows(connection, list(due))
            ids = [cid for cid in due if cid in current]
            if not ids:
                return True
            if states is not None:
                stale = [cid for cid in ids if current[cid] != due[cid]]
                if stale:
                    for cid in stale:
                        states.pop(cid, None)
                    states.update(self._load(connection, stale, moment))
            versions = {cid: current[cid][0] for cid in ids}
            schedule = self._process(writer, ids, moment, report, states)
            write_schedule(connection, schedule, versions)
        return True

    def process_all(self, *, now: datetime | None = None, limit: int = 500,
                    bulk: bool = True) -> ProcessReport:
        """Process until nothing is due at `now`. With `bulk` and many contacts due, those
        whose outcome cannot change beyond their scores are settled set-wise first
        (`automation.bulk`); the rest go contact by contact."""
        total = ProcessReport()
        analyzed = 0
        if bulk:
            from leadscore.automation.bulk import BULK_MIN, due_count, settle_in_bulk

            started = clock.perf_counter()
            moment = to_utc(now or datetime.now(UTC))
            now = moment
            with self.store.read() as connection:
                many = due_count(connection, moment) >= BULK_MIN
            if many and settle_in_bulk(self, moment, total):
                self.store.refresh_statistics(AUTOMATION_TABLES)
                # the rest are many too: bigger batches read the segments fewer times
                limit = max(limit, BULK_BATCH)
            total.seconds += clock.perf_counter() - started
            analyzed = total.contacts
        while True:
            report = self.process_due(now=now, limit=limit)
            if not report.contacts:
                return total
            if total.contacts - analyzed >= REFRESH_EVERY:  # a long first pass grows tables
                self.store.refresh_statistics(AUTOMATION_TABLES)
                analyzed = total.contacts
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(report, name))

    def _process(self, writer: Writer, ids: list[str], moment: datetime,
                 report: ProcessReport, states: dict[str, WorkingContact] | None = None
                 ) -> dict[str, tuple[datetime, str] | None]:
        """Process the batch (read here unless `states` holds it, read as current);
        returns each contact's next due moment (or None)."""
        connection = writer.connection
        if states is None:
            states = self._load(connection, ids, moment)
        writer.note_existing(states)
        writes = AutomationWrites()
        score_rows: list[ScoreRecord] = []
        schedule: dict[str, tuple[datetime, str] | None] = {}
        for contact_id in ids:
            contact = states.get(contact_id)
            if contact is None:  # deleted, or created after `moment`
                schedule[contact_id] = None
                continue
            self._settle(connection, contact, writes, report)
            result = contact.result
            for name, score in result.scores.items():
                score_rows.append(ScoreRecord(contact_id, name, score.value, score.label,
                                              score.scored))
            if result.grade is not None:
                score_rows.append(ScoreRecord(contact_id, "grade", None, result.grade))
            self._save_triggers(contact, writes)
            schedule[contact_id] = self._next_due(contact)
            report.contacts += 1
        report.outbox += writes.flush(connection)
        writer.save_scores(self.model.name, score_rows, computed_at=moment, as_of=moment,
                           only_changed=True, version=self.model.published)
        # contacts are independent, so each kind of write goes in one call for the batch
        property_writes = [w for c in states.values() for w in c.property_writes]
        stage_writes = [w for c in states.values() for w in c.stage_writes]
        if property_writes:
            writer.upsert_contacts(property_writes, source="workflow")
        if stage_writes:
            writer.record_stage_changes(stage_writes)
            report.stage_moves += len(stage_writes)
        ledger_writes = [w for c in states.values() for w in c.ledger_writes]
        if ledger_writes:
            add_entries(connection, ledger_writes)
        return schedule

    def _settle(self, connection: Connection, contact: WorkingContact, writes: AutomationWrites,
                report: ProcessReport) -> None:
        """Score, stage, lists, triggers and steps, again while workflows change the contact."""
        for _ in range(MAX_PASSES):
            contact.changed = False
            snap = contact.snap
            result = contact.result = contact.score(self.scorer)
            snap.set_scores(result)
            self._move_stage(contact, result)
            members = self.lists.evaluate(snap)
            self._record_lists(contact, members, writes, report)
            self._enroll(connection, contact, writes, report)
            self._run_enrollments(connection, contact, writes, report)
            if not contact.changed:
                return
        contact.result = contact.score(self.scorer)

    # stage ----------------------------------------------------------------------------------
    def _move_stage(self, contact: WorkingContact, result: ContactScores) -> None:
        snap = contact.snap
        found = self.stage_rules.move(snap, result, snap.properties.get("lifecycle_stage"))
        if found is not None:
            stage, cause = found
            self.write_stage(contact, stage, snap.properties.get("lifecycle_stage"),
                              f"{cause} (automatic)")

    def write_stage(self, contact: WorkingContact, stage: str, previous: str | None,
                     cause: str) -> None:
        if stage == previous:  # cleared and set back (clear-and-set): the stage is restored,
            contact.property_writes.append(ContactInput(  # but it did not change
                contact.snap.contact_id, contact.tick(), properties={"lifecycle_stage": stage}))
        else:
            contact.stage_writes.append(StageChange(contact.snap.contact_id, stage, previous,
                                                    contact.tick(), cause))
        contact.snap.properties["lifecycle_stage"] = stage
        contact.snap.changes.setdefault("lifecycle_stage", []).append(contact.snap.as_of)
        contact.edited("lifecycle_stage", self.scorer)

    # lists ----------------------------------------------------------------------------------
    def _record_lists(self, contact: WorkingContact, members: set[str],
                      writes: AutomationWrites, report: ProcessReport) -> None:
        if members == contact.members:
            return
        joined, left = writes.lists.record(contact.snap.contact_id, contact.members, members,
                                           contact.tick())
        report.joins += len(joined)
        report.leaves += len(left)
        contact.members = set(members)

    # workflows ------------------------------------------------------------------------------
    def _enroll(self, connection: Connection, contact: WorkingContact,
                writes: AutomationWrites, report: ProcessReport) -> None:
        snap = contact.snap
        now = snap.as_of_datetime()
        for wf in self.workflows:
            state, fire = check_trigger(wf, self.trigger_matchers.get(wf.name), snap,
                                        contact.triggers.get(wf.name),
                                        self._activated.get(wf.name, now), now)
            contact.triggers[wf.name] = state
            if not enrolls(wf, state, fire, wf.name in contact.active):
                continue
            row: dict[str, Any] = {
                "id": writes.enrollment_id(connection), "workflow": wf.name,
                "contact_id": snap.contact_id, "status": "active", "position": "0",
                "resume_at": None, "enrolled_at": contact.tick(), "finished_at": None,
                "cause": f"trigger: {wf.trigger.describe()}"}
            writes.enrollments.append(dict(row))
            contact.active[wf.name] = row
            report.enrolled += 1

    def _run_enrollments(self, connection: Connection, contact: WorkingContact,
                         writes: AutomationWrites, report: ProcessReport) -> None:
        now = contact.snap.as_of
        for name, row in list(contact.active.items()):
            resume = row["resume_at"]
            if resume is not None and to_utc(resume).timestamp() > now:
                continue
            wf = next(w for w in self.workflows if w.name == name)
            effects = StepEffects(self, connection, contact, wf, row["id"], writes, report)
            result: RunResult = run_steps(wf, row["id"], row["position"], effects)
            row["position"] = result.position
            row["resume_at"] = (datetime.fromtimestamp(result.resume_at, tz=UTC)
                                if result.resume_at is not None else None)
            update: dict[str, Any] = {"b_id": row["id"], "position": row["position"],
                                      "resume_at": row["resume_at"], "status": "active",
                                      "finished_at": None}
            if result.status == "done":
                update.update(status="done", finished_at=contact.tick())
                del contact.active[name]
            writes.enrollment_updates.append(update)

    def _save_triggers(self, contact: WorkingContact, writes: AutomationWrites) -> None:
        new, changed = trigger_rows(contact.snap.contact_id, contact.triggers)
        writes.new_triggers += new
        writes.changed_triggers += changed

    # scheduling -----------------------------------------------------------------------------
    def _next_due(self, contact: WorkingContact) -> tuple[datetime, str] | None:
        snap = contact.snap
        moments: list[tuple[float, str]] = []
        changes = next_change_at(snap, self._schedule_matchers, contact.result.decaying)
        if changes is not None:
            moments.append((changes, "a timeframe or decay changes"))
        for row in contact.active.values():
            if row["resume_at"] is not None:
                moments.append((to_utc(row["resume_at"]).timestamp(), "a workflow delay ends"))
        if not moments:
            return None
        moment, reason = min(moments)
        return datetime.fromtimestamp(moment, tz=UTC), reason

    # loading --------------------------------------------------------------------------------
    def _load(self, connection: Connection, ids: list[str], moment: datetime
              ) -> dict[str, WorkingContact]:
        self._activated = activated_workflows(connection)
        stored = stored_state(connection, ids)
        found: dict[str, WorkingContact] = {}
        snaps = list(load_snapshots(connection, moment, catalog=self.model.catalog,
                                    contact_ids=ids))
        attach_company_scores(connection, self.model, snaps, self.company_reads)
        for snap in snaps:
            cid = snap.contact_id
            triggers = {wf: TriggerState(matching, count, checked) for wf, (matching, count,
                        checked) in stored.triggers.get(cid, {}).items()}
            found[cid] = WorkingContact(snap, set(stored.members.get(cid, ())), triggers,
                                        stored.active.get(cid, {}), moment)
        return found
