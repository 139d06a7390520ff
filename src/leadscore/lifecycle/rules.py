"""The one place that decides automatic stage changes, for `leadscore score` and for the
automation processor alike: outcome events first (opportunity, customer), then — unless an
exclusion holds — qualification by criteria or else by the stage score's thresholds; and
only ever forward in the model's stage order. `target` is the stage a contact qualifies for
and why (what the SQL compiler reproduces as `stage_target` and `stage_reason`); `move` adds
the forward-only check against the contact's current stage."""

from __future__ import annotations

from dataclasses import dataclass

from leadscore.evaluation.matchers import compile_criterion
from leadscore.evaluation.scoring import ContactScores
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lifecycle.stage import forward_move, stage_rank
from leadscore.model import Model
from leadscore.model.criteria import ScoreCriterion, walk

OUTCOME_STAGES = (("deal_won", "customer"), ("opportunity_created", "opportunity"))

# the kinds of cause of a stage target (`StageTarget.reason`)
CRITERIA = "criteria"
THRESHOLD = "threshold"


def outcome_reason(event_type: str) -> str:
    return f"outcome:{event_type}"


@dataclass(frozen=True)
class StageTarget:
    """The stage a contact qualifies for, before the forward-only check: `reason` is the kind
    of cause ('outcome:deal_won', 'outcome:opportunity_created', 'criteria', 'threshold') and
    `cause` says it in words."""

    stage: str
    reason: str
    cause: str


class StageRules:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.order = model.lifecycle.order
        self.excluded = [compile_criterion(x) for x in model.lifecycle.exclude]
        self.qualify = [(stage, compile_criterion(x)) for stage, x in model.lifecycle.qualify]
        self.reads_scores = any(isinstance(node, ScoreCriterion) for root in (
            *model.lifecycle.exclude, *(x for _, x in model.lifecycle.qualify))
            for node in walk(root))

    def matchers(self) -> list:
        """Every compiled exclusion and qualification (for `schedule.next_change_at`)."""
        return [*self.excluded, *(m for _, m in self.qualify)]

    def target(self, snap: ContactSnapshot, result: ContactScores) -> StageTarget | None:
        """The stage the contact qualifies for and why, whatever its current stage."""
        memo: dict = {}
        target: StageTarget | None = None
        if self.reads_scores:  # `{score: fit, label: …}` in an exclusion or a qualification
            snap = snap.with_scores(result.context(), result.unscored())
        if not any(m.evidence(snap, memo) is not None for m in self.excluded):
            if self.qualify:
                stage = next((stage for stage, m in self.qualify
                              if m.evidence(snap, memo) is not None), None)
                if stage is not None:
                    target = StageTarget(stage, CRITERIA, f"met the {stage} criteria")
            elif result.stage is not None and self.model.stage_score is not None:
                score = result.scores[self.model.stage_score.name]
                threshold = score.threshold.describe() if score.threshold else ""
                target = StageTarget(result.stage, THRESHOLD,
                                     f"score {score.name} {score.value:g} reached {score.label} "
                                     f"({threshold}) under model {self.model.name}")
        for event_type, stage in OUTCOME_STAGES:
            rank = stage_rank(stage, self.order)
            target_rank = stage_rank(target.stage if target else None, self.order)
            if snap.events.get(event_type) and rank is not None and rank > (
                    -1 if target_rank is None else target_rank):
                target = StageTarget(stage, outcome_reason(event_type), f"outcome: {event_type}")
                break
        return target

    def why(self, snap: ContactSnapshot, result: ContactScores, stage: str):
        """The reason tree of the criterion that qualifies for `stage` (for `explain`): each
        condition with what it saw — a score's value and label, a property, events."""
        if self.reads_scores:
            snap = snap.with_scores(result.context(), result.unscored())
        matcher = next((m for name, m in self.qualify if name == stage), None)
        return matcher.explain(snap, {}) if matcher is not None else None

    def move(self, snap: ContactSnapshot, result: ContactScores,
             current: str | None) -> tuple[str, str] | None:
        """(new stage, cause) when the contact moves forward automatically, else None."""
        target = self.target(snap, result)
        if target is None:
            return None
        moved = forward_move(current, target.stage, self.order)
        return (moved, target.cause) if moved is not None else None
