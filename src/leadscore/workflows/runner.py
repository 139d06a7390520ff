"""Running an enrollment's steps. The runner decides; an `Effects` object acts (inside the
caller's transaction), so every step and its effect are kept together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from leadscore.evaluation.matchers import compile_criterion
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.workflows.definition import Step, Workflow, render_template


class Effects(Protocol):
    """What steps can do to a contact and the world. Implemented by the automation package."""

    now: float

    def snapshot(self) -> ContactSnapshot: ...  # fresh: properties, scores, lists
    def top_reasons(self) -> list[dict[str, Any]]: ...  # the rules that gave most points
    def set_property(self, name: str, value: Any, cause: str) -> None: ...
    def set_stage(self, stage: str | None, cause: str) -> bool: ...  # False: not moved
    # a score ledger entry (change-by) that takes the score just below `below`
    def adjust_score(self, score: str, below: float, cause: str,
                     reason: str = "workflow") -> float: ...
    def enqueue(self, key: str, channel: str, payload: dict[str, Any]) -> None: ...
    def create_task(self, key: str, title: str, owner: str | None, due_at: float | None,
                    detail: dict[str, Any]) -> None: ...
    def log(self, position: str, action: str, outcome: str, detail: dict[str, Any]) -> None: ...


@dataclass
class RunResult:
    status: str  # active (waiting on a delay) | done
    position: str  # the next step to run
    resume_at: float | None = None


def run_steps(workflow: Workflow, enrollment_id: int, position: str, effects: Effects,
              *, max_steps: int = 200) -> RunResult:
    """Run from `position` until a delay or the end."""
    for _ in range(max_steps):
        step = _step_at(workflow.steps, position)
        if step is None:
            return RunResult("done", position)
        key = f"{workflow.name}:{enrollment_id}:{position}"
        cause = f"workflow {workflow.name}"
        if step.action == "delay":
            resume_at = effects.now + step.args["seconds"]
            effects.log(position, "delay", "waiting", {"seconds": step.args["seconds"]})
            return RunResult("active", _next(workflow.steps, position), resume_at)
        if step.action == "branch":
            assert step.condition is not None
            snap = effects.snapshot()
            holds = compile_criterion(step.condition).evidence(snap, {}) is not None
            arm = "then" if holds else "else"
            effects.log(position, "branch", arm, {})
            steps = step.then if holds else step.otherwise
            position = f"{position}.{arm}.0" if steps else _next(workflow.steps, position)
            continue
        detail = _act(step, key, cause, effects)
        outcome = "skipped" if detail.pop("skipped", False) else "done"
        effects.log(position, step.action, outcome, detail)
        position = _next(workflow.steps, position)
    raise RuntimeError(f"workflow {workflow.name} ran more than {max_steps} steps at once")


def _act(step: Step, key: str, cause: str, effects: Effects) -> dict[str, Any]:
    args = step.args
    if step.action == "set_property":
        for name, value in args["values"].items():
            effects.set_property(name, value, cause)
        return {"values": {k: str(v) for k, v in args["values"].items()}}
    if step.action == "clear_property":
        effects.set_property(args["property"], None, cause)
        return {"property": args["property"]}
    if step.action == "clear_stage":
        effects.set_stage(None, cause)
        return {}
    if step.action == "set_stage":
        if not effects.set_stage(args["stage"], cause):
            return {"stage": args["stage"], "skipped": True,
                    "why": "would move the stage backward; clear it first"}
        return {"stage": args["stage"]}
    if step.action == "adjust_score":
        delta = effects.adjust_score(args["score"], args["below"], cause,
                                     reason=args.get("reason", "workflow"))
        return {"score": args["score"], "below": args["label"], "points": delta}
    snap = effects.snapshot()
    scores = snap.scores
    top = effects.top_reasons()
    if step.action == "notify":
        payload = {
            "type": "notification",
            "contact_id": snap.contact_id,
            "email": snap.properties.get("email"),
            "owner": snap.properties.get("owner"),
            "message": render_template(args["message"], snap.properties, snap.contact_id,
                                       scores),
            "subject": render_template(args.get("subject") or "", snap.properties,
                                       snap.contact_id, scores) or None,
            "to": args.get("to"),
            "scores": {name: {"value": v, "label": label} for name, (v, label) in
                       scores.items()},
            "top_reasons": top,
            "workflow": cause.removeprefix("workflow "),
        }
        effects.enqueue(key, args["channel"], payload)
        return {"channel": args["channel"], "key": key}
    if step.action == "nurture":
        payload = {"type": "nurture", "contact_id": snap.contact_id,
                   "email": snap.properties.get("email"), "sequence": args["sequence"],
                   "workflow": cause.removeprefix("workflow ")}
        effects.enqueue(key, args["channel"], payload)
        return {"channel": args["channel"], "sequence": args["sequence"], "key": key}
    # create_task
    title = render_template(args["title"], snap.properties, snap.contact_id, scores)
    owner = args.get("owner") or snap.properties.get("owner")
    due = effects.now + args["due_seconds"] if args.get("due_seconds") else None
    detail = {"scores": {n: {"value": v, "label": lb} for n, (v, lb) in scores.items()},
              "top_reasons": top}
    effects.create_task(key, title, owner, due, detail)
    return {"title": title, "owner": owner}


def _split(position: str) -> list[str]:
    return position.split(".")


def _step_at(steps: tuple[Step, ...], position: str) -> Step | None:
    parts = _split(position)
    container = steps
    step: Step | None = None
    while parts:
        index = int(parts.pop(0))
        if index >= len(container):
            return None
        step = container[index]
        if parts:
            arm = parts.pop(0)
            container = step.then if arm == "then" else step.otherwise
    return step


def _next(steps: tuple[Step, ...], position: str) -> str:
    """The position after `position`, leaving branch arms at their end."""
    parts = _split(position)
    while True:
        parts[-1] = str(int(parts[-1]) + 1)
        candidate = ".".join(parts)
        if _step_at(steps, candidate) is not None or len(parts) == 1:
            return candidate
        parts = parts[:-2]  # the arm is finished: continue after its branch step
