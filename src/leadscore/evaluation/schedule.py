"""When will a contact's scores or memberships change with no new data? Timeframes end, decay
steps and expiries fall due, ledger entries start or stop applying. `next_change_at` finds the
earliest such moment after the snapshot, so a worker looks at each contact only when something
can have changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from leadscore.catalog import to_micros
from leadscore.evaluation.arithmetic import micros_to_seconds, seconds_to_micros
from leadscore.evaluation.ledger import next_moment_us
from leadscore.evaluation.matchers import (
    INF,
    AllMatcher,
    AnyMatcher,
    EventMatcher,
    NotMatcher,
    PropertyMatcher,
)
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.model.model import Decay

CONTINUOUS_RECHECK = 86400.0  # half-life and linear decay change all the time: look daily
EDGE = 1e-3  # a window or an expiry changes just after its boundary, which still counts
RECHECK_US = 86_400_000_000
EDGE_US = 1_000


def time_sensitive(matchers: Iterable[Any]) -> list[Any]:
    """The matchers, anywhere in these trees, whose verdict can change as time passes alone."""
    found: dict[int, Any] = {}
    for matcher in _walk(matchers):
        if isinstance(matcher, EventMatcher) and (
                matcher.within is not None or matcher.since is not None
                or matcher.until is not None):
            found.setdefault(id(matcher), matcher)
        elif isinstance(matcher, PropertyMatcher) and matcher.op in ("within_last",
                                                                     "changed_within"):
            found.setdefault(id(matcher), matcher)
    return list(found.values())


def next_change_at(snap: ContactSnapshot, matchers: Iterable[Any],
                   decays: Iterable[tuple[Decay, float | None]] = ()) -> float | None:
    """The earliest moment after `snap.as_of` at which a time window of `matchers` lets an event
    go, a date property leaves a `within_last`, a `changed_within` lapses, one of `decays`
    (decay, time of the event that earned points) changes the points, or one of the
    snapshot's ledger entries starts or stops applying. None: never.
    Pass `time_sensitive(...)` of the matchers to skip walking whole trees per contact.
    Moments are worked out in microseconds; the answer is POSIX seconds."""
    best = next_change_us(snap, matchers, decays)
    return None if best is None else micros_to_seconds(best)


def next_change_us(snap: ContactSnapshot, matchers: Iterable[Any],
                   decays: Iterable[tuple[Decay, float | None]] = ()) -> int | None:
    """`next_change_at` in microseconds."""
    now = snap.as_of_us
    best: int | None = None
    memo: dict = {}
    for matcher in _walk(matchers):
        for moment in _moments(matcher, snap, memo):
            if now < moment and (best is None or moment < best):
                best = moment
    for decay, evidence in decays:
        if evidence is None or evidence == INF:
            continue
        due = _decay_moment(decay, seconds_to_micros(evidence), now)
        if due is not None and now < due and (best is None or due < best):
            best = due
    if snap.ledger:
        due = next_moment_us(snap.ledger, now)
        if due is not None and (best is None or due < best):
            best = due
    return best


def _walk(matchers: Iterable[Any]) -> Iterable[Any]:
    for matcher in matchers:
        if matcher is None:
            continue
        yield matcher
        if isinstance(matcher, AllMatcher | AnyMatcher):
            yield from _walk(matcher.children)
        elif isinstance(matcher, NotMatcher):
            yield from _walk([matcher.child])


def _moments(matcher: Any, snap: ContactSnapshot, memo: dict) -> Iterable[int]:
    if isinstance(matcher, EventMatcher):
        if matcher.within is not None:
            times = matcher.times(snap, memo)
            if times:
                # the oldest event in the window leaves first, just after its age reaches
                # the window (an event exactly `within` old still counts)
                yield seconds_to_micros(times[0]) + matcher.within + EDGE_US
        if matcher.until is not None:
            yield matcher.until
        if matcher.since is not None:
            yield matcher.since
    elif isinstance(matcher, PropertyMatcher):
        if matcher.op == "within_last":
            value = matcher.read(snap)
            if isinstance(value, datetime):
                moment = to_micros(value)
                yield moment  # a future date enters the window when it comes
                yield moment + matcher.expected + EDGE_US
        elif matcher.op == "changed_within":
            changes = snap.changes.get(matcher.name)
            if changes:
                yield seconds_to_micros(changes[-1]) + matcher.expected + EDGE_US


def _decay_moment(decay: Decay, evidence: int, now: int) -> int | None:
    """When the points earned at `evidence` (µs) next change, as of `now` (µs)."""
    age = now - evidence
    half_life, step_every, linear, expire_after = decay.micros
    candidates = []
    if expire_after is not None and age <= expire_after:  # gone just after
        candidates.append(evidence + expire_after + EDGE_US)
    if step_every is not None and decay.step_lose is not None:
        steps = age // step_every + 1
        if decay.step_lose * (steps - 1) < 1:
            candidates.append(evidence + steps * step_every)
    if half_life is not None:
        candidates.append(now + RECHECK_US)
    if linear is not None and age < linear:
        candidates.append(min(now + RECHECK_US, evidence + linear))
    return min(candidates) if candidates else None
