"""Evaluation: the Python meaning of a model. Scores are a pure function of (model, snapshot).

`ContactSnapshot` is a contact as of a moment; `Scorer` compiles a model once and scores
snapshots; `explain_snapshot` gives every rule's verdict, reason and points. This evaluator is
the reference every other engine (SQL, batch) must agree with.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'leadscore.evaluation' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "ContactScores", "ContactSnapshot", "EventRecord", "EventSeries", "Explanation",
    "GroupResult", "PropertyChange", "RuleResult", "ScoreResult", "Scorer", "explain_snapshot",
    "score_contacts",
]
