"""Who is scored, at which moment, against which outcome: the point-in-time rules of a backtest.

A backtest scores each contact at a cutoff using only what was known then, and asks whether
it converted *after* the cutoff:
- `Cutoff.parse("2026-01-01")`: one moment for everyone (contacts created later are left out);
- `Cutoff.parse("created+14d")`: 14 days after each contact's creation;
- `Cutoff.parse("before-opportunity")` (or `opportunity-2d`): a gap (default 1 day) before
  each converter's opportunity. A contact that never converted has no such date, so it is
  scored at a *matched random moment*: its creation plus a lag drawn from the converters'
  lags (creation → cutoff), drawn from a hash of its id (the same contact always gets the
  same moment), and no later than the end of the data. The converters' and the others'
  snapshots are then equally old on average, so the score cannot tell them apart by age.
- `Cutoff.parse("before-feedback")` (or `feedback-2d`): just before (default 1 second) each
  lead's first sales feedback — what sales saw when it judged the lead. Goes with the
  `sales-feedback` target: the label is that verdict (true_sql is positive; not_ready and
  unqualified are not), and leads sales never judged are left out.

A contact whose outcome is settled at or before its cutoff is left out (it is not a
prediction); so is one whose cutoff lies after the end of the data, or, for
`before-opportunity`, one that became an opportunity within the gap after its creation.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from leadscore.catalog import CoercionError, parse_datetime, parse_duration
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.storage import Store
from leadscore.storage.outcomes import (
    OutcomeRecord,
    count_feedback,
    count_outcomes,
)

Progress = Callable[[int, int], None]
DAY = 86400.0
_AFTER = re.compile(r"^\s*created\s*\+\s*(\S+)\s*$", re.IGNORECASE)
_BEFORE = re.compile(r"^\s*(?:before-opportunity|opportunity\s*-\s*(\S+))\s*$", re.IGNORECASE)
_BEFORE_FEEDBACK = re.compile(r"^\s*(?:before-feedback|feedback\s*-\s*(\S+))\s*$",
                              re.IGNORECASE)
POSITIVE_FEEDBACK = frozenset({"true_sql"})


class CutoffKind(enum.StrEnum):
    FIXED = "fixed"
    AFTER_CREATION = "after-creation"
    BEFORE_OPPORTUNITY = "before-opportunity"
    BEFORE_FEEDBACK = "before-feedback"


class Target(enum.StrEnum):
    """What counts as converting."""

    OPPORTUNITY_OR_WON = "opportunity-or-won"  # became an opportunity or was won (first of)
    OPPORTUNITY = "opportunity"  # became an opportunity
    WON = "won"  # closed won
    SALES_FEEDBACK = "sales-feedback"  # sales's first verdict was true_sql (judged leads only)


@dataclass(frozen=True)
class Cutoff:
    kind: CutoffKind
    moment: datetime | None = None  # FIXED
    offset: float = 0.0  # seconds: after creation, or the gap before the opportunity
    seed: int = 7  # matched random moments (BEFORE_OPPORTUNITY)

    @classmethod
    def parse(cls, text: str, *, seed: int = 7) -> Cutoff:
        """'2026-01-01' | 'created+14d' | 'before-opportunity' | 'opportunity-2d' |
        'before-feedback' | 'feedback-1h'."""
        after = _AFTER.match(text)
        before = _BEFORE.match(text)
        before_feedback = _BEFORE_FEEDBACK.match(text)
        try:
            if after:
                return cls(CutoffKind.AFTER_CREATION,
                           offset=parse_duration(after.group(1)).total_seconds())
            if before:
                gap = (parse_duration(before.group(1)).total_seconds() if before.group(1)
                       else DAY)
                return cls(CutoffKind.BEFORE_OPPORTUNITY, offset=gap, seed=seed)
            if before_feedback:
                gap = (parse_duration(before_feedback.group(1)).total_seconds()
                       if before_feedback.group(1) else 1.0)
                return cls(CutoffKind.BEFORE_FEEDBACK, offset=gap, seed=seed)
            return cls(CutoffKind.FIXED, moment=parse_datetime(text))
        except CoercionError as error:
            raise LeadscoreError.single(
                "LS411", f"--as-of {text}: {error}", Location(field="--as-of"), text=text,
                hint="write a date (2026-01-01), 'created+14d' (14 days after each contact's "
                     "creation), 'before-opportunity' / 'opportunity-1d' or 'before-feedback' / "
                     "'feedback-1d'") from None

    def describe(self) -> str:
        if self.kind is CutoffKind.FIXED and self.moment is not None:
            return f"as of {self.moment:%Y-%m-%d %H:%M} UTC (one moment for every contact)"
        if self.kind is CutoffKind.AFTER_CREATION:
            return f"{self.offset / DAY:g} days after each contact's creation"
        if self.kind is CutoffKind.BEFORE_FEEDBACK:
            return f"{_span(self.offset)} before each lead's first sales feedback"
        return (f"{self.offset / DAY:g} day(s) before each converter's opportunity; contacts "
                f"that never converted at a matched random moment (seed {self.seed})")

    def to_text(self) -> str:
        """The --as-of value that gives this cutoff."""
        if self.kind is CutoffKind.FIXED and self.moment is not None:
            return self.moment.isoformat().replace("+00:00", "Z")
        if self.kind is CutoffKind.AFTER_CREATION:
            return f"created+{self.offset / DAY:g}d"
        if self.kind is CutoffKind.BEFORE_FEEDBACK:
            return f"feedback-{self.offset:g}s"
        return f"opportunity-{self.offset / DAY:g}d"


def _span(seconds: float) -> str:
    for unit, size in (("day", DAY), ("hour", 3600.0), ("minute", 60.0)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}(s)"
    return f"{seconds:g} second(s)"


@dataclass(frozen=True)
class Sample:
    """Which contacts take part: a creation period and/or one side of a random split."""

    created_from: datetime | None = None  # included
    created_before: datetime | None = None  # excluded
    random_share: float | None = None  # the held-out share of a random split
    random_seed: int = 7
    random_part: str = "held-out"  # or "training"

    def keeps(self, contact_id: str, created: float) -> bool:
        if self.created_from is not None and created < self.created_from.timestamp():
            return False
        if self.created_before is not None and created >= self.created_before.timestamp():
            return False
        if self.random_share is not None:
            held_out = unit_hash(contact_id, self.random_seed, "split") < self.random_share
            return held_out == (self.random_part == "held-out")
        return True

    def describe(self) -> str:
        parts = []
        if self.created_from is not None:
            parts.append(f"created from {self.created_from:%Y-%m-%d %H:%M}")
        if self.created_before is not None:
            parts.append(f"created before {self.created_before:%Y-%m-%d %H:%M}")
        if self.random_share is not None:
            parts.append(f"{self.random_part} part of a random split "
                         f"({self.random_share:.0%} held out, seed {self.random_seed})")
        return ", ".join(parts) or "all contacts"


def require_labels(store: Store, population: Population) -> None:
    """LS410 when the store holds nothing to judge scores against: no outcomes, or (for the
    sales-feedback target) no sales feedback."""
    if population.target is Target.SALES_FEEDBACK:
        if not count_feedback(store):
            raise LeadscoreError.single(
                "LS410", "the store has no sales feedback to judge the scores against",
                Location(field="--target"), text=population.target.value,
                hint="record verdicts with `leadscore feedback CONTACT true_sql|not_ready|"
                     "unqualified`, or import contacts with a sales_feedback column and "
                     "updated_at (when sales gave it)")
    elif count_outcomes(store)["contacts"] == 0:
        raise LeadscoreError.single(
            "LS410", "the store has no outcomes to judge the scores against",
            Location(field="outcomes"),
            hint="import them first: leadscore import outcomes data/outcomes.csv (or a flat "
                 "export with --mapping and an 'outcome:' section)")


def unit_hash(contact_id: str, seed: int, salt: str) -> float:
    """A number in [0, 1) fixed by (seed, salt, contact id): reproducible per contact,
    whatever else is in the store."""
    digest = hashlib.sha256(f"{seed}:{salt}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(slots=True)
class Case:
    """One contact in a backtest: scored at `cutoff`, converted (or not) after it."""

    contact_id: str
    created_at: float
    cutoff: float
    converted: bool
    converted_at: float | None = None


@dataclass
class Population:
    cutoff: Cutoff
    target: Target = Target.OPPORTUNITY_OR_WON
    horizon: float | None = None  # seconds after the cutoff within which conversion counts
    sample: Sample = field(default_factory=Sample)

    def __post_init__(self) -> None:
        feedback_cutoff = self.cutoff.kind is CutoffKind.BEFORE_FEEDBACK
        feedback_target = self.target is Target.SALES_FEEDBACK
        if feedback_cutoff and not feedback_target:
            raise LeadscoreError.single(
                "LS415", f"scoring {self.cutoff.describe()} needs --target sales-feedback",
                Location(field="--target"), text=self.target.value,
                hint="score before the feedback to predict the feedback: add --target "
                     "sales-feedback (or choose another --as-of for outcomes)")
        if feedback_target and self.cutoff.kind is CutoffKind.BEFORE_OPPORTUNITY:
            raise LeadscoreError.single(
                "LS415", "--target sales-feedback cannot be scored before the opportunity",
                Location(field="--as-of"), text=self.cutoff.to_text(),
                hint="use --as-of before-feedback (or a date, or created+14d)")

    def describe(self) -> str:
        if self.target is Target.SALES_FEEDBACK:
            text = (f"cutoff: {self.cutoff.describe()}; outcome: sales's first verdict, given "
                    f"after the cutoff, is true_sql (leads without a verdict left out)")
        else:
            text = (f"cutoff: {self.cutoff.describe()}; outcome: {self.target.value} after "
                    f"the cutoff")
        if self.horizon:
            text += f" within {self.horizon / DAY:g} days"
        return text + f"; contacts: {self.sample.describe()}"


# -- the cutoff report: every rule that leaves contacts out, and why ----------------------
CONVERTED_FIRST = "converted at or before the cutoff"
LOST_FIRST = "lost at or before the cutoff"
JUDGED_FIRST = "judged by sales at or before the cutoff"
CREATED_AFTER = "created after the cutoff"
AFTER_END = "cutoff after the end of the data"
OUTSIDE_SAMPLE = "outside the sample"
NO_FEEDBACK = "no sales feedback"
FEEDBACK_IN_GAP = "sales feedback within the gap after creation"
OPPORTUNITY_IN_GAP = "became an opportunity within the gap after creation"


@dataclass(frozen=True)
class LeftOut:
    """One rule of the cutoff report: how many contacts it left out, and why."""

    rule: str
    contacts: int
    why: str

    def to_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "contacts": self.contacts, "why": self.why}


def left_out_report(excluded: Mapping[str, int], population: Population) -> list[LeftOut]:
    """The contacts each cutoff rule left out, largest first, with the reason in words."""
    cutoff, target = population.cutoff, population.target
    when = cutoff.describe()
    if cutoff.kind is CutoffKind.AFTER_CREATION:
        early = (f"their outcome came within {_span(cutoff.offset)} of creation"
                 if cutoff.offset > 0 else "their outcome came at the moment of creation")
        advice = (" (`--as-of created+0d` scores every contact at its creation and keeps "
                  "them)" if cutoff.offset > 0 else "")
    elif cutoff.kind is CutoffKind.FIXED:
        early, advice = "their outcome came before that moment", " (an earlier --as-of keeps them)"
    else:
        early, advice = "their outcome came first", ""
    reasons = {
        CONVERTED_FIRST: f"{early}, before the cutoff ({when}): scoring them after they "
                         f"converted ({target.value}) would not be a prediction{advice}",
        LOST_FIRST: f"{early}: they were lost before the cutoff ({when}), so the question was "
                    f"already settled{advice}",
        JUDGED_FIRST: f"sales had already judged them at the cutoff ({when}): the verdict is "
                      "not a prediction any more",
        CREATED_AFTER: f"created after the cutoff ({when}): nothing about them was known yet",
        AFTER_END: f"their cutoff ({when}) lies after the last data in the store: what "
                   "happened after it is not known yet",
        OUTSIDE_SAMPLE: f"not in the chosen contacts ({population.sample.describe()})",
        NO_FEEDBACK: "sales never judged them, and the sales-feedback target needs a verdict",
        FEEDBACK_IN_GAP: f"sales judged them within the gap after creation, before any cutoff "
                         f"({when}) could be placed",
        OPPORTUNITY_IN_GAP: f"they became an opportunity within the gap after creation, before "
                            f"any cutoff ({when}) could be placed",
    }
    rows = [LeftOut(rule, int(count), reasons.get(rule, rule))
            for rule, count in excluded.items() if count]
    return sorted(rows, key=lambda r: -r.contacts)


def converted_at(record: OutcomeRecord | None, target: Target) -> float | None:
    if record is None:
        return None
    if target is Target.WON:
        moments = [record.won_at]
    elif target is Target.OPPORTUNITY:
        moments = [record.opportunity_at]
    else:
        moments = [record.opportunity_at, record.won_at]
    known = [m.timestamp() for m in moments if m is not None]
    return min(known) if known else None


def settled_at(record: OutcomeRecord | None, target: Target) -> float | None:
    """The first moment the target's question had an answer (converted, or a loss)."""
    if record is None:
        return None
    moments = [converted_at(record, target)]
    if record.lost_at is not None:
        moments.append(record.lost_at.timestamp())
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def opportunity_anchor(record: OutcomeRecord | None) -> float | None:
    """When a contact became an opportunity (its win, when no opportunity was recorded)."""
    if record is None:
        return None
    known = [m.timestamp() for m in (record.opportunity_at, record.won_at) if m is not None]
    return min(known) if known else None
