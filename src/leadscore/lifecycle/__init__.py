"""Lifecycle stages: their order and the rule that automatic assignment only moves forward.

subscriber < lead < mql < sql < opportunity < customer < evangelist; 'other' stands apart.
Moving a contact backward takes an explicit act (a person, or a workflow that clears the stage
first), never a score.
"""

from leadscore.lifecycle.rules import StageRules
from leadscore.lifecycle.stage import (
    OTHER,
    STAGES,
    forward_move,
    normalize_stage,
    stage_rank,
)

__all__ = ["OTHER", "STAGES", "StageRules", "forward_move", "normalize_stage", "stage_rank"]

