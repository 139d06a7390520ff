"""When will a contact's scores or memberships change with no new data? Timeframes end, decay
steps and expiries fall due. `next_change_at` finds the earliest such moment after the snapshot,
so a worker looks at each contact only when something can have changed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

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
    go, a date property leaves a `within_last`, a `changed_within` lapses, or one of `decays`
    (decay, time of the event that earned points) changes the points. None: never.
    Pass `time_sensitive(...)` of the matchers to skip walking whole trees per contact."""
    now = snap.as_of
    best = INF
    memo: dict = {}
    for matcher in _walk(matchers):
        for moment in _moments(matcher, snap, memo):
            if now < moment < best:
                best = moment
    for decay, evidence in decays:
        if evidence is None or evidence == INF:
            continue
        due = _decay_moment(decay, evidence, now)
        if due is not None and now < due < best:
            best = due
    return None if best == INF else best


def _walk(matchers: Iterable[Any]) -> Iterable[Any]:
    for matcher in matchers:
        if matcher is None:
            continue
        yield matcher
        if isinstance(matcher, AllMatcher | AnyMatcher):
            yield from _walk(matcher.children)
        elif isinstance(matcher, NotMatcher):
            yield from _walk([matcher.child])


def _moments(matcher: Any, snap: ContactSnapshot, memo: dict) -> Iterable[float]:
    if isinstance(matcher, EventMatcher):
        if matcher.within is not None:
            times = matcher.times(snap, memo)
            if times:
                # the oldest event in the window leaves first, just after its age reaches
                # the window (an event exactly `within` old still counts)
                yield times[0] + matcher.within + EDGE
        if matcher.until is not None:
            yield matcher.until
        if matcher.since is not None:
            yield matcher.since
    elif isinstance(matcher, PropertyMatcher):
        if matcher.op == "within_last":
            value = snap.properties.get(matcher.name)
            if isinstance(value, datetime):
                yield value.timestamp()  # a future date enters the window when it comes
                yield value.timestamp() + matcher.expected + EDGE
        elif matcher.op == "changed_within":
            changes = snap.changes.get(matcher.name)
            if changes:
                yield changes[-1] + matcher.expected + EDGE


def _decay_moment(decay: Decay, evidence: float, now: float) -> float | None:
    age = now - evidence
    candidates = []
    if decay.expire_after is not None and age <= decay.expire_after:  # gone just after
        candidates.append(evidence + decay.expire_after + EDGE)
    if decay.step_every is not None and decay.step_lose is not None:
        steps = math.floor(age / decay.step_every) + 1
        if decay.step_lose * (steps - 1) < 1:
            candidates.append(evidence + steps * decay.step_every)
    if decay.half_life is not None:
        candidates.append(now + CONTINUOUS_RECHECK)
    if decay.linear is not None and age < decay.linear:
        candidates.append(min(now + CONTINUOUS_RECHECK, evidence + decay.linear))
    return min(candidates) if candidates else None

