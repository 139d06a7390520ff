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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from leadscore.catalog import CoercionError, PropertyDef, parse_datetime, parse_duration, to_micros
from leadscore.diagnostics import LeadscoreError, Location
from leadscore.evaluation import ContactSnapshot
from leadscore.storage import Store
from leadscore.storage.history import load_histories
from leadscore.storage.outcomes import (
    OutcomeRecord,
    count_feedback,
    count_outcomes,
    data_end,
    load_feedback,
    load_outcomes,
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


class CaseStream:
    """(snapshot, case) pairs of a backtest population from a store, with the reasons for
    every contact left out (`excluded`) filled in as the stream is read."""

    def __init__(self, store: Store, population: Population, *,
                 property_types: Mapping[str, PropertyDef] | None = None,
                 progress: Progress | None = None) -> None:
        self.store = store
        self.population = population
        self.property_types = property_types
        self.progress = progress
        self.excluded: Counter[str] = Counter()
        feedback = population.target is Target.SALES_FEEDBACK
        self.outcomes = {} if feedback else load_outcomes(store)
        self.verdicts = load_feedback(store) if feedback else {}
        self.total = int(store.counts().get("contacts", 0))
        self.end: float | None = None

    def __iter__(self) -> Iterator[tuple[ContactSnapshot, Case]]:
        population = self.population
        if population.cutoff.kind is CutoffKind.FIXED:
            yield from self._fixed()
            return
        end = data_end(self.store)
        self.end = end.timestamp() if end is not None else datetime.now(UTC).timestamp()
        lags = self._converter_lags() if population.cutoff.kind is \
            CutoffKind.BEFORE_OPPORTUNITY else None
        seen = 0
        for history in load_histories(self.store, catalog=self.property_types):
            seen += 1
            if self.progress and seen % 2000 == 0:
                self.progress(seen, self.total)
            cutoff = self._cutoff(history.contact_id, history.created_at, lags)
            if cutoff is None:
                continue
            case = self._case(history.contact_id, history.created_at, cutoff)
            if case is not None:
                yield history.snapshot_at(cutoff), case
        if self.progress:
            self.progress(seen, self.total)

    def cases(self) -> Iterator[Case]:
        """The cases alone, in the same order and with the same `excluded` counts as
        iterating the stream, from the contacts' creation times: no history is read."""
        population = self.population
        moment = population.cutoff.moment
        if population.cutoff.kind is CutoffKind.FIXED:
            assert moment is not None
            until = to_micros(moment)
            cutoff = moment.timestamp()
            seen = 0
            for contact_id, created_us in _contacts_in_order(self.store):
                if created_us > until:
                    continue
                seen += 1
                case = self._case(contact_id, created_us / 1_000_000, cutoff)
                if case is not None:
                    yield case
            self.excluded[CREATED_AFTER] += self.total - seen
            return
        end = data_end(self.store)
        self.end = end.timestamp() if end is not None else datetime.now(UTC).timestamp()
        lags = self._converter_lags() if population.cutoff.kind is \
            CutoffKind.BEFORE_OPPORTUNITY else None
        for contact_id, created_us in _contacts_in_order(self.store):
            created = created_us / 1_000_000
            cutoff_at = self._cutoff(contact_id, created, lags)
            if cutoff_at is None:
                continue
            case = self._case(contact_id, created, cutoff_at)
            if case is not None:
                yield case

    def _fixed(self) -> Iterator[tuple[ContactSnapshot, Case]]:
        moment = self.population.cutoff.moment
        assert moment is not None
        seen = 0
        for snap in self.store.load_snapshots(moment, catalog=self.property_types):
            seen += 1
            if self.progress and seen % 2000 == 0:
                self.progress(seen, self.total)
            case = self._case(snap.contact_id, snap.created_at or snap.as_of, snap.as_of)
            if case is not None:
                yield snap, case
        if self.total > seen:
            self.excluded[CREATED_AFTER] += self.total - seen
        if self.progress:
            self.progress(self.total, self.total)

    def _converter_lags(self) -> np.ndarray:
        """Creation → cutoff of every converter (seconds), sorted, for matched moments."""
        gap = self.population.cutoff.offset
        created = _creation_times(self.store)
        lags = []
        for contact_id, record in self.outcomes.items():
            anchor = opportunity_anchor(record)
            start = created.get(contact_id)
            if anchor is not None and start is not None and anchor - gap >= start:
                lags.append(anchor - gap - start)
        return np.sort(np.asarray(lags, dtype=np.float64))

    def _cutoff(self, contact_id: str, created: float, lags: np.ndarray | None) -> float | None:
        cutoff_spec = self.population.cutoff
        assert self.end is not None
        if cutoff_spec.kind is CutoffKind.AFTER_CREATION:
            cutoff = created + cutoff_spec.offset
        elif cutoff_spec.kind is CutoffKind.BEFORE_FEEDBACK:
            verdict = self.verdicts.get(contact_id)
            if verdict is None:
                self.excluded[NO_FEEDBACK] += 1
                return None
            cutoff = verdict.at.timestamp() - cutoff_spec.offset
            if cutoff < created:
                self.excluded[FEEDBACK_IN_GAP] += 1
                return None
            return cutoff  # the verdict itself is data: the cutoff is before the data's end
        else:
            anchor = opportunity_anchor(self.outcomes.get(contact_id))
            if anchor is not None:
                cutoff = anchor - cutoff_spec.offset
                if cutoff < created:
                    self.excluded[OPPORTUNITY_IN_GAP] += 1
                    return None
            else:
                cutoff = _matched_moment(contact_id, created, self.end, lags,
                                         cutoff_spec.seed)
        if cutoff > self.end:
            self.excluded[AFTER_END] += 1
            return None
        return cutoff

    def _case(self, contact_id: str, created: float, cutoff: float) -> Case | None:
        population = self.population
        if not population.sample.keeps(contact_id, created):
            self.excluded[OUTSIDE_SAMPLE] += 1
            return None
        if population.target is Target.SALES_FEEDBACK:
            verdict = self.verdicts.get(contact_id)
            if verdict is None:
                self.excluded[NO_FEEDBACK] += 1
                return None
            settled: float | None = verdict.at.timestamp()
            moment = settled if verdict.value in POSITIVE_FEEDBACK else None
        else:
            record = self.outcomes.get(contact_id)
            settled = settled_at(record, population.target)
            moment = converted_at(record, population.target)
        if settled is not None and settled <= cutoff:
            if population.target is Target.SALES_FEEDBACK:
                self.excluded[JUDGED_FIRST] += 1
            else:
                self.excluded[CONVERTED_FIRST if moment is not None and moment <= cutoff
                              else LOST_FIRST] += 1
            return None
        converted = moment is not None and moment > cutoff and (
            population.horizon is None or moment <= cutoff + population.horizon)
        return Case(contact_id, created, cutoff, converted, moment if converted else None)


def _matched_moment(contact_id: str, created: float, end: float, lags: np.ndarray | None,
                    seed: int) -> float:
    u = unit_hash(contact_id, seed, "matched-moment")
    room = max(end - created, 0.0)
    if lags is None or not len(lags):
        return created + u * room
    fitting = int(np.searchsorted(lags, room, side="right"))
    if fitting == 0:
        return created + u * room
    return created + float(lags[min(int(u * fitting), fitting - 1)])


def _creation_times(store: Store) -> dict[str, float]:
    with store.read() as connection:
        rows = connection.exec_driver_sql("SELECT contact_id, created_us FROM contacts")
        return {contact_id: created / 1_000_000 for contact_id, created in rows}


def _contacts_in_order(store: Store) -> Iterator[tuple[str, int]]:
    """(contact id, created µs) of every contact, in contact id order — the order in which
    the stream reads histories (`storage.reading.contact_batches`)."""
    with store.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT contact_id, created_us FROM contacts ORDER BY contact_id")
        yield from ((str(contact_id), int(created)) for contact_id, created in rows)
