"""Trigger semantics: when a workflow enrolls a contact.

A state trigger (a criterion: joins a list, a score crosses a label, a property is known)
enrolls on a transition from not matching to matching, judged against the verdict stored at
the contact's last check. With no verdict stored yet, a contact created before the workflow
was activated counts as already matching — unless the workflow enrolls existing contacts —
so activating a workflow does not enroll everyone who happens to match. An occurrence trigger
(an event, any change of a property) enrolls on each occurrence newer than the last check.

An enrollment starts when the trigger fires, the contact has no active enrollment in the
workflow, and it was never enrolled before or the workflow re-enrolls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.workflows.definition import Workflow


@dataclass
class TriggerState:
    """A workflow's stored verdict for one contact, and whether it must be written."""

    matching: bool
    enrollments: int
    checked_at: datetime
    new: bool = False  # no row stored yet
    dirty: bool = False  # the stored row differs


def check_trigger(workflow: Workflow, matcher: Any, snap: ContactSnapshot,
                  state: TriggerState | None, activated_at: datetime, now: datetime
                  ) -> tuple[TriggerState, bool]:
    """Judge the trigger for the snapshot at `now`: returns the contact's trigger state as it
    now stands (a new one when `state` is None; `state` updated in place otherwise) and
    whether the trigger fires. `matcher` is the compiled criterion (None: a property change)."""
    if workflow.trigger.is_occurrence:
        since = state.checked_at if state else activated_at
        fire = matching = _occurred(workflow, matcher, snap, since.timestamp())
    else:
        matching = matcher.evidence(snap, {}) is not None
        if state is None:
            new_contact = (snap.created_at or 0.0) >= activated_at.timestamp()
            previous = False if (workflow.enroll_existing or new_contact) else matching
        else:
            previous = state.matching
        fire = matching and not previous
    if state is None:
        state = TriggerState(matching, 0, now, new=True)
    if state.matching != matching or workflow.trigger.is_occurrence:
        state.dirty = True
    state.matching, state.checked_at = matching, now
    return state, fire


def enrolls(workflow: Workflow, state: TriggerState, fire: bool, active: bool) -> bool:
    """Whether a firing trigger starts an enrollment (and counts it in `state`)."""
    if not fire or active or (state.enrollments and not workflow.reenroll):
        return False
    state.enrollments += 1
    state.dirty = True
    return True


def trigger_rows(contact_id: str, states: dict[str, TriggerState]
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows to write for a contact's trigger states: (new rows, changed rows keyed by
    `b_workflow`/`b_contact`); the states are marked written."""
    new, changed = [], []
    for name, state in states.items():
        values = {"matching": state.matching, "enrollments": state.enrollments,
                  "checked_at": state.checked_at}
        if state.new:
            new.append({"workflow": name, "contact_id": contact_id, **values})
        elif state.dirty:
            changed.append({"b_workflow": name, "b_contact": contact_id, **values})
        state.new = state.dirty = False
    return new, changed


def _occurred(workflow: Workflow, matcher: Any, snap: ContactSnapshot, since: float) -> bool:
    if workflow.trigger.changed_property is not None:
        times = snap.changes.get(workflow.trigger.changed_property, [])
        return bool(times) and times[-1] > since
    return any(t > since for t in matcher.times(snap, {}))


__all__ = ["TriggerState", "check_trigger", "enrolls", "trigger_rows"]
