"""The filters of a leads query (`leadscore leads --label/--stage/--grade`), checked against the
model, so that a typo is named ("did you mean") instead of matching no one."""

from __future__ import annotations

import difflib

from leadscore.diagnostics import DiagnosticList, Location
from leadscore.model import Model


def check_lead_filters(model: Model, *, label: str | None = None, stage: str | None = None,
                       grade: str | None = None) -> None:
    """Raise LS313 (label), LS322 (stage) or LS314 (grade) for a value the model cannot give;
    all of them at once. Comparisons ignore case, as the query does."""
    problems = DiagnosticList()
    primary = model.primary_score
    labels = [t.label for t in primary.thresholds]
    if label is not None and label.lower() not in {x.lower() for x in labels}:
        problems.error("LS313", f"score '{primary.name}' of model {model.name} has no label "
                       f"'{label}'", Location(field="--label"), text=label,
                       hint=_suggest(label, labels) or (
                           "labels: " + ", ".join(labels) if labels
                           else f"score '{primary.name}' has no thresholds"))
    stages = model.lifecycle.stages
    if stage is not None and stage.lower() not in stages:
        problems.error("LS322", f"unknown lifecycle stage '{stage}'", Location(field="--stage"),
                       text=stage, hint=_suggest(stage, stages)
                       or "stages: " + ", ".join(stages))
    grades = _grades(model)
    if grade is not None and grade.lower() not in {g.lower() for g in grades}:
        problems.error("LS314", f"model {model.name} has no grade '{grade}'",
                       Location(field="--grade"), text=grade,
                       hint=_suggest(grade, grades) or (
                           "grades: " + ", ".join(grades) if grades
                           else "the model has no grade matrix"))
    problems.raise_if_errors()


def _grades(model: Model) -> list[str]:
    if model.grade is None:
        return []
    rows = [t.label for t in model.scores[model.grade.rows].thresholds]
    columns = [t.label for t in model.scores[model.grade.columns].thresholds]
    return sorted(f"{r}{c}" for r in rows for c in columns)


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """"did you mean …?", ignoring case (as the query does), in the model's own spelling."""
    spelled = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), sorted(spelled), n=1, cutoff=0.6)
    return f"did you mean '{spelled[found[0]]}'?" if found else None
