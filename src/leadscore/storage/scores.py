"""Current scores, wide: one row per contact of one model, wherever the rows were written.

A bulk run writes a *score segment* for the model: a row per contact it scored, with every
score (`"<score>"`, `"<score>:label"`, `"<score>:scored"`: FALSE when unscored, NULL in a
segment written before it was kept), the grade, the stage the contact has after the run, its
next time-based change and when it was computed. The automation writes rows of the `scores`
table (a row per score). A contact's current scores are its most recently computed ones; when
a run scored every contact, older segments of its model are retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadscore.storage.duck import parquet_source, quote_name, quote_text
from leadscore.storage.segments import Segment, SegmentKind
from leadscore.storage.views import DataView

GRADE = "grade"
SCORED = ":scored"  # "<score>:scored" beside "<score>" and "<score>:label"


def score_segments(view: DataView, model: str) -> list[Segment]:
    if not view.embedded or view.segments is None:
        return []
    return view.segments.live(view.connection, SegmentKind.SCORES, model=model)


def wide_columns(names: Sequence[str]) -> list[str]:
    found = []
    for name in names:
        found += [quote_name(name), quote_name(name + ":label"), quote_name(name + SCORED)]
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
        picks.append(f"bool_or(CASE WHEN score = {quote_text(name)} THEN scored END) "
                     f"AS {quote_name(name + SCORED)}")
    picks.append(f"max(CASE WHEN score = '{GRADE}' THEN label END) AS grade")
    table = view.relation("scores")
    return (f"(SELECT contact_id, {', '.join(picks)}, max(computed_us) AS computed_us, "
            f"max(as_of_us) AS as_of_us, max(next_change_us) AS next_change_us, "
            f"CAST(max(version) AS BIGINT) AS version FROM {table} "
            f"WHERE model = {quote_text(model)} GROUP BY contact_id)")


def segment_columns(view: DataView, segment: Segment, values: Sequence[str]) -> str:
    """`values` as a SELECT list from a score segment: `version` is NULL in a segment written
    before versions were (migration 0010), `"<score>:scored"` before flags were (0014)."""
    from leadscore.storage.views import file_columns

    present = file_columns(view.duck, str(segment.path))

    def pick(column: str) -> str:
        bare = column[1:-1].replace('""', '"') if column.startswith('"') else column
        if column == "version" and "version" not in present:
            return "CAST(NULL AS BIGINT) AS version"
        if bare.endswith(SCORED) and bare not in present:
            return f"CAST(NULL AS BOOLEAN) AS {column}"
        return column

    return ", ".join(pick(c) for c in values)


@dataclass(frozen=True)
class WideParts:
    """A model's current scores as their parts: `base` (SQL of the newest full run's segment,
    None when there is none), `patches` (SQL of the newer rows, each contact's newest) and
    the SELECT list both share (`values`)."""

    values: list[str]
    base: str | None
    base_segment: Segment | None
    patches: str


def wide_parts(view: DataView, model: str, names: Sequence[str]) -> WideParts:
    values = [*wide_columns(names), "grade", "computed_us", "as_of_us", "next_change_us",
              "version"]
    columns = ", ".join(values)
    tail = tail_wide_sql(view, model, names)
    segments = score_segments(view, model)
    fulls = [i for i, s in enumerate(segments) if s.meta.get("full")]
    first = fulls[-1] if fulls else 0
    base_segment = segments[first] if segments else None
    patch_parts = [f"SELECT contact_id, {columns}, CAST(NULL AS VARCHAR) AS stage, "
                   f"-1 AS k FROM {tail}"]
    for k, segment in enumerate(segments[first + 1:]):
        patch_parts.append(f"SELECT contact_id, {segment_columns(view, segment, values)}, "
                           f"stage, {k} AS k FROM {parquet_source([str(segment.path)])}")
    if base_segment is None:
        return WideParts(values, None, None, f"(SELECT contact_id, {columns}, "
                                             f"CAST(NULL AS VARCHAR) AS stage FROM {tail})")
    base = (f"(SELECT contact_id, {segment_columns(view, base_segment, values)}, stage "
            f"FROM {parquet_source([str(base_segment.path)])})")
    if len(patch_parts) == 1:  # the usual case: one base, patched by newer rows of the table
        patches = f"(SELECT * EXCLUDE (k) FROM ({patch_parts[0]}))"
    else:
        patches = (f"(SELECT * EXCLUDE (k, latest) FROM (SELECT *, row_number() OVER "
                   f"(PARTITION BY contact_id ORDER BY computed_us DESC, k DESC) AS latest "
                   f"FROM ({' UNION ALL '.join(patch_parts)})) WHERE latest = 1)")
    return WideParts(values, base, base_segment, patches)


def winning_patches_sql(parts: WideParts) -> str:
    """The patches that are a contact's current scores (newer than its base row, or none)."""
    assert parts.base is not None
    return ("(SELECT p.contact_id, " + ", ".join(f"p.{c}" for c in parts.values)
            + f", coalesce(p.stage, b.stage) AS stage FROM {parts.patches} AS p "
            f"LEFT JOIN {parts.base} AS b ON b.contact_id = p.contact_id "
            f"WHERE b.contact_id IS NULL OR p.computed_us > b.computed_us)")


def current_wide_sql(view: DataView, model: str, names: Sequence[str]) -> str:
    """SQL of (contact_id, the model's scores and labels, grade, computed_us, as_of_us,
    next_change_us, stage): each contact's most recently computed scores under `model`.
    (`stage` is the stage a bulk run left; the current stage is the lifecycle_stage
    property's.)

    The newest segment of a run that scored everyone is the *base*; later runs' segments and
    the `scores` table's rows are *patches* over it, each contact's newest patch winning.
    Patches are small (the maintenance folds them into a new base when they grow), so only
    they are ranked — never the base's million rows."""
    parts = wide_parts(view, model, names)
    if parts.base is None:
        return parts.patches
    columns = ", ".join(parts.values)
    return (f"(SELECT contact_id, {columns}, stage FROM {parts.base} AS b ANTI JOIN "
            f"{parts.patches} AS p ON p.contact_id = b.contact_id AND p.computed_us > "
            f"b.computed_us UNION ALL SELECT * FROM {winning_patches_sql(parts)})")


def patch_share(view: DataView, model: str) -> tuple[int, float]:
    """(patch segments, their rows as a share of the base's) of a model's scores."""
    segments = score_segments(view, model)
    fulls = [i for i, s in enumerate(segments) if s.meta.get("full")]
    if not segments:
        return 0, 0.0
    first = fulls[-1] if fulls else 0
    patches = segments[first + 1:]
    return len(patches), sum(s.rows for s in patches) / max(segments[first].rows, 1)
