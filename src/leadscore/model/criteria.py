"""The criteria language as a tree: one language for scoring rules, lists, workflow triggers and
stage rules. Nodes are plain frozen data; `leadscore.evaluation` gives them their Python meaning
and a SQL compiler can give them another, from the same tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadscore.catalog import PropertyType


@dataclass(frozen=True)
class ValueTest:
    """`op` applied to a value. `expected` is plain data (`operators.read_expected`): texts
    lowered, dates parsed, durations in microseconds, patterns as strings."""

    op: str
    expected: Any
    written: Any = field(compare=False)  # as the user wrote it, for explanations


@dataclass(frozen=True)
class PropertyCriterion:
    """A test of a contact property. A stored value counts only when it fits `kind` (the
    declared type; an enumeration's value must name one of `options`), else it is unknown."""

    property: str
    test: ValueTest | None  # None only in a tiered rule, where the tiers are the test
    kind: PropertyType | None = None  # None: whatever the snapshot holds (no type check)
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributeFilter:
    """A test of an event attribute, compared as `kind`: the declared type, or for an open
    custom event type the one its operator implies. A stored value of another JSON type is
    unknown (`catalog.read_attribute`)."""

    attribute: str
    test: ValueTest
    kind: PropertyType = PropertyType.STRING


@dataclass(frozen=True)
class Window:
    """Which events count by time: the last N before the moment of scoring, and/or dates."""

    within_last: timedelta | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def is_ever(self) -> bool:
        return self.within_last is None and self.since is None and self.until is None


@dataclass(frozen=True)
class CountRange:
    """How many matching events: low..high, both included; high None means no upper bound.
    low 0 means that contacts with no such event match too."""

    low: int = 1
    high: int | None = None

    def holds(self, n: int) -> bool:
        return n >= self.low and (self.high is None or n <= self.high)


@dataclass(frozen=True)
class EventExclusion:
    """One of the model's event exclusions (`exclude_events`: bots, internal traffic): an
    event of one of `types` (any type when empty) is left out when every filter holds for it
    (an unknown attribute answers as its operator does when unknown)."""

    name: str
    types: tuple[str, ...]
    filters: tuple[AttributeFilter, ...]

    def applies_to(self, event_type: str) -> bool:
        return not self.types or event_type in self.types


@dataclass(frozen=True)
class EventCriterion:
    event_type: str
    filters: tuple[AttributeFilter, ...] = ()
    window: Window = Window()
    count: CountRange = CountRange()
    count_written: bool = False  # whether the file gave a count (a tiered rule may not)
    # the model's exclusions for this type: an event any of them holds for never counts
    excluding: tuple[EventExclusion, ...] = ()


@dataclass(frozen=True)
class ScoreCriterion:
    """A computed score's value (`test`) or threshold label (`labels`); for lists, workflow
    triggers and stage rules, never inside scoring rules."""

    score: str
    test: ValueTest | None = None
    labels: frozenset[str] | None = None  # lowered
    # how the labels were written, for explanations: "B or above" for `label: {at_least: B}`
    labels_written: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CompanyScoreCriterion:
    """The stored value (`test`) or label (`labels`) of a company score of the contact's
    company; for lists, workflow triggers and stage rules, never inside scoring rules (a
    company score reads contact scores). A contact without a company, or whose company has no
    stored value of the score, has it unknown: comparisons are false, `is_unknown` true."""

    score: str
    test: ValueTest | None = None
    labels: frozenset[str] | None = None  # lowered
    labels_written: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CompanyListCriterion:
    """The contact's company is a member of the company list `list_name` (`of: companies` in
    the lists file), as stored by the last company run; a contact without a company is in
    none. For contact lists and workflows (company lists live in the lists file)."""

    list_name: str


# Company list memberships travel with the company's stored scores (`snapshot.company_scores`,
# the relation `ls_company_scores`) under this key: `list:NAME` → (1.0, None) when a member.
COMPANY_LIST_PREFIX = "list:"


def company_list_key(name: str) -> str:
    return COMPANY_LIST_PREFIX + name


@dataclass(frozen=True)
class ListCriterion:
    list_name: str


@dataclass(frozen=True)
class AllOf:
    children: tuple[Criterion, ...]


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Criterion, ...]


@dataclass(frozen=True)
class Not:
    child: Criterion


Criterion = (PropertyCriterion | EventCriterion | ScoreCriterion | CompanyScoreCriterion
             | CompanyListCriterion | ListCriterion | AllOf | AnyOf | Not)


def walk(criterion: Criterion):
    """Every node of the tree, parents first."""
    yield criterion
    if isinstance(criterion, AllOf | AnyOf):
        for child in criterion.children:
            yield from walk(child)
    elif isinstance(criterion, Not):
        yield from walk(criterion.child)


def company_scores_read(criteria) -> set[str]:
    """The company scores the criteria read (`company_score:` conditions), and the company
    lists (`company_list:`, as `company_list_key(name)`)."""
    found: set[str] = set()
    for root in criteria:
        for node in walk(root):
            if isinstance(node, CompanyScoreCriterion):
                found.add(node.score)
            elif isinstance(node, CompanyListCriterion):
                found.add(company_list_key(node.list_name))
    return found
