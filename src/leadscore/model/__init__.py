"""The scoring model: a versioned YAML file validated into typed objects.

`load_model(path)` reads a file and reports every mistake at once (code, file:line:col, the
offending text, a hint). The criteria language (`criteria.py`) is a tree shared by rules, lists,
workflow triggers and stage rules; `operators.py` is its table of value operators.
"""

from typing import TYPE_CHECKING

from leadscore.lazy import lazy_names

# names are imported on first use: the compiled tree (`model.py`, `criteria.py`) loads without
# the YAML reader, pydantic and the compiler (a cached model needs only the tree)
_WHERE = {
    **dict.fromkeys(("AllOf", "AnyOf", "AttributeFilter", "CountRange", "Criterion",
                     "EventCriterion", "Not", "PropertyCriterion", "ValueTest", "Window"),
                    "leadscore.model.criteria"),
    **dict.fromkeys(("Decay", "Grade", "Group", "Model", "Rule", "Score", "Threshold", "Tier"),
                    "leadscore.model.model"),
    "load_model": "leadscore.model.compile", "parse_model": "leadscore.model.compile",
    "model_json_schema": "leadscore.model.spec",
}

if TYPE_CHECKING:
    from leadscore.model.compile import load_model, parse_model
    from leadscore.model.criteria import (
        AllOf,
        AnyOf,
        AttributeFilter,
        CountRange,
        Criterion,
        EventCriterion,
        Not,
        PropertyCriterion,
        ValueTest,
        Window,
    )
    from leadscore.model.model import Decay, Grade, Group, Model, Rule, Score, Threshold, Tier
    from leadscore.model.spec import model_json_schema


__getattr__ = lazy_names(__name__, _WHERE)

__all__ = [
    "AllOf", "AnyOf", "AttributeFilter", "CountRange", "Criterion", "Decay", "EventCriterion",
    "Grade", "Group", "Model", "Not", "PropertyCriterion", "Rule", "Score", "Threshold", "Tier",
    "ValueTest", "Window", "load_model", "model_json_schema", "parse_model",
]
