"""Label ranges in score conditions: `{score: fit, label: {at_least: B}}` is B or any label
above it, in the order of the score's threshold ranges — whatever the labels are called (A
above B; or 1 above 2 when the thresholds say so). It compiles to the plain set of labels, so
every engine reads it as the label condition it already knows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadscore.diagnostics import did_you_mean
from leadscore.model import criteria as c
from leadscore.model.model import Score

if TYPE_CHECKING:
    from leadscore.model.criterion_compile import CriterionCompiler
    from leadscore.model.source import Path


def label_range(compiler: CriterionCompiler, name: str, score: Score, written: dict,
                path: Path) -> c.ScoreCriterion | None:
    ordered = [t.label for t in score.thresholds]  # by their ranges, lowest first
    if len(written) != 1 or next(iter(written)) not in ("at_least", "at_most"):
        compiler.error("LS176", "a label range is written {at_least: LABEL} or "
                       "{at_most: LABEL}", path, hint=f"e.g. {{score: {name}, label: "
                       f"{{at_least: {ordered[-1] if ordered else 'B'}}}}}")
        return None
    op, label = next(iter(written.items()))
    if str(label) not in ordered:
        compiler.error("LS125", f"score '{name}' has no threshold label '{label}'",
                       path + (op,), hint=did_you_mean(str(label), ordered)
                       or "labels: " + ", ".join(ordered))
        return None
    at = ordered.index(str(label))
    chosen = ordered[at:] if op == "at_least" else ordered[:at + 1]
    shown = f"{label} or above" if op == "at_least" else f"{label} or below"
    return c.ScoreCriterion(name, labels=frozenset(x.lower() for x in chosen),
                            labels_written=f"{shown} ({', '.join(reversed(chosen))})")
