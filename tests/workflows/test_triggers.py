"""Trigger semantics (`workflows.triggers`): when a workflow's trigger fires and enrolls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadscore.evaluation.matchers import compile_criterion
from leadscore.workflows.triggers import TriggerState, check_trigger, enrolls, trigger_rows
from tests.factories import NOW, contact
from tests.workflows.test_workflows import workflows

KNOWN = workflows("  - {name: w, trigger: {property_known: job_title}, steps: [{delay: 1d}]}\n"
                  "  - {name: all, trigger: {property_known: job_title}, enroll_existing: true,"
                  " reenroll: true, steps: [{delay: 1d}]}\n"
                  "  - {name: e, trigger: {event: {event: meeting_booked}}, steps: [{delay: 1d}]}\n"
                  "  - {name: p, trigger: {property_changed: {property: owner}}, "
                  "steps: [{delay: 1d}]}\n")
BY_NAME = {wf.name: wf for wf in KNOWN}
NOW_DT = NOW


def check(name, snap, state, activated):
    wf = BY_NAME[name]
    matcher = compile_criterion(wf.trigger.criterion or wf.trigger.event) \
        if (wf.trigger.criterion or wf.trigger.event) else None
    return check_trigger(wf, matcher, snap, state, activated, NOW_DT)


def test_a_state_trigger_fires_on_not_matching_to_matching_only():
    snap = contact({"job_title": "CTO"}, created_days_ago=1)
    state, fire = check("w", snap, TriggerState(False, 0, NOW_DT - timedelta(days=1)),
                        NOW_DT - timedelta(days=30))
    assert fire and state.matching and state.dirty
    state.dirty = False
    state, fire = check("w", snap, state, NOW_DT - timedelta(days=30))
    assert not fire and not state.dirty  # still matching: no new transition


@pytest.mark.parametrize(("workflow", "created_days_ago", "fires"), [
    ("w", 10, False),   # existed before the workflow, already matching: no enrollment
    ("w", 1, True),     # created after the activation: its first match counts
    ("all", 10, True),  # enroll_existing: everyone who matches
])
def test_with_no_stored_verdict_contacts_older_than_the_workflow_count_as_matching(
        workflow, created_days_ago, fires):
    snap = contact({"job_title": "CTO"}, created_days_ago=created_days_ago)
    state, fire = check(workflow, snap, None, NOW_DT - timedelta(days=5))
    assert fire is fires
    assert state.new and state.matching


def test_an_occurrence_trigger_fires_on_what_happened_after_the_last_check():
    snap = contact(events=[("meeting_booked", 2, {})], created_days_ago=30)
    checked = NOW_DT - timedelta(days=3)
    assert check("e", snap, TriggerState(False, 0, checked), checked)[1]
    later = NOW_DT - timedelta(days=1)
    assert not check("e", snap, TriggerState(False, 1, later), later)[1]


def test_a_property_change_trigger_sees_the_latest_change():
    snap = contact({"owner": "ann"}, created_days_ago=2)
    assert check("p", snap, None, NOW_DT - timedelta(days=3))[1]
    assert not check("p", snap, None, NOW_DT - timedelta(days=1))[1]


def test_a_firing_trigger_enrolls_once_unless_the_workflow_reenrolls():
    once, again = BY_NAME["w"], BY_NAME["all"]
    state = TriggerState(True, 0, NOW_DT)
    assert enrolls(once, state, True, active=False) and state.enrollments == 1
    assert not enrolls(once, state, True, active=False)  # enrolled before
    assert enrolls(again, state, True, active=False) and state.enrollments == 2
    assert not enrolls(again, state, True, active=True)  # an enrollment is running
    assert not enrolls(again, state, False, active=False)


def test_trigger_rows_are_new_or_changed_and_then_written():
    states = {"w": TriggerState(True, 1, NOW_DT, new=True),
              "e": TriggerState(False, 0, NOW_DT, dirty=True),
              "p": TriggerState(False, 0, NOW_DT)}
    new, changed = trigger_rows("c1", states)
    assert [r["workflow"] for r in new] == ["w"]
    assert [r["b_workflow"] for r in changed] == ["e"]
    assert trigger_rows("c1", states) == ([], [])
