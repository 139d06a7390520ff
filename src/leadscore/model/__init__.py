"""The scoring model: a versioned YAML file validated into typed objects.

`load_model(path)` reads a file and reports every mistake at once (code, file:line:col, the
offending text, a hint). The criteria language (`criteria.py`) is a tree shared by rules, lists,
workflow triggers and stage rules; `operators.py` is its table of value operators.
"""

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

__all__ = [
    "AllOf", "AnyOf", "AttributeFilter", "CountRange", "Criterion", "Decay", "EventCriterion",
    "Grade", "Group", "Model", "Not", "PropertyCriterion", "Rule", "Score", "Threshold", "Tier",
    "ValueTest", "Window", "load_model", "model_json_schema", "parse_model",
]
