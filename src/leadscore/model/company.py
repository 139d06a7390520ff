"""The companies section of a validated model: company scores whose rules test company
properties and aggregates over the company's contacts.

A company rule's criterion is a tree of the criteria language (`criteria.AllOf`, `AnyOf`,
`Not`, and `PropertyCriterion` on a *company* property) with two more leaves:

- `ContactCount`: how many of the company's contacts match a contact criterion (properties
  and contact scores, as of the moment of scoring);
- `ContactAggregate`: the max, min, sum or average of a contact score over the company's
  contacts (the sum and average in exact hundredths; unknown without contacts, except the
  sum, which is 0).

A tiered rule's tiers read the number the leaf gives: the count, the aggregate, or a number
property's value.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadscore.catalog import Catalog
from leadscore.model.criteria import AllOf, AnyOf, CountRange, Criterion, Not, ValueTest, walk
from leadscore.model.model import Score

AGGREGATES = ("max", "min", "sum", "avg")


@dataclass(frozen=True)
class ContactCount:
    """The number of the company's contacts for which `criterion` holds (None: every one)."""

    criterion: Criterion | None
    count: CountRange = CountRange()
    count_written: bool = False


@dataclass(frozen=True)
class ContactAggregate:
    """A contact score aggregated over the company's contacts, tested by `test` (None only
    in a tiered rule)."""

    score: str
    function: str  # one of AGGREGATES
    test: ValueTest | None


@dataclass(frozen=True)
class CompanyModel:
    """The model's `companies:` section."""

    scores: dict[str, Score]  # parts before the sums that use them
    catalog: Catalog  # company properties
    free_mail: tuple[str, ...]  # free-mail domains (`name.*`: every top-level domain)

    @property
    def primary_score(self) -> Score:
        """The score companies are ranked by: the last one (often the total)."""
        return list(self.scores.values())[-1]

    def contact_scores(self) -> list[str]:
        """The contact scores its rules read, in the model's order of first use."""
        found: dict[str, None] = {}
        for criterion in self.leaves():
            if isinstance(criterion, ContactAggregate):
                found[criterion.score] = None
            elif isinstance(criterion, ContactCount) and criterion.criterion is not None:
                from leadscore.model.criteria import ScoreCriterion

                for node in walk(criterion.criterion):
                    if isinstance(node, ScoreCriterion):
                        found[node.score] = None
        return list(found)

    def contact_properties(self) -> list[str]:
        """The contact properties its contact criteria read."""
        from leadscore.model.criteria import PropertyCriterion

        found: dict[str, None] = {}
        for criterion in self.leaves():
            if isinstance(criterion, ContactCount) and criterion.criterion is not None:
                for node in walk(criterion.criterion):
                    if isinstance(node, PropertyCriterion):
                        found[node.property] = None
        return list(found)

    def leaves(self):
        for score in self.scores.values():
            for rule in score.rules:
                yield from company_walk(rule.criterion)


def company_walk(criterion):
    """Every node of a company criterion, parents first (contact criteria not entered)."""
    yield criterion
    if isinstance(criterion, AllOf | AnyOf):
        for child in criterion.children:
            yield from company_walk(child)
    elif isinstance(criterion, Not):
        yield from company_walk(criterion.child)
