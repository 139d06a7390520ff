"""The current state of contacts, read from a `DataView`: their scores, stages and counts.

Scores are written two ways: a bulk run writes one *score segment* per run (wide: a row per
contact with every score, label, the grade and the stage it left), the automation writes rows
of the `scores` table (long: a row per score). A contact's current score is the most recently
computed of these. Score history is appended where a value or label changed; a reader shows a
change only where it differs from the row before it (a segment written by a bulk run and rows
written by the worker can repeat a value).
"""

from __future__ import annotations

from typing import Any

from leadscore.catalog.forms import from_micros
from leadscore.storage.duck import parquet_source, quote_name, quote_text
from leadscore.storage.records import StoredScore
from leadscore.storage.segments import Segment, SegmentKind
from leadscore.storage.views import DataView

LIFECYCLE = "lifecycle_stage"


def score_segments(view: DataView, model: str | None = None) -> list[Segment]:
    if not view.embedded or view.segments is None:
        return []
    return view.segments.live(view.connection, SegmentKind.SCORES, model=model)


def long_scores_sql(view: DataView, model: str | None = None) -> str:
    """SQL of every current score as (contact_id, model, score, value, label, computed_us,
    as_of_us) rows — the latest computed per contact, model and score."""
    where = f" WHERE model = {quote_text(model)}" if model is not None else ""
    tail = f"SELECT contact_id, model, score, value, label, computed_us, as_of_us " \
           f"FROM {view.relation('scores')}{where}"
    parts = [tail]
    for segment in score_segments(view, model):
        source = parquet_source([str(segment.path)])
        names = list(segment.meta.get("scores", []))
        model_name = quote_text(segment.model or "")
        for name in names:
            parts.append(
                f"SELECT contact_id, {model_name} AS model, {quote_text(name)} AS score, "
                f"{quote_name(name)} AS value, {quote_name(name + ':label')} AS label, "
                f"computed_us, as_of_us FROM {source}")
        if segment.meta.get("grade"):
            parts.append(
                f"SELECT contact_id, {model_name} AS model, 'grade' AS score, "
                f"CAST(NULL AS DOUBLE) AS value, grade AS label, computed_us, as_of_us "
                f"FROM {source} WHERE grade IS NOT NULL")
    if len(parts) == 1:
        return f"({tail})"
    union = " UNION ALL ".join(parts)
    return (f"(SELECT contact_id, model, score, value, label, computed_us, as_of_us FROM "
            f"(SELECT *, row_number() OVER (PARTITION BY contact_id, model, score "
            f"ORDER BY computed_us DESC) AS latest FROM ({union}) AS all_scores) AS ranked "
            f"WHERE latest = 1)")


def stored_scores(view: DataView, model: str | None = None) -> list[StoredScore]:
    rows = view.query(
        f"SELECT s.contact_id, c.email, s.score, s.value, s.label, s.computed_us, s.model, "
        f"s.as_of_us FROM {long_scores_sql(view, model)} AS s "
        f"JOIN {view.relation('contacts')} AS c ON c.contact_id = s.contact_id "
        f"ORDER BY s.model, s.score, s.contact_id")
    return [StoredScore(cid, email, score, value, label, from_micros(computed), name,
                        from_micros(as_of))
            for cid, email, score, value, label, computed, name, as_of in rows]


def score_history(view: DataView, contact_id: str, model: str | None = None
                  ) -> list[StoredScore]:
    """The contact's score changes, oldest first: a row is kept where the value, label or
    the model version that computed it differs from the previous row of the same model and
    score."""
    rows = view.rows_of("score_history", contact_id, "computed_us, seq")
    email = _email(view, contact_id)
    last: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
    found = []
    for _seq, cid, name, score, value, label, computed, as_of, version in rows:
        if model is not None and name != model:
            continue
        key = (name, score)
        version = None if version is None else int(version)
        if last.get(key) == (value, label, version):
            continue
        last[key] = (value, label, version)
        found.append(StoredScore(cid, email, score, value, label, from_micros(computed), name,
                                 from_micros(as_of), version))
    return found


def _email(view: DataView, contact_id: str) -> str | None:
    mark = "?" if view.connection.dialect.name == "sqlite" else "%s"
    return view.connection.exec_driver_sql(
        f"SELECT email FROM contacts WHERE contact_id = {mark}", (contact_id,)).scalar()


def stages(view: DataView) -> dict[str, str | None]:
    """Every contact's lifecycle stage now (None: none)."""
    from leadscore.storage.leads import stage_relation

    found: dict[str, str | None] = {cid: None for cid, in view.connection.exec_driver_sql(
        "SELECT contact_id FROM contacts")}
    found.update({cid: stage for cid, stage in view.query(
        f"SELECT contact_id, stage FROM {stage_relation(view)} AS s")})
    return found


def stage_counts(view: DataView) -> dict[str | None, int]:
    """Contacts per lifecycle stage now (None: contacts with none)."""
    from leadscore.storage.leads import LIFECYCLE, stage_relation

    total = int(view.connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar() or 0)
    if view.embedded:  # counted from the values cache's counts (`value_counts_sql`)
        from leadscore.storage.values import value_counts_sql

        found: dict[str | None, int] = {stage: int(n) for stage, n in view.query(
            f"SELECT value, contacts FROM {value_counts_sql(view, LIFECYCLE)}")}
    else:
        found = {stage: int(n) for stage, n in view.query(
            f"SELECT stage, count(*) FROM {stage_relation(view)} AS s WHERE stage IS NOT NULL "
            f"GROUP BY stage")}
    rest = total - sum(found.values())
    if rest > 0:
        found[None] = rest
    return found


def counts(view: DataView, model: str | None = None, *,
           scored: int | None = None) -> dict[str, Any]:
    """contacts, events, property_changes, and (for `model`, else all models) scored contacts
    and when a score was last computed."""
    contacts = view.connection.exec_driver_sql("SELECT count(*) FROM contacts").scalar() or 0
    totals: dict[str, int] = {}
    for table in ("events", "property_changes"):
        totals[table] = int(view.connection.exec_driver_sql(
            f"SELECT count(*) FROM {table}").scalar() or 0)
        if view.embedded and view.segments is not None:
            kind = SegmentKind.EVENTS if table == "events" else SegmentKind.PROPS
            totals[table] += sum(s.rows for s in view.segments.live(view.connection, kind))
    last = _last_computed(view, model)
    if scored is None:
        scored = view.query(f"SELECT count(DISTINCT contact_id) FROM "
                            f"{long_scores_sql(view, model)} AS s")[0][0]
    return {"contacts": int(contacts), "events": totals["events"],
            "property_changes": totals["property_changes"], "scored": int(scored or 0),
            "last_computed_at": from_micros(last) if last is not None else None}


def _last_computed(view: DataView, model: str | None) -> int | None:
    """When a score (of `model`, or any) was last computed: the newest score segment or row."""
    where = " WHERE model = ?" if model is not None else ""
    mark = "?" if view.connection.dialect.name == "sqlite" else "%s"
    found = view.connection.exec_driver_sql(
        f"SELECT max(computed_us) FROM scores{where.replace('?', mark)}",
        (model,) if model is not None else ()).scalar()
    latest = [int(found)] if found is not None else []
    for segment in score_segments(view, model):
        latest.append(segment.created_us)
    return max(latest) if latest else None
