"""What changes from one model to another (`Project.diff_models`, `leadscore model diff`):
scores and rules added, removed or changed, and the score spread of a run under each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadscore.model import Model
    from leadscore.project.drafts import DraftReport


@dataclass(frozen=True)
class RuleChange:
    score: str
    rule: str  # "group/rule", or the rule's name outside groups; "" for the score itself
    change: str  # added | removed | changed
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Spread:
    min: float | None
    p50: float | None
    p90: float | None
    max: float | None
    mean: float | None


@dataclass
class ModelDiff:
    a: str  # how each side was named (a version number, "live", "file" or a path)
    b: str
    model_a: str
    model_b: str
    rules: list[RuleChange]
    effect: DraftReport  # B's run beside A's labels (project.drafts.compare)
    labels_a: dict[str, dict[str, int]] = field(default_factory=dict)
    spread_a: dict[str, Spread] = field(default_factory=dict)
    spread_b: dict[str, Spread] = field(default_factory=dict)


def spreads(results: list[Any], model: Model) -> dict[str, Spread]:
    found = {}
    for name in model.scores:
        values = sorted(v for r in results if (v := r.values.get(name)) is not None)
        if not values:
            found[name] = Spread(None, None, None, None, None)
            continue

        def at(share: float, ordered: list[float] = values) -> float:
            return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
        found[name] = Spread(values[0], at(0.5), at(0.9), values[-1],
                             round(sum(values) / len(values), 2))
    return found


def rule_changes(a: Model, b: Model) -> list[RuleChange]:
    """Scores and rules added, removed or changed from `a` to `b` (rules by group and name;
    thresholds as one item per score)."""
    changes: list[RuleChange] = []
    for name in sorted(set(a.scores) | set(b.scores)):
        before, after = a.scores.get(name), b.scores.get(name)
        if before is None or after is None:
            changes.append(RuleChange(name, "", "added" if before is None else "removed",
                                      None if before is None else _score_text(before),
                                      None if after is None else _score_text(after)))
            continue
        rules_a, rules_b = _rules(before), _rules(after)
        for key in [*rules_a, *(k for k in rules_b if k not in rules_a)]:
            old, new = rules_a.get(key), rules_b.get(key)
            if old == new:
                continue
            kind = "added" if old is None else "removed" if new is None else "changed"
            changes.append(RuleChange(name, key, kind, _rule_text(old), _rule_text(new)))
        if before.thresholds != after.thresholds:
            changes.append(RuleChange(name, "thresholds", "changed",
                                      _thresholds(before), _thresholds(after)))
        if (before.max, before.min, before.sum_of) != (after.max, after.min, after.sum_of):
            changes.append(RuleChange(name, "", "changed", _score_text(before),
                                      _score_text(after)))
    return changes


def _rules(score: Any) -> dict[str, Any]:
    found = {rule.name: rule for rule in score.rules}
    for group in score.groups:
        for rule in group.rules:
            found[f"{group.name}/{rule.name}"] = rule
    return found


def _rule_text(rule: Any) -> str | None:
    if rule is None:
        return None
    if rule.tiers:
        points = ", ".join(f"{t.describe()}: {t.points:+g}" for t in rule.tiers)
    elif rule.points_from:
        points = f"points from {rule.points_from}"
    else:
        points = f"{rule.points:+g}" if rule.points is not None else "no points"
    extra = [points]
    if rule.per_event:
        extra.append("per event")
    if rule.decay is not None:
        extra.append(rule.decay.describe())
    if rule.max is not None:
        extra.append(f"max {rule.max:g}")
    return f"{'; '.join(extra)} when {_criterion(rule.criterion)}"


def _criterion(node: Any) -> str:
    """A criterion node in one line: its kind and the fields that are set."""
    import dataclasses

    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        parts = []
        for item in dataclasses.fields(node):
            value = getattr(node, item.name)
            if value is None or value == () or value == {} or value is False:
                continue
            parts.append(f"{item.name}={_criterion(value)}")
        return f"{type(node).__name__.removesuffix('Criterion').lower()}({', '.join(parts)})"
    if isinstance(node, tuple | list):
        return "[" + ", ".join(_criterion(v) for v in node) + "]"
    if isinstance(node, float):
        return f"{node:g}"
    return repr(node) if isinstance(node, str) else str(node)


def _thresholds(score: Any) -> str:
    return ", ".join(f"{t.label} {t.describe()}" for t in score.thresholds) or "none"


def _score_text(score: Any) -> str:
    parts = [f"{len(score.all_rules())} rules"]
    if score.sum_of:
        parts = ["sum of " + " + ".join(score.sum_of)]
    if score.max is not None:
        parts.append(f"max {score.max:g}")
    if score.min is not None:
        parts.append(f"min {score.min:g}")
    return ", ".join(parts)


__all__ = ["ModelDiff", "RuleChange", "Spread", "rule_changes", "spreads"]
