"""Leads and score statistics, answered in the store: filtered, sorted and paged there.

A page of leads is the current scores of one model (`storage.scores.current_wide_sql`) with
each contact's current stage (its lifecycle_stage value), filtered by label, stage, grade and
minimum scores, sorted by one score (best first, then by contact id) and cut after `limit`
rows. The next page starts after a *cursor* — the sort value and contact id of the page's last
row — so paging never re-reads what came before. Statistics (counts per label and grade, the
spread of every score) are aggregates of the same relation.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadscore.storage.duck import quote_name, quote_text
from leadscore.storage.scores import SCORED, current_wide_sql, wide_parts
from leadscore.storage.segments import SIDECAR, Segment
from leadscore.storage.values import column as value_column
from leadscore.storage.values import values_sql
from leadscore.storage.views import DataView, file_columns

log = logging.getLogger("leadscore.storage")

LIFECYCLE = "lifecycle_stage"
LOWEST = -1.7976931348623157e308  # an unscored contact sorts after every score


@dataclass
class LeadQuery:
    model: str
    scores: Sequence[str]  # the model's scores, in order
    sort: str  # the score to rank by
    primary: str  # the score whose label `label` filters
    label: str | None = None
    stage: str | None = None
    grade: str | None = None
    min_scores: dict[str, float] = field(default_factory=dict)
    limit: int | None = 25
    after: str | None = None  # a cursor from the previous page
    owner: str | None = None  # the owner property, ignoring case
    in_list: str | None = None  # members of this list now
    search: str | None = None  # a part of the e-mail or the name, or the whole contact id


@dataclass
class Lead:
    """A scored contact as `leads` shows it."""

    contact_id: str
    email: str | None
    scores: dict[str, float | None]
    labels: dict[str, str | None]
    grade: str | None
    stage: str | None
    probability: float | None = None  # the primary score's calibration, when the model has one
    # the scores no rule and no ledger entry gave a value (their value is 0)
    unscored: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "contact_id": self.contact_id, "email": self.email, "scores": self.scores,
            "scored": {n: n not in self.unscored for n in self.scores},
            "labels": self.labels, "grade": self.grade, "stage": self.stage}
        if self.probability is not None:
            data["probability"] = self.probability
        return data


@dataclass
class LeadPage:
    """A page of leads and the cursor of the next page (pass it as `after`)."""

    leads: list[Lead]
    cursor: str | None  # where the next page starts; None on the last page

    def __iter__(self) -> Iterator[Lead]:  # a page reads like the list of its leads
        return iter(self.leads)

    def __len__(self) -> int:
        return len(self.leads)


def encode_cursor(value: float | None, contact_id: str) -> str:
    raw = json.dumps([LOWEST if value is None else value, contact_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    padded = cursor + "=" * (-len(cursor) % 4)
    value, contact_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return float(value), str(contact_id)


def stage_relation(view: DataView) -> str:
    """(contact_id, stage) of every contact with a lifecycle stage now."""
    return text_relation(view, LIFECYCLE, "stage")


def text_relation(view: DataView, name: str, alias: str) -> str:
    """(contact_id, `alias`): every contact's text value of property `name` now."""
    if view.embedded:
        return (f"(SELECT contact_id, {value_column(name, 'text')} AS {alias} "
                f"FROM {values_sql(view, [name])})")
    return (f"(SELECT DISTINCT ON (contact_id) contact_id, v_text AS {alias} FROM "
            f"property_changes WHERE name = {quote_text(name)} "
            "ORDER BY contact_id, changed_us DESC, seq DESC)")


def _narrowing(view: DataView, query: LeadQuery) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) of the owner, list and search filters: each a
    `contact_id IN (…)` over the few contacts it keeps, so the ranking stays as it is."""
    where: list[str] = []
    params: list[Any] = []
    if query.owner is not None:
        where.append(f"contact_id IN (SELECT contact_id FROM "
                     f"{text_relation(view, 'owner', 'owner')} AS o WHERE lower(owner) = ?)")
        params.append(query.owner.strip().lower())
    if query.in_list is not None:
        members = (view.tail_relation("list_memberships", "WHERE list = ?", [query.in_list])
                   if view.embedded else
                   f"(SELECT contact_id FROM list_memberships WHERE list = "
                   f"{quote_text(query.in_list)})")
        where.append(f"contact_id IN (SELECT contact_id FROM {members} AS m)")
    if query.search is not None and query.search.strip():
        words = query.search.strip().lower()
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        contacts = view.relation("contacts")
        first = text_relation(view, "first_name", "first")
        last = text_relation(view, "last_name", "last")
        like = "LIKE ? ESCAPE '\\'"
        where.append(
            f"(contact_id = ? OR contact_id IN (SELECT contact_id FROM {contacts} AS c "
            f"WHERE lower(email) {like}) OR contact_id IN (SELECT f.contact_id FROM {first} "
            f"AS f FULL OUTER JOIN {last} AS n ON n.contact_id = f.contact_id WHERE "
            f"lower(coalesce(f.first, '') || ' ' || coalesce(n.last, '')) {like}) OR "
            f"contact_id IN (SELECT contact_id FROM {last} AS n2 WHERE lower(n2.last) {like}))")
        params += [query.search.strip(), pattern, pattern, pattern]
    return where, params


def scored_relation(view: DataView, model: str, scores: Sequence[str]) -> str:
    """(contact_id, scores, labels, grade, stage): every contact scored under `model`."""
    if view.embedded:
        current = current_wide_sql(view, model, scores)
        picks = ", ".join(f"s.{quote_name(n)}, s.{quote_name(n + ':label')}, "
                          f"s.{quote_name(n + SCORED)}" for n in scores)
        return (f"(SELECT s.contact_id, {picks}, s.grade, v.stage FROM {current} AS s "
                f"LEFT JOIN {stage_relation(view)} AS v ON v.contact_id = s.contact_id)")
    pivot: list[str] = []
    for name in scores:
        pivot.append(f"max(CASE WHEN score = {quote_text(name)} THEN value END) "
                     f"AS {quote_name(name)}")
        pivot.append(f"max(CASE WHEN score = {quote_text(name)} THEN label END) "
                     f"AS {quote_name(name + ':label')}")
        pivot.append(f"bool_or(CASE WHEN score = {quote_text(name)} THEN scored END) "
                     f"AS {quote_name(name + SCORED)}")
    return (f"(SELECT s.*, v.stage FROM (SELECT contact_id, {', '.join(pivot)}, "
            f"max(CASE WHEN score = 'grade' THEN label END) AS grade FROM scores "
            f"WHERE model = {quote_text(model)} GROUP BY contact_id) AS s "
            f"LEFT JOIN {stage_relation(view)} AS v ON v.contact_id = s.contact_id)")


def lead_page(view: DataView, query: LeadQuery) -> LeadPage:
    sort = f"coalesce({quote_name(query.sort)}, {LOWEST})"
    where: list[str] = []
    params: list[Any] = []
    if query.label is not None:
        where.append(f"lower({quote_name(query.primary + ':label')}) = ?")
        params.append(query.label.lower())
    if query.stage is not None:
        where.append("stage = ?")
        params.append(query.stage.lower())
    if query.grade is not None:
        where.append("lower(grade) = ?")
        params.append(query.grade.lower())
    for name, minimum in query.min_scores.items():
        where.append(f"coalesce({quote_name(name)}, 0) >= ?")
        params.append(float(minimum))
    narrowing, narrowing_params = _narrowing(view, query)
    where += narrowing
    params += narrowing_params
    if query.after is not None:
        value, contact_id = decode_cursor(query.after)
        where.append(f"({sort} < ? OR ({sort} = ? AND contact_id > ?))")
        params += [value, value, contact_id]
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    limit = f"LIMIT {int(query.limit) + 1}" if query.limit else ""
    columns = ", ".join(["contact_id", *(f"{quote_name(n)}, {quote_name(n + ':label')}, "
                                         f"{quote_name(n + SCORED)}" for n in query.scores),
                         "grade", "stage"])
    order = f"ORDER BY {sort} DESC, contact_id"
    if query.stage is None and view.embedded:
        # rank the scores alone, then look up the stages of the page: the join of every
        # contact's stage costs more than the ranking (1M contacts: ~0.4 s against ~0.05 s)
        picks = ", ".join(["contact_id", *(f"{quote_name(n)}, {quote_name(n + ':label')}, "
                                           f"{quote_name(n + SCORED)}" for n in query.scores),
                           "grade"])
        ranked = view.query(f"SELECT {picks} FROM "
                            f"{current_wide_sql(view, query.model, query.scores)} AS l "
                            f"{condition} {order} {limit}", params)
        stages = _stages(view, [row[0] for row in ranked])
        rows = [(*row, stages.get(row[0])) for row in ranked]
    else:
        rows = view.query(f"SELECT {columns} FROM "
                          f"{scored_relation(view, query.model, query.scores)} AS l "
                          f"{condition} {order} {limit}", params)
    more = bool(query.limit) and len(rows) > int(query.limit or 0)
    rows = rows[:query.limit] if query.limit else rows
    emails = _emails(view, [row[0] for row in rows])
    leads = []
    for row in rows:
        values, labels, unscored = {}, {}, set()
        for i, name in enumerate(query.scores):
            values[name] = row[1 + 3 * i]
            labels[name] = row[2 + 3 * i]
            if row[3 + 3 * i] is False:  # NULL: stored before the flag was (read as scored)
                unscored.add(name)
        leads.append(Lead(row[0], emails.get(row[0]), values, labels, row[-2], row[-1],
                          unscored=frozenset(unscored)))
    cursor = None
    if more and leads:
        last = leads[-1]
        cursor = encode_cursor(last.scores.get(query.sort), last.contact_id)
    return LeadPage(leads, cursor)


def _stages(view: DataView, ids: list[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    listed = ", ".join(quote_text(i) for i in ids)
    return {cid: stage for cid, stage in view.query(
        f"SELECT contact_id, stage FROM {stage_relation(view)} WHERE contact_id IN ({listed})")}


def _emails(view: DataView, ids: list[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    mark = "?" if view.connection.dialect.name == "sqlite" else "%s"
    return {cid: email for cid, email in view.connection.exec_driver_sql(
        f"SELECT contact_id, email FROM contacts WHERE contact_id IN "
        f"({', '.join([mark] * len(ids))})", tuple(ids))}


def _mean(value: str) -> str:
    """The mean of scores kept to the cent, summed as whole cents: the same in every run (a
    parallel sum of floats is not) and in every engine."""
    return f"sum(CAST(round({value} * 100) AS BIGINT)) / 100.0 / count({value})"


def score_statistics(view: DataView, model: str, scores: Sequence[str]
                     ) -> dict[str, Any]:
    """Per score: min, median, p90, max, mean and the count of each label; grades.

    On the embedded store they are made from counts — how many contacts have each (score,
    value, label) and each grade — rather than from every contact's row: the base segment's
    counts (kept beside it once made: a segment never changes), less the rows the patches
    replace, plus the patches. At 1,000,000 contacts the current relation alone (the base
    set against its patches) cost more CPU than the figures; see ARCHITECTURE.md."""
    if not view.embedded:
        found = _statistics_postgres(view, model, scores)
        found["unscored"] = unscored_counts(view, model, scores)
        return found
    found = _statistics_embedded(view, model, scores)
    found["unscored"] = unscored_counts(view, model, scores)
    return found


def unscored_counts(view: DataView, model: str, scores: Sequence[str]) -> dict[str, int]:
    """Per score, how many contacts have it unscored (no rule applied, no ledger entry)."""
    if not scores:
        return {}
    relation = (current_wide_sql(view, model, scores) if view.embedded  # no stages needed
                else scored_relation(view, model, scores))
    row = view.query("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {quote_name(n + SCORED)} = FALSE)" for n in scores)
        + f" FROM {relation} AS l")[0]
    return {name: int(n or 0) for name, n in zip(scores, row, strict=True)}


def _statistics_embedded(view: DataView, model: str, scores: Sequence[str]
                         ) -> dict[str, Any]:
    parts = wide_parts(view, model, scores)
    if parts.base is None or parts.base_segment is None:
        counts = _counts_sql(parts.patches, scores, "")
    else:
        joined = ", ".join([*(f"p.{c} AS {quote_name('p|' + c.strip(chr(34)))}"
                              for c in parts.values),
                            *(f"b.{c} AS {quote_name('b|' + c.strip(chr(34)))}"
                              for c in parts.values), "b.contact_id AS b_id"])
        counts = (f"(WITH j AS MATERIALIZED (SELECT {joined} FROM {parts.patches} AS p "
                  f"LEFT JOIN {parts.base} AS b ON b.contact_id = p.contact_id "
                  f"WHERE b.contact_id IS NULL OR p.computed_us > b.computed_us) "
                  f"SELECT score, v, label, CAST(sum(n) AS BIGINT) AS n FROM ("
                  f"SELECT * FROM {_base_counts(view, parts.base_segment, parts.base)} "
                  f"UNION ALL SELECT score, v, label, -n FROM "
                  f"{_counts_sql('(SELECT * FROM j WHERE b_id IS NOT NULL)', scores, 'b|')} "
                  f"UNION ALL SELECT * FROM {_counts_sql('j', scores, 'p|')}) "
                  f"GROUP BY ALL HAVING sum(n) <> 0)")
    table = view.temporary(counts)
    grouped = [f"(SELECT v, sum(n) AS n FROM {table} WHERE score = {quote_text(name)} "
               f"GROUP BY v)" for name in scores]
    row = view.query("SELECT * FROM " + ", ".join(
        f"{_spread_sql(relation)} AS s{i}" for i, relation in enumerate(grouped)))[0]
    labels: dict[str, dict[str, int]] = {}
    grades: dict[str, int] = {}
    for score, label, n in view.query(f"SELECT score, coalesce(label, '—'), sum(n) FROM {table} "
                                      f"GROUP BY ALL ORDER BY ALL"):
        if score is None:
            grades[label] = int(n)
        else:
            labels.setdefault(score, {})[label] = int(n)
    spread: dict[str, Any] = {}
    for i, name in enumerate(scores):
        low, high, mean, count, below, above, fraction, p90 = row[8 * i:8 * i + 8]
        if count:
            spread[name] = {"min": low, "p50": below * (1 - fraction) + above * fraction,
                            "p90": p90, "max": high, "mean": round(float(mean), 2)}
    return {"scores": spread, "labels": {n: labels[n] for n in scores if n in spread},
            "grades": grades}


def _counts_sql(source: str, scores: Sequence[str], prefix: str) -> str:
    """(score, v, label, n): how many rows of `source` have each value and label of each
    score (its columns named `prefix` + the wide name), and each grade (score NULL)."""
    parts = [f"SELECT {quote_text(name)} AS score, {quote_name(prefix + name)} AS v, "
             f"{quote_name(prefix + name + ':label')} AS label, count(*) AS n FROM {source} "
             f"WHERE {quote_name(prefix + name)} IS NOT NULL GROUP BY ALL" for name in scores]
    parts.append(f"SELECT CAST(NULL AS VARCHAR) AS score, CAST(NULL AS DOUBLE) AS v, "
                 f"{quote_name(prefix + 'grade')} AS label, count(*) AS n FROM {source} "
                 f"WHERE {quote_name(prefix + 'grade')} IS NOT NULL GROUP BY ALL")
    return "(" + " UNION ALL ".join(parts) + ")"


def _base_counts(view: DataView, segment: Segment, base: str) -> str:
    """`_counts_sql` of a base segment, for every score it holds: kept beside the segment
    (`segments.SIDECAR`) by the first read that needs them, and read from there after."""
    kept = Path(str(segment.path) + SIDECAR)
    if not kept.exists():
        columns = file_columns(view.duck, str(segment.path))
        names = [c.removesuffix(":label") for c in columns if c.endswith(":label")]
        temporary = kept.with_name(f".{kept.name}.{os.getpid()}.tmp")
        import duckdb

        try:
            view.duck.execute(f"COPY (SELECT * FROM {_counts_sql(base, names, '')}) TO "
                              f"{quote_text(str(temporary))} (FORMAT parquet)")
            os.replace(temporary, kept)
        except (OSError, duckdb.Error) as error:  # a folder we may not write: no sidecar
            log.debug("cannot keep the counts of %s: %s", segment.path, error)
            temporary.unlink(missing_ok=True)
            return _counts_sql(base, names, "")
    return f"(SELECT score, v, label, n FROM read_parquet({quote_text(str(kept))}))"


def _spread_sql(grouped: str) -> str:
    """One row of (min, max, mean, count, and what makes the median and the 90th percentile)
    of the values counted in `grouped` (v, n): a score takes few distinct values (1,000,000
    contacts: 33 to 24,714), so walking their running counts costs a fraction of sorting
    every value. It equals DuckDB's quantile_cont and quantile_disc: the median interpolates
    the values at ⌊(N−1)/2⌋ and ⌈(N−1)/2⌉ as lo·(1−d) + hi·d; the 90th percentile is the
    value at max(1, N − ⌊N − 0.9·N⌋) − 1 (`tests/storage/test_score_statistics.py`). The mean
    adds the values as whole hundredths, as `_mean` does."""
    half, tenths = "CAST(0.5 AS DOUBLE)", "CAST(0.9 AS DOUBLE)"
    running = (f"(SELECT v, n, sum(n) OVER (ORDER BY v) AS cum, sum(n) OVER () AS total "
               f"FROM {grouped} WHERE n > 0)")
    return (f"(SELECT min(v), max(v), sum(CAST(round(v * 100) AS BIGINT) * n) / 100.0 / sum(n), "
            f"CAST(coalesce(sum(n), 0) AS BIGINT), "
            f"min(v) FILTER (WHERE cum >= floor((total - 1) * {half}) + 1), "
            f"min(v) FILTER (WHERE cum >= ceil((total - 1) * {half}) + 1), "
            f"any_value((total - 1) * {half} - floor((total - 1) * {half})), "
            f"min(v) FILTER (WHERE cum >= greatest(1, total - floor(total - {tenths} * total))) "
            f"FROM {running})")


def _statistics_postgres(view: DataView, model: str, scores: Sequence[str]
                         ) -> dict[str, Any]:
    relation = scored_relation(view, model, scores)
    spread: dict[str, Any] = {}
    labels: dict[str, dict[str, int]] = {}
    for name in scores:
        value = quote_name(name)
        figures = (f"min({value}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}), "
                   f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {value}), max({value}), "
                   f"{_mean(value)}, count({value})")
        low, median, p90, high, mean, count = view.query(
            f"SELECT {figures} FROM {relation} AS l")[0]
        if count:
            spread[name] = {"min": low, "p50": median, "p90": p90, "max": high,
                            "mean": round(float(mean), 2)}
            labels[name] = {(label or "—"): int(n) for label, n in view.query(
                f"SELECT {quote_name(name + ':label')}, count(*) FROM {relation} AS l "
                f"WHERE {value} IS NOT NULL GROUP BY 1")}
    grades = {grade: int(n) for grade, n in view.query(
        f"SELECT grade, count(*) FROM {relation} AS l WHERE grade IS NOT NULL GROUP BY 1")}
    return {"scores": spread, "labels": labels, "grades": grades}
