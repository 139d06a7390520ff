"""Workflow files are checked like the model; the runner walks steps, branches and delays."""

from __future__ import annotations

from typing import Any

import pytest

from leadscore.diagnostics import LeadscoreError
from leadscore.lists import parse_lists
from leadscore.model import load_model
from leadscore.workflows import parse_workflows, render_template, run_steps
from tests.factories import contact
from tests.model.test_load import EXAMPLE

MODEL = load_model(EXAMPLE)
LISTS = parse_lists("version: 1\nlists:\n  - name: sql\n    groups: "
                    "[[{score: total, label: SQL}]]\n", "lists.yaml", MODEL)


def workflows(text: str):
    return parse_workflows("version: 1\nworkflows:\n" + text, "workflows.yaml", MODEL, LISTS,
                           {"sales"})


class Recorder:
    """Effects that remember what the steps did."""

    def __init__(self, snap) -> None:
        self.snap = snap
        self.now = snap.as_of
        self.done: list[tuple[str, Any]] = []

    def snapshot(self):
        return self.snap

    def top_reasons(self):
        return [{"rule": "Requested a demo", "points": 60}]

    def set_property(self, name, value, cause):
        self.done.append(("set", (name, value)))

    def set_stage(self, stage, cause):
        self.done.append(("stage", stage))
        return True

    def adjust_score(self, score, below, cause, reason="workflow"):
        self.done.append(("adjust", (score, below)))
        return -10.0

    def enqueue(self, key, channel, payload):
        self.done.append(("enqueue", (key, channel, payload["message"])))

    def create_task(self, key, title, owner, due_at, detail):
        self.done.append(("task", title))

    def log(self, position, action, outcome, detail):
        self.done.append(("log", (position, action, outcome)))


FLOW = """\
  - name: flow
    trigger: {joins_list: sql}
    steps:
      - set_property: {sales_feedback: true_sql}
      - branch:
          if: {property: job_title, contains: vp}
          then:
            - notify: {channel: sales, message: "VP {contact.email} at {score.total}"}
          else:
            - create_task: {title: "Call {contact.email}"}
      - delay: 2d
      - set_stage: sql
"""


def test_steps_run_until_a_delay_then_resume_after_it():
    [flow] = workflows(FLOW)
    snap = contact({"job_title": "VP Sales", "email": "v@x.com"})
    snap.scores = {"total": (70.0, "SQL")}
    effects = Recorder(snap)
    result = run_steps(flow, 7, "0", effects)
    assert result.status == "active" and result.position == "3"
    assert result.resume_at == pytest.approx(snap.as_of + 2 * 86400)
    assert ("enqueue", ("flow:7:1.then.0", "sales", "VP v@x.com at 70")) in effects.done
    assert not any(kind == "task" for kind, _ in effects.done)
    again = run_steps(flow, 7, result.position, effects)
    assert again.status == "done"
    assert ("stage", "sql") in effects.done


def test_the_else_arm_runs_when_the_condition_fails():
    [flow] = workflows(FLOW)
    snap = contact({"job_title": "Engineer", "email": "e@x.com"})
    effects = Recorder(snap)
    run_steps(flow, 1, "0", effects)
    assert ("task", "Call e@x.com") in effects.done
    assert ("log", ("1", "branch", "else")) in effects.done


def test_templates_fill_only_known_placeholders():
    text = render_template("{contact.email} {score.total} {label.total} {contact.id}",
                           {"email": "a@b.c"}, "c1", {"total": (70.5, "SQL")})
    assert text == "a@b.c 70.5 SQL c1"


@pytest.mark.parametrize("text,code", [
    ("  - {name: w, trigger: {joins_list: sq}, steps: [{clear_stage: true}]}\n", "LS124"),
    ("  - {name: w, trigger: {joins_list: sql, property_known: job_title}, "
     "steps: [{clear_stage: true}]}\n", "LS172"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{set_stage: sqll}]}\n", "LS144"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{notify: {channel: slack, "
     "message: hi}}]}\n", "LS174"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{notify: {channel: sales, "
     "message: '{contact.emial}'}}]}\n", "LS175"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{delay: soon}]}\n", "LS114"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{delay: 1d, clear_stage: true}]}\n",
     "LS173"),
    ("  - {name: w, trigger: {score_crosses: {score: total, label: SQLL}}, "
     "steps: [{clear_stage: true}]}\n", "LS125"),
    ("  - {name: w, trigger: {joins_list: sql}, steps: [{adjust_score: {score: total, "
     "below: XX}}]}\n", "LS125"),
])
def test_workflow_file_mistakes_have_codes_and_places(text, code):
    with pytest.raises(LeadscoreError) as caught:
        workflows(text)
    found = [d for d in caught.value.diagnostics if d.code == code]
    assert found, caught.value.diagnostics
    assert found[0].location.file == "workflows.yaml" and found[0].location.line == 3


def test_the_example_project_files_load():
    from leadscore.lists import load_lists
    from leadscore.workflows import load_workflows

    templates = EXAMPLE.parent
    lists = load_lists(templates / "lists.yaml", MODEL)
    flows = load_workflows(templates / "workflows.yaml", MODEL, lists, {"sales"})
    assert [x.name for x in lists] == ["mql", "sql", "hot-accounts", "engaged-at-hot-companies"]
    assert {w.name for w in flows} >= {"mql-stage", "sql-handoff", "feedback-not-ready",
                                       "feedback-unqualified", "hot-company-alert"}
