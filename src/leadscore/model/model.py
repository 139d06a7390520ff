"""The validated scoring model: typed, immutable objects built from a model file."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from leadscore.catalog import Catalog
from leadscore.model.criteria import Criterion, EventExclusion

DAY = 86400.0


def _micros(seconds: float | None) -> int | None:
    """A duration parsed from the file (`timedelta.total_seconds()`, microseconds / 10⁶
    correctly rounded) back in its exact microseconds."""
    return None if seconds is None else round(seconds * 1_000_000.0)


@dataclass(frozen=True)
class Decay:
    """How points fade with the age of the event that earned them (durations in seconds).
    The factor is 1 for a new event and never rises as the event ages. Ages are compared and
    divided in integer microseconds (`factor_us`), the same operations in every engine."""

    half_life: float | None = None
    step_every: float | None = None
    step_lose: float | None = None  # fraction of the original points lost per step
    linear: float | None = None  # age at which the points reach 0
    expire_after: float | None = None

    @cached_property
    def micros(self) -> tuple[int | None, int | None, int | None, int | None]:
        """(half_life, step_every, linear, expire_after) in whole microseconds."""
        return (_micros(self.half_life), _micros(self.step_every), _micros(self.linear),
                _micros(self.expire_after))

    def factor_us(self, age_us: int) -> float:
        """The factor for an age in microseconds (what every engine computes)."""
        if age_us <= 0:
            return 1.0
        half_life, step_every, linear, expire_after = self.micros
        if expire_after is not None and age_us > expire_after:
            return 0.0
        if half_life is not None:
            return math.pow(0.5, age_us / half_life)
        if step_every is not None and self.step_lose is not None:
            return max(0.0, 1.0 - self.step_lose * (age_us // step_every))
        if linear is not None:
            return max(0.0, 1.0 - age_us / linear)
        return 1.0

    def factor(self, age: float) -> float:
        """The factor for an age in seconds."""
        return self.factor_us(round(age * 1_000_000.0))

    def describe(self) -> str:
        parts = []
        if self.half_life is not None:
            parts.append(f"half-life {self.half_life / DAY:g}d")
        if self.step_every is not None and self.step_lose is not None:
            parts.append(f"−{self.step_lose * 100:g}% every {self.step_every / DAY:g}d")
        if self.linear is not None:
            parts.append(f"linear to 0 at {self.linear / DAY:g}d")
        if self.expire_after is not None:
            parts.append(f"gone after {self.expire_after / DAY:g}d")
        return ", ".join(parts)


@dataclass(frozen=True)
class Tier:
    """One band of a tiered rule: low..high (both included; high None = no bound)."""

    low: float | None
    high: float | None
    points: float

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}" if self.low == self.high else f"{self.low:g}–{self.high:g}"
        if self.low is not None:
            return f"{self.low:g}+"
        return f"≤{self.high:g}" if self.high is not None else "any"


@dataclass(frozen=True)
class Rule:
    name: str
    criterion: Criterion
    points: float | None = None
    tiers: tuple[Tier, ...] = ()
    per_event: bool = False
    max: float | None = None
    min: float | None = None
    decay: Decay | None = None
    description: str | None = None
    points_from: str | None = None  # a number property whose value is the points
    # per-event rules: at most this many points from the events of one UTC day (after decay,
    # before the rule's own cap)
    max_per_day: float | None = None


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Rule, ...]
    max: float | None = None
    min: float | None = None
    description: str | None = None


@dataclass(frozen=True)
class Threshold:
    label: str
    min: float | None  # included; None = no lower bound
    max: float | None  # included; None = up to the next threshold's min (excluded)
    stage: str | None = None

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g}–{self.max:g}"
        if self.min is not None:
            return f"{self.min:g}+"
        return f"≤{self.max:g}" if self.max is not None else "any score"


def percent(p: float) -> str:
    """A probability as a person reads it: 23 %, 0.4 %, < 0.1 %."""
    if p < 0.001:
        return "< 0.1 %"
    return f"{p * 100:.1f} %" if p < 0.1 else f"{p * 100:.0f} %"


@dataclass(frozen=True)
class Probability:
    """A score's calibrated probability of converting: straight lines between `points`
    (score, probability), flat beyond the ends; or a logistic curve (`intercept`, `slope`)."""

    points: tuple[tuple[float, float], ...] = ()
    intercept: float | None = None
    slope: float | None = None
    within: float | None = None  # seconds: converting within this long
    description: str | None = None

    def of(self, value: float) -> float:
        if self.points:
            xs = [x for x, _ in self.points]
            ys = [y for _, y in self.points]
            if value <= xs[0]:
                return ys[0]
            if value >= xs[-1]:
                return ys[-1]
            k = bisect.bisect_right(xs, value)
            x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
        logit = (self.intercept or 0.0) + (self.slope or 0.0) * value
        return 1.0 / (1.0 + math.exp(-max(min(logit, 500.0), -500.0)))

    def describe(self) -> str:
        """'probability of converting within 90 days'"""
        if self.within is None:
            return "probability of converting"
        days = self.within / 86400
        return f"probability of converting within {days:g} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Score:
    name: str
    rules: tuple[Rule, ...] = ()
    groups: tuple[Group, ...] = ()
    max: float | None = None
    min: float | None = None
    thresholds: tuple[Threshold, ...] = ()  # sorted by min
    sum_of: tuple[str, ...] = ()
    description: str | None = None
    probability: Probability | None = None

    def label_for(self, value: float) -> Threshold | None:
        ordered = self.thresholds
        for i, threshold in enumerate(ordered):
            if threshold.min is not None and value < threshold.min:
                continue
            if threshold.max is not None:
                if value <= threshold.max:
                    return threshold
                continue
            following = ordered[i + 1].min if i + 1 < len(ordered) else None
            if following is None or value < following:
                return threshold
        return None

    def all_rules(self) -> list[Rule]:
        return [*self.rules, *(r for g in self.groups for r in g.rules)]


@dataclass(frozen=True)
class Grade:
    rows: str
    columns: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lifecycle:
    """Automatic stage changes: exclusions, and qualification by criteria (else thresholds)."""

    exclude: tuple[Criterion, ...] = ()
    qualify: tuple[tuple[str, Criterion], ...] = ()  # highest stage first
    order: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer",
                              "evangelist")

    @property
    def stages(self) -> tuple[str, ...]:
        """Every stage a contact may have: the order, then 'other'."""
        return (*self.order, "other")


@dataclass(frozen=True)
class Model:
    name: str
    scores: dict[str, Score]  # parts before the sums that use them
    catalog: Catalog
    grade: Grade | None = None
    lifecycle: Lifecycle = Lifecycle()
    description: str | None = None
    version: int = 1
    path: str | None = None
    digest: str = ""
    # events no rule sees (`exclude_events`), in the file's order; every event criterion of
    # the model carries those of its type (`EventCriterion.excluding`)
    exclusions: tuple[EventExclusion, ...] = ()
    # the published version this model is (`storage.versions`), None for a model file: every
    # score it computes is stored naming it
    published: int | None = None
    # the `companies:` section (`model.company.CompanyModel`), None when the model has none
    companies: Any = None

    @property
    def stage_score(self) -> Score | None:
        """The score whose thresholds set lifecycle stages, if any."""
        for score in self.scores.values():
            if any(t.stage for t in score.thresholds):
                return score
        return None

    @property
    def primary_score(self) -> Score:
        """The score leads are ranked by: the stage score, else the last (often the total)."""
        return self.stage_score or list(self.scores.values())[-1]
