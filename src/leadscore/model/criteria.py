"""The criteria language as a tree: one language for scoring rules, lists, workflow triggers and
stage rules. Nodes are plain frozen data; `leadscore.evaluation` gives them their Python meaning
and a SQL compiler can give them another, from the same tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class ValueTest:
    """`op` applied to a value. `expected` is normalised (text casefolded, dates parsed)."""

    op: str
    expected: Any
    written: Any = field(compare=False)  # as the user wrote it, for explanations


@dataclass(frozen=True)
class PropertyCriterion:
    property: str
    test: ValueTest | None  # None only in a tiered rule, where the tiers are the test


@dataclass(frozen=True)
class AttributeFilter:
    attribute: str
    test: ValueTest


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
class EventCriterion:
    event_type: str
    filters: tuple[AttributeFilter, ...] = ()
    window: Window = Window()
    count: CountRange = CountRange()
    count_written: bool = False  # whether the file gave a count (a tiered rule may not)


@dataclass(frozen=True)
class ScoreCriterion:
    """A computed score's value (`test`) or threshold label (`labels`); for lists, workflow
    triggers and stage rules, never inside scoring rules."""

    score: str
    test: ValueTest | None = None
    labels: frozenset[str] | None = None  # casefolded


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


Criterion = (PropertyCriterion | EventCriterion | ScoreCriterion | ListCriterion | AllOf | AnyOf
             | Not)


def walk(criterion: Criterion):
    """Every node of the tree, parents first."""
    yield criterion
    if isinstance(criterion, AllOf | AnyOf):
        for child in criterion.children:
            yield from walk(child)
    elif isinstance(criterion, Not):
        yield from walk(criterion.child)
