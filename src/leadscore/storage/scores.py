"""Current scores, wide: one row per contact of one model, wherever the rows were written.

A bulk run writes a *score segment* for the model: a row per contact it scored, with every
score (`"<score>"`, `"<score>:label"`), the grade, the stage the contact has after the run, its
next time-based change and when it was computed. The automation writes rows of the `scores`
table (a row per score). A contact's current scores are its most recently computed ones; when
a run scored every contact, older segments of its model are retired.
"""

from __future__ import annotations

from collections.abc import Sequence

from leadscore.storage.duck import parquet_source, quote_name, quote_text
from leadscore.storage.segments import Segment, SegmentKind
from leadscore.storage.views import DataView

GRADE = "grade"


def score_segments(view: DataView, model: str) -> list[Segment]:
    if not view.embedded or view.segments is None:
        return []
    return view.segments.live(view.connection, SegmentKind.SCORES, model=model)


def wide_columns(names: Sequence[str]) -> list[str]:
    found = []
    for name in names:
        found += [quote_name(name), quote_name(name + ":label")]
    return found


def tail_wide_sql(view: DataView, model: str, names: Sequence[str]) -> str:
    """The `scores` table's rows of `model`, one row per contact (a contact there has every
    score of the model: the automation writes them together)."""
    picks = []
    for name in names:
        picks.append(f"max(CASE WHEN score = {quote_text(name)} THEN value END) "
                     f"AS {quote_name(name)}")
        picks.append(f"max(CASE WHEN score = {quote_text(name)} THEN label END) "
                     f"AS {quote_name(name + ':label')}")
    picks.append(f"max(CASE WHEN score = '{GRADE}' THEN label END) AS grade")
    table = view.relation("scores")
    return (f"(SELECT contact_id, {', '.join(picks)}, max(computed_us) AS computed_us, "
            f"max(as_of_us) AS as_of_us, max(next_change_us) AS next_change_us FROM {table} "
            f"WHERE model = {quote_text(model)} GROUP BY contact_id)")


def current_wide_sql(view: DataView, model: str, names: Sequence[str]) -> str:
    """SQL of (contact_id, the model's scores and labels, grade, computed_us, as_of_us,
    next_change_us, stage): each contact's most recently computed scores under `model`.
    (`stage` is the stage a bulk run left; the current stage is the lifecycle_stage
    property's.)"""
    columns = ", ".join([*wide_columns(names), "grade", "computed_us", "as_of_us",
                         "next_change_us"])
    tail = tail_wide_sql(view, model, names)
    segments = score_segments(view, model)
    if not segments:
        return f"(SELECT contact_id, {columns}, CAST(NULL AS VARCHAR) AS stage FROM {tail})"
    if len(segments) == 1:  # the usual case: one base, patched by newer rows of the table
        base = parquet_source([str(segments[0].path)])
        return (f"(SELECT contact_id, {columns}, stage FROM {base} AS b ANTI JOIN {tail} AS p "
                f"ON p.contact_id = b.contact_id AND p.computed_us > b.computed_us "
                f"UNION ALL SELECT p.contact_id, "
                + ", ".join(f"p.{c}" for c in [*wide_columns(names), "grade", "computed_us",
                                                "as_of_us", "next_change_us"])
                + f", b.stage FROM {tail} AS p LEFT JOIN {base} AS b "
                f"ON b.contact_id = p.contact_id "
                f"WHERE b.contact_id IS NULL OR p.computed_us > b.computed_us)")
    parts = [f"SELECT contact_id, {columns}, CAST(NULL AS VARCHAR) AS stage FROM {tail}"]
    for segment in segments:
        source = parquet_source([str(segment.path)])
        parts.append(f"SELECT contact_id, {columns}, stage FROM {source}")
    union = " UNION ALL ".join(parts)
    return (f"(SELECT * EXCLUDE (latest) FROM (SELECT *, row_number() OVER (PARTITION BY "
            f"contact_id ORDER BY computed_us DESC) AS latest FROM ({union})) "
            f"WHERE latest = 1)")
