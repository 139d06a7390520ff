"""The Python meaning of the criteria tree, compiled once per model into matcher objects.

A matcher answers two questions about a contact snapshot with the same code:
`evidence(snap, memo)` — None when the criterion does not hold, else the time of the event that
earned it (INF when no event did, e.g. a property) — which is what decay ages; and
`explain(snap, memo)` — a Reason saying why, in words. `memo` is one dict per contact, so rules
that look at the same events (tiers, shared filters) filter them once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadscore.catalog import (
    PropertyType,
    duration_micros,
    read_attribute,
    read_value,
    to_micros,
)
from leadscore.evaluation.arithmetic import micros_to_seconds
from leadscore.evaluation.snapshot import ContactSnapshot
from leadscore.model import criteria as c
from leadscore.model.operators import OPERATORS

INF = float("inf")
Evidence = float | None


@dataclass
class Reason:
    matched: bool
    text: str
    children: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"matched": self.matched, "text": self.text}
        if self.children:
            out["children"] = [child.to_dict() for child in self.children]
        return out


_MEMO_KEYS: dict[tuple[Any, ...], int] = {}


def _memo_key(node: c.EventCriterion) -> int:
    """One key per distinct (type, filters, window) in the whole process: criteria compiled
    anywhere can share a contact's memo, equal ones share their filtered events, and different
    ones never collide."""
    return _MEMO_KEYS.setdefault((node.event_type, node.filters, node.window, node.excluding),
                                 len(_MEMO_KEYS))


def compile_criterion(node: c.Criterion, shared: dict[Any, EventMatcher] | None = None):
    """Matcher for a criterion tree. Event matchers with equal filters share one memo slot."""
    shared = {} if shared is None else shared
    if isinstance(node, c.PropertyCriterion):
        return PropertyMatcher(node)
    if isinstance(node, c.EventCriterion):
        key = _memo_key(node)
        base = shared.setdefault(key, EventMatcher(node, key=key))
        return base if base.node == node else EventMatcher(node, key=key)
    if isinstance(node, c.ScoreCriterion):
        return ScoreMatcher(node)
    if isinstance(node, c.CompanyScoreCriterion):
        return CompanyScoreMatcher(node)
    if isinstance(node, c.ListCriterion):
        return ListMatcher(node)
    if isinstance(node, c.CompanyListCriterion):
        return CompanyListMatcher(node)
    if isinstance(node, c.AllOf):
        return AllMatcher([compile_criterion(ch, shared) for ch in node.children])
    if isinstance(node, c.AnyOf):
        return AnyMatcher([compile_criterion(ch, shared) for ch in node.children])
    if isinstance(node, c.Not):
        return NotMatcher(compile_criterion(node.child, shared))
    raise TypeError(f"unknown criterion {node!r}")  # pragma: no cover


def _value_test(test: c.ValueTest) -> Callable[[Any, int], bool]:
    """(value, as_of µs) -> bool for an attribute or property value already read as its kind;
    None means unknown."""
    op = OPERATORS[test.op]
    if test.op in ("is_known", "is_unknown"):
        present = test.expected if test.op == "is_known" else not test.expected
        return lambda value, _: (value is not None) == present
    fn, unknown = op.test, op.when_unknown
    assert fn is not None, f"{test.op} has no value test"
    expected = op.prepare(test.expected) if op.prepare is not None else test.expected

    def run(value: Any, as_of_us: int) -> bool:
        if value is None:
            return unknown
        try:
            return fn(value, expected, as_of_us)
        except TypeError:  # only a snapshot built by hand holds values of another type
            return False

    return run


def property_reader(node: c.PropertyCriterion) -> Callable[[ContactSnapshot], Any]:
    """The property's value in a snapshot, read as its declared type (`catalog.read_value`:
    what the store gives for the stored value); None when unknown or when it does not fit.
    A value already of its type (as the store hands it over) takes a short path."""
    name, kind, options = node.property, node.kind, node.options
    if kind is None:
        return lambda snap: snap.properties.get(name)
    fast = _FAST_READS.get(kind)
    if kind is PropertyType.ENUM:
        lowered: dict[str, str] = {}
        for option in reversed(options):  # the first option that matches wins
            lowered[option.lower()] = option

        def read_enum(snap: ContactSnapshot) -> Any:
            value = snap.properties.get(name)
            if value.__class__ is str and options:
                return lowered.get(value.strip().lower())
            return None if value is None else read_value(value, kind, options)

        return read_enum
    assert fast is not None

    def read(snap: ContactSnapshot) -> Any:
        value = snap.properties.get(name)
        if value is None:
            return None
        short = fast.get(value.__class__)
        return short(value) if short is not None else read_value(value, kind, options)

    return read


def _read_float(value: float) -> Any:
    """`coerce_value(value, NUMBER)` of a float, with non-finite numbers unknown."""
    if value != value or value in (INF, -INF):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


_FAST_READS: dict[PropertyType, dict[type, Callable[[Any], Any]]] = {
    PropertyType.STRING: {str: lambda v: v.strip() or None},
    PropertyType.NUMBER: {int: lambda v: v, float: _read_float},
    PropertyType.BOOL: {bool: lambda v: v},
    PropertyType.DATE: {datetime: lambda v: v if v.tzinfo is UTC else read_value(
        v, PropertyType.DATE)},
}


def describe_test(test: c.ValueTest) -> str:
    op = OPERATORS[test.op]
    written = test.written
    if op.shape == "flag":
        return op.phrase if written else ("is unknown" if test.op == "is_known" else "is known")
    if isinstance(written, list):
        shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in written[:6])
        if len(written) > 6:
            shown += f", … ({len(written)} in all)"
        return f"{op.phrase} {shown}"
    if isinstance(written, bool):
        return f"{op.phrase} {str(written).lower()}"
    return f"{op.phrase} {written!r}" if isinstance(written, str) else f"{op.phrase} {written}"


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()


class PropertyMatcher:
    __slots__ = ("node", "name", "op", "expected", "run", "read")

    def __init__(self, node: c.PropertyCriterion) -> None:
        assert node.test is not None, "a bare property criterion only appears in tiered rules"
        self.node = node
        self.name = node.property
        self.op = node.test.op
        self.expected = node.test.expected
        self.read = property_reader(node)
        self.run = (_value_test(node.test) if OPERATORS[self.op].test
                    or self.op in ("is_known", "is_unknown") else None)

    def holds(self, snap: ContactSnapshot) -> bool:
        if self.run is not None:
            return self.run(self.read(snap), snap.as_of_us)
        # changed_within: a recorded change (a clear included) within the last `expected` µs
        return snap.changed_since(self.name, micros_to_seconds(snap.as_of_us - self.expected))

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        return INF if self.holds(snap) else None

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        matched = self.holds(snap)
        value = self.read(snap)
        test = describe_test(self.node.test)  # type: ignore[arg-type]
        if self.op == "changed_within":
            times = snap.changes.get(self.name)
            last = f"last changed {_day(times[-1])}" if times else "never changed"
            return Reason(matched, f"{self.name} {test} ({last})")
        shown = "unknown" if value is None else _show(value)
        return Reason(matched, f"{self.name} {test}: {'yes' if matched else 'no'} ({shown})")


VERDICT_CACHE_LIMIT = 65_536


def _attribute_check(flt: c.AttributeFilter) -> Callable[[Any, int], bool]:
    """(attributes, as_of µs) -> bool for one filter. A stored value whose JSON type does not
    fit the filter's kind is unknown (`catalog.read_attribute`). Event streams repeat the same
    URLs and form ids, so a verdict is remembered per text value (bounded) unless it depends
    on time."""
    name, run, kind = flt.attribute, _value_test(flt.test), flt.kind
    if flt.test.op == "within_last":
        return lambda attributes, as_of_us: run(read_attribute(attributes.get(name), kind),
                                                as_of_us)
    if kind not in (PropertyType.STRING, PropertyType.DATE):
        return lambda attributes, as_of_us: run(read_attribute(attributes.get(name), kind),
                                                as_of_us)
    verdicts: dict[str, bool] = {}
    unknown = run(None, 0)

    def check(attributes: Any, as_of_us: int) -> bool:
        value = attributes.get(name)
        if value.__class__ is not str:  # only a JSON string fits text and date attributes
            return unknown
        try:
            return verdicts[value]
        except KeyError:
            if len(verdicts) >= VERDICT_CACHE_LIMIT:
                verdicts.clear()
            verdict = verdicts[value] = run(read_attribute(value, kind), as_of_us)
            return verdict

    return check


def exclusion_check(exclusion: c.EventExclusion) -> Callable[[Any, int], bool]:
    """(attributes, as_of µs) -> whether the exclusion leaves the event out: every filter
    holds."""
    checks = [_attribute_check(f) for f in exclusion.filters]
    return lambda attributes, as_of_us: all(check(attributes, as_of_us) for check in checks)


def _kept_by(excluding: tuple[c.EventExclusion, ...]) -> Callable[[Any, int], bool]:
    """(attributes, as_of µs) -> whether no exclusion leaves the event out."""
    checks = [exclusion_check(e) for e in excluding]
    return lambda attributes, as_of_us: not any(check(attributes, as_of_us) for check in checks)


class EventMatcher:
    __slots__ = ("node", "key", "type", "filters", "within", "since", "until", "low", "high")

    def __init__(self, node: c.EventCriterion, key: int) -> None:
        self.node = node
        self.key = key
        self.type = node.event_type
        # the model's exclusions first: an excluded event is not there for any filter
        self.filters = ([_kept_by(node.excluding)] if node.excluding else []) + [
            _attribute_check(f) for f in node.filters]
        window = node.window
        self.within = duration_micros(window.within_last) if window.within_last else None
        self.since = to_micros(window.since) if window.since else None
        self.until = to_micros(window.until) if window.until else None
        self.low = node.count.low
        self.high = node.count.high

    def bounds(self, as_of_us: int) -> tuple[int | None, int]:
        """The window in microseconds: (lowest time included or None, highest included)."""
        lo = as_of_us - self.within if self.within is not None else None
        if self.since is not None and (lo is None or self.since > lo):
            lo = self.since
        hi = as_of_us if self.until is None or self.until > as_of_us else self.until
        return lo, hi

    def times(self, snap: ContactSnapshot, memo: dict) -> Sequence[float]:
        """Times of the matching events (oldest first), within the window and filters."""
        found = memo.get(self.key)
        if found is not None:
            return found
        series = snap.events.get(self.type)
        if series is None:
            found = ()
        else:
            times = series.times
            as_of_us = snap.as_of_us
            lo, hi = self.bounds(as_of_us)
            # the snapshot's float seconds order exactly as their microseconds (µs / 10⁶,
            # correctly rounded, is what datetime.timestamp() gives)
            start = bisect_left(times, lo / 1_000_000) if lo is not None else 0
            end = bisect_right(times, hi / 1_000_000)
            filters = self.filters
            if not filters:
                found = times[start:end]
            elif len(filters) == 1:
                check = filters[0]
                attributes = series.attributes
                found = [times[i] for i in range(start, end) if check(attributes[i], as_of_us)]
            else:
                attributes = series.attributes
                found = [times[i] for i in range(start, end)
                         if all(check(attributes[i], as_of_us) for check in filters)]
        memo[self.key] = found
        return found

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        times = self.times(snap, memo)
        n = len(times)
        if n < self.low or (self.high is not None and n > self.high):
            return None
        return times[n - self.low] if self.low > 0 else INF

    def describe(self) -> str:
        parts = [f"{self.type} events"]
        if self.node.filters:
            parts.append("where " + " and ".join(
                f"{f.attribute} {describe_test(f.test)}" for f in self.node.filters))
        window = self.node.window
        if window.within_last is not None:
            parts.append(f"in the last {window.within_last.days or 0}d"
                         if window.within_last.days else f"in the last {window.within_last}")
        if window.since is not None:
            parts.append(f"since {window.since.date().isoformat()}")
        if window.until is not None:
            parts.append(f"until {window.until.date().isoformat()}")
        return " ".join(parts)

    def describe_count(self) -> str:
        low, high = self.low, self.high
        if high is None:
            return f"at least {low}"
        if low == high:
            return f"exactly {low}"
        if low <= 1:
            return f"at most {high}" + (" (none counts)" if low == 0 else "")
        return f"{low}–{high}"

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        times = self.times(snap, memo)
        matched = self.evidence(snap, memo) is not None
        latest = f"; latest {_day(times[-1])}" if times else ""
        described = self.describe()
        if len(times) == 1:
            described = described.replace(" events", " event", 1)
        text = f"{len(times)} {described} (needs {self.describe_count()}){latest}"
        return Reason(matched, text)


class ScoreMatcher:
    """A computed score's value or label, from `snap.scores` (filled in by the caller)."""

    __slots__ = ("node", "run")
    WORD = "score"

    def __init__(self, node: c.ScoreCriterion | c.CompanyScoreCriterion) -> None:
        self.node = node
        self.run = _value_test(node.test) if node.test is not None else None

    def stored(self, snap: ContactSnapshot) -> tuple[Any, str | None]:
        return snap.scores.get(self.node.score, (None, None))

    def known(self, snap: ContactSnapshot, value: Any) -> bool:
        """Whether the score has a value for `is_known` / `is_unknown`: it is computed and
        scored (an unscored score's value is 0, and compares as 0)."""
        return value is not None and self.node.score not in snap.unscored

    def holds(self, snap: ContactSnapshot) -> bool:
        value, label = self.stored(snap)
        node = self.node
        if node.labels is not None:
            return label is not None and label.lower() in node.labels
        test = node.test
        if test is not None and test.op in ("is_known", "is_unknown"):
            present = test.expected if test.op == "is_known" else not test.expected
            return self.known(snap, value) == present
        return self.run is not None and self.run(value, snap.as_of_us)

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        return INF if self.holds(snap) else None

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        value, label = self.stored(snap)
        matched = self.holds(snap)
        shown = ("not scored" if value is None
                 else "unscored" if not self.known(snap, value)
                 else f"{value:g}" + (f" ({label})" if label else ""))
        if self.node.labels is not None:
            wanted = "label " + (self.node.labels_written
                                 or " or ".join(sorted(self.node.labels)))
        else:
            wanted = describe_test(self.node.test)  # type: ignore[arg-type]
        return Reason(matched, f"{self.WORD} {self.node.score} {wanted}: "
                               f"{'yes' if matched else 'no'} ({shown})")


class CompanyScoreMatcher(ScoreMatcher):
    """A stored score of the contact's company, from `snap.company_scores` (filled in by the
    caller from `company_members` and `company_scores`). No company, no stored score, or a
    stored value None: unknown (comparisons false, `is_unknown` true, no label)."""

    __slots__ = ()
    WORD = "company score"

    def stored(self, snap: ContactSnapshot) -> tuple[Any, str | None]:
        return snap.company_scores.get(self.node.score, (None, None))

    def known(self, snap: ContactSnapshot, value: Any) -> bool:
        return value is not None


class ListMatcher:
    __slots__ = ("name",)

    def __init__(self, node: c.ListCriterion) -> None:
        self.name = node.list_name

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        return INF if self.name in snap.lists else None

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        member = self.name in snap.lists
        return Reason(member, f"in list {self.name}: {'yes' if member else 'no'}")


class CompanyListMatcher:
    """The contact's company is in a company list: `snap.company_scores` holds the key
    `company_list_key(name)` (filled in by the caller from `company_members` and
    `company_list_members`); no company: in no company list."""

    __slots__ = ("key", "name")

    def __init__(self, node: c.CompanyListCriterion) -> None:
        self.name = node.list_name
        self.key = c.company_list_key(node.list_name)

    def holds(self, snap: ContactSnapshot) -> bool:
        return self.key in snap.company_scores

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        return INF if self.holds(snap) else None

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        member = self.holds(snap)
        return Reason(member, f"company in company list {self.name}: "
                              f"{'yes' if member else 'no'}")


class AllMatcher:
    __slots__ = ("children",)

    def __init__(self, children: list) -> None:
        self.children = children

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        oldest = INF
        for child in self.children:
            found = child.evidence(snap, memo)
            if found is None:
                return None
            if found < oldest:
                oldest = found
        return oldest

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        reasons = [child.explain(snap, memo) for child in self.children]
        held = sum(r.matched for r in reasons)
        matched = held == len(reasons)
        return Reason(matched, f"all of {len(reasons)} ({held} hold)", reasons)


class AnyMatcher:
    __slots__ = ("children",)

    def __init__(self, children: list) -> None:
        self.children = children

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        best: Evidence = None
        for child in self.children:
            found = child.evidence(snap, memo)
            if found is not None and (best is None or found > best):
                best = found
        return best

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        reasons = [child.explain(snap, memo) for child in self.children]
        held = sum(r.matched for r in reasons)
        return Reason(held > 0, f"any of {len(reasons)} ({held} hold)", reasons)


class NotMatcher:
    __slots__ = ("child",)

    def __init__(self, child) -> None:
        self.child = child

    def evidence(self, snap: ContactSnapshot, memo: dict) -> Evidence:
        return INF if self.child.evidence(snap, memo) is None else None

    def explain(self, snap: ContactSnapshot, memo: dict) -> Reason:
        inner = self.child.explain(snap, memo)
        return Reason(not inner.matched, "not", [inner])
