"""What a workflow's steps do to a contact being processed and to the world: the `Effects`
that `workflows.runner` acts through, inside the batch's transaction. Each effect edits the
contact's working copy (so the next scoring sees it) and adds the rows the batch writes at
its end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from leadscore.catalog import to_micros
from leadscore.delivery import email_payload, outbox_row
from leadscore.evaluation.ledger import CHANGE, LedgerEntry, to_cents
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lifecycle import stage_rank
from leadscore.storage import ContactInput
from leadscore.storage.automation_writes import AutomationWrites
from leadscore.workflows import Workflow

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from leadscore.automation.processor import Automation, ProcessReport, WorkingContact

LOCAL_ENTRY_IDS = 2**62  # ids of ledger entries made in a batch, until the store gives theirs


class StepEffects:
    """What a workflow's steps do, inside the batch's transaction."""

    def __init__(self, automation: Automation, connection: Connection, contact: WorkingContact,
                 workflow: Workflow, enrollment_id: int, writes: AutomationWrites,
                 report: ProcessReport) -> None:
        self.automation = automation
        self.connection = connection
        self.writes = writes
        self.contact = contact
        self.workflow = workflow
        self.enrollment_id = enrollment_id
        self.report = report
        self.now = contact.snap.as_of

    def snapshot(self) -> ContactSnapshot:
        snap = self.contact.snap
        result = self.contact.score(self.automation.scorer)
        snap.set_scores(result)
        return snap

    def top_reasons(self) -> list[dict[str, Any]]:
        result = self.contact.score(self.automation.scorer, detail=True)
        top = sorted(((r.rule.name, round(r.final, 2)) for s in result.scores.values()
                      for r in s.all_rules() if r.matched and r.final),
                     key=lambda pair: -abs(pair[1]))[:3]
        return [{"rule": name, "points": points} for name, points in top]

    def set_property(self, name: str, value: Any, cause: str) -> None:
        contact = self.contact
        moment = contact.tick()
        contact.property_writes.append(ContactInput(contact.snap.contact_id, moment,
                                                    properties={name: value}))
        if value is None:
            contact.snap.properties.pop(name, None)
        else:
            contact.snap.properties[name] = value
        contact.snap.changes.setdefault(name, []).append(contact.snap.as_of)
        contact.edited(name, self.automation.scorer)

    def set_stage(self, stage: str | None, cause: str) -> bool:
        contact = self.contact
        current = contact.snap.properties.get("lifecycle_stage")
        if stage is None:
            contact.cleared_from = current
            self.set_property("lifecycle_stage", None, cause)
            return True
        order = self.automation.model.lifecycle.order
        if current is not None and (stage_rank(stage, order) or 0) <= (
                stage_rank(current, order) or 0):
            return False  # backward without clearing first
        previous = current if current is not None else contact.cleared_from
        self.automation.write_stage(contact, stage, previous, cause)
        contact.cleared_from = None
        return True

    def adjust_score(self, score: str, below: float, cause: str,
                     reason: str = "workflow") -> float:
        """One score ledger entry: change the score by what takes it to `below` − 1 (nothing
        when it is below already). The entry is written with the batch; the snapshot's ledger
        holds it meanwhile, so the next scoring of this contact sees it."""
        contact = self.contact
        value = contact.score(self.automation.scorer).scores[score].value
        if value < below:
            return 0.0
        cents = to_cents((below - 1) - value)
        at_us = contact.snap.as_of_us  # effective as of the moment being processed
        entry = LedgerEntry(
            LOCAL_ENTRY_IDS + len(contact.ledger_writes), contact.snap.contact_id, score,
            CHANGE, cents, at_us, None, reason, f"below {below:g}", cause,
            to_micros(contact.tick()))
        contact.ledger_writes.append(entry)
        contact.snap.ledger = (*contact.snap.ledger, entry)
        contact.edits += 1
        contact.changed = True
        return cents / 100

    def enqueue(self, key: str, channel: str, payload: dict[str, Any]) -> None:
        kind = self.automation.channel_kinds.get(channel, "webhook")
        if kind == "email":
            payload = email_payload(payload)
        self.writes.outbox.append(outbox_row(
            key=key, kind=kind, channel=channel, payload=payload,
            contact_id=self.contact.snap.contact_id, workflow=self.workflow.name,
            now=self.contact.snap.as_of_datetime()))

    def create_task(self, key: str, title: str, owner: str | None, due_at: float | None,
                    detail: dict[str, Any]) -> None:
        due = datetime.fromtimestamp(due_at, tz=UTC) if due_at is not None else None
        self.writes.tasks.append({
            "key": key, "contact_id": self.contact.snap.contact_id, "owner": owner,
            "title": title, "detail": detail, "due_at": due, "status": "open",
            "created_at": self.contact.moment})

    def log(self, position: str, action: str, outcome: str, detail: dict[str, Any]) -> None:
        self.report.steps += 1
        self.writes.step_runs.append({
            "enrollment_id": self.enrollment_id, "workflow": self.workflow.name,
            "contact_id": self.contact.snap.contact_id, "position": position, "action": action,
            "outcome": outcome, "detail": detail, "at": self.contact.tick()})
