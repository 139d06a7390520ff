"""Evaluation: the Python meaning of a model. Scores are a pure function of (model, snapshot).

`ContactSnapshot` is a contact as of a moment; `Scorer` compiles a model once and scores
snapshots; `explain_snapshot` gives every rule's verdict, reason and points. This evaluator is
the reference every other engine (SQL, batch) must agree with.
"""

from typing import TYPE_CHECKING

from leadscore.lazy import lazy_names

# names are imported on first use: a module that needs one part (the arithmetic, snapshots)
# does not load the evaluator and the explanation with it
_WHERE = {
    **dict.fromkeys(("Explanation", "explain_snapshot"), "leadscore.evaluation.explanation"),
    **dict.fromkeys(("ContactScores", "GroupResult", "RuleResult", "Scorer", "ScoreResult",
                     "score_contacts"), "leadscore.evaluation.scoring"),
    **dict.fromkeys(("ContactSnapshot", "EventRecord", "EventSeries", "PropertyChange"),
                    "leadscore.evaluation.snapshot"),
}

if TYPE_CHECKING:
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


__getattr__ = lazy_names(__name__, _WHERE)

__all__ = [
    "ContactScores", "ContactSnapshot", "EventRecord", "EventSeries", "Explanation",
    "GroupResult", "PropertyChange", "RuleResult", "ScoreResult", "Scorer", "explain_snapshot",
    "score_contacts",
]
