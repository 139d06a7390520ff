"""The model file's `companies:` section as pydantic classes (structure only; meaning is
checked in `company_compile.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadscore.model.spec import (
    CountSpec,
    CriterionSpec,
    PropertyDeclSpec,
    ThresholdSpec,
    TierSpec,
    ValueTest,
    _Spec,
)


class CompanyCriterionSpec(ValueTest):
    """One criterion on a company: a company property, its contacts, or a combination."""

    property: str | None = Field(None, description="A company property to test")
    contacts: CriterionSpec | Literal["all"] | None = Field(
        None, description="Count the company's contacts that match this contact criterion "
        "(properties and scores; 'all': every contact); with count (default at least 1)")
    count: CountSpec | None = Field(None, description="With contacts: how many must match")
    contact_score: str | None = Field(
        None, description="Aggregate a contact score over the company's contacts")
    aggregate: Literal["max", "min", "sum", "avg"] | None = Field(
        None, description="With contact_score: max, min, sum or avg")
    all: list[CompanyCriterionSpec] | None = Field(None, description="Every criterion holds")
    any: list[CompanyCriterionSpec] | None = Field(None, description="At least one holds")
    not_: CompanyCriterionSpec | None = Field(None, alias="not",
                                              description="The criterion does not hold")


class CompanyRuleSpec(_Spec):
    name: str = Field(description="Shown in explanations; unique within its score")
    description: str | None = None
    when: CompanyCriterionSpec
    points: float | None = Field(None, description="Points when the criterion holds")
    tiers: list[TierSpec] | None = Field(
        None, description="Non-cumulative bands of a number: a number property, the count "
        "of matching contacts, or a contact score's aggregate")
    max: float | None = Field(None, description="Cap on this rule's points")
    min: float | None = Field(None, description="Floor on this rule's points")


class CompanyScoreSpec(_Spec):
    description: str | None = None
    sum: list[str] | None = Field(None, description="A combined score: the sum of these scores")
    max: float | None = None
    min: float | None = None
    rules: list[CompanyRuleSpec] = Field(default_factory=list)
    thresholds: list[ThresholdSpec] = Field(default_factory=list)


class CompaniesSpec(_Spec):
    """Companies (accounts): their properties, how contacts group, and their scores."""

    properties: dict[str, PropertyDeclSpec] = Field(
        default_factory=dict, description="Your own company properties, beyond the standard")
    free_mail_domains: list[str] = Field(
        default_factory=list, description="More free-mail domains whose contacts never group "
        "by domain (`name.*`: every top-level domain)")
    default_free_mail_domains: bool = Field(
        True, description="false: only the domains listed here are free mail")
    scores: dict[str, CompanyScoreSpec] = Field(min_length=1)


CompanyCriterionSpec.model_rebuild()


__all__ = ["CompaniesSpec", "CompanyCriterionSpec", "CompanyRuleSpec", "CompanyScoreSpec"]
