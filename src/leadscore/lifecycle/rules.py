"""The one place that decides automatic stage changes, for `leadscore score` and for the
automation processor alike: outcome events first (opportunity, customer), then — unless an
exclusion holds — qualification by criteria or else by the stage score's thresholds; and
only ever forward in the model's stage order."""

from __future__ import annotations

from leadscore.evaluation.matchers import compile_criterion
from leadscore.evaluation.scoring import ContactScores
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.lifecycle.stage import forward_move, stage_rank
from leadscore.model import Model

OUTCOME_STAGES = (("deal_won", "customer"), ("opportunity_created", "opportunity"))


class StageRules:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.order = model.lifecycle.order
        self.excluded = [compile_criterion(x) for x in model.lifecycle.exclude]
        self.qualify = [(stage, compile_criterion(x)) for stage, x in model.lifecycle.qualify]

    def move(self, snap: ContactSnapshot, result: ContactScores,
             current: str | None) -> tuple[str, str] | None:
        """(new stage, cause) when the contact moves forward automatically, else None."""
        memo: dict = {}
        target: str | None = None
        cause = ""
        if not any(m.evidence(snap, memo) is not None for m in self.excluded):
            if self.qualify:
                target = next((stage for stage, m in self.qualify
                               if m.evidence(snap, memo) is not None), None)
                cause = f"met the {target} criteria"
            elif result.stage is not None and self.model.stage_score is not None:
                score = result.scores[self.model.stage_score.name]
                target = result.stage
                threshold = score.threshold.describe() if score.threshold else ""
                cause = (f"score {score.name} {score.value:g} reached {score.label} "
                         f"({threshold}) under model {self.model.name}")
        for event_type, stage in OUTCOME_STAGES:
            rank, target_rank = stage_rank(stage, self.order), stage_rank(target, self.order)
            if snap.events.get(event_type) and rank is not None and rank > (
                    -1 if target_rank is None else target_rank):
                target, cause = stage, f"outcome: {event_type}"
                break
        moved = forward_move(current, target, self.order)
        return (moved, cause) if moved is not None else None
