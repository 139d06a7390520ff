"""The model file's structure as pydantic classes: checks keys and types, and yields the JSON
Schema that editors use. Meaning (operators, ranges, references) is checked in `compile.py`,
where the error can say what the value should have been in words a user knows.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ValueTest(_Spec):
    """Operators that test one value (a property, or an attribute of an event)."""

    equals: Any = Field(None, description="Equal to this value (text compares case-insensitively)")
    not_equals: Any = Field(None, description="Not equal to this value (true when unknown)")
    any_of: list[Any] | None = Field(None, description="Equal to one of these values")
    none_of: list[Any] | None = Field(None, description="None of these (true when unknown)")
    contains: Any = Field(None, description="Contains this text (or any of a list of texts)")
    not_contains: Any = Field(None, description="Contains none of these texts (true when unknown)")
    starts_with: Any = Field(None, description="Starts with this text (or any of a list)")
    ends_with: Any = Field(None, description="Ends with this text (or any of a list)")
    matches: Any = Field(None, description="Matches a glob pattern such as '*/pricing*'")
    regex: str | None = Field(None, description="Matches a regular expression (ignoring case)")
    greater_than: Any = Field(None, description="Greater than this number or date")
    at_least: Any = Field(None, description="Greater than or equal to this number or date")
    less_than: Any = Field(None, description="Less than this number or date")
    at_most: Any = Field(None, description="Less than or equal to this number or date")
    between: list[Any] | None = Field(None, description="Within [low, high], both included")
    is_known: bool | None = Field(None, description="true: has a value; false: has none")
    is_unknown: bool | None = Field(None, description="true: has no value; false: has one")
    within_last: str | None = Field(None, description="A date within the last N (e.g. 30d)")
    changed_within: str | None = Field(
        None, description="The property changed within the last N (e.g. 14d)"
    )


class CountSpec(_Spec):
    """How many matching events (default: at least 1)."""

    exactly: int | None = Field(None, ge=0)
    between: list[int] | None = Field(None, description="[low, high], both included")
    at_least: int | None = Field(None, ge=0)
    at_most: int | None = Field(None, ge=0)
    include_none: bool = Field(
        False, description="With at_most: also match contacts that have no such event"
    )


class CriterionSpec(ValueTest):
    """One criterion: on a property, on events, or a combination with all / any / not."""

    property: str | None = Field(None, description="The property to test")
    event: str | None = Field(None, description="The event type to count")
    where: dict[str, Any] | None = Field(
        None,
        description="Filters on event attributes; all must hold for the same event. "
        "A value alone means equals; otherwise an operator mapping such as {matches: '*/demo*'}",
    )
    since: Any = Field(None, description="Events at or after this date")
    until: Any = Field(None, description="Events at or before this date")
    count: CountSpec | None = None
    score: str | None = Field(
        None, description="Lists, workflows, stage rules: test a score's value or label")
    company_score: str | None = Field(
        None, description="Lists, workflows, stage rules: test the stored value or label of a "
        "score of the contact's company")
    company_list: str | None = Field(
        None, description="Lists, workflows: the contact's company is in this company list")
    label: Any = Field(None, description="With score or company_score: the threshold "
                       "label(s) it must have")
    in_list: str | None = Field(None, alias="list",
                                description="Lists, workflows: the contact is in this list")
    all: list[CriterionSpec] | None = Field(None, description="Every criterion holds")
    any: list[CriterionSpec] | None = Field(None, description="At least one criterion holds")
    not_: CriterionSpec | None = Field(None, alias="not", description="The criterion does not hold")


class TierSpec(_Spec):
    """One band of a tiered rule: a range of the event count or property value, and its points."""

    exactly: float | None = None
    between: list[float] | None = None
    at_least: float | None = None
    at_most: float | None = None
    include_none: bool = False
    points: float


class DecaySpec(_Spec):
    """How event points fade with the age of the event that earned them."""

    half_life: str | None = Field(None, description="Points halve every N, e.g. 90d")
    every: str | None = Field(None, description="With `lose`: a step every N, e.g. 30d")
    lose: str | float | None = Field(None, description="With `every`: e.g. 50% of the points")
    linear: str | None = Field(None, description="Points fall in a straight line to 0 at N")
    expire_after: str | None = Field(None, description="Points are gone after N, e.g. 365d")


class RuleSpec(_Spec):
    name: str = Field(description="Shown in explanations; unique within its score")
    description: str | None = None
    when: CriterionSpec
    points: float | None = Field(None, description="Points when the criterion holds")
    tiers: list[TierSpec] | None = Field(
        None, description="Non-cumulative bands of the event count or the property value"
    )
    points_from: str | None = Field(
        None, description="Points equal to this number property's value (e.g. adjustments)")
    per_event: bool = Field(False, description="Points for every matching event")
    max_per_day: float | None = Field(
        None, description="With per_event: at most this many points from one UTC day's events")
    max: float | None = Field(None, description="Cap on this rule's points")
    min: float | None = Field(None, description="Floor on this rule's points")
    decay: DecaySpec | Literal[False] | None = Field(
        None, description="Overrides the group's or score's decay; false turns it off"
    )


class GroupSpec(_Spec):
    name: str
    description: str | None = None
    max: float | None = Field(None, description="Cap on the group's total")
    min: float | None = Field(None, description="Floor on the group's total")
    decay: DecaySpec | Literal[False] | None = None
    rules: list[RuleSpec]


class ThresholdSpec(_Spec):
    label: str
    min: float | None = Field(None, description="Lowest score with this label (included)")
    max: float | None = Field(
        None, description="Highest score with this label (included); default: up to the next"
    )
    stage: str | None = Field(None, description="Lifecycle stage a contact reaches with this label")


class LogisticSpec(_Spec):
    intercept: float
    slope: float = Field(description="Per point of score")


class ProbabilitySpec(_Spec):
    """A calibration of the score: its probability of converting (as `leadscore suggest`
    fits it on the training contacts)."""

    description: str | None = None
    within: str | None = Field(None, description="Converting within this long, e.g. 90d")
    points: list[list[float]] | None = Field(
        None, description="[score, probability] pairs, scores rising: straight lines between, "
                          "flat beyond the ends (isotonic regression)")
    logistic: LogisticSpec | None = Field(
        None, description="p = 1 / (1 + exp(-(intercept + slope × score))) (Platt scaling)")


class ScoreSpec(_Spec):
    description: str | None = None
    sum: list[str] | None = Field(None, description="A combined score: the sum of these scores")
    max: float | None = None
    min: float | None = None
    decay: DecaySpec | None = None
    groups: list[GroupSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(default_factory=list)
    thresholds: list[ThresholdSpec] = Field(default_factory=list)
    probability: ProbabilitySpec | None = Field(
        None, description="The score's calibrated probability of converting")


class GradeSpec(_Spec):
    rows: str = Field(description="Score whose threshold labels are the letters (A/B/C)")
    columns: str = Field(description="Score whose threshold labels are the digits (1/2/3)")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Optional names for cells, e.g. A1: hot"
    )


class PropertyDeclSpec(_Spec):
    type: Literal["string", "number", "bool", "date", "enum"]
    description: str | None = None
    values: list[str] | None = Field(None, description="Allowed values of an enum")


class EventTypeDeclSpec(_Spec):
    description: str | None = None
    attributes: dict[str, Literal["string", "number", "bool", "date", "enum"]] = Field(
        default_factory=dict
    )


class LifecycleSpec(_Spec):
    """Rules for automatic lifecycle stage changes."""

    order: list[str] | None = Field(
        None, description="The stages, lowest first (default: subscriber, lead, mql, sql, "
        "opportunity, customer, evangelist); 'other' always stands apart")
    exclude: list[CriterionSpec] = Field(
        default_factory=list,
        description="Contacts matching any of these are never moved automatically")
    qualify: dict[str, CriterionSpec] = Field(
        default_factory=dict,
        description="Qualify by criteria instead of score thresholds: stage → criterion")


class EventExclusionSpec(_Spec):
    """Events that count nowhere in the model (bots, internal traffic): every event of the
    named types (all types when none) whose attributes pass every filter of `where`."""

    name: str = Field(description="Shown by explain beside each event it excludes")
    description: str | None = None
    event: str | list[str] | None = Field(
        None, description="The event type(s) it applies to (default: every type)")
    where: dict[str, Any] = Field(
        description="Attribute filters, all of which must hold: {user_agent: {regex: bot}}")


class ModelSpec(_Spec):
    """A leadscore scoring model (version 1)."""

    version: Literal[1]
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str | None = None
    properties: dict[str, PropertyDeclSpec] = Field(default_factory=dict)
    event_types: dict[str, EventTypeDeclSpec] = Field(default_factory=dict)
    scores: dict[str, ScoreSpec] = Field(min_length=1)
    grade: GradeSpec | None = None
    lifecycle: LifecycleSpec | None = None
    exclude_events: list[EventExclusionSpec] = Field(
        default_factory=list,
        description="Events no rule sees (bots, internal traffic), applied before every rule")
    companies: CompaniesSpec | None = Field(
        None, description="Companies (accounts): their properties and their own scores")


CriterionSpec.model_rebuild()


from leadscore.model.company_spec import CompaniesSpec  # noqa: E402  (it builds on the above)

ModelSpec.model_rebuild()


def model_json_schema() -> dict[str, Any]:
    schema = ModelSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://leadscore.dev/schema/model-v1.json"
    schema["title"] = "leadscore model"
    return schema
