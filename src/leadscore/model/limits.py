"""The limits of what leadscore reads from a definition file, so that a file that passes
validation cannot hang or exhaust a process (docs/limits.md lists them).

The YAML reader (`source.py`) enforces the size, nesting and value limits while it composes
the file; `check_model_limits` checks the numbers of a validated model spec: how many rules,
and that every points-like number is finite and within ±MAX_POINTS, so that no score can become
infinite or NaN however many rules and events add up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from leadscore.catalog import CoercionError, parse_duration
from leadscore.diagnostics import Diagnostic

MAX_FILE_BYTES = 1_000_000  # a model, lists, workflows or mapping file
MAX_DEPTH = 64  # nested mappings and lists (a `not` inside a `not` … counts two levels each)
MAX_NODES = 100_000  # YAML values in a file, counted after aliases are expanded
MAX_RULES = 2_000  # rules in one model, over all its scores and groups
MAX_COUNT = 10**15  # an event count a rule can ask for (every engine counts in 64 bits)
MAX_POINTS = 1_000_000  # |points|, tier points, caps (min/max) and threshold bounds
MAX_DURATION_DAYS = 36_500  # timeframes, decay and workflow delays: at most 100 years
DURATION_KEYS = frozenset({"within_last", "changed_within", "half_life", "every", "linear",
                           "expire_after", "delay", "due_in"})

Path = tuple[str | int, ...]  # as in source.py: keys and list indices from the file's root

Report = Callable[[str, str, Path, str], None]  # (code, message, path, hint)


def check_model_limits(spec: Any, report: Report) -> None:
    """Report (LS108) a model with more than MAX_RULES rules, and (LS137) every points, tier
    points, cap or threshold bound that is not a finite number within ±MAX_POINTS."""
    rules = 0
    beyond: Path | None = None  # the first rule past the limit
    for name, score in spec.scores.items():
        base: Path = ("scores", name)
        _bounds(score, base, report)
        for i, threshold in enumerate(score.thresholds):
            _bounds(threshold, base + ("thresholds", i), report)
        for rule_path, rule in _rules(score, base):
            rules += 1
            if rules == MAX_RULES + 1:
                beyond = rule_path
            _bounds(rule, rule_path, report)
            _number(rule.points, rule_path + ("points",), report)
            for t, tier in enumerate(rule.tiers or []):
                _number(tier.points, rule_path + ("tiers", t, "points"), report)
        for g, group in enumerate(score.groups):
            _bounds(group, base + ("groups", g), report)
    if beyond is not None:
        report("LS108", f"the model has {rules:,} rules; leadscore reads at most "
               f"{MAX_RULES:,} (this is rule {MAX_RULES + 1:,})", beyond,
               "split the model, or turn many similar rules into tiers or points_from")


def _rules(score: Any, base: Path) -> Iterator[tuple[Path, Any]]:
    for i, rule in enumerate(score.rules):
        yield base + ("rules", i), rule
    for g, group in enumerate(score.groups):
        for i, rule in enumerate(group.rules):
            yield base + ("groups", g, "rules", i), rule


def _bounds(item: Any, path: Path, report: Report) -> None:
    for key in ("min", "max"):
        _number(getattr(item, key, None), path + (key,), report)


def _number(value: float | None, path: Path, report: Report) -> None:
    if value is None:
        return
    if not math.isfinite(value) or abs(value) > MAX_POINTS:
        report("LS137", f"'{path[-1]}' is {value:g}; points, caps and thresholds are finite "
               f"numbers between -{MAX_POINTS:,} and {MAX_POINTS:,}", path,
               "typical points are between -100 and 100")


def check_durations(doc: Any) -> list[Diagnostic]:
    """LS114 for every duration in a definition file (timeframes, decay, workflow delays)
    longer than MAX_DURATION_DAYS: moments that far back or ahead leave the calendar. Values
    that are not durations at all are left to the compiler, which says what they should be."""
    found: list[Diagnostic] = []

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in DURATION_KEYS and isinstance(item, str | int | float):
                    _duration(item, path + (key,))
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    def _duration(value: Any, path: Path) -> None:
        try:
            days = parse_duration(value).total_seconds() / 86400
        except CoercionError:
            return
        if days > MAX_DURATION_DAYS:
            location, text = doc.location(path)
            found.append(Diagnostic(
                "LS114", f"'{path[-1]}' is longer than {MAX_DURATION_DAYS // 365} years",
                location, text=text, hint="durations are at most 100y (36500d)"))

    walk(doc.data, ())
    return found
