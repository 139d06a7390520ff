"""Evaluation: the Python meaning of a model. Scores are a pure function of (model, snapshot).

`ContactSnapshot` is a contact as of a moment; `Scorer` compiles a model once and scores
snapshots; `explain_snapshot` gives every rule's verdict, reason and points. This evaluator is
the reference every other engine (SQL, batch) must agree with.
"""

from leadscore.evaluation.explanation import Explanation, explain_snapshot
from leadscore.evaluation.scoring import (
    ContactScores,
    GroupResult,
    RuleResult,
    Scorer,
    ScoreResult,
    score_contacts,
)
from leadscore.evaluation.snapshot import (
    ContactSnapshot,
    EventRecord,
    EventSeries,
    PropertyChange,
)

__all__ = [
    "ContactScores", "ContactSnapshot", "EventRecord", "EventSeries", "Explanation",
    "GroupResult", "PropertyChange", "RuleResult", "ScoreResult", "Scorer", "explain_snapshot",
    "score_contacts",
]
