"""Groups, scores, labels, the grade and the threshold stage in SQL, as `evaluation.scoring`:
a group adds its rules left to right and caps the total; a score adds its ungrouped rules and
then its groups, caps and rounds half up to two decimals (`round2`); a sum score adds its parts
the same way. Thresholds label a score's rounded value exactly as `Score.label_for`."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from leadscore.model.model import Grade, Score, Threshold
from leadscore.sql import expr as x
from leadscore.sql.dialect import Dialect


def clamp(dialect: Dialect, value: exp.Expression, low: float | None,
          high: float | None) -> exp.Expression:
    """`arithmetic.clamp`: the cap first, then the floor."""
    if high is not None:
        value = dialect("least", value, x.double(high))
    if low is not None:
        value = dialect("greatest", value, x.double(low))
    return value


def round2(dialect: Dialect, value: exp.Expression) -> exp.Expression:
    """`arithmetic.round2`: floor(x·100 + 0.5) / 100."""
    return x.div(dialect("floor", x.add(x.mul(value, x.double(100.0)), x.double(0.5))),
                 x.double(100.0))


def score_value(dialect: Dialect, score: Score, parts: list[exp.Expression]) -> exp.Expression:
    """A score from its parts (rule and group finals, or summed scores), left to right."""
    return round2(dialect, clamp(dialect, x.add_all(parts), score.min, score.max))


def label(score: Score, value: exp.Expression) -> exp.Expression:
    """`Score.label_for`: the first threshold (by min) whose range holds the value; without
    `max` a range runs up to the next threshold's min (excluded)."""
    return threshold_case(score, value, lambda t: x.string(t.label))


def threshold_case(score: Score, value: exp.Expression,
                   give: Callable[[Threshold], exp.Expression]) -> exp.Expression:
    branches = []
    ordered = score.thresholds
    for i, threshold in enumerate(ordered):
        parts = []
        if threshold.min is not None:
            parts.append(x.gte(value, x.double(threshold.min)))
        if threshold.max is not None:
            parts.append(x.lte(value, x.double(threshold.max)))
        else:
            following = ordered[i + 1].min if i + 1 < len(ordered) else None
            if following is not None:
                parts.append(x.lt(value, x.double(following)))
        branches.append((x.and_(*parts), give(threshold)))
    return x.case(branches)


def stage(score: Score, value: exp.Expression) -> exp.Expression:
    """The stage the score's threshold names (NULL: none)."""
    return threshold_case(score, value,
                          lambda t: x.string(t.stage) if t.stage else exp.null())


def grade(dialect: Dialect, spec: Grade, row: exp.Expression,
          column: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """(grade, grade label): the row label and the column label side by side, when both are
    known; the label names the cell when the model names it (read from the grade's column,
    "gr", of the layer before)."""
    cell = x.when(x.and_(x.not_null(row), x.not_null(column)),
                  dialect("concat", row, column))
    named = x.case([(x.eq(x.column("gr"), x.string(key)), x.string(name))
                    for key, name in spec.labels.items()])
    return cell, named
