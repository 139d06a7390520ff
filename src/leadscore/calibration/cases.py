"""Reading a backtest population from a store: `CaseStream` yields each contact's snapshot
at its cutoff with its case (`population.Case`), and says why every other contact was left
out; `CaseStream.cases()` gives the cases alone, from the contacts' creation times, without
reading a history (`suggest` builds its inputs set-wise from them: `features_sql`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

import numpy as np

from leadscore.calibration.population import (
    AFTER_END,
    CONVERTED_FIRST,
    CREATED_AFTER,
    FEEDBACK_IN_GAP,
    JUDGED_FIRST,
    LOST_FIRST,
    NO_FEEDBACK,
    OPPORTUNITY_IN_GAP,
    OUTSIDE_SAMPLE,
    POSITIVE_FEEDBACK,
    Case,
    CutoffKind,
    Population,
    Sample,
    Target,
    converted_at,
    opportunity_anchor,
    settled_at,
    unit_hash,
)
from leadscore.catalog import PropertyDef, to_micros
from leadscore.evaluation import ContactSnapshot
from leadscore.storage import Store
from leadscore.storage.history import load_histories
from leadscore.storage.outcomes import data_end, load_feedback, load_outcomes

Progress = Callable[[int, int], None]


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
        if population.sample != Sample():
            yield from self._chosen()
            return
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

    def _chosen(self) -> Iterator[tuple[ContactSnapshot, Case]]:
        """A sample (one side of a split, a creation period): the cases first, from the
        creation times, then only their histories — `suggest`'s held-out backtest read every
        contact's history to keep 30 % of them (at 100,000 contacts, half of its time)."""
        chosen = {case.contact_id: case for case in self.cases()}
        moment = self.population.cutoff.moment
        if self.population.cutoff.kind is CutoffKind.FIXED and moment is not None:
            pairs: Iterator[tuple[ContactSnapshot, Case]] = (
                (snap, chosen[snap.contact_id]) for snap in self.store.load_snapshots(
                    moment, catalog=self.property_types, contact_ids=chosen))
        else:
            pairs = ((history.snapshot_at(chosen[history.contact_id].cutoff),
                      chosen[history.contact_id])
                     for history in load_histories(self.store, catalog=self.property_types,
                                                   contact_ids=chosen))
        for seen, pair in enumerate(pairs, 1):
            if self.progress and seen % 2000 == 0:
                self.progress(seen, len(chosen))
            yield pair
        if self.progress:
            self.progress(len(chosen), len(chosen))

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
